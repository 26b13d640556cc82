package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/check"
	"github.com/boxo-sim/boxo-sim/internal/check/checktest"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

// upProcess is a `boxo-sim up` running in-process, stopped when the test ends.
type upProcess struct {
	out, errb *lockedBuffer
	urls      map[string]string // started parties
	t         *testing.T
	cancel    context.CancelFunc
	done      chan error
	stopOnce  sync.Once
	err       error
}

// startUp runs `up` with args (plus --data-dir, unless args give one or --ephemeral) as a
// user would and waits until it serves: until it prints "Serving.", on stderr with --json.
func startUp(t *testing.T, args ...string) *upProcess {
	t.Helper()
	if !slices.Contains(args, "--ephemeral") && !slices.Contains(args, "--data-dir") {
		args = append([]string{"--data-dir", t.TempDir()}, args...)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &upProcess{out: &lockedBuffer{}, errb: &lockedBuffer{}, t: t, cancel: cancel, done: make(chan error, 1)}
	go func() {
		p.done <- run(ctx, append([]string{"up"}, args...), func(string) string { return "" }, p.out, p.errb)
	}()
	t.Cleanup(func() { p.stop() })
	watch := p.out
	if slices.Contains(args, "--json") {
		watch = p.errb
	}
	awaitServing(t, watch, p.out, p.errb, p.done)
	p.urls = partyURLs(p.out.String())
	return p
}

// stop stops up as Ctrl-C would and returns what it exited with; the test fails if up does
// not stop within 15 s. Later calls return the same.
func (p *upProcess) stop() error {
	p.stopOnce.Do(func() {
		p.cancel()
		select {
		case p.err = <-p.done:
		case <-time.After(15 * time.Second):
			p.err = errors.New("up did not stop")
			p.t.Error(p.err)
		}
	})
	return p.err
}

// partyURLs is the URL of each party up's banner says it started.
func partyURLs(banner string) map[string]string {
	urls := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^  (hostapp|platform|miniapp)\s+(http://\S+)$`).FindAllStringSubmatch(banner, -1) {
		urls[m[1]] = m[2]
	}
	return urls
}

var allPorts0 = []string{"--hostapp-port", "0", "--platform-port", "0", "--miniapp-port", "0"}

// TestCheckAgainstUp is the done criterion: both plans pass against a running
// `up` and exit 0; the JSON and JUnit reports agree.
func TestCheckAgainstUp(t *testing.T) {
	t.Parallel()
	up := startUp(t, allPorts0...)
	junit := filepath.Join(t.TempDir(), "check.xml")
	out, errOut, code := runCmd(t, t.Context(), nil, "check", "miniapp", "--auth-token-url", up.urls["miniapp"]+demo.AuthTokenPath,
		"--app-id", demo.AppID, "--miniapp-secret", demo.MiniappSecret, "--me-url", up.urls["miniapp"]+"/api/me", "--rounds", "5",
		"--junit", junit, "--warn-as-failure")
	// Every check passes but no-email-no-phone: boxo-sim's miniapp refuses such a user, which
	// is conformant and noted as INFO.
	if code != 0 || strings.Contains(out, "FAIL ") || strings.Contains(out, "WARN ") || !strings.Contains(out, "INFO  no-email-no-phone") ||
		strings.Count(out, "\nPASS  ") != len(check.MiniappPlan())-1 || !strings.Contains(out, "0 FAIL") || !strings.Contains(out, "5 rounds of 8") {
		t.Fatalf("check miniapp: exit %d\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(out, demo.MiniappSecret) {
		t.Error("the report shows the secret")
	}
	b, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var suites struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	if err := xml.Unmarshal(b, &suites); err != nil || suites.Tests != len(check.MiniappPlan()) || suites.Failures != 0 {
		t.Fatalf("JUnit file: %v %+v", err, suites)
	}

	// The host plan, with auth codes minted by the simulated host app through an URL.
	sdk, err := sdkstub.New(sdkstub.Config{PlatformURL: up.urls["platform"], HostURL: up.urls["hostapp"]})
	if err != nil {
		t.Fatal(err)
	}
	mint := sdk.HostAuthCode("bob", "")
	codes := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, err := mint(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"code": code})
	}))
	t.Cleanup(codes.Close)
	out, errOut, code = runCmd(t, t.Context(), nil, "check", "hostapp",
		"--access-token-url", up.urls["hostapp"]+demo.AccessTokenPath, "--user-data-url", up.urls["hostapp"]+demo.UserDataPath,
		"--refresh-token-url", up.urls["hostapp"]+demo.RefreshTokenPath,
		"--hostapp-client-id", demo.HostappClientID, "--hostapp-secret", demo.HostappSecret, "--auth-code-url", codes.URL, "--json")
	if code != 0 {
		t.Fatalf("check hostapp: exit %d\n%s\n%s", code, out, errOut)
	}
	var rep check.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	if rep.Plan != check.HostappPlanName || rep.Summary.Pass != len(check.HostappPlan()) {
		t.Fatalf("hostapp report: %+v", rep.Summary)
	}

	// check auth-code is the --auth-code-cmd for a boxo-sim host app.
	out, errOut, code = runCmd(t, t.Context(), nil, "check", "auth-code", "--hostapp-url", up.urls["hostapp"], "--user", "alice")
	if code != 0 || !regexp.MustCompile(`^[0-9a-f]{40}\n$`).MatchString(out) {
		t.Fatalf("check auth-code: exit %d, stdout %q, stderr %s", code, out, errOut)
	}
	// It finds the host app as every command does: BOXO_SIM_HOSTAPP_URL, the config file,
	// BOXO_SIM_HOSTAPP_PORT.
	hostURL, _ := url.Parse(up.urls["hostapp"])
	file := filepath.Join(t.TempDir(), "boxo-sim.yaml")
	if err := os.WriteFile(file, []byte("hostapp_url: "+up.urls["hostapp"]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, env := range map[string]map[string]string{
		"url":    {"BOXO_SIM_HOSTAPP_URL": up.urls["hostapp"]},
		"port":   {"BOXO_SIM_HOSTAPP_PORT": hostURL.Port()},
		"config": {"BOXO_SIM_CONFIG": file},
	} {
		out, errOut, code = runCmd(t, t.Context(), env, "check", "auth-code", "--user", "alice")
		if code != 0 || !regexp.MustCompile(`^[0-9a-f]{40}\n$`).MatchString(out) {
			t.Errorf("check auth-code with the host app's %s from the environment: exit %d, stdout %q, stderr %s", name, code, out, errOut)
		}
	}
}

// TestCheckMiniappWrongSecret: a wrong --miniapp-secret is one FAIL under a first-line hint, the
// dependent checks SKIP, and the exit status is 1 (a failed check), not 2.
func TestCheckMiniappWrongSecret(t *testing.T) {
	t.Parallel()
	mini := checktest.NewMiniapp(t, checktest.MiniappOptions{})
	out, errOut, code := runCmd(t, t.Context(), nil, "check", "miniapp", "--auth-token-url", mini.URL(), "--app-id", checktest.AppID, "--miniapp-secret", "wrong", "--concurrency", "2")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	if !strings.HasPrefix(out, "Hint: valid-request: the backend refused the credentials (ACCESS_DENIED): check --app-id and --miniapp-secret") ||
		!strings.Contains(out, "SKIP  same-user") || !strings.Contains(out, "blocked by valid-request: the backend refused the credentials") {
		t.Errorf("the report does not start with the hint:\n%s", out)
	}
	wantFails(t, out, "valid-request")
	if strings.Contains(out, "WARN  ") {
		t.Errorf("a wrong secret still gives WARNs:\n%s", out)
	}
}

// TestCheckDocFollowingBackend: a miniapp backend written from Boxo's documents alone (a user
// with neither e-mail nor phone accepted, ACCESS_DENIED and MISSING_HEADER, no created field)
// exits 0, even with --warn-as-failure when --me-url lets every rule be observed; a WARN
// fails the run only with --warn-as-failure.
func TestCheckDocFollowingBackend(t *testing.T) {
	t.Parallel()
	doc := checktest.NewDocMiniapp(t)
	args := []string{"check", "miniapp", "--auth-token-url", doc.URL(), "--app-id", checktest.AppID, "--miniapp-secret", checktest.Secret, "--rounds", "5"}
	out, errOut, code := runCmd(t, t.Context(), nil, append(args, "--me-url", doc.MeURL(), "--warn-as-failure")...)
	if code != 0 || strings.Contains(out, "FAIL  ") || strings.Contains(out, "WARN  ") {
		t.Fatalf("doc-following backend with --me-url: exit %d\n%s\n%s", code, out, errOut)
	}
	if out, errOut, code = runCmd(t, t.Context(), nil, args...); code != 0 {
		t.Fatalf("doc-following backend without --me-url: exit %d\n%s\n%s", code, out, errOut)
	}
	never := checktest.NewMiniapp(t, checktest.MiniappOptions{NoExpiry: true})
	args = []string{"check", "miniapp", "--auth-token-url", never.URL(), "--app-id", checktest.AppID, "--miniapp-secret", checktest.Secret, "--rounds", "2"}
	if out, _, code := runCmd(t, t.Context(), nil, args...); code != 0 || !strings.Contains(out, "WARN  token-lifetime") {
		t.Fatalf("a WARN without --warn-as-failure: exit %d\n%s", code, out)
	}
	if out, _, code := runCmd(t, t.Context(), nil, append(args, "--strict")...); code != 1 {
		t.Fatalf("a WARN with --strict: exit %d\n%s", code, out)
	}
}

// TestCheckBrokenBackends: the two deliberately broken backends make the CLI print exactly
// the expected FAILs and exit 1.
func TestCheckBrokenBackends(t *testing.T) {
	t.Parallel()
	mini := checktest.NewMiniapp(t, checktest.MiniappOptions{ErrStatus: http.StatusUnauthorized, DuplicateUsers: true})
	out, errOut, code := runCmd(t, t.Context(), nil, "check", "miniapp", "--auth-token-url", mini.URL(), "--app-id", checktest.AppID, "--miniapp-secret", checktest.Secret)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	wantFails(t, out, "always-200", "concurrent-first-login", "same-user")

	host := checktest.NewHost(t, checktest.HostOptions{AcceptReuse: true})
	codes := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := host.Mint(r.Context())
		w.Write([]byte(c + "\n"))
	}))
	t.Cleanup(codes.Close)
	out, errOut, code = runCmd(t, t.Context(), nil, "check", "hostapp", "--access-token-url", host.TokenURL(), "--user-data-url", host.UserDataURL(),
		"--hostapp-client-id", checktest.HostClientID, "--hostapp-secret", checktest.HostSecret, "--auth-code-url", codes.URL)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	wantFails(t, out, "code-reuse", "concurrent-redemption")
	if !strings.Contains(out, "already used for a new access_token") {
		t.Errorf("the code-reuse FAIL does not say what happened:\n%s", out)
	}
}

// wantFails checks the FAIL lines of a text report are exactly ids, each with its rule and
// the evidence (a request sent and an answer got).
func wantFails(t *testing.T, out string, ids ...string) {
	t.Helper()
	got := regexp.MustCompile(`(?m)^FAIL  (\S+)\s.*\[contract §[^]]+\]$`).FindAllStringSubmatch(out, -1)
	var names []string
	for _, m := range got {
		names = append(names, m[1])
	}
	slices.Sort(names)
	if !slices.Equal(names, slices.Sorted(slices.Values(ids))) {
		t.Fatalf("FAIL lines for %q, want %q\n%s", names, ids, out)
	}
	if !strings.Contains(out, " "+strconv.Itoa(len(ids))+" FAIL") || !strings.Contains(out, "      → POST ") || !strings.Contains(out, "      ← ") {
		t.Fatalf("report lacks the count or the evidence:\n%s", out)
	}
}

func TestCheckUsageErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"check", "miniapp", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"check", "hostapp", "extra"}, "unknown command"},
		{[]string{"check", "miniapp", "--auth-token-url", "http://h/a", "--app-id", "a", "--miniapp-secret", "s", "--junit", "/nonexistent/dir/x.xml"}, "--junit"},
		{[]string{"check", "miniapp"}, "missing --auth-token-url, --app-id, --miniapp-secret"},
		{[]string{"check", "miniapp", "--auth-token-url", "127.0.0.1:8083", "--app-id", "a", "--miniapp-secret", "s"}, "not an absolute http(s) URL"},
		{[]string{"check", "hostapp", "--access-token-url", "http://h/t", "--user-data-url", "http://h/u", "--hostapp-client-id", "c", "--hostapp-secret", "s"}, "missing --auth-code-cmd or --auth-code-url"},
		{[]string{"check", "hostapp", "--access-token-url", "http://h/t", "--user-data-url", "http://h/u", "--hostapp-client-id", "c", "--hostapp-secret", "s",
			"--auth-code-cmd", "echo x", "--auth-code-url", "http://h/c"}, "not both"},
		{[]string{"check", "hostapp", "--hostapp-client-id", "c"}, "missing --access-token-url, --user-data-url, --hostapp-secret"},
		{[]string{"check", "auth-code", "--user", "nobody"}, "not a demo user"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			_, errOut, code := runCmd(t, t.Context(), nil, tc.args...)
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q; want 2 (usage error) and %q", code, errOut, tc.want)
			}
		})
	}
	if _, errOut, code := runCmd(t, t.Context(), nil, "connect", "--auth-code-cmd", "echo x", "--auth-code-url", "http://h/c"); code == 0 || !strings.Contains(errOut, "not both") {
		t.Fatalf("connect with both code sources: exit %d, stderr %q", code, errOut)
	}
	if out, errOut, code := runCmd(t, t.Context(), nil, "check", "--help"); code != 0 || !strings.Contains(out, "2 on a usage or setup error") {
		t.Fatalf("check --help: exit %d, stderr %q\n%s", code, errOut, out)
	}
	out, _, code := runCmd(t, t.Context(), nil, "check", "miniapp", "--list")
	if code != 0 || !strings.Contains(out, "Plan miniapp-v2:") || !strings.Contains(out, "hostapps-apart") {
		t.Fatalf("--list: exit %d\n%s", code, out)
	}
	out, _, code = runCmd(t, t.Context(), nil, "check", "miniapp", "--list", "--plan", "miniapp-v1")
	if code != 0 || !strings.Contains(out, "Plan miniapp-v1:") || strings.Contains(out, "hostapps-apart") {
		t.Fatalf("--list --plan miniapp-v1: exit %d\n%s", code, out)
	}
	out, _, code = runCmd(t, t.Context(), nil, "check", "miniapp", "--list", "--json")
	var plan struct {
		Plan      string        `json:"plan"`
		Checks    []check.Check `json:"checks"`
		Encrypted []check.Check `json:"with_user_data_key"`
	}
	if err := json.Unmarshal([]byte(out), &plan); code != 0 || err != nil || plan.Plan != "miniapp-v2" ||
		len(plan.Checks) != len(check.MiniappPlan()) || len(plan.Encrypted) != len(check.EncryptedPlan()) {
		t.Fatalf("--list --json: exit %d, %v\n%s", code, err, out)
	}
	if _, errOut, code := runCmd(t, t.Context(), nil, "check", "miniapp", "--auth-token-url", "http://127.0.0.1:1/x", "--app-id", "a", "--miniapp-secret", "s", "--plan", "miniapp-v9"); code != 2 || !strings.Contains(errOut, "miniapp-v9") {
		t.Fatalf("--plan miniapp-v9: exit %d, stderr %q", code, errOut)
	}
}

// TestUpRelaysToASeparateMiniapp is the relay done criterion: `up --miniapp-url` pointing at
// a second, separately started `up --only miniapp` runs a full connect through it, and
// trace shows the flow.
func TestUpRelaysToASeparateMiniapp(t *testing.T) {
	t.Parallel()
	mini := startUp(t, "--only", "miniapp", "--miniapp-port", "0")
	if len(mini.urls) != 1 || mini.urls["miniapp"] == "" {
		t.Fatalf("up --only miniapp printed %v:\n%s", mini.urls, mini.out.String())
	}
	relay := startUp(t, "--demo", "--hostapp-port", "0", "--platform-port", "0", "--miniapp-url", mini.urls["miniapp"])
	if relay.urls["miniapp"] != "" || relay.urls["platform"] == "" || relay.urls["hostapp"] == "" {
		t.Fatalf("the relaying up started %v:\n%s", relay.urls, relay.out.String())
	}
	if !strings.Contains(relay.out.String(), "miniapp   "+mini.urls["miniapp"]+"  (not started here") {
		t.Errorf("up does not say it relays to the miniapp:\n%s", relay.out.String())
	}
	if !strings.Contains(relay.out.String(), "Signed in to "+demo.AppID+" as carol") {
		t.Errorf("up --demo did not run a flow through the relayed miniapp:\n%s", relay.out.String())
	}
	// The platform says its miniapp is relayed, so connect reads the user at steps 14-15
	// only where --me-url says.
	out, errOut, code := runCmd(t, t.Context(), nil, "connect", "--json", "--user", "bob",
		"--platform-url", relay.urls["platform"], "--hostapp-url", relay.urls["hostapp"], "--me-url", mini.urls["miniapp"]+"/api/me")
	if code != 0 {
		t.Fatalf("connect: exit %d\n%s\n%s", code, out, errOut)
	}
	var res sdkstub.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if !res.OK || len(res.Steps) != 16 || res.Me == nil || res.Me.CreatedText() != "true" || res.Me.Reference != "u-1002" {
		t.Fatalf("result = %+v", res)
	}
	resp, err := http.Get(mini.urls["miniapp"] + "/_sim/users")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var users struct {
		Users []struct{ Reference string } `json:"users"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&users); err != nil || len(users.Users) != 2 || users.Users[1].Reference != "u-1002" {
		t.Fatalf("the separate miniapp's users: %+v, %v", users, err)
	}
	out, _, code = runCmd(t, t.Context(), nil, "trace", "--platform-url", relay.urls["platform"])
	if code != 0 || !strings.Contains(out, "outcome ok") || strings.Contains(out, "violation:") {
		t.Fatalf("trace: exit %d\n%s", code, out)
	}
}

// TestConnectInProcessRelaysAndTraceShowsViolations: connect without a running platform
// relays to the miniapp given; a backend that breaks the contract shows in trace.
func TestConnectInProcessRelaysAndTraceShowsViolations(t *testing.T) {
	t.Parallel()
	broken := checktest.NewMiniapp(t, checktest.MiniappOptions{ErrStatus: http.StatusUnauthorized})
	env := map[string]string{"BOXO_SIM_PLATFORM_PORT": freePort(t)}
	// A wrong secret: the broken miniapp answers 401 ACCESS_DENIED.
	out, errOut, code := runCmd(t, t.Context(), env, "connect", "--miniapp-url", strings.TrimSuffix(broken.URL(), demo.AuthTokenPath),
		"--miniapp-app-id", checktest.AppID, "--miniapp-secret", "wrong")
	if code != 1 || !strings.Contains(out, "stopped at step 11") || !strings.Contains(out, "UNEXPECTED_RESPONSE_ERROR") {
		t.Fatalf("connect: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "hostapp and platform (relaying to the backends given) in-process") {
		t.Errorf("stderr does not say what ran in-process: %s", errOut)
	}

	// With a running platform, trace prints each violation under its step.
	up := startUp(t, "--hostapp-port", "0", "--platform-port", "0", "--miniapp-url", strings.TrimSuffix(broken.URL(), demo.AuthTokenPath),
		"--miniapp-app-id", checktest.AppID, "--miniapp-secret", "wrong")
	if !strings.Contains(up.out.String(), "miniapp app_id/secret_key "+checktest.AppID+" / …[5]") {
		t.Errorf("up does not show the relay credentials masked:\n%s", up.out.String())
	}
	out, errOut, code = runCmd(t, t.Context(), nil, "connect", "--platform-url", up.urls["platform"], "--hostapp-url", up.urls["hostapp"],
		"--miniapp-app-id", checktest.AppID)
	if code != 1 || !strings.Contains(out, "stopped at step 11") {
		t.Fatalf("connect through up: exit %d\n%s\n%s", code, out, errOut)
	}
	out, _, code = runCmd(t, t.Context(), nil, "trace", "--platform-url", up.urls["platform"])
	if code != 0 || !strings.Contains(out, "violation: contract §2.3: miniapp answered HTTP 401") || !strings.Contains(out, "'boxo-sim contract x.y' prints the rule") {
		t.Fatalf("trace: exit %d\n%s", code, out)
	}
}

// TestCheckHostWrongFlags runs the newcomer's wrong first runs against a conforming host:
// each names the likely cause, blocks the checks that depend on it, and a failing code
// source is a setup error with exit status 2, not a FAIL of the backend.
func TestCheckHostWrongFlags(t *testing.T) {
	t.Parallel()
	host := checktest.NewHost(t, checktest.HostOptions{})
	codes := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := host.Mint(r.Context())
		w.Write([]byte(c + "\n"))
	}))
	t.Cleanup(codes.Close)
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) }))
	t.Cleanup(failing.Close)
	base := func(tokenURL, secret, method, codeURL string) []string {
		return []string{"check", "hostapp", "--access-token-url", tokenURL, "--user-data-url", host.UserDataURL(), "--user-data-method", method,
			"--hostapp-client-id", checktest.HostClientID, "--hostapp-secret", secret, "--auth-code-url", codeURL}
	}
	wrongURL := strings.Replace(host.TokenURL(), "/connect/token", "/api/boxo/token", 1)
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		want     []string
		stderr   string
		notInOut []string
	}{
		{"wrong secret", base(host.TokenURL(), "wrong", "GET", codes.URL), 1,
			[]string{"Hint: code-to-token: the backend refused the credentials (ACCESS_DENIED): check --hostapp-client-id, --hostapp-secret and --token-prefix",
				"SKIP  wrong-secret", "blocked by code-to-token: the backend refused the credentials"}, "", []string{"PASS  wrong-secret", "FAIL  client-id-header-optional"}},
		{"wrong method", base(host.TokenURL(), checktest.HostSecret, "POST", codes.URL), 1,
			[]string{"does not take POST (it allows GET, HEAD); try --user-data-method GET", "SKIP  code-reuse-revokes"}, "", []string{"WARN  code-reuse-revokes"}},
		{"wrong URL", base(wrongURL, checktest.HostSecret, "GET", codes.URL), 1,
			[]string{"HTTP 404 with a body that is not a JSON object; likely cause: HTTP 404: no route at " + wrongURL + ": check --access-token-url", "not counted"}, "", []string{"WARN  ", "PASS  always-200", "FAIL  always-200", "FAIL  answer-shape"}},
		{"failing code source", base(host.TokenURL(), checktest.HostSecret, "GET", failing.URL), 2,
			[]string{"Setup error (not a verdict on the backend): could not get a fresh auth code", "answered HTTP 500 with an empty body"},
			"boxo-sim: setup error:", []string{"FAIL  "}},
	} {
		out, errOut, code := runCmd(t, t.Context(), nil, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.stderr) {
			t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", tc.name, code, tc.code, out, errOut)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", tc.name, w, out)
			}
		}
		for _, w := range tc.notInOut {
			if strings.Contains(out, w) {
				t.Errorf("%s: output has %q:\n%s", tc.name, w, out)
			}
		}
	}
}
