package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/boxo-sim/boxo-sim/internal/clock"
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

advance, set and reset move each distinct clock once: parties answering the same clock_id
share one clock (one 'up'); parties in separate processes each get moved. The clock stays
where it is moved (an expire fault moves it too) until 'boxo-sim clock reset' (or
'clock set now') puts it back to real time. A party that does not answer is reported as
not running and skipped.`,
		Example: `  boxo-sim clock show
  boxo-sim clock advance 11m
  boxo-sim clock advance -5m
  boxo-sim clock set 2030-01-01T09:00:00Z
  boxo-sim clock reset`,
		Args: cobra.NoArgs,
		RunE: groupHelp,
	}
	addPartyURLFlags(c)
	var party string
	c.PersistentFlags().StringVar(&party, "party", "", "only this party: hostapp, platform or miniapp (default: all three)")
	c.PersistentFlags().Bool("json", false, `print {"clocks": [{"party", "now", "offset", "clock_id"}]} as JSON (advance, set and reset add "moved")`)

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
			names, states, err := clockStates(cmd.Context(), e, ps, names)
			if err != nil {
				return err
			}
			if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
				return printIndentedJSON(e.stdout, clockReport{Clocks: clockList(names, states)})
			}
			printClocks(e.stdout, names, states)
			return nil
		},
	}
	advance := &cobra.Command{
		Use:   "advance DURATION",
		Short: "Move the clock forward by a duration such as 11m or 1h30m",
		Long: `Move every party's clock forward by DURATION (a Go duration: 90s, 11m, 1h30m, 720h).
A negative duration (-5m) moves it back. Flags go before DURATION.`,
		Example: `  boxo-sim clock advance 11m      # auth codes issued so far have expired
  boxo-sim clock advance 1h1s     # and the Connect access tokens and miniapp sessions
  boxo-sim clock advance -5m      # back five minutes
  boxo-sim clock advance --party miniapp 1h`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			args = append(negativeDurationArgs(cmd), args...)
			if err := exactArgs(1, "give the duration to advance by, such as 11m or -5m")(cmd, args); err != nil {
				return err
			}
			d, err := time.ParseDuration(args[0])
			if err != nil {
				return fmt.Errorf("%q is not a duration such as 11m or 1h30m", args[0])
			}
			return moveClocks(cmd, e, party, func() stack.ClockChange { return stack.ClockChange{Advance: d.String()} }, "Advanced by "+clock.FormatDuration(d))
		},
	}
	set := &cobra.Command{
		Use:   "set TIME",
		Short: "Set the clock to an RFC 3339 time",
		Long: `Set every party's clock to TIME, an RFC 3339 time such as 2030-01-01T09:00:00Z. A real
clock keeps running from there; the fake clock of a test stands still. TIME "now" puts the
clock back to real time (offset 0), like 'boxo-sim clock reset'.`,
		Example: `  boxo-sim clock set 2030-01-01T09:00:00Z
  boxo-sim clock set now`,
		Args: exactArgs(1, "give the time to set, such as 2030-01-01T09:00:00Z or now"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] == "now" {
				return resetClocks(cmd, e, party)
			}
			t, err := time.Parse(time.RFC3339Nano, args[0])
			if err != nil {
				return fmt.Errorf("%q is not an RFC 3339 time such as 2030-01-01T09:00:00Z", args[0])
			}
			return moveClocks(cmd, e, party, func() stack.ClockChange { return stack.ClockChange{Set: t.Format(time.RFC3339Nano)} }, "Set to "+t.UTC().Format(time.RFC3339))
		},
	}
	reset := &cobra.Command{
		Use:   "reset",
		Short: "Put the clock back to real time (offset 0)",
		Long: `Put every party's clock back to real time: its offset becomes 0, undoing 'clock advance',
'clock set' and the moves of expire faults. Same as 'boxo-sim clock set now'.`,
		Example: `  boxo-sim clock reset`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return resetClocks(cmd, e, party)
		},
	}
	addNegativeDurationFlags(advance)
	c.AddCommand(show, advance, set, reset)
	return c
}

// resetClocks sets each distinct clock to the real time now, so its offset is 0.
func resetClocks(cmd *cobra.Command, e *env, party string) error {
	return moveClocks(cmd, e, party, func() stack.ClockChange { return stack.ClockChange{Reset: true} }, "Reset to real time")
}

// addNegativeDurationFlags lets cmd take a negative duration such as -5m as its argument. pflag
// reads "-5m" as the shorthand flag -5 with the value "m" ("unknown shorthand flag: '5'"):
// hidden flags -0 to -9 take such words, and negativeDurationArgs puts them back together,
// while every real flag still parses wherever it is written.
func addNegativeDurationFlags(cmd *cobra.Command) {
	for d := '0'; d <= '9'; d++ {
		name := "negative-duration-" + string(d)
		cmd.Flags().StringP(name, string(d), "", "")
		_ = cmd.Flags().MarkHidden(name)
	}
}

// negativeDurationArgs returns the negative durations the hidden flags of
// addNegativeDurationFlags took, as arguments ("-5m").
func negativeDurationArgs(cmd *cobra.Command) []string {
	var args []string
	for d := '0'; d <= '9'; d++ {
		if f := cmd.Flags().Lookup("negative-duration-" + string(d)); f != nil && f.Changed {
			args = append(args, "-"+string(d)+f.Value.String())
		}
	}
	return args
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

// clockStates reads the clock of each named party; parties that do not answer are reported
// and skipped (see simParties.each). It returns the parties that answered.
func clockStates(ctx context.Context, e *env, ps simParties, names []string) ([]string, map[string]stack.ClockState, error) {
	states := map[string]stack.ClockState{}
	names, err := ps.each(e, names, func(p string) error {
		var s stack.ClockState
		if err := ps.do(ctx, p, http.MethodGet, "/_sim/clock", nil, &s); err != nil {
			return err
		}
		states[p] = s
		return nil
	})
	return names, states, err
}

// moveClocks posts change() once per distinct clock among the parties that answer, then
// prints them all.
func moveClocks(cmd *cobra.Command, e *env, party string, change func() stack.ClockChange, done string) error {
	ps, names, err := clockParties(cmd, e, party)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	names, states, err := clockStates(ctx, e, ps, names)
	if err != nil {
		return err
	}
	moved := map[string]bool{}
	for _, p := range names {
		id := states[p].ClockID
		if moved[id] {
			continue
		}
		if err := ps.do(ctx, p, http.MethodPost, "/_sim/clock", change(), nil); err != nil {
			return err
		}
		moved[id] = true
	}
	quiet := &env{getenv: e.getenv, stdout: e.stdout, stderr: io.Discard} // skips were reported above
	if names, states, err = clockStates(ctx, quiet, ps, names); err != nil {
		return err
	}
	if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
		n := len(moved)
		return printIndentedJSON(e.stdout, clockReport{Moved: &n, Clocks: clockList(names, states)})
	}
	fmt.Fprintf(e.stdout, "%s (%d %s).\n", done, len(moved), pluralOf(len(moved), "clock", "clocks"))
	printClocks(e.stdout, names, states)
	return nil
}

// clockReport is the --json form of the clock commands.
type clockReport struct {
	Moved  *int         `json:"moved,omitempty"` // distinct clocks moved; not in show's
	Clocks []partyClock `json:"clocks"`
}

type partyClock struct {
	Party string `json:"party"`
	stack.ClockState
}

func clockList(names []string, states map[string]stack.ClockState) []partyClock {
	out := []partyClock{}
	for _, p := range names {
		out = append(out, partyClock{Party: p, ClockState: states[p]})
	}
	return out
}

func printClocks(w io.Writer, names []string, states map[string]stack.ClockState) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PARTY\tNOW\tOFFSET\tCLOCK")
	for _, p := range names {
		s := states[p]
		off := s.Offset
		if d, err := time.ParseDuration(s.Offset); err == nil {
			off = clock.FormatDuration(d)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p, s.Now.UTC().Format(time.RFC3339), off, s.ClockID)
	}
	tw.Flush()
}
