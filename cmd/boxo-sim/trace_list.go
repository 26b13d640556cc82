package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/stack"
	"github.com/boxo-sim/boxo-sim/scenarios"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

// traceList is trace's --list: the recent flows of the platform's flow log, one line each,
// selected by outcome, user and app (GET /_sim/flows).
type traceList struct {
	list                 bool
	outcome, user, appID string
	limit                int
}

// traceListFilters are the flags that only --list takes.
var traceListFilters = []string{"outcome", "user", "app-id", "limit"}

func (l *traceList) addFlags(c *cobra.Command, e *env) {
	fl := c.Flags()
	fl.BoolVar(&l.list, "list", false, "list the recent flows, newest first, one line each (filters: --outcome, --user, --app-id, --limit)")
	fl.StringVar(&l.outcome, "outcome", "", "with --list: ok, error (any failure), running, or an error code such as INVALID_AUTH_CODE")
	fl.StringVar(&l.user, "user", "", "with --list: the flows of this host user (username or user reference)")
	fl.StringVar(&l.appID, "app-id", "", "with --list: the flows of this miniapp")
	fl.IntVar(&l.limit, "limit", 20, "with --list: at most this many flows (the platform keeps at most 500 per answer)")
	_ = c.RegisterFlagCompletionFunc("outcome", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return append([]string{"ok", "error", "running"}, contract.Codes...), cobra.ShellCompDirectiveNoFileComp
	})
	_ = c.RegisterFlagCompletionFunc("user", completeFlagFrom(e, usersRecords))
	_ = c.RegisterFlagCompletionFunc("app-id", completeFlagFrom(e, miniappsKind))
}

// wanted reports whether the command line asks for the list: --list, or one of its filters
// (which run says needs --list).
func (l *traceList) wanted(cmd *cobra.Command) bool {
	return l.list || slices.ContainsFunc(traceListFilters, cmd.Flags().Changed)
}

// errorCode matches what --outcome takes as an error code.
var errorCode = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]*$`)

// query is the flow list's query for the flags given; errors are usage errors.
func (l *traceList) query(cmd *cobra.Command, args []string) (url.Values, error) {
	switch {
	case !l.list:
		var given []string
		for _, f := range traceListFilters {
			if cmd.Flags().Changed(f) {
				given = append(given, "--"+f)
			}
		}
		return nil, fmt.Errorf("%s %s only with --list", strings.Join(given, ", "), pluralOf(len(given), "works", "work"))
	case len(args) > 0:
		return nil, fmt.Errorf("--list lists flows: give no FLOW_ID ('boxo-sim trace %s' prints that flow)", args[0])
	case cmd.Flags().Changed("clear"), cmd.Flags().Changed("verbose"):
		return nil, fmt.Errorf("--list takes neither --clear nor --verbose")
	case l.limit < 1:
		return nil, fmt.Errorf("--limit %d: give a positive number of flows", l.limit)
	}
	q := url.Values{"limit": {strconv.Itoa(l.limit)}}
	switch o := l.outcome; {
	case o == "":
	case o == "ok" || o == "running":
		q.Set("outcome", o)
	case o == "error" || o == "failed":
		q.Set("outcome", contract.OutcomeFailed)
	case errorCode.MatchString(o):
		q.Set("error_code", o)
	default:
		return nil, fmt.Errorf("--outcome %q: use ok, error, running or an error code such as INVALID_AUTH_CODE", o)
	}
	if l.appID != "" {
		q.Set("app_id", l.appID)
	}
	return q, nil
}

// flowLine is a flow of the list as trace --list reads it.
type flowLine struct {
	ID            string    `json:"id"`
	StartedAt     time.Time `json:"started_at"`
	AppID         string    `json:"app_id"`
	UserReference string    `json:"user_reference"`
	Mode          string    `json:"mode"`
	Outcome       string    `json:"outcome"`
	ErrorCode     string    `json:"error_code"`
	DurationMS    float64   `json:"duration_ms"`
}

// run prints the list: the platform's answer with --json, else one line per flow. A user
// is named by username where the stack's host app knows the flow's reference.
func (l *traceList) run(cmd *cobra.Command, e *env, args []string, asJSON bool) error {
	q, err := l.query(cmd, args)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	a, err := newAdminAPI(ctx, cmd.Flags(), e)
	if err != nil {
		return err
	}
	// The host app's users, to match --user by username and to name each flow's user.
	names := map[string]string{}
	var users struct {
		Users []struct{ Username, Reference string } `json:"users"`
	}
	if raw, err := a.call(ctx, stack.Hostapp, http.MethodGet, "/_sim/users", nil, "users"); err == nil && json.Unmarshal(raw, &users) == nil {
		for _, u := range users.Users {
			names[u.Reference] = u.Username
		}
	}
	if l.user != "" {
		q.Set("user_reference", l.user)
		for ref, name := range names {
			if name == l.user {
				q.Set("user_reference", ref)
			}
		}
	}
	raw, err := a.call(ctx, stack.Platform, http.MethodGet, "/_sim/flows?"+q.Encode(), nil, "the flow log")
	if err != nil {
		return err
	}
	if asJSON {
		return writeIndented(e.stdout, raw)
	}
	var list struct {
		Flows []flowLine `json:"flows"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return fmt.Errorf("the platform answered a flow list that is not the expected JSON: %v", err)
	}
	if len(list.Flows) == 0 {
		fmt.Fprintln(e.stdout, "No flows match.")
		if c := q.Get("error_code"); c != "" && !slices.Contains(slices.Concat(contract.Codes, contract.BoxoOtherCodes, scenarios.SDKCodes, scenarios.MiniappAPICodes), c) {
			fmt.Fprintf(e.stderr, "(--outcome %s is not an error code boxo-sim knows: give ok, error, running or a code such as %s; 'boxo-sim contract 5' lists them)\n", c, contract.CodeInvalidAuthCode)
		}
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTARTED\tUSER\tAPP\tMODE\tOUTCOME\tDURATION")
	for _, f := range list.Flows {
		user := firstSet(names[f.UserReference], f.UserReference)
		outcome := f.Outcome
		if f.ErrorCode != "" {
			outcome += " " + f.ErrorCode
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.ID, f.StartedAt.Format(time.RFC3339), firstSet(user, "-"),
			firstSet(f.AppID, "-"), firstSet(f.Mode, "-"), outcome, sdkstub.FormatMS(f.DurationMS))
	}
	return tw.Flush()
}
