package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/boxo-sim/boxo-sim/internal/seed"
	"github.com/boxo-sim/boxo-sim/internal/stack"
)

func newExportCmd(e *env) *cobra.Command {
	var (
		withSecrets, asJSON, schema bool
		out                         string
	)
	c := &cobra.Command{
		Use:   "export",
		Short: "Write the running stack's setup as a seed file",
		Long: `Read a running stack's setup over the parties' /_sim/ admin API — host app users, the
Dashboard's host apps, miniapps and partnerships, the parties' own settings, the host's
OAuth clients and every party's faults — and write it as a seed file, which
'boxo-sim up --seed FILE' applies (to this stack again, or to a fresh one).

Secrets are masked (abcd…[n]) unless --with-secrets: a masked file says so in its first
lines, and 'up --seed' refuses it, naming each masked value, until they are written in.
User passwords, OAuth client secrets and the miniapp backend's secret_key are never
exported, as the parties keep only their hashes: a user left without a password keeps its
own (a new one gets <username>-password); write client secrets in to create those clients on
a fresh stack. --with-secrets files hold credentials: -o writes them readable by you only.

The stack is found through --platform-url, else the state file of the 'boxo-sim up' on
--data-dir, else the local ports. Parties that are real backends the platform relays to are
left out.`,
		Example: `  boxo-sim export > team.seed.yaml                       # secrets masked
  boxo-sim export --with-secrets -o team.seed.yaml        # a file up --seed applies
  boxo-sim up --seed team.seed.yaml
  boxo-sim export --json | jq '.dashboard.miniapps[].app_id'
  boxo-sim export --schema > seed.schema.json             # for editors`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if schema {
				if withSecrets || out != "" || asJSON {
					return errors.New("--schema prints the seed file's JSON Schema and takes no other flag")
				}
				b, err := seed.Schema()
				if err != nil {
					return err
				}
				_, err = e.stdout.Write(b)
				return err
			}
			ps, err := simPartiesFor(cmd, e)
			if err != nil {
				return err
			}
			target := seed.Stack{Client: ps.client}
			for p, u := range ps.urls {
				if ps.relayed[p] {
					continue
				}
				switch p {
				case stack.Hostapp:
					target.HostURL = u
				case stack.Platform:
					target.PlatformURL = u
				case stack.Miniapp:
					target.MiniappURL, target.MiniappPageURL = u, stack.SiteApart(u)
				}
			}
			f, err := seed.Export(cmd.Context(), target, withSecrets)
			if err != nil {
				return fmt.Errorf("export from %s: %w", ps.from, err)
			}
			masked := !withSecrets && f.Masked()
			var body []byte
			if asJSON {
				body, err = f.JSON()
			} else {
				var y []byte
				y, err = f.YAML()
				body = append([]byte(seed.Header(ps.from+" on "+time.Now().UTC().Format(time.RFC3339), masked)), y...)
			}
			if err != nil {
				return err
			}
			if out == "" {
				_, err = e.stdout.Write(body)
				return err
			}
			if err := os.WriteFile(out, body, 0o600); err != nil {
				return err
			}
			if err := os.Chmod(out, 0o600); err != nil { // WriteFile keeps an existing file's mode
				return err
			}
			sum := exportSummary{File: out, Masked: masked, Users: len(f.Users), Clients: len(f.Clients),
				Hostapps: len(f.Dashboard.Hostapps), Miniapps: len(f.Dashboard.Miniapps), Partnerships: len(f.Dashboard.Partnerships)}
			if f.Faults != nil {
				sum.Faults = len(*f.Faults)
			}
			if asJSON {
				return printIndentedJSON(e.stdout, sum)
			}
			count := func(n int, one, many string) string { return fmt.Sprintf("%d %s", n, pluralOf(n, one, many)) }
			fmt.Fprintf(e.stdout, "Wrote %s: %s, %s, %s, %s, %s, %s.\n", out, count(sum.Users, "user", "users"),
				count(sum.Hostapps, "host app", "host apps"), count(sum.Miniapps, "miniapp", "miniapps"),
				count(sum.Partnerships, "partnership", "partnerships"), count(sum.Clients, "OAuth client", "OAuth clients"),
				count(sum.Faults, "fault", "faults"))
			if masked {
				fmt.Fprintln(e.stdout, "Secrets are masked: 'up --seed' refuses the file until they are written in, or export with --with-secrets.")
			}
			return nil
		},
	}
	c.Flags().BoolVar(&withSecrets, "with-secrets", false, "write the secrets the parties keep (Dashboard secrets, signing secrets, encryption keys) in full instead of masked")
	c.Flags().StringVarP(&out, "output", "o", "", "write to this file (mode 0600) instead of stdout")
	c.Flags().BoolVar(&asJSON, "json", false, "write the seed as JSON (which --seed reads too); with -o, a JSON summary on stdout")
	c.Flags().BoolVar(&schema, "schema", false, "print the seed file format's JSON Schema instead")
	addPartyURLFlags(c)
	return c
}

// exportSummary is what export -o --json prints.
type exportSummary struct {
	File         string `json:"file"`
	Masked       bool   `json:"masked"`
	Users        int    `json:"users"`
	Hostapps     int    `json:"hostapps"`
	Miniapps     int    `json:"miniapps"`
	Partnerships int    `json:"partnerships"`
	Clients      int    `json:"clients"`
	Faults       int    `json:"faults"`
}
