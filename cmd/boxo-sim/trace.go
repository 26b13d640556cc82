package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/stack"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

func newTraceCmd(e *env) *cobra.Command {
	var asJSON, verbose, clear bool
	var list traceList
	c := &cobra.Command{
		Use:   "trace [FLOW_ID]",
		Short: "Print a recorded flow step by step",
		Long: `Print a flow from the platform's flow log: every step with its actor, call, status,
time and outcome. Without FLOW_ID, the latest flow. Secrets and tokens are masked in
the log itself. --verbose adds the masked HTTP exchange of each step. --clear empties
the flow log.`,
		Example: `  boxo-sim trace
  boxo-sim trace flow_3f2a9c0d1e4b5a6c --verbose
  boxo-sim trace --json | jq '.steps[] | select(.outcome == "failed")'
  boxo-sim trace --clear
  boxo-sim trace --list --outcome error --user bob --limit 5
  boxo-sim trace --list --app-id app16973 --json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if list.wanted(cmd) {
				return list.run(cmd, e, args, asJSON) // trace_list.go
			}
			cfg, src, err := loadConfig(cmd.Flags(), e.getenv)
			if err != nil {
				return err
			}
			found, err := findStack(cmd.Context(), cfg, src)
			if err != nil {
				return err
			}
			base := found.url(stack.Platform)
			if base == "" {
				return fmt.Errorf("the stack found through %s has no platform, so no flow log: give --platform-url", found.from)
			}
			client := adminClient(cfg, 10*time.Second)
			if clear {
				if len(args) > 0 {
					return fmt.Errorf("--clear empties the whole flow log: give no FLOW_ID")
				}
				return clearFlows(cmd.Context(), e, client, base, asJSON)
			}
			id := "latest"
			if len(args) == 1 {
				id = args[0]
			}
			req, err := http.NewRequestWithContext(cmd.Context(), http.MethodGet, base+"/_sim/flows/"+url.PathEscape(id), nil)
			if err != nil {
				return err
			}
			resp, err := client.Do(req)
			if err != nil {
				return fmt.Errorf("no platform answers at %s (%v): start the parties with 'boxo-sim up', or give --platform-url", base, err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
			if err != nil {
				return err
			}
			if resp.StatusCode == http.StatusNotFound && bytes.Contains(body, []byte("no route for")) {
				return fmt.Errorf("%s has no flow log: is it a boxo-sim platform? (give the platform's URL with --platform-url)", base)
			}
			switch {
			case resp.StatusCode == http.StatusNotFound && id == "latest":
				return fmt.Errorf("the platform at %s has recorded no flow yet: run 'boxo-sim connect' first", base)
			case resp.StatusCode == http.StatusNotFound:
				return fmt.Errorf("the platform at %s has no flow %q: 'boxo-sim trace' shows the latest", base, id)
			case resp.StatusCode != http.StatusOK:
				return fmt.Errorf("the platform at %s answered %d: %s%s", base, resp.StatusCode, bytes.TrimSpace(body), tokenHint(resp.StatusCode))
			}
			if asJSON {
				_, err := e.stdout.Write(body)
				return err
			}
			var fl contract.Flow
			if err := json.Unmarshal(body, &fl); err != nil {
				return fmt.Errorf("the platform at %s answered a flow that is not valid JSON: %v", base, err)
			}
			printFlow(e.stdout, fl, verbose)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, `print the flow as JSON (with --clear: {"deleted": N})`)
	c.Flags().BoolVarP(&verbose, "verbose", "v", false, "show the masked HTTP exchange of each step")
	c.Flags().String("platform-url", "", "URL of the platform (default: the up running on --data-dir, else the local one)")
	addAdminTokenFlag(c.Flags())
	c.Flags().BoolVar(&clear, "clear", false, "delete every flow from the platform's flow log")
	list.addFlags(c, e)
	return c
}

// clearFlows empties the platform's flow log (DELETE /_sim/flows).
func clearFlows(ctx context.Context, e *env, client *http.Client, base string, asJSON bool) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, base+"/_sim/flows", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("no platform answers at %s (%v): start the parties with 'boxo-sim up', or give --platform-url", base, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the platform at %s refused to clear its flow log (%d): %s%s", base, resp.StatusCode, bytes.TrimSpace(body), tokenHint(resp.StatusCode))
	}
	var out struct {
		Deleted int `json:"deleted"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return fmt.Errorf("the platform at %s answered unexpected JSON: %v", base, err)
	}
	if asJSON {
		return printIndentedJSON(e.stdout, out)
	}
	fmt.Fprintf(e.stdout, "Deleted %d %s from the flow log.\n", out.Deleted, pluralOf(out.Deleted, "flow", "flows"))
	return nil
}

func printFlow(w io.Writer, fl contract.Flow, verbose bool) {
	fmt.Fprintf(w, "Flow %s  started %s  client %s  app %s  outcome %s", fl.ID, fl.StartedAt.Format(time.RFC3339), fl.ClientID, fl.AppID, fl.Outcome)
	if fl.ErrorCode != "" {
		fmt.Fprintf(w, " (%s)", fl.ErrorCode)
	}
	fmt.Fprintln(w)
	if fl.Mode == "direct" {
		fmt.Fprintln(w, "Connect Direct: the 12 steps of contract §7.3 (6-9 are the platform's)")
	}
	if fl.Note != "" {
		fmt.Fprintf(w, "Note: %s\n", fl.Note)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tACTOR\tCALL\tSTATUS\tTIME\tRESULT")
	for _, s := range fl.Steps {
		status := ""
		if s.Status != 0 {
			status = fmt.Sprint(s.Status)
		}
		result := s.Outcome // ok, skipped
		if s.Outcome == contract.OutcomeFailed {
			result = strings.ToUpper(s.Outcome)
		}
		if s.ErrorCode != "" {
			result += " " + s.ErrorCode
		}
		if s.Note != "" {
			result += " (" + s.Note + ")"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", s.Step, s.Actor, s.Call, status, sdkstub.FormatMS(s.DurationMS), result)
		for _, v := range s.Violations { // contract rules the answer broke, under RESULT
			fmt.Fprintf(tw, "\t\t\t\t\tviolation: %s\n", v)
		}
	}
	tw.Flush()
	for _, s := range fl.Steps {
		if len(s.Violations) > 0 {
			fmt.Fprintln(w, "A violation cites the rule it broke as contract §x.y; 'boxo-sim contract x.y' prints the rule.")
			break
		}
	}
	if !verbose {
		return
	}
	// The exchanges come after the table, so they do not break its columns.
	for _, s := range fl.Steps {
		if s.Request == nil && s.Response == nil {
			continue
		}
		fmt.Fprintf(w, "\nstep %d  %s  %s\n", s.Step, s.Actor, s.Call)
		printExchange(w, "request", s.Request)
		printExchange(w, "response", s.Response)
	}
}

func printExchange(w io.Writer, label string, x *contract.Exchange) {
	if x == nil {
		return
	}
	for _, k := range slices.Sorted(maps.Keys(x.Headers)) {
		fmt.Fprintf(w, "  %s header %s: %s\n", label, k, x.Headers[k])
	}
	if len(x.Body) > 0 {
		fmt.Fprintf(w, "  %s body %s\n", label, x.Body)
	}
	if x.Text != "" {
		fmt.Fprintf(w, "  %s text %q\n", label, x.Text)
	}
}

func newConfigCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "config",
		Short: "Inspect boxo-sim's configuration",
		Args:  cobra.NoArgs,
	}
	print := &cobra.Command{
		Use:   "print",
		Short: "Print the effective configuration and where each value comes from",
		Long: `Print every configuration key with its effective value and its source: a flag, a
BOXO_SIM_* environment variable, the YAML file, or the default. Secrets are masked.
The output is valid YAML and can serve as a configuration file once masked secrets are
replaced by the real ones.`,
		Example: `  boxo-sim config print
  BOXO_SIM_PLATFORM_PORT=9082 boxo-sim config print --config boxo-sim.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, src, err := loadConfig(cmd.Flags(), e.getenv)
			if err != nil {
				return err
			}
			if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
				return printIndentedJSON(e.stdout, configJSON(cfg, src))
			}
			printConfig(e.stdout, cfg, src)
			return nil
		},
	}
	addServeFlags(print)
	print.Flags().Bool("json", false, `print {"settings": [{"key", "value", "source", "env", "secret"}]} as JSON, secrets masked`)
	c.AddCommand(print)
	return c
}
