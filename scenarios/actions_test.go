package scenarios_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/boxo-sim/boxo-sim/scenarios"
)

// TestStateActionsRefuseBadInput: the state-changing and raw-request actions are checked at
// load, each problem with its file and line.
func TestStateActionsRefuseBadInput(t *testing.T) {
	t.Parallel()
	const users = "setup:\n  users: [{username: gina, reference: u-1}]\n"
	cases := []struct{ name, body, want string }{
		{"unknown key", "actions:\n  - {do: request, path: /api/v1/connect/, header: {A: b}}\n", "x.yaml:3:"},
		{"wrong type", users + "actions:\n  - {do: delete_user, user: gina, before_step: eight}\n  - connect\n", "x.yaml:5:"},
		{"no flow after", users + "actions:\n  - {do: delete_user, user: gina, before_step: 8}\n", "x.yaml:5: actions[0].before_step 8: no connect or connect_direct follows"},
		{"direct step", "actions:\n  - {do: revoke_tokens, before_step: 8}\n  - connect_direct\n", "x.yaml:3: actions[0].before_step 8: the next flow is connect_direct (line 4)"},
		{"connect step", "actions:\n  - {do: revoke_tokens, before_step: 7}\n  - connect\n", "x.yaml:3: actions[0].before_step 7: the next flow is connect (line 4): use 6"},
		{"step without a call", "actions:\n  - {do: remove_partnership, before_step: 9}\n  - connect\n", "x.yaml:3: actions[0].before_step 9"},
		{"demo user", "actions:\n  - {do: delete_user, user: carol}\n", "x.yaml:3: actions[0]: delete_user deletes a user of setup.users"},
		{"no setup user", "actions:\n  - delete_user\n", "x.yaml:3: actions[0]: delete_user deletes a user of setup.users"},
		{"read-only timed", "actions:\n  - {do: read_only_storage, before_step: 8}\n  - connect\n", "x.yaml:3: actions[0]: read_only_storage takes no before_step"},
		{"request option elsewhere", "actions:\n  - {do: revoke_tokens, path: /x}\n", "x.yaml:3: actions[0]: revoke_tokens takes no path"},
		{"bare request", "actions:\n  - request\n", "x.yaml:3: actions[0]: request needs path"},
		{"relative path", "actions:\n  - {do: request, path: api/v1/connect/}\n", "x.yaml:3: actions[0].path \"api/v1/connect/\": a path starting with /"},
		{"admin path", "actions:\n  - {do: request, path: /_sim/faults}\n", "x.yaml:3: actions[0].path \"/_sim/faults\": request is for contract endpoints"},
		{"bad party", "actions:\n  - {do: request, path: /x, party: sdk}\n", "x.yaml:3: actions[0].party \"sdk\": use platform, hostapp or miniapp"},
		{"bad method", "actions:\n  - {do: request, path: /x, method: FETCH}\n", "x.yaml:3: actions[0].method \"FETCH\": use one of GET"},
		{"bad header", "actions:\n  - do: request\n    path: /x\n    headers: {\"X Bad\": v}\n", "x.yaml:5: actions[0].headers \"X Bad\""},
		{"body not a string", "actions:\n  - {do: request, path: /x, body: {a: 1}}\n", "x.yaml:3:"},
		{"request expects a trace", "actions:\n  - {do: request, path: /x, expect: {trace: [{step: 5}]}}\n", "x.yaml:3: actions[0].expect: trace cannot be expected of request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := scenarios.Parse("x.yaml", []byte("name: x\n"+tc.body))
			var le *scenarios.LoadError
			if !errors.As(err, &le) {
				t.Fatalf("Parse = %v, want a *LoadError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

// TestBeforeStepRuns: an action waiting for a step runs there and the call goes on unchanged
// (another user's tokens revoked, carol's flow succeeds with her data); one whose step the
// flow never reaches makes the scenario fail, saying so.
func TestBeforeStepRuns(t *testing.T) {
	t.Parallel()
	t.Run("relayed call unchanged", func(t *testing.T) {
		t.Parallel()
		sc := parse(t, "relay", "name: relay\nactions:\n  - {do: revoke_tokens, user: bob, before_step: 8}\n  - {do: revoke_tokens, user: alice, before_step: 10}\n"+
			"  - {do: connect, user: carol, expect: {me: {reference: u-1003, email: carol@example.com}}}\n")
		r := scenarios.RunOne(t.Context(), sc, testOptions(t))
		if r.Status != scenarios.Passed {
			t.Fatalf("%s\n%s", r.Status, r.Details())
		}
	})
	t.Run("never reached", func(t *testing.T) {
		t.Parallel()
		sc := parse(t, "unfired", "name: unfired\nactions:\n  - {do: revoke_tokens, before_step: 8}\n  - {do: connect, password: wrong, expect: {fails_at: 5}}\n")
		r := scenarios.RunOne(t.Context(), sc, testOptions(t))
		if r.Status != scenarios.Failed || r.Failure == nil {
			t.Fatalf("status %s (%s), want failed", r.Status, r.Error)
		}
		want := "actions[1] (connect as carol): expected the flow to reach the step where revoke_tokens (line 3) before step 8 was to run; got the flow failed at step 5 with NO_AUTH_CODE"
		if !strings.HasPrefix(r.Failure.Message(), want) || r.Failure.Line != 3 {
			t.Fatalf("failure %q (line %d)\nwant %q (line 3)", r.Failure.Message(), r.Failure.Line, want)
		}
	})
}
