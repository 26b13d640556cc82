package scenarios_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/clock"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/stack"
	"github.com/boxo-sim/boxo-sim/internal/testkit"
	"github.com/boxo-sim/boxo-sim/scenarios"
)

// signingKey is the test binary's one RSA key.
var signingKey = testkit.SigningKey

func testOptions(t *testing.T) scenarios.Options {
	return scenarios.Options{SigningKey: signingKey(), Logger: testLogger(t)}
}

// testLogger writes the parties' warnings to the test's output until the test ends. A request
// held by a delay fault can outlive its stack, and must not write to a finished test.
func testLogger(t *testing.T) *slog.Logger {
	w := &untilDone{w: t.Output()}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type untilDone struct {
	mu   sync.Mutex
	w    io.Writer
	done bool
}

func (u *untilDone) Write(p []byte) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return len(p), nil
	}
	return u.w.Write(p)
}

func parse(t *testing.T, name, body string) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Parse(name+".yaml", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestWrongScenariosFail runs scenarios whose expectations are wrong on purpose: each must fail
// with the expectation, what happened and the trace in its details.
func TestWrongScenariosFail(t *testing.T) {
	t.Parallel()
	scs, err := scenarios.Load("testdata/wrong")
	if err != nil {
		t.Fatal(err)
	}
	rep := scenarios.Run(t.Context(), scs, testOptions(t))
	if rep.OK() || rep.Failed != 2 || rep.Passed != 0 {
		t.Fatalf("report = %s", rep.Summary())
	}
	byName := map[string]scenarios.Result{}
	for _, r := range rep.Results {
		byName[r.Name] = r
	}
	r := byName["wrong-expects-success"]
	if r.Failure == nil || r.Failure.Line != 10 || r.Failure.Expected != "the flow succeeds (step 16 reached)" ||
		!strings.HasPrefix(r.Failure.Got, "failed at step 7 with UNEXPECTED_RESPONSE_ERROR from platform") {
		t.Fatalf("failure = %+v", r.Failure)
	}
	d := r.Details()
	for _, want := range []string{"testdata/wrong/wrong-expects-success.yaml:10: actions[0] (connect as alice)", "flow flow_", "7     hostapp → platform", "step 7 failed", `response: {"error":"injected_fault"}`} {
		if !strings.Contains(d, want) {
			t.Errorf("details lack %q:\n%s", want, d)
		}
	}
	r = byName["wrong-code"]
	if r.Failure == nil || !strings.Contains(r.Failure.Message(), "expected fails at step 7 with INVALID_AUTH_CODE from hostapp; got failed at step 9 with HOSTAPP_USER_NOT_FOUND from hostapp") {
		t.Fatalf("failure = %+v", r.Failure)
	}
}

// TestEachExpectationCanFail gives every kind of expectation a value the run contradicts.
func TestEachExpectationCanFail(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, body, want string }{
		{"succeeds false", "actions: [connect]\nexpect: {succeeds: false}\n", "expected the action fails; got succeeded"},
		{"wrong step", "actions: [{do: connect, consent: deny}]\nexpect: {fails_at: 5}\n", "expected fails at step 5; got failed at step 4 with USER_DENIED from sdk"},
		{"wrong party", "actions: [{do: connect, consent: deny}]\nexpect: {party: platform}\n", "expected fails from platform; got failed at step 4"},
		{"created", "actions: [connect, connect_again]\nexpect: {miniapp_user: created}\n", "expected the miniapp user to be created (created: true); got it was existing"},
		{"existing", "actions: [connect]\nexpect: {miniapp_user: existing}\n", "expected the miniapp user to be existing"},
		{"none", "actions: [connect]\nexpect: {miniapp_user: none}\n", "expected no miniapp user for reference u-1003; got the miniapp holds 1"},
		{"me field", "actions: [connect]\nexpect: {me: {email: someone@example.com}}\n", `got email "carol@example.com" (want "someone@example.com")`},
		{"me custom attribute", "actions: [connect]\nexpect: {me: {custom_attributes: {tier: bronze}}}\n", `custom_attributes.tier "gold" (want "bronze")`},
		{"me status", "actions: [connect, logout]\nexpect: {me: {status: 200}}\n", "expected GET /api/me to answer 200; got 401"},
		{"consent", "actions: [connect]\nexpect: {consent: true}\n", "expected get_consent for u-1003 to say consent: true; got consent: false"},
		{"trace", "actions: [connect]\nexpect: {trace: [{step: 9, error_code: HOSTAPP_USER_NOT_FOUND}]}\n", "expected the trace to hold step 9 with HOSTAPP_USER_NOT_FOUND; got no such step"},
		{"refresh", "actions: [connect, {do: refresh, expect: {succeeds: false}}]\n", "expected the action fails; got it worked"},
		{"implicit success", "actions: [connect, {do: connect, app_id: app00000}]\n", "actions[1] (connect as carol): expected the flow succeeds (step 16 reached); got failed at step 1 with MINIAPP_NOT_FOUND"},
		{"request error", "actions:\n  - {do: request, path: '/api/v1/miniapps/app16973/settings/?client_id=352131', expect: {error_code: MINIAPP_NOT_FOUND}}\n",
			"expected fails with MINIAPP_NOT_FOUND; got it worked; GET /api/v1/miniapps/app16973/settings/?client_id=352131 answered 200"},
		{"request success", "actions:\n  - {do: request, path: '/api/v1/miniapps/app00000/settings/?client_id=352131'}\n",
			"expected a 2xx answer without error_code; got failed at step 1 with MINIAPP_NOT_FOUND from platform"},
		{"request party", "actions:\n  - {do: request, party: miniapp, path: /boxo/auth-token, body: '{}', expect: {error_code: ACCESS_DENIED, party: platform}}\n",
			"got failed at step 11 with ACCESS_DENIED from miniapp"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sc := parse(t, "expect-case", "name: expect-case\n"+tc.body)
			r := scenarios.RunOne(t.Context(), sc, testOptions(t))
			if r.Status != scenarios.Failed || r.Failure == nil {
				t.Fatalf("status %s (%s), want failed", r.Status, r.Error)
			}
			if !strings.Contains(r.Failure.Message(), tc.want) {
				t.Fatalf("message %q\nwant it to contain %q", r.Failure.Message(), tc.want)
			}
		})
	}
}

func TestRunStopsAtTheFirstUnmetExpectation(t *testing.T) {
	t.Parallel()
	sc := parse(t, "stop-early", "name: stop-early\nactions:\n  - {do: connect, expect: {fails_at: 7}}\n  - connect_again\n  - logout\n")
	r := scenarios.RunOne(t.Context(), sc, testOptions(t))
	if r.Status != scenarios.Failed || len(r.Actions) != 1 || r.Failure.Action != 0 || r.Failure.Line != 3 {
		t.Fatalf("result = %+v", r)
	}
}

func TestFailFastSkipsTheRest(t *testing.T) {
	t.Parallel()
	bad := parse(t, "fast-bad", "name: fast-bad\nactions: [connect]\nexpect: {fails_at: 7}\n")
	var scs []*scenarios.Scenario
	scs = append(scs, bad)
	for _, n := range []string{"fast-one", "fast-two", "fast-three"} {
		scs = append(scs, parse(t, n, "name: "+n+"\nactions: [connect]\n"))
	}
	o := testOptions(t)
	o.FailFast, o.Parallel = true, 1
	var done []string
	o.OnDone = func(r scenarios.Result) { done = append(done, r.Name) }
	rep := scenarios.Run(t.Context(), scs, o)
	if rep.Failed != 1 || rep.Skipped < 2 || rep.OK() {
		t.Fatalf("report %s, want the first to fail and the rest mostly skipped", rep.Summary())
	}
	if rep.Results[len(rep.Results)-1].Status != scenarios.Skipped || len(done) != len(scs)-rep.Skipped {
		t.Fatalf("results %+v, OnDone saw %v", rep.Results, done)
	}
}

func TestTemplateRuns(t *testing.T) {
	t.Parallel()
	sc, err := scenarios.Parse("area-case.yaml", scenarios.Template("area-case"))
	if err != nil {
		t.Fatal(err)
	}
	if r := scenarios.RunOne(t.Context(), sc, testOptions(t)); r.Status != scenarios.Passed {
		t.Fatalf("the template does not pass: %s\n%s", r.Status, r.Details())
	}
}

func TestRunReportsScenariosThatCannotRun(t *testing.T) {
	t.Parallel()
	sc := parse(t, "cannot-run", "name: cannot-run\nactions: [connect]\n")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	// A cancelled run is an interrupt, not a scenario that could not run.
	if r := scenarios.RunOne(ctx, sc, testOptions(t)); r.Status != scenarios.Skipped || !strings.Contains(r.Details(), "interrupted") {
		t.Errorf("cancelled context: result %+v", r)
	}
	o := scenarios.Options{PlatformURL: "http://127.0.0.1:1", HostURL: "http://127.0.0.1:1", MiniappURL: "http://127.0.0.1:1"}
	if r := scenarios.RunOne(t.Context(), sc, o); r.Status != scenarios.Errored || !strings.Contains(r.Error, "127.0.0.1:1") {
		t.Errorf("unreachable parties: result %+v", r)
	}
}

// startUp starts the three parties as `boxo-sim up` does: real-time clock, ports of their own.
func startUp(t *testing.T) *stack.Stack {
	t.Helper()
	st, err := stack.Start(t.Context(), stack.Config{
		HostAddr: "127.0.0.1:0", PlatformAddr: "127.0.0.1:0", MiniappAddr: "127.0.0.1:0",
		DataDir: t.TempDir(), Clock: clock.New(), CallTimeout: 500 * time.Millisecond, SigningKey: signingKey(),
		Logger: testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func getJSON(t *testing.T, url string) map[string]any {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	v := map[string]any{}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
	}
	v["_status"] = resp.StatusCode
	return v
}

// TestRemoteRunPutsEverythingBack runs library scenarios against running parties, twice, and
// checks that they pass both times and that faults, registry, settings, users and the clock
// are as they were.
func TestRemoteRunPutsEverythingBack(t *testing.T) {
	t.Parallel()
	st := startUp(t)
	snapshot := func() map[string]any {
		out := map[string]any{}
		for name, u := range map[string]string{
			"hostapp":          st.PlatformURL + "/_sim/hostapps/" + demo.ClientID,
			"miniapp":          st.PlatformURL + "/_sim/miniapps/" + demo.AppID,
			"partnership":      st.PlatformURL + "/_sim/partnerships/" + demo.ClientID + "/" + demo.AppID,
			"host settings":    st.HostURL + "/_sim/settings",
			"miniapp settings": st.MiniappURL + "/_sim/settings",
			"host faults":      st.HostURL + "/_sim/faults",
			"platform faults":  st.PlatformURL + "/_sim/faults",
			"miniapp faults":   st.MiniappURL + "/_sim/faults",
			"platform storage": st.PlatformURL + "/_sim/storage",
		} {
			v := getJSON(t, u)
			delete(v, "updated_at")
			out[name] = v
		}
		return out
	}
	before := snapshot()
	files := []string{
		"library/connect-new-user.yaml", "library/credentials-wrong-host-secret.yaml", "library/credentials-custom-token-prefix.yaml",
		"library/userdata-response-attribute-missing.yaml", "library/session-refresh.yaml", "library/authcode-expired.yaml",
		"library/hostapp-token-and-error.yaml", "library/hostapp-not-whitelisted-ip.yaml", "library/connect-disabled-partnership.yaml",
		"library/logout-then-login.yaml", "library/consent-revoked.yaml", "library/hostapp-timeout.yaml",
		"library/hostapp-user-not-found.yaml", "library/accesstoken-revoked-refresh-refused.yaml", "library/direct-no-integration.yaml",
		"library/platform-endpoint-url-not-set.yaml", "library/platform-storage-read-only.yaml", "library/miniapp-missing-client-id-header.yaml",
	}
	scs, err := scenarios.Load(files...)
	if err != nil {
		t.Fatal(err)
	}
	o := scenarios.Options{PlatformURL: st.PlatformURL, HostURL: st.HostURL, MiniappURL: st.MiniappURL, Parallel: 8}
	for run := 1; run <= 2; run++ {
		rep := scenarios.Run(t.Context(), scs, o)
		for _, r := range rep.Results {
			if r.Status != scenarios.Passed {
				t.Errorf("run %d: %s %s\n%s", run, r.Name, r.Status, r.Details())
			}
		}
	}
	after := snapshot()
	a, _ := json.MarshalIndent(after, "", " ")
	b, _ := json.MarshalIndent(before, "", " ")
	if string(a) != string(b) {
		t.Errorf("the running parties changed:\nbefore %s\nafter  %s", b, a)
	}
	for _, u := range []string{"nina", "gina"} {
		if v := getJSON(t, st.HostURL+"/_sim/users/"+u); v["_status"] != http.StatusNotFound {
			t.Errorf("setup user %s is still on the host: %v", u, v)
		}
	}
	if off := st.Clock.Offset(); off > time.Second || off < -time.Second {
		t.Errorf("the clock is %s off real time after the runs", off)
	}
}

// TestInterruptSkipsTheRunningAndTheRest: cancelling a run against an up (Ctrl-C) reports the
// running scenario and the later ones as skipped because of the interrupt, not as failed or
// errored, and still puts the parties' faults back.
func TestInterruptSkipsTheRunningAndTheRest(t *testing.T) {
	t.Parallel()
	st := startUp(t)
	scs := []*scenarios.Scenario{
		parse(t, "slow-one", "name: slow-one\nfaults:\n  - {step: 6, kind: delay, delay: 5s}\nactions: [connect]\n"),
		parse(t, "later-one", "name: later-one\nactions: [connect]\n"),
		parse(t, "later-two", "name: later-two\nactions: [connect]\n"),
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		// Cancel once the slow scenario's fault is in place, i.e. while it runs.
		for ctx.Err() == nil {
			var l struct{ Faults []any }
			if resp, err := http.Get(st.HostURL + "/_sim/faults"); err == nil {
				_ = json.NewDecoder(resp.Body).Decode(&l)
				resp.Body.Close()
			}
			if len(l.Faults) > 0 {
				cancel()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	o := scenarios.Options{PlatformURL: st.PlatformURL, HostURL: st.HostURL, MiniappURL: st.MiniappURL}
	rep := scenarios.Run(ctx, scs, o)
	if !rep.Interrupted || rep.Failed != 0 || rep.Errors != 0 || rep.Skipped != 3 {
		t.Fatalf("report %s (interrupted %t), want 3 skipped by the interrupt", rep.Summary(), rep.Interrupted)
	}
	for _, r := range rep.Results {
		if r.Status != scenarios.Skipped || !strings.HasPrefix(r.Skip, scenarios.InterruptedMessage) || r.Failure != nil {
			t.Errorf("%s: %s %q %+v", r.Name, r.Status, r.Skip, r.Failure)
		}
	}
	if !strings.HasPrefix(rep.Summary(), "INTERRUPTED: 3 skipped") {
		t.Errorf("summary %q", rep.Summary())
	}
	var b strings.Builder
	if err := rep.WriteJUnit(&b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "<failure") || strings.Contains(b.String(), "<error") || strings.Count(b.String(), "interrupted") != 3 {
		t.Errorf("JUnit report:\n%s", b.String())
	}
	if l := getJSON(t, st.HostURL+"/_sim/faults"); len(l["faults"].([]any)) != 0 {
		t.Errorf("the slow scenario's fault is still set: %v", l)
	}
}
