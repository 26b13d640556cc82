package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/boxo-sim/boxo-sim/internal/clock"
	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/fault"
	"github.com/boxo-sim/boxo-sim/internal/stack"
)

func newFaultCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "fault",
		Short: "Set, list and clear the faults of running parties",
		Long: `Every party of a running 'boxo-sim up' holds a fault table, served at /_sim/faults.
A fault changes the party's answer for one step of the flow (` + fault.StepList() + `) or one
endpoint: an error_code, a delay (past the platform's 10 s timeout if you
like), an HTTP status, a malformed body, an over-long token, a missing field, a dropped
connection, a replayed auth code or an expired code or token. It fires on every matching
call, on the Nth only (--nth), or with a probability drawn from a seeded generator
(--probability, --random-seed). The next 'boxo-sim connect' shows the effect.

The stack is found through --platform-url (that platform names its host app and miniapp),
else the state file of the 'boxo-sim up' running on --data-dir, else the local ports;
--hostapp-url and --miniapp-url must then name that stack's parties. A party that is a real
backend the platform relays to has no fault table: set refuses it, list and clear skip it.
list and clear skip a party that does not answer (one "not running" line on stderr each)
and fail only when none answers; set fails when the party it targets does not answer.`,
		Example: `  boxo-sim fault set --step 7 --kind error_code --error-code INVALID_AUTH_CODE
  boxo-sim fault set --step 6 --kind delay --delay 11s
  boxo-sim fault list
  boxo-sim fault clear`,
		Args: cobra.NoArgs,
		RunE: groupHelp,
	}
	addPartyURLFlags(c)
	c.AddCommand(newFaultSetCmd(e), newFaultListCmd(e), newFaultClearCmd(e))
	return c
}

// addPartyURLFlags adds the flags that locate running parties, for every subcommand.
func addPartyURLFlags(c *cobra.Command) {
	c.PersistentFlags().String("hostapp-url", "", "URL of the running host app (default: the local one)")
	c.PersistentFlags().String("platform-url", "", "URL of the running platform (default: the local one)")
	c.PersistentFlags().String("miniapp-url", "", "URL of the running miniapp (default: the local one)")
	addAdminTokenFlag(c.PersistentFlags())
}

func newFaultSetCmd(e *env) *cobra.Command {
	var (
		f                  fault.Fault
		delay              string
		asJSON             bool
		kinds, malformedBs = strings.Join(fault.Kinds, ", "), strings.Join(fault.MalformedBodies, ", ")
	)
	c := &cobra.Command{
		Use:   "set",
		Short: "Add a fault to the party serving a step or an endpoint",
		Long: `Add one fault to a running party's fault table. --step names the flow step (the party
is the one serving it); --endpoint with --party names a path the simulated party serves
instead. The fault is checked here first (each kind takes only its own value flag), then sent
to the party, which answers with its id.

Kinds: ` + kinds + `.
  error_code     --error-code CODE: the endpoint's error form with a code of contract §5.1
  delay          --delay D: answer after D (e.g. 11s, past the platform's 10 s timeout)
  status         --status N: answer N (e.g. 500, 502)
  malformed      --body B: ` + malformedBs + `
  long_token     the answer's tokens get ` + fmt.Sprint(contract.MaxTokenLen+1) + ` characters
  missing_field  --field F: drop a field of the answer (dotted: user_data.email)
  reset          drop the connection with a TCP reset
  replay_code    step 6: the host receives the auth code it has just redeemed
  expire         steps 6, 8, 14: move the shared clock past the code's or token's lifetime`,
		Example: `  boxo-sim fault set --step 7 --kind error_code --error-code INVALID_AUTH_CODE
  boxo-sim fault set --step 6 --kind delay --delay 11s
  boxo-sim fault set --step 11 --kind status --status 502 --nth 2
  boxo-sim fault set --step 9 --kind missing_field --field user_data.email
  boxo-sim fault set --step 8 --kind expire --nth 1          # the platform refreshes and retries
  boxo-sim fault set --party miniapp --endpoint /api/auth/refresh --kind reset --probability 0.5 --random-seed 7`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkKindFlags(cmd, f.Kind); err != nil {
				return err
			}
			if delay != "" {
				d, err := time.ParseDuration(delay)
				if err != nil {
					return fmt.Errorf("--delay %q is not a duration such as 11s or 250ms", delay)
				}
				f.Delay = fault.Duration(d)
			}
			if err := f.Validate(); err != nil {
				return fmt.Errorf("%s\nRun 'boxo-sim fault set --help' for usage", faultFlagNames(err))
			}
			if w := f.Deprecation(); w != "" {
				fmt.Fprintf(e.stderr, "warning: --error-code: %s\n", w)
			}
			ps, err := simPartiesFor(cmd, e)
			if err != nil {
				return err
			}
			var added fault.List
			if err := ps.do(cmd.Context(), f.Party, http.MethodPut, "/_sim/faults", fault.List{Faults: []fault.Fault{f}}, &added); err != nil {
				return err
			}
			if asJSON {
				return printIndentedJSON(e.stdout, added)
			}
			for _, a := range added.Faults {
				fmt.Fprintf(e.stdout, "Added %s\n", a)
			}
			return nil
		},
	}
	fl := c.Flags()
	fl.IntVar(&f.Step, "step", 0, "flow step the fault addresses: "+fault.StepList())
	fl.StringVar(&f.Endpoint, "endpoint", "", "path the fault addresses instead of a step (with --party)")
	fl.StringVar(&f.Party, "party", "", "hostapp, platform or miniapp (default: the one serving --step)")
	fl.StringVar(&f.Kind, "kind", "", "kind of fault: "+kinds)
	fl.StringVar(&f.ErrorCode, "error-code", "", "error_code: a code of contract §5.1 (boxo-sim contract 5.1)")
	fl.StringVar(&delay, "delay", "", "delay: how long to hold the answer, e.g. 11s")
	fl.IntVar(&f.Status, "status", 0, "status: the HTTP status to answer")
	fl.StringVar(&f.Body, "body", "", "malformed: "+malformedBs+" (default non-json)")
	fl.StringVar(&f.Field, "field", "", "missing_field: the field to drop, dotted (user_data.email)")
	fl.IntVar(&f.Nth, "nth", 0, "fire on the Nth matching call only (default: every call)")
	fl.Float64Var(&f.Probability, "probability", 0, "fire with this probability, 0–1 (default: every call)")
	fl.Int64Var(&f.Seed, "random-seed", 0, "seed of the --probability draws, so a run repeats")
	renamedFlag(fl, "seed", "random-seed")
	fl.BoolVar(&asJSON, "json", false, "print the added fault as JSON")
	return c
}

// kindFlags maps each kind-specific flag of 'fault set' to the fault field it sets.
var kindFlags = []struct{ flag, field string }{
	{"error-code", "error_code"}, {"delay", "delay"}, {"status", "status"}, {"body", "body"}, {"field", "field"},
}

// checkKindFlags refuses a value flag that does not belong to kind (--status 500 with
// --error-code X would otherwise drop the code), saying which flag the kind takes.
func checkKindFlags(cmd *cobra.Command, kind string) error {
	if !slices.Contains(fault.Kinds, kind) {
		return nil // Validate says what is wrong with the kind
	}
	own := fault.KindField[kind]
	var ownFlag string
	var wrong []string
	for _, kf := range kindFlags {
		if kf.field == own {
			ownFlag = "--" + kf.flag
			continue
		}
		if cmd.Flags().Changed(kf.flag) {
			wrong = append(wrong, "--"+kf.flag)
		}
	}
	if len(wrong) == 0 {
		return nil
	}
	takes := "takes none of the value flags"
	if ownFlag != "" {
		takes = "takes only " + ownFlag
	}
	return fmt.Errorf("%s %s not belong to --kind %s, which %s\nRun 'boxo-sim fault set --help' for usage",
		strings.Join(wrong, " and "), map[bool]string{true: "does", false: "do"}[len(wrong) == 1], kind, takes)
}

// flagNames rewrites the field names of a fault's validation error as the flags that set them.
func faultFlagNames(err error) string {
	return strings.NewReplacer("error_code needs error_code", "error_code needs --error-code",
		"needs field", "needs --field", "needs a positive delay", "needs a positive --delay").Replace(err.Error())
}

func newFaultListCmd(e *env) *cobra.Command {
	var party string
	var asJSON bool
	c := &cobra.Command{
		Use:   "list",
		Short: "List the faults of every running party, with how often each matched and fired",
		Long: `List the fault tables of the host app, the platform and the miniapp (or of --party):
each fault's id, what it addresses, its kind, when it fires, and its counters (calls it
matched, times it fired).`,
		Example: `  boxo-sim fault list
  boxo-sim fault list --party hostapp --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ps, err := simPartiesFor(cmd, e)
			if err != nil {
				return err
			}
			names, err := simPartyNames(party)
			if err != nil {
				return err
			}
			all := fault.List{Faults: []fault.Fault{}}
			names, err = ps.each(e, names, func(p string) error {
				var l fault.List
				if err := ps.do(cmd.Context(), p, http.MethodGet, "/_sim/faults", nil, &l); err != nil {
					return err
				}
				all.Faults = append(all.Faults, l.Faults...)
				return nil
			})
			if err != nil {
				return err
			}
			if asJSON {
				return printIndentedJSON(e.stdout, all)
			}
			if len(all.Faults) == 0 {
				fmt.Fprintf(e.stdout, "No faults set (%s).\n", strings.Join(names, ", "))
				return nil
			}
			printFaults(e.stdout, all.Faults)
			return nil
		},
	}
	c.Flags().StringVar(&party, "party", "", "list only this party's faults: hostapp, platform or miniapp")
	c.Flags().BoolVar(&asJSON, "json", false, `print {"faults": [...]} as JSON`)
	return c
}

func printFaults(w io.Writer, fs []fault.Fault) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PARTY\tID\tADDRESS\tKIND\tDETAIL\tFIRES\tMATCHED\tFIRED")
	for _, f := range fs {
		addr := f.Endpoint
		if f.Step != 0 {
			addr = fmt.Sprintf("step %d %s", f.Step, fault.Steps[f.Step].Endpoint)
		}
		detail := "-"
		switch f.Kind {
		case fault.KindErrorCode:
			detail = f.ErrorCode
		case fault.KindDelay:
			detail = clock.FormatDuration(time.Duration(f.Delay))
		case fault.KindStatus:
			detail = fmt.Sprint(f.Status)
		case fault.KindMalformed:
			detail = f.Body
		case fault.KindMissingField:
			detail = f.Field
		}
		fires := "every call"
		switch {
		case f.Nth != 0:
			fires = fmt.Sprintf("call %d", f.Nth)
		case f.Probability != 0:
			fires = fmt.Sprintf("p=%g seed=%d", f.Probability, f.Seed)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\n", f.Party, f.ID, addr, f.Kind, detail, fires, f.Matched, f.Fired)
	}
	tw.Flush()
}

func newFaultClearCmd(e *env) *cobra.Command {
	var party string
	var asJSON bool
	c := &cobra.Command{
		Use:   "clear [ID]",
		Short: "Remove one fault, or every fault of every running party",
		Long: `Without ID, empty the fault tables of the host app, the platform and the miniapp (or of
--party only). With ID, remove that fault from the party holding it; ids are unique across
the parties of one 'boxo-sim up', and --party picks one when separate processes reuse one.`,
		Example: `  boxo-sim fault clear
  boxo-sim fault clear f2
  boxo-sim fault clear --party miniapp`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ps, err := simPartiesFor(cmd, e)
			if err != nil {
				return err
			}
			names, err := simPartyNames(party)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if len(args) == 0 {
				var parts []string
				total, byParty := 0, map[string]int{}
				if _, err := ps.each(e, names, func(p string) error {
					var got struct {
						Cleared int `json:"cleared"`
					}
					if err := ps.do(ctx, p, http.MethodDelete, "/_sim/faults", nil, &got); err != nil {
						return err
					}
					total += got.Cleared
					byParty[p] = got.Cleared
					parts = append(parts, fmt.Sprintf("%s %d", p, got.Cleared))
					return nil
				}); err != nil {
					return err
				}
				if asJSON {
					return printIndentedJSON(e.stdout, map[string]any{"cleared": total, "parties": byParty})
				}
				fmt.Fprintf(e.stdout, "Cleared %d %s (%s).\n", total, pluralOf(total, "fault", "faults"), strings.Join(parts, ", "))
				return nil
			}
			id := args[0]
			if party == "" {
				var holders []string
				if _, err := ps.each(e, names, func(p string) error {
					var l fault.List
					if err := ps.do(ctx, p, http.MethodGet, "/_sim/faults", nil, &l); err != nil {
						return err
					}
					for _, f := range l.Faults {
						if f.ID == id {
							holders = append(holders, p)
						}
					}
					return nil
				}); err != nil {
					return err
				}
				switch len(holders) {
				case 0:
					return fmt.Errorf("no party holds fault %q: 'boxo-sim fault list' shows the ids", id)
				case 1:
					names = holders
				default:
					return fmt.Errorf("fault %q exists at %s (separate processes): choose one with --party", id, strings.Join(holders, " and "))
				}
			}
			if err := ps.do(ctx, names[0], http.MethodDelete, "/_sim/faults/"+url.PathEscape(id), nil, nil); err != nil {
				return err
			}
			if asJSON {
				return printIndentedJSON(e.stdout, map[string]any{"removed": id, "party": names[0]})
			}
			fmt.Fprintf(e.stdout, "Removed %s from %s.\n", id, names[0])
			return nil
		},
	}
	c.Flags().StringVar(&party, "party", "", "only this party: hostapp, platform or miniapp")
	c.Flags().BoolVar(&asJSON, "json", false, `print {"cleared": N, "parties": {...}} (with ID: {"removed", "party"}) as JSON`)
	return c
}

// groupHelp is the RunE of a command group (fault, clock) run without a subcommand: it
// prints the group's help and succeeds, like 'scenario' and 'config'.
func groupHelp(cmd *cobra.Command, _ []string) error { return cmd.Help() }

func pluralOf(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func printIndentedJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// simPartyNames returns the named party, or all three.
func simPartyNames(party string) ([]string, error) {
	if party == "" {
		return stack.Parties, nil
	}
	for _, p := range stack.Parties {
		if p == party {
			return []string{p}, nil
		}
	}
	return nil, fmt.Errorf("--party %q: use %s", party, strings.Join(stack.Parties, ", "))
}

// simParties reaches the /_sim/ control routes of the running parties of one stack.
type simParties struct {
	urls    map[string]string
	relayed map[string]bool // parties that are real backends, with no /_sim/ routes
	from    string          // how the stack was found, for messages
	client  *http.Client
}

// simPartiesFor resolves the configuration of cmd and finds the stack its parties belong to
// (findStack: platform_url, else the state file of the up on data_dir, else the default
// ports).
func simPartiesFor(cmd *cobra.Command, e *env) (simParties, error) {
	return simPartiesOf(cmd.Context(), cmd.Flags(), e)
}

// simPartiesOf is simPartiesFor with the configuration read from flags: a command whose own
// flags share names with configuration keys passes only those that locate the stack.
func simPartiesOf(ctx context.Context, flags *pflag.FlagSet, e *env) (simParties, error) {
	cfg, src, err := loadConfig(flags, e.getenv)
	if err != nil {
		return simParties{}, err
	}
	found, err := findStack(ctx, cfg, src)
	if err != nil {
		return simParties{}, err
	}
	ps := simParties{urls: map[string]string{}, relayed: map[string]bool{}, from: found.from, client: adminClient(cfg, 10*time.Second)}
	for p, sp := range found.parties {
		ps.urls[p], ps.relayed[p] = sp.URL, sp.Relayed
	}
	return ps, nil
}

// relayedError says a party is a real backend the platform relays to: boxo-sim does not
// simulate it, so it has no fault table or clock to act on.
type relayedError struct{ party, url string }

func (e relayedError) Error() string {
	return fmt.Sprintf("the %s at %s is a real backend the platform relays to, not a party boxo-sim simulates: it has no fault table or clock: faults and the clock act on the parties boxo-sim simulates", e.party, e.url)
}

// unlocatedError says the stack has no such party.
type unlocatedError struct{ party, from string }

func (e unlocatedError) Error() string {
	return fmt.Sprintf("the stack found through %s has no %s (not started, no URL given): start it, or give --%s-url", e.from, e.party, e.party)
}

func firstSet(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// refusalError is a party's error answer to a control route ({"error", "error_description"}).
type refusalError struct {
	party, url    string
	status        int
	code, message string
}

func (e refusalError) Error() string {
	return fmt.Sprintf("the %s at %s refused: %s%s", e.party, e.url, firstSet(e.message, e.code), tokenHint(e.status))
}

// notRunningError says that nothing answers at a party's URL.
type notRunningError struct {
	party, url string
	err        error
}

func (e notRunningError) Error() string {
	return fmt.Sprintf("no %s answers at %s (%v): start the parties with 'boxo-sim up', or give --%s-url", e.party, e.url, e.err, e.party)
}

func (e notRunningError) Unwrap() error { return e.err }

// each runs fn for each named party, in order. A party that does not answer (fn returns a
// notRunningError) is reported on stderr in one line and skipped; any other error stops. each
// fails when no party answered, and returns the parties that did.
func (ps simParties) each(e *env, names []string, fn func(party string) error) ([]string, error) {
	var answered, where []string
	var down error
	for _, p := range names {
		err := fn(p)
		var nr notRunningError
		var re relayedError
		var ue unlocatedError
		switch {
		case len(names) > 1 && errors.As(err, &re):
			fmt.Fprintf(e.stderr, "%s: a real backend at %s, not simulated (skipped)\n", p, re.url)
		case len(names) > 1 && errors.As(err, &ue):
			fmt.Fprintf(e.stderr, "%s: not part of the stack found through %s (skipped)\n", p, ue.from)
		case errors.As(err, &nr):
			down = err
			where = append(where, fmt.Sprintf("%s at %s", p, nr.url))
			if len(names) > 1 {
				fmt.Fprintf(e.stderr, "%s: not running at %s (skipped)\n", p, nr.url)
			}
		case err != nil:
			return answered, err
		default:
			answered = append(answered, p)
		}
	}
	switch {
	case len(answered) > 0:
		return answered, nil
	case len(names) == 1:
		return nil, down
	default:
		return nil, fmt.Errorf("no party answers (%s): start them with 'boxo-sim up', or give --hostapp-url, --platform-url and --miniapp-url", strings.Join(where, ", "))
	}
}

// do sends a JSON request to a party's control route and decodes a 2xx answer into out (when
// not nil). Failures name the party and its URL and say what to do.
func (ps simParties) do(ctx context.Context, party, method, path string, body, out any) error {
	base, ok := ps.urls[party]
	switch {
	case !ok || base == "":
		return unlocatedError{party: party, from: ps.from}
	case ps.relayed[party]:
		return relayedError{party: party, url: base}
	}
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, r)
	if err != nil {
		return fmt.Errorf("%s URL %q: %v", party, base, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := ps.client.Do(req)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return err
		}
		return notRunningError{party: party, url: base, err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("the %s at %s: reading its answer: %v", party, base, err)
	}
	var fail struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode <= 299:
	case json.Unmarshal(b, &fail) != nil || fail.Error == "":
		return fmt.Errorf("the %s at %s answered %s to %s %s: is it a boxo-sim party (started by 'boxo-sim up')?", party, base, resp.Status, method, path)
	case resp.StatusCode == http.StatusNotFound && fail.Error == "not_found" && strings.HasPrefix(fail.Description, "no route"):
		return fmt.Errorf("the %s at %s does not serve %s: is it a boxo-sim party (started by 'boxo-sim up')?", party, base, path)
	default:
		return refusalError{party: party, url: base, status: resp.StatusCode, code: fail.Error, message: fail.Description}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("the %s at %s answered %s %s with unexpected JSON: %v", party, base, method, path, err)
	}
	return nil
}
