package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/boxo-sim/boxo-sim/internal/stack"
)

func newClockCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "clock",
		Short: "Show or move the virtual clock of running parties",
		Long: `The parties of one 'boxo-sim up' share one virtual clock, served at /_sim/clock. Expiry
of auth codes, access and refresh tokens and miniapp sessions follows it, so moving it is
how you test expiry without waiting: 'boxo-sim clock advance 11m' makes every auth code
issued so far too old.

advance and set move each distinct clock once: parties answering the same clock_id share
one clock (one 'up'); parties in separate processes each get moved.`,
		Example: `  boxo-sim clock show
  boxo-sim clock advance 11m
  boxo-sim clock set 2030-01-01T09:00:00Z`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return fmt.Errorf("give a subcommand: show, advance or set\nRun 'boxo-sim clock --help' for usage")
		},
	}
	addPartyURLFlags(c)
	var party string
	c.PersistentFlags().StringVar(&party, "party", "", "only this party: hostapp, platform or miniapp (default: all three)")

	show := &cobra.Command{
		Use:     "show",
		Short:   "Print each party's time, its offset from real time and its clock id",
		Example: `  boxo-sim clock show`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ps, names, err := clockParties(cmd, e, party)
			if err != nil {
				return err
			}
			states, err := clockStates(cmd.Context(), ps, names)
			if err != nil {
				return err
			}
			printClocks(e.stdout, names, states)
			return nil
		},
	}
	advance := &cobra.Command{
		Use:   "advance DURATION",
		Short: "Move the clock forward by a duration such as 11m or 1h30m",
		Long: `Move every party's clock forward by DURATION (a Go duration: 90s, 11m, 1h30m, 720h).
To move back, put -- before a negative duration.`,
		Example: `  boxo-sim clock advance 11m      # auth codes issued so far have expired
  boxo-sim clock advance 1h1s     # and the Connect access tokens and miniapp sessions
  boxo-sim clock advance -- -5m   # back five minutes`,
		Args: exactArgs(1, "give the duration to advance by, such as 11m"),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := time.ParseDuration(args[0])
			if err != nil {
				return fmt.Errorf("%q is not a duration such as 11m or 1h30m", args[0])
			}
			return moveClocks(cmd, e, party, stack.ClockChange{Advance: d.String()}, "Advanced by "+d.String())
		},
	}
	set := &cobra.Command{
		Use:   "set TIME",
		Short: "Set the clock to an RFC 3339 time",
		Long: `Set every party's clock to TIME, an RFC 3339 time such as 2030-01-01T09:00:00Z. A real
clock keeps running from there; the fake clock of a test stands still.`,
		Example: `  boxo-sim clock set 2030-01-01T09:00:00Z`,
		Args:    exactArgs(1, "give the time to set, such as 2030-01-01T09:00:00Z"),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := time.Parse(time.RFC3339Nano, args[0])
			if err != nil {
				return fmt.Errorf("%q is not an RFC 3339 time such as 2030-01-01T09:00:00Z", args[0])
			}
			return moveClocks(cmd, e, party, stack.ClockChange{Set: t.Format(time.RFC3339Nano)}, "Set to "+t.UTC().Format(time.RFC3339))
		},
	}
	c.AddCommand(show, advance, set)
	return c
}

// exactArgs is cobra.ExactArgs with a message that says what to give.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return fmt.Errorf("%s\nRun '%s --help' for usage", what, cmd.CommandPath())
		}
		return nil
	}
}

func clockParties(cmd *cobra.Command, e *env, party string) (simParties, []string, error) {
	ps, err := simPartiesFor(cmd, e)
	if err != nil {
		return ps, nil, err
	}
	names, err := simPartyNames(party)
	return ps, names, err
}

func clockStates(ctx context.Context, ps simParties, names []string) (map[string]stack.ClockState, error) {
	states := map[string]stack.ClockState{}
	for _, p := range names {
		var s stack.ClockState
		if err := ps.do(ctx, p, http.MethodGet, "/_sim/clock", nil, &s); err != nil {
			return nil, err
		}
		states[p] = s
	}
	return states, nil
}

// moveClocks posts change once per distinct clock among the parties, then prints them all.
func moveClocks(cmd *cobra.Command, e *env, party string, change stack.ClockChange, done string) error {
	ps, names, err := clockParties(cmd, e, party)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	states, err := clockStates(ctx, ps, names)
	if err != nil {
		return err
	}
	moved := map[string]bool{}
	for _, p := range names {
		id := states[p].ClockID
		if moved[id] {
			continue
		}
		if err := ps.do(ctx, p, http.MethodPost, "/_sim/clock", change, nil); err != nil {
			return err
		}
		moved[id] = true
	}
	if states, err = clockStates(ctx, ps, names); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s (%d %s).\n", done, len(moved), pluralOf(len(moved), "clock", "clocks"))
	printClocks(e.stdout, names, states)
	return nil
}

func printClocks(w io.Writer, names []string, states map[string]stack.ClockState) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PARTY\tNOW\tOFFSET\tCLOCK")
	for _, p := range names {
		s := states[p]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p, s.Now.UTC().Format(time.RFC3339), s.Offset, s.ClockID)
	}
	tw.Flush()
}
