package check_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	neturl "net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/check"
	"github.com/boxo-sim/boxo-sim/internal/check/checktest"
	"github.com/boxo-sim/boxo-sim/internal/clock"
	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/stack"
	"github.com/boxo-sim/boxo-sim/internal/testkit"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

// signingKey is the test binary's one RSA key.
var signingKey = testkit.SigningKey

// startStack starts the three simulated parties on ephemeral ports.
func startStack(t *testing.T) *stack.Stack {
	t.Helper()
	st, err := stack.Start(t.Context(), stack.Config{
		HostAddr: "127.0.0.1:0", PlatformAddr: "127.0.0.1:0", MiniappAddr: "127.0.0.1:0",
		DataDir: t.TempDir(), Clock: clock.NewFake(time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)), SigningKey: signingKey(),
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// verdicts maps each status to the sorted ids of the checks that got it.
func verdicts(r *check.Report) map[check.Status][]string {
	out := map[check.Status][]string{}
	for _, res := range r.Results {
		out[res.Status] = append(out[res.Status], res.ID)
	}
	for _, ids := range out {
		slices.Sort(ids)
	}
	return out
}

// wantVerdicts fails unless the FAIL and WARN sets are exactly as given (nil: none) and
// every SKIP is a check that was not asked for ("not run: ..."), none blocked.
func wantVerdicts(t *testing.T, r *check.Report, fails, warns []string) {
	t.Helper()
	v := verdicts(r)
	slices.Sort(fails)
	slices.Sort(warns)
	blocked := false
	for _, res := range r.Results {
		if res.Status == check.Skip && !strings.HasPrefix(res.Message, "not run: ") {
			blocked = true
		}
	}
	if !slices.Equal(v[check.Fail], fails) || !slices.Equal(v[check.Warn], warns) || blocked {
		var buf bytes.Buffer
		check.WriteText(&buf, r, false)
		t.Fatalf("FAIL %q, WARN %q, SKIP %q; want FAIL %q, WARN %q, no blocked SKIP\n%s", v[check.Fail], v[check.Warn], v[check.Skip], fails, warns, buf.String())
	}
}

func TestPlansAreVersionedWithStableIDs(t *testing.T) {
	t.Parallel()
	v1, _ := check.MiniappPlanOf(check.MiniappPlanV1)
	v2, _ := check.MiniappPlanOf(check.MiniappPlanV2)
	for name, plan := range map[string][]check.Check{check.MiniappPlanV1: v1, check.MiniappPlanV2: v2, check.HostappPlanName: check.HostappPlan()} {
		if !strings.HasSuffix(name, "-v1") && !strings.HasSuffix(name, "-v2") {
			t.Errorf("plan %s has no version", name)
		}
		seen := map[string]bool{}
		for _, c := range plan {
			if c.ID == "" || seen[c.ID] || strings.ContainsAny(c.ID, " _") || !strings.HasPrefix(c.Rule, "contract §") || c.Title == "" {
				t.Errorf("%s: check %+v: id empty, repeated or not kebab-case, or rule not a contract section", name, c)
			}
			seen[c.ID] = true
		}
	}
	if check.MiniappPlanName != check.MiniappPlanV2 || len(check.MiniappPlan()) != len(v2) {
		t.Errorf("the current miniapp plan is %s", check.MiniappPlanName)
	}
}

func TestMiniappPlanPassesAgainstTheSimulatedMiniapp(t *testing.T) {
	t.Parallel()
	st := startStack(t)
	for _, me := range []string{"", st.MiniappURL + "/api/me"} {
		rep, err := check.RunMiniapp(t.Context(), check.MiniappConfig{
			URL: st.MiniappURL + demo.AuthTokenPath, AppID: demo.AppID, Secret: demo.MiniappSecret, MeURL: me, Rounds: 5,
		})
		if err != nil {
			t.Fatal(err)
		}
		wantVerdicts(t, rep, nil, nil)
		if len(rep.Results) != len(check.MiniappPlan()) || rep.Plan != check.MiniappPlanV2 || rep.Failed() {
			t.Fatalf("report has %d results of plan %s", len(rep.Results), rep.Plan)
		}
		if r, _ := rep.Result("same-user"); !strings.Contains(r.Message, map[bool]string{true: "GET /api/me", false: "sub claim"}[me != ""]) {
			t.Errorf("same-user does not say how users were told apart: %q", r.Message)
		}
		// boxo-sim's miniapp refuses a user with neither e-mail nor phone: conformant, noted.
		if r, _ := rep.Result("no-email-no-phone"); r.Status != check.Info {
			t.Errorf("no-email-no-phone = %s %q, want INFO", r.Status, r.Message)
		}
		if r, _ := rep.Result("missing-app-id-header"); r.Status != check.Pass || !strings.Contains(r.Message, "MISSING_HEADER") {
			t.Errorf("missing-app-id-header = %s %q", r.Status, r.Message)
		}
	}
	rep, err := check.RunMiniapp(t.Context(), check.MiniappConfig{Plan: check.MiniappPlanV1,
		URL: st.MiniappURL + demo.AuthTokenPath, AppID: demo.AppID, Secret: demo.MiniappSecret})
	if err != nil {
		t.Fatal(err)
	}
	wantVerdicts(t, rep, nil, nil)
	if rep.Plan != check.MiniappPlanV1 || len(rep.Results) != 18 {
		t.Fatalf("plan %s with %d results: miniapp-v1 must stay runnable", rep.Plan, len(rep.Results))
	}
}

// TestDocFollowingMiniappPasses is the done criterion: a backend written from Boxo's
// documents alone (a user with neither e-mail nor phone accepted, ACCESS_DENIED and
// MISSING_HEADER, no created field, the user id under user_id) passes, and is never told to
// use another code.
func TestDocFollowingMiniappPasses(t *testing.T) {
	t.Parallel()
	f := checktest.NewDocMiniapp(t)
	for _, me := range []string{"", f.MeURL()} {
		rep, err := check.RunMiniapp(t.Context(), check.MiniappConfig{URL: f.URL(), AppID: checktest.AppID, Secret: checktest.Secret, MeURL: me, Rounds: 5})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Failed() || rep.Summary.Info != 0 {
			var buf bytes.Buffer
			check.WriteText(&buf, rep, false)
			t.Fatalf("with --me-url %q: %+v\n%s", me, rep.Summary, buf.String())
		}
		if me != "" {
			wantVerdicts(t, rep, nil, nil)
		}
		for _, r := range rep.Results {
			if strings.Contains(r.Message, "names ") || strings.Contains(r.Message, "Boxo's code is") {
				t.Errorf("%s tells a backend answering Boxo's codes to use another: %q", r.ID, r.Message)
			}
		}
		for id, want := range map[string]string{"no-email-no-phone": "accepted it", "wrong-secret": "ACCESS_DENIED", "missing-app-id-header": "MISSING_HEADER", "same-user": "user_id claim"} {
			if me != "" && id == "same-user" {
				want = "GET /api/me"
			}
			// Without --me-url, whether a refused request created a user cannot be seen: WARN.
			if r, _ := rep.Result(id); (r.Status != check.Pass && (me != "" || r.Status != check.Warn)) || !strings.Contains(r.Message, want) {
				t.Errorf("%s = %s %q, want PASS saying %q", id, r.Status, r.Message, want)
			}
		}
		if r, _ := rep.Result("wrong-secret"); me != "" && !strings.Contains(r.Message, "created: unknown") {
			t.Errorf("wrong-secret does not say created is unknown: %q", r.Message)
		}
	}
}

func runFakeMiniapp(t *testing.T, o checktest.MiniappOptions, me bool, rounds int) *check.Report {
	t.Helper()
	f := checktest.NewMiniapp(t, o)
	secret := o.Secret
	if secret == "" {
		secret = checktest.Secret
	}
	cfg := check.MiniappConfig{URL: f.URL(), AppID: checktest.AppID, Secret: secret, Rounds: rounds}
	if me {
		cfg.MeURL = f.MeURL()
	}
	rep, err := check.RunMiniapp(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestHostappPlanPassesAgainstTheSimulatedHost(t *testing.T) {
	t.Parallel()
	st := startStack(t)
	sdk, err := st.SDK(nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := check.RunHostapp(t.Context(), check.HostappConfig{
		AccessTokenURL: st.HostURL + demo.AccessTokenPath, UserDataURL: st.HostURL + demo.UserDataPath, RefreshTokenURL: st.HostURL + demo.RefreshTokenPath,
		ClientID: demo.HostappClientID, Secret: demo.HostappSecret, AuthCode: check.AuthCodeFunc(sdk.HostAuthCode("carol", "")),
	})
	if err != nil {
		t.Fatal(err)
	}
	wantVerdicts(t, rep, nil, nil)
	if v := verdicts(rep); len(v[check.Skip]) != 0 || rep.Plan != check.HostappPlanV2 {
		t.Errorf("plan %s skipped %v", rep.Plan, v[check.Skip])
	}
	if len(rep.Results) != len(check.HostappPlan()) {
		t.Fatalf("%d results", len(rep.Results))
	}
}

// TestBrokenMiniapp is the proof that the checker can fail: a miniapp that answers 401
// instead of 200 and creates duplicate users fails exactly those checks.
func TestBrokenMiniapp(t *testing.T) {
	t.Parallel()
	rep := runFakeMiniapp(t, checktest.MiniappOptions{ErrStatus: http.StatusUnauthorized, DuplicateUsers: true}, false, 2)
	wantVerdicts(t, rep, []string{"always-200", "same-user", "concurrent-first-login"}, nil)
	if !rep.Failed() {
		t.Fatal("Failed() is false")
	}
	r, _ := rep.Result("always-200")
	if len(r.Evidence) == 0 || r.Evidence[0].Status != http.StatusUnauthorized || !strings.Contains(string(r.Evidence[0].Response.Body), "error_code") {
		t.Errorf("always-200 evidence does not show the 401 answer: %+v", r.Evidence)
	}
}

// TestBrokenHost: a host backend that accepts reused codes fails code-reuse and, as several
// redemptions of one code all get tokens, concurrent-redemption; whether it revokes the
// tokens of a replayed code is blocked by code-reuse.
func TestBrokenHost(t *testing.T) {
	t.Parallel()
	h := checktest.NewHost(t, checktest.HostOptions{AcceptReuse: true})
	rep := runFakeHost(t, h)
	if v := verdicts(rep); !slices.Equal(v[check.Fail], []string{"code-reuse", "concurrent-redemption"}) || len(v[check.Warn]) != 0 || !slices.Equal(v[check.Skip], []string{"code-reuse-revokes"}) {
		t.Fatalf("verdicts %v", v)
	}
	if r, _ := rep.Result("code-reuse-revokes"); !strings.HasPrefix(r.Message, "blocked by code-reuse: ") {
		t.Errorf("code-reuse-revokes = %q", r.Message)
	}
	r, _ := rep.Result("code-reuse")
	if len(r.Evidence) != 2 || !strings.Contains(string(r.Evidence[1].Response.Body), "access_token") {
		t.Errorf("code-reuse evidence lacks both exchanges: %+v", r.Evidence)
	}
	if strings.Contains(mustJSON(t, rep), checktest.HostSecret) {
		t.Error("the report carries the host secret")
	}
}

func runFakeHost(t *testing.T, h *checktest.Host) *check.Report {
	t.Helper()
	return runFakeHostWith(t, h, func(*check.HostappConfig) {})
}

// runFakeHostWith runs hostapp-v2 against a checktest host, with the refresh URL, after edit
// has changed the configuration.
func runFakeHostWith(t *testing.T, h *checktest.Host, edit func(*check.HostappConfig)) *check.Report {
	t.Helper()
	cfg := check.HostappConfig{
		AccessTokenURL: h.TokenURL(), UserDataURL: h.UserDataURL(), RefreshTokenURL: h.RefreshURL(),
		ClientID: checktest.HostClientID, Secret: checktest.HostSecret, AuthCode: h.Mint, Timeout: 2 * time.Second,
	}
	edit(&cfg)
	rep, err := check.RunHostapp(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestMiniappChecksCatchEachBreak breaks one rule at a time, the mistakes the checker once
// missed included (a lower-case basic refused, X-Hostapp-Client-ID not stored,
// custom_attributes dropped, a token that never expires, /api/me crashing on a bad token, a
// create-or-find race without --me-url, users created before the credentials are checked).
func TestMiniappChecksCatchEachBreak(t *testing.T) {
	t.Parallel()
	creationChecks := []string{"bad-e164", "basic-user-mismatch", "missing-app-id-header", "wrong-secret"}
	credentialChecks := []string{"basic-user-mismatch", "missing-app-id-header", "wrong-secret"}
	cases := []struct {
		name         string
		o            checktest.MiniappOptions
		me           bool
		fails, warns []string
	}{
		{name: "conforming"},
		{name: "conforming with /api/me", me: true},
		{name: "refuses the scheme written basic", o: checktest.MiniappOptions{CaseSensitiveBasic: true}, warns: []string{"basic-scheme-case"}},
		{name: "ignores X-Hostapp-Client-ID", o: checktest.MiniappOptions{IgnoreClientID: true}, fails: []string{"hostapps-apart"}},
		{name: "ignores X-Hostapp-Client-ID, seen on /api/me", o: checktest.MiniappOptions{IgnoreClientID: true}, me: true, fails: []string{"hostapps-apart"}},
		{name: "drops custom_attributes", o: checktest.MiniappOptions{DropCustomAttributes: true}, me: true, fails: []string{"custom-attributes"}},
		{name: "token never expires", o: checktest.MiniappOptions{NoExpiry: true}, warns: []string{"token-lifetime"}},
		{name: "/api/me answers 500 to a bad token", o: checktest.MiniappOptions{MeCrashes: true}, me: true, warns: []string{"me-refuses-bad-token"}},
		{name: "racy create-or-find, without --me-url", o: checktest.MiniappOptions{Racy: true}, fails: []string{"concurrent-first-login"}},
		{name: "racy create-or-find, with --me-url", o: checktest.MiniappOptions{Racy: true}, me: true, fails: []string{"concurrent-first-login"}},
		{name: "creates the user before checking anything", o: checktest.MiniappOptions{CreateBeforeAuth: true}, me: true, fails: creationChecks},
		{name: "creates the user before validating the phone", o: checktest.MiniappOptions{CreateFirst: true}, me: true, fails: []string{"bad-e164"}},
		{name: "answers earlier boxo-sim codes", o: checktest.MiniappOptions{OldCodes: true}, warns: credentialChecks},
		{name: "accepts a wrong secret", o: checktest.MiniappOptions{AcceptWrongSecret: true}, fails: []string{"wrong-secret"}},
		{name: "requires e-mail or phone", o: checktest.MiniappOptions{RequireEmailOrPhone: true}},
		{name: "opaque tokens", o: checktest.MiniappOptions{Opaque: true},
			warns: append([]string{"same-user", "hostapps-apart", "concurrent-first-login"}, creationChecks...)},
		{name: "opaque tokens with /api/me", o: checktest.MiniappOptions{Opaque: true}, me: true},
		{name: "text/plain", o: checktest.MiniappOptions{ContentType: "text/plain; charset=utf-8"}, fails: []string{"json-content-type"}},
		{name: "counts bytes", o: checktest.MiniappOptions{ByteLimit: true}, fails: []string{"reference-100"}},
		{name: "mass assignment", o: checktest.MiniappOptions{MassAssign: true}, fails: []string{"unknown-fields"}},
		{name: "token with every error", o: checktest.MiniappOptions{BothOnError: true},
			fails: []string{"answer-shape", "bad-e164", "basic-user-mismatch", "empty-body", "missing-app-id-header", "non-json-body", "reference-101", "wrong-secret"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wantVerdicts(t, runFakeMiniapp(t, tc.o, tc.me, 3), tc.fails, tc.warns)
		})
	}
}

// TestCreatedIsOptional: without a created field the checker still tells that a refused
// request created no user (from the fields on /api/me) and says created is unknown; without
// --me-url it says it cannot observe, as a WARN, never a FAIL.
func TestCreatedIsOptional(t *testing.T) {
	t.Parallel()
	rep := runFakeMiniapp(t, checktest.MiniappOptions{NoCreated: true}, true, 2)
	wantVerdicts(t, rep, nil, nil)
	rep = runFakeMiniapp(t, checktest.MiniappOptions{NoCreated: true}, false, 2)
	wantVerdicts(t, rep, nil, []string{"bad-e164", "basic-user-mismatch", "missing-app-id-header", "wrong-secret"})
	if r, _ := rep.Result("wrong-secret"); !strings.Contains(r.Message, "created: unknown") {
		t.Errorf("wrong-secret = %q", r.Message)
	}
	rep = runFakeMiniapp(t, checktest.MiniappOptions{NoCreated: true, CreateBeforeAuth: true}, true, 2)
	wantVerdicts(t, rep, []string{"bad-e164", "basic-user-mismatch", "missing-app-id-header", "wrong-secret"}, nil)
}

// TestCredentialsRefusedEverywhereIsOneDiagnosis: a backend that splits the Basic credential
// at the wrong colon refuses every request; the report says so once, and the checks that
// need a login are blocked instead of failing with unrelated advice.
func TestCredentialsRefusedEverywhereIsOneDiagnosis(t *testing.T) {
	t.Parallel()
	rep := runFakeMiniapp(t, checktest.MiniappOptions{SplitAtLastColon: true, Secret: "secret:with-a-colon"}, true, 2)
	if rep.Summary.Fail != 1 || rep.Summary.Warn != 0 {
		t.Fatalf("summary %+v, want one FAIL", rep.Summary)
	}
	if !strings.HasPrefix(rep.Hint, "valid-request: the backend refused the credentials (ACCESS_DENIED)") || !strings.Contains(rep.Hint, "first colon") {
		t.Errorf("hint = %q", rep.Hint)
	}
	for _, r := range rep.Results {
		switch {
		case r.ID == "valid-request":
		case slices.Contains([]string{"always-200", "answer-shape", "json-content-type", "within-10s", "me-refuses-bad-token"}, r.ID):
			if r.Status != check.Pass {
				t.Errorf("%s: %s %q, want PASS: it needs no login", r.ID, r.Status, r.Message)
			}
		default:
			if r.Status != check.Skip || !strings.HasPrefix(r.Message, "blocked by valid-request: the backend refused the credentials") {
				t.Errorf("%s: %s %q, want SKIP blocked by valid-request", r.ID, r.Status, r.Message)
			}
		}
	}
}

// TestMissingHeaderDiagnosis: a backend that wants a header the platform does not send is
// told about headers, not about its secret.
func TestMissingHeaderDiagnosis(t *testing.T) {
	t.Parallel()
	rep := runFakeMiniapp(t, checktest.MiniappOptions{RequireHeader: "X-App-Id"}, false, 2)
	if rep.Summary.Fail != 1 || !strings.HasPrefix(rep.Hint, "valid-request: the backend says a header is missing (MISSING_HEADER)") {
		t.Fatalf("summary %+v, hint %q", rep.Summary, rep.Hint)
	}
}

// TestRoundsFindAOneInSevenRace: the default rounds find a race that shows in one round of
// seven with at least 99% probability, and the report says how many rounds ran.
func TestRoundsFindAOneInSevenRace(t *testing.T) {
	t.Parallel()
	if p := 1 - math.Pow(6.0/7, check.DefaultRounds); p < 0.99 {
		t.Fatalf("%d rounds find a 1-in-7 race with probability %.3f", check.DefaultRounds, p)
	}
	rep := runFakeMiniapp(t, checktest.MiniappOptions{}, false, 0)
	if r, _ := rep.Result("concurrent-first-login"); r.Status != check.Pass || !strings.Contains(r.Message, fmt.Sprintf("%d rounds of 8", check.DefaultRounds)) {
		t.Errorf("concurrent-first-login = %s %q", r.Status, r.Message)
	}
}

func TestMiniappTooSlow(t *testing.T) {
	t.Parallel()
	f := checktest.NewMiniapp(t, checktest.MiniappOptions{Delay: 300 * time.Millisecond})
	rep, err := check.RunMiniapp(t.Context(), check.MiniappConfig{URL: f.URL(), AppID: checktest.AppID, Secret: checktest.Secret, Timeout: 100 * time.Millisecond, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := rep.Result("within-10s")
	if r.Status != check.Fail || !strings.Contains(r.Message, "no complete answer within 100ms") {
		t.Fatalf("within-10s = %s %q", r.Status, r.Message)
	}
	if r, _ := rep.Result("valid-request"); r.Status != check.Fail {
		t.Fatalf("valid-request = %s", r.Status)
	}
	if r, _ := rep.Result("same-user"); r.Status != check.Skip {
		t.Fatalf("same-user after a failed valid-request = %s, want SKIP", r.Status)
	}
}

func TestHostChecksCatchEachBreak(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name         string
		o            checktest.HostOptions
		fails, warns []string
	}{
		{name: "conforming"},
		{name: "keeps tokens of a replayed code", o: checktest.HostOptions{KeepOnReuse: true}, warns: []string{"code-reuse-revokes"}},
		{name: "ignores the secret", o: checktest.HostOptions{IgnoreSecret: true}, fails: []string{"wrong-secret"}},
		{name: "requires X-Hostapp-Client-ID", o: checktest.HostOptions{RequireClientID: true}, fails: []string{"client-id-header-optional"}},
		{name: "errors as 400", o: checktest.HostOptions{ErrStatus: http.StatusBadRequest}, fails: []string{"always-200", "malformed-bodies"}},
		{name: "malformed bodies as 400", o: checktest.HostOptions{StrictBodies: true}, fails: []string{"always-200", "answer-shape", "malformed-bodies"}},
		{name: "racy redemption", o: checktest.HostOptions{RacyRedemption: true}, fails: []string{"concurrent-redemption"}},
		{name: "tokens unbound to their miniapp", o: checktest.HostOptions{UnboundTokens: true}, warns: []string{"token-bound-to-miniapp"}},
		{name: "case-sensitive scheme", o: checktest.HostOptions{CaseSensitiveScheme: true}, warns: []string{"scheme-case-insensitive"}},
		{name: "refresh without rotation", o: checktest.HostOptions{NoRotation: true}, warns: []string{"refresh"}},
		{name: "rotated refresh token reusable", o: checktest.HostOptions{ReusableRefresh: true}, fails: []string{"refresh"}},
		{name: "text/plain", o: checktest.HostOptions{TextPlain: true}, fails: []string{"json-content-type"}},
		{name: "no email or phone", o: checktest.HostOptions{UserData: `{"reference":"u-42","first_name":"Ada"}`}, fails: []string{"token-to-user-data"}},
		{name: "long reference", o: checktest.HostOptions{UserData: `{"reference":"` + strings.Repeat("r", 101) + `","email":"a@example.com"}`}, fails: []string{"token-to-user-data"}},
		{name: "phone not E.164", o: checktest.HostOptions{UserData: `{"reference":"u-42","phone":"0912345678"}`}, warns: []string{"token-to-user-data"}},
		// Any code of Boxo's list is conformant: another one than the case's is INFO, never
		// advice to change it; an earlier boxo-sim name is a WARN naming Boxo's code.
		{name: "another Boxo code for bad credentials", o: checktest.HostOptions{AccessDeniedAs: contract.CodeUnknownError}},
		{name: "an earlier boxo-sim code", o: checktest.HostOptions{AccessDeniedAs: "INVALID_CREDENTIALS"}, warns: []string{"wrong-prefix", "wrong-secret"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep := runFakeHost(t, checktest.NewHost(t, tc.o))
			wantVerdicts(t, rep, tc.fails, tc.warns)
			if r, _ := rep.Result("wrong-secret"); tc.o.AccessDeniedAs == contract.CodeUnknownError && (r.Status != check.Info || strings.Contains(r.Message, "use ")) {
				t.Errorf("wrong-secret = %s %q, want INFO", r.Status, r.Message)
			}
		})
	}
}

func TestHostAuthCodeFailureSkipsDependents(t *testing.T) {
	t.Parallel()
	h := checktest.NewHost(t, checktest.HostOptions{})
	rep, err := check.RunHostapp(t.Context(), check.HostappConfig{
		AccessTokenURL: h.TokenURL(), UserDataURL: h.UserDataURL(),
		ClientID: checktest.HostClientID, Secret: checktest.HostSecret, AuthCode: check.CommandAuthCode("echo 'no session' >&2; exit 2"),
	})
	if err != nil {
		t.Fatal(err)
	}
	// A failing code source is a setup error, not the backend's FAIL, and every check that
	// needs a code is blocked by it.
	r, _ := rep.Result("code-to-token")
	if r.Status != check.Skip || !strings.HasPrefix(r.Message, "setup error: ") || !strings.Contains(r.Message, "no session") || !strings.Contains(r.Message, "exit status 2") {
		t.Fatalf("code-to-token = %s %q", r.Status, r.Message)
	}
	if len(rep.SetupErrors) != 1 || rep.Failed() {
		t.Errorf("setup errors %q, failed %t", rep.SetupErrors, rep.Failed())
	}
	var junitXML strings.Builder
	if err := check.WriteJUnit(&junitXML, rep, false); err != nil {
		t.Fatal(err)
	}
	if x := junitXML.String(); strings.Count(x, "<error ") != 1 || !strings.Contains(x, `type="SETUP"`) {
		t.Errorf("JUnit does not show the setup error as one <error>:\n%s", x)
	}
	for _, res := range rep.Results {
		switch {
		case res.ID == "code-to-token":
		case res.Status == check.Pass || res.Status == check.Fail || res.Status == check.Warn:
			t.Errorf("%s = %s %q: judged though no code could be had", res.ID, res.Status, res.Message)
		case res.Status == check.Skip && !strings.HasPrefix(res.Message, "blocked by code-to-token: setup error: ") && !strings.HasPrefix(res.Message, "no answer") && !strings.HasPrefix(res.Message, "no call was made"):
			t.Errorf("%s = SKIP %q", res.ID, res.Message)
		}
	}
}

// TestHostWrongFlagsBlockDependents: against a conforming host, each of the newcomer's wrong
// flags — the secret, the user data method, the URL — fails the one check that observed it,
// with a diagnosis naming the likely cause, and every check that depends on it is SKIP
// "blocked by" it: none PASSes, WARNs or FAILs for a reason it did not observe.
func TestHostWrongFlagsBlockDependents(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		edit      func(*check.HostappConfig)
		root, why string
		// judged are the checks that still run: they observed what they judge.
		judged []string
	}{
		{"wrong secret", func(c *check.HostappConfig) { c.Secret = "not-the-secret" }, "code-to-token",
			"the backend refused the credentials (ACCESS_DENIED): check --hostapp-client-id, --hostapp-secret and --token-prefix",
			[]string{"always-200", "answer-shape", "json-content-type", "within-10s"}},
		{"wrong user data method", func(c *check.HostappConfig) { c.UserDataMethod = http.MethodPost }, "token-to-user-data",
			"HTTP 405: " + "URL" + " does not take POST (it allows GET, HEAD); try --user-data-method GET",
			[]string{"code-reuse", "unknown-code", "wrong-secret", "wrong-prefix", "malformed-bodies", "concurrent-redemption", "refresh", "scheme-case-insensitive",
				"always-200", "answer-shape", "json-content-type", "within-10s"}},
		{"wrong access token URL", func(c *check.HostappConfig) {
			c.AccessTokenURL = strings.Replace(c.AccessTokenURL, "/connect/token", "/api/boxo/token", 1)
		}, "code-to-token",
			"HTTP 404: no route at URL: check --access-token-url",
			[]string{"always-200", "answer-shape", "json-content-type", "within-10s"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := checktest.NewHost(t, checktest.HostOptions{})
			var cfg check.HostappConfig
			rep := runFakeHostWith(t, h, func(c *check.HostappConfig) { tc.edit(c); cfg = *c })
			why := strings.Replace(tc.why, "URL", map[string]string{"code-to-token": cfg.AccessTokenURL, "token-to-user-data": cfg.UserDataURL}[tc.root], 1)
			root, _ := rep.Result(tc.root)
			if root.Status != check.Fail || !strings.Contains(rep.Hint, why) {
				t.Fatalf("%s = %s %q; hint %q, want it to say %q", tc.root, root.Status, root.Message, rep.Hint, why)
			}
			if len(rep.SetupErrors) != 0 {
				t.Errorf("setup errors %q: the backend's answers are not a setup error", rep.SetupErrors)
			}
			for _, res := range rep.Results {
				switch {
				case res.ID == tc.root || (tc.root == "token-to-user-data" && res.ID == "code-to-token"):
				case slices.Contains(tc.judged, res.ID):
					if res.Status == check.Fail || res.Status == check.Warn {
						t.Errorf("%s = %s %q", res.ID, res.Status, res.Message)
					}
				case res.Status != check.Skip || !strings.HasPrefix(res.Message, "blocked by "+tc.root+": "+why):
					t.Errorf("%s = %s %q, want SKIP blocked by %s", res.ID, res.Status, res.Message, tc.root)
				}
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	for _, cfg := range []check.MiniappConfig{
		{AppID: "a", Secret: "s"},
		{URL: "127.0.0.1:8083/boxo/auth-token", AppID: "a", Secret: "s"},
		{URL: "http://127.0.0.1:1/x", Secret: "s"},
		{URL: "http://127.0.0.1:1/x", AppID: "a:b", Secret: "s"},
		{URL: "http://127.0.0.1:1/x", AppID: "a"},
		{URL: "http://127.0.0.1:1/x", AppID: "a", Secret: "s", MeURL: "/api/me"},
	} {
		if _, err := check.RunMiniapp(ctx, cfg); err == nil {
			t.Errorf("RunMiniapp(%+v) = nil error", cfg)
		}
	}
	code := func(context.Context) (string, error) { return "c", nil }
	for _, cfg := range []check.HostappConfig{
		{UserDataURL: "http://h/u", ClientID: "c", Secret: "s", AuthCode: code},
		{AccessTokenURL: "http://h/t", ClientID: "c", Secret: "s", AuthCode: code},
		{AccessTokenURL: "http://h/t", UserDataURL: "http://h/u", Secret: "s", AuthCode: code},
		{AccessTokenURL: "http://h/t", UserDataURL: "http://h/u", ClientID: "c", AuthCode: code},
		{AccessTokenURL: "http://h/t", UserDataURL: "http://h/u", ClientID: "c", Secret: "s"},
		{AccessTokenURL: "http://h/t", UserDataURL: "http://h/u", ClientID: "c", Secret: "s", AuthCode: code, Prefix: "Two words"},
		{AccessTokenURL: "http://h/t", UserDataURL: "http://h/u", ClientID: "c", Secret: "s", AuthCode: code, UserDataMethod: "PUT"},
	} {
		if _, err := check.RunHostapp(ctx, cfg); err == nil {
			t.Errorf("RunHostapp(%+v) = nil error", cfg)
		}
	}
}

func TestNoRedirectsFollowed(t *testing.T) {
	t.Parallel()
	f := checktest.NewMiniapp(t, checktest.MiniappOptions{})
	redirect := httptest.NewServer(http.RedirectHandler(f.URL(), http.StatusTemporaryRedirect))
	t.Cleanup(redirect.Close)
	rep, err := check.RunMiniapp(t.Context(), check.MiniappConfig{URL: redirect.URL, AppID: checktest.AppID, Secret: checktest.Secret})
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := rep.Result("always-200"); r.Status != check.Fail || !strings.Contains(r.Message, "307") {
		t.Fatalf("always-200 = %s %q: the redirect was followed", r.Status, r.Message)
	}
}

func TestReports(t *testing.T) {
	t.Parallel()
	f := checktest.NewMiniapp(t, checktest.MiniappOptions{ErrStatus: http.StatusUnauthorized, DuplicateUsers: true})
	rep, err := check.RunMiniapp(t.Context(), check.MiniappConfig{URL: f.URL(), AppID: checktest.AppID, Secret: checktest.Secret, Rounds: 2})
	if err != nil {
		t.Fatal(err)
	}

	var text bytes.Buffer
	if err := check.WriteText(&text, rep, false); err != nil {
		t.Fatal(err)
	}
	out := text.String()
	for _, want := range []string{
		"Plan miniapp-v2 against " + f.URL(),
		"FAIL  always-200",
		"[contract §2.3, §3.12]",
		"PASS  valid-request",
		"→ POST /boxo/auth-token (a valid step-10 request) ← 200 {",
		"← 401", // a FAIL shows the full answer
		"Authorization: Basic YXBw…",
		"checks: 18 PASS, 0 WARN, 3 FAIL, 2 SKIP (plan miniapp-v2",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q", want)
		}
	}
	if strings.Contains(out, checktest.Secret) || strings.Contains(out, "eyJhbGciOiJub25lIn0.") {
		t.Errorf("text report shows a secret or a full token:\n%s", out)
	}

	var js bytes.Buffer
	if err := check.WriteJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	var back check.Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Summary != rep.Summary || len(back.Results) != len(rep.Results) {
		t.Fatalf("JSON report does not round-trip: %v", err)
	}

	var ju bytes.Buffer
	if err := check.WriteJUnit(&ju, rep, false); err != nil {
		t.Fatal(err)
	}
	var suites struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(ju.Bytes(), &suites); err != nil {
		t.Fatalf("JUnit is not XML: %v\n%s", err, ju.String())
	}
	if suites.Tests != 23 || suites.Failures != 3 || len(suites.Suites) != 1 || suites.Suites[0].Name != "miniapp-v2" {
		t.Fatalf("JUnit counts: %+v", suites)
	}
	var failed []string
	for _, c := range suites.Suites[0].Cases {
		if c.Failure != nil {
			failed = append(failed, c.Name)
			if !strings.Contains(c.Failure.Text, "contract §") {
				t.Errorf("failure of %s lacks the rule: %q", c.Name, c.Failure.Text)
			}
		}
	}
	slices.Sort(failed)
	if !slices.Equal(failed, []string{"always-200", "concurrent-first-login", "same-user"}) {
		t.Errorf("JUnit failures = %q", failed)
	}
}

// TestJUnitCarriesWarnings: a WARN is a passed test case with the warning in <system-out>
// and a verdict property; with strict (--warn-as-failure) it is a <failure>.
func TestJUnitCarriesWarnings(t *testing.T) {
	t.Parallel()
	rep := runFakeMiniapp(t, checktest.MiniappOptions{NoExpiry: true, RequireEmailOrPhone: true}, false, 2)
	type testcase struct {
		Name       string `xml:"name,attr"`
		Properties []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"properties>property"`
		Failure   *struct{} `xml:"failure"`
		SystemOut string    `xml:"system-out"`
	}
	parse := func(strict bool) map[string]testcase {
		var b bytes.Buffer
		if err := check.WriteJUnit(&b, rep, strict); err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Failures int `xml:"failures,attr"`
			Suites   []struct {
				Cases []testcase `xml:"testcase"`
			} `xml:"testsuite"`
		}
		if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		out := map[string]testcase{}
		for _, c := range doc.Suites[0].Cases {
			out[c.Name] = c
		}
		return out
	}
	verdict := func(c testcase) string {
		for _, p := range c.Properties {
			if p.Name == "verdict" {
				return p.Value
			}
		}
		return ""
	}
	cases := parse(false)
	w := cases["token-lifetime"]
	if verdict(w) != "WARN" || w.Failure != nil || !strings.Contains(w.SystemOut, "no exp claim") {
		t.Errorf("WARN case = %+v", w)
	}
	if c := cases["no-email-no-phone"]; verdict(c) != "INFO" || c.Failure != nil {
		t.Errorf("INFO case = %+v", c)
	}
	if c := cases["valid-request"]; verdict(c) != "PASS" {
		t.Errorf("PASS case = %+v", c)
	}
	if w := parse(true)["token-lifetime"]; w.Failure == nil || verdict(w) != "WARN" {
		t.Errorf("strict: WARN case = %+v, want a failure", w)
	}
	if c := parse(true)["no-email-no-phone"]; c.Failure != nil {
		t.Errorf("strict: INFO must not fail: %+v", c)
	}
	if rep.Failed() || !rep.FailedStrictly() {
		t.Errorf("Failed %t, FailedStrictly %t; want false, true", rep.Failed(), rep.FailedStrictly())
	}
}

func TestCommandAuthCode(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	if code, err := check.CommandAuthCode("printf '  abc123\\n'")(ctx); err != nil || code != "abc123" {
		t.Fatalf("code %q, err %v", code, err)
	}
	for cmd, want := range map[string]string{
		"echo 'not signed in' >&2; exit 3": "not signed in",
		"true":                             "no code",
		"echo two words":                   "not a single code",
		"exit 7":                           "exit status 7",
	} {
		if _, err := check.CommandAuthCode(cmd)(ctx); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err %v, want %q", cmd, err, want)
		}
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	if _, err := check.CommandAuthCode("sleep 20")(short); err == nil || time.Since(t0) > 5*time.Second {
		t.Errorf("a hanging command: err %v after %v", err, time.Since(t0))
	}
}

func TestURLAuthCode(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/text":
			w.Write([]byte("code-from-text\n"))
		case "/code":
			w.Write([]byte(`{"code":"code-from-json"}`))
		case "/auth_code":
			w.Write([]byte(`{"auth_code":"code-from-auth-code"}`))
		case "/redirect":
			http.Redirect(w, r, "/text", http.StatusFound)
		default:
			http.Error(w, "no", http.StatusInternalServerError)
		}
	}))
	t.Cleanup(srv.Close)
	for path, want := range map[string]string{"/text": "code-from-text", "/code": "code-from-json", "/auth_code": "code-from-auth-code"} {
		if code, err := check.URLAuthCode(srv.URL+path, nil)(t.Context()); err != nil || code != want {
			t.Errorf("%s: %q, %v", path, code, err)
		}
	}
	for _, path := range []string{"/redirect", "/fail"} {
		if _, err := check.URLAuthCode(srv.URL+path, nil)(t.Context()); err == nil {
			t.Errorf("%s: no error", path)
		}
	}
}

// The checker must see the real simulated host through the SDK's own auth-code path.
var _ check.AuthCodeFunc = check.AuthCodeFunc(sdkstub.AuthCodeFunc(nil))

// TestUnreachableBackendIsASetupError: a backend that cannot be reached at all is a setup
// error, not a FAIL of the backend: every check is SKIP and the report says why once.
func TestUnreachableBackendIsASetupError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/boxo/auth-token"
	srv.Close()
	rep, err := check.RunMiniapp(t.Context(), check.MiniappConfig{URL: url, AppID: "a", Secret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	refused := "could not connect to " + srv.URL + " (connection refused)"
	if rep.Summary.Fail != 0 || rep.Summary.Skip != len(rep.Results) || len(rep.SetupErrors) != 1 || !strings.Contains(rep.SetupErrors[0], refused) {
		t.Fatalf("summary %+v, setup errors %q", rep.Summary, rep.SetupErrors)
	}
	if r, _ := rep.Result("valid-request"); r.Message != "setup error: "+refused {
		t.Errorf("valid-request: %s %q", r.Status, r.Message)
	}
}

// TestUntrustedCertificateIsASetupError: an HTTPS host whose certificate is not trusted
// is a setup error naming --ca-cert; with the CA given, the plan runs.
func TestUntrustedCertificateIsASetupError(t *testing.T) {
	t.Parallel()
	h := checktest.NewHost(t, checktest.HostOptions{})
	target, _ := neturl.Parse(h.TokenURL())
	target.Path = ""
	tlsSrv := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(target))
	t.Cleanup(tlsSrv.Close)
	rep := runFakeHostWith(t, h, func(c *check.HostappConfig) {
		c.AccessTokenURL, c.UserDataURL, c.RefreshTokenURL = tlsSrv.URL+"/connect/token", tlsSrv.URL+"/connect/user", ""
	})
	if len(rep.SetupErrors) != 1 || !strings.Contains(rep.SetupErrors[0], "signed by an authority this machine does not trust") || !strings.Contains(rep.SetupErrors[0], "--ca-cert") || rep.Failed() {
		t.Fatalf("setup errors %q, summary %+v", rep.SetupErrors, rep.Summary)
	}
	rep = runFakeHostWith(t, h, func(c *check.HostappConfig) {
		c.AccessTokenURL, c.UserDataURL, c.RefreshTokenURL = tlsSrv.URL+"/connect/token", tlsSrv.URL+"/connect/user", ""
		c.HTTPClient = tlsSrv.Client()
	})
	if len(rep.SetupErrors) != 0 || rep.Failed() {
		t.Fatalf("with the CA: setup errors %q, summary %+v", rep.SetupErrors, rep.Summary)
	}
}

// TestHostRequiredFields: a test user whose user_data lacks a field the miniapp requires is
// a WARN naming the field; with the fields the user has, the check passes.
func TestHostRequiredFields(t *testing.T) {
	t.Parallel()
	st := startStack(t)
	sdk, err := st.SDK(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		fields []string
		want   check.Status
	}{{[]string{"email", "phone"}, check.Warn}, {[]string{"phone"}, check.Pass}} {
		rep, err := check.RunHostapp(t.Context(), check.HostappConfig{
			AccessTokenURL: st.HostURL + demo.AccessTokenPath, UserDataURL: st.HostURL + demo.UserDataPath,
			ClientID: demo.HostappClientID, Secret: demo.HostappSecret, AuthCode: check.AuthCodeFunc(sdk.HostAuthCode("bob", "")),
			RequiredFields: tc.fields,
		})
		if err != nil {
			t.Fatal(err)
		}
		r, _ := rep.Result("token-to-user-data")
		if r.Status != tc.want || (tc.want == check.Warn && !strings.Contains(r.Message, "lacks email, which the miniapp requires")) {
			t.Errorf("required %v: %s %s", tc.fields, r.Status, r.Message)
		}
	}
}

// TestURLAuthCodeNamesAnEmptyBody: a failing code source's error says its body was empty,
// instead of ending in an empty quote.
func TestURLAuthCodeNamesAnEmptyBody(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) }))
	t.Cleanup(srv.Close)
	_, err := check.URLAuthCode(srv.URL, nil)(t.Context())
	if err == nil || !strings.HasSuffix(err.Error(), "answered HTTP 500 with an empty body") {
		t.Fatalf("err = %v", err)
	}
}

// TestMiniappWrongURLNamesTheRoute: a Get Auth Token URL with no route says so, and blocks
// the checks that need a working login.
func TestMiniappWrongURLNamesTheRoute(t *testing.T) {
	t.Parallel()
	mini := checktest.NewMiniapp(t, checktest.MiniappOptions{})
	wrong := mini.URL() + "-not-here"
	rep, err := check.RunMiniapp(t.Context(), check.MiniappConfig{URL: wrong, AppID: checktest.AppID, Secret: checktest.Secret, Rounds: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := "HTTP 404: no route at " + wrong + ": check --auth-token-url"
	if r, _ := rep.Result("valid-request"); r.Status != check.Fail || !strings.Contains(r.Message, want) || !strings.Contains(rep.Hint, want) {
		t.Fatalf("valid-request = %s %q; hint %q", r.Status, r.Message, rep.Hint)
	}
	if r, _ := rep.Result("same-user"); r.Status != check.Skip || !strings.HasPrefix(r.Message, "blocked by valid-request: "+want) {
		t.Errorf("same-user = %s %q", r.Status, r.Message)
	}
}
