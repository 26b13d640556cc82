package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/stack"
)

// adminRun runs boxo-sim against the stack of a platform, as a user would with
// --platform-url, and returns its output and exit status.
func adminRun(t *testing.T, platformURL string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runCmd(t, t.Context(), nil, append(args, "--platform-url", platformURL)...)
}

// adminJSON runs a command with --json that must succeed and decodes its output.
func adminJSON(t *testing.T, platformURL string, v any, args ...string) {
	t.Helper()
	out, errOut, code := adminRun(t, platformURL, append(args, "--json")...)
	if code != 0 {
		t.Fatalf("boxo-sim %s --json: exit %d\n%s\n%s", strings.Join(args, " "), code, out, errOut)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("boxo-sim %s --json printed no JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// wantExit runs a command and checks its exit status and that stderr says want.
func wantExit(t *testing.T, platformURL string, code int, want string, args ...string) {
	t.Helper()
	out, errOut, got := adminRun(t, platformURL, args...)
	if got != code || !strings.Contains(errOut, want) {
		t.Errorf("boxo-sim %s: exit %d, stderr %q; want exit %d and %q\nstdout: %s", strings.Join(args, " "), got, errOut, code, want, out)
	}
}

func compactJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	json.Compact(&b, raw)
	return b.String()
}

type userOut struct {
	Username, Reference, Email, Phone string
	FirstName                         string          `json:"first_name"`
	CustomAttributes                  json.RawMessage `json:"custom_attributes"`
	HasPassword                       bool            `json:"has_password"`
}

func TestUsersCommands(t *testing.T) {
	t.Parallel()
	p := runUpForFaults(t)["platform"]

	out, _, code := adminRun(t, p, "users", "list")
	if code != 0 || !strings.Contains(out, "USERNAME") || !strings.Contains(out, "carol     u-1003     carol@example.com") {
		t.Fatalf("users list: exit %d\n%s", code, out)
	}
	var list struct{ Users []userOut }
	adminJSON(t, p, &list, "users", "list")
	if len(list.Users) != 3 || list.Users[2].Username != "carol" || !list.Users[2].HasPassword {
		t.Errorf("users list --json = %+v", list)
	}

	// put creates; a second put changes only the fields given.
	out, errOut, code := adminRun(t, p, "users", "put", "dave", "--password", "dave-pw-1", "--reference", "u-2001", "--email", "dave@example.com",
		"--custom-attributes", `{"tier":"gold"}`)
	if code != 0 || !strings.HasPrefix(out, `Created user "dave":`) || strings.Contains(out, "dave-pw-1") {
		t.Fatalf("users put (new): exit %d\n%s\n%s", code, out, errOut)
	}
	if out, _, code = adminRun(t, p, "users", "put", "dave", "--phone", "+6591230000", "--first-name", "Dave"); code != 0 || !strings.HasPrefix(out, `Saved user "dave":`) {
		t.Fatalf("users put (change): exit %d\n%s", code, out)
	}
	var dave userOut
	adminJSON(t, p, &dave, "users", "get", "dave")
	if dave.Email != "dave@example.com" || dave.Reference != "u-2001" || dave.Phone != "+6591230000" || dave.FirstName != "Dave" ||
		compactJSON(dave.CustomAttributes) != `{"tier":"gold"}` || !dave.HasPassword {
		t.Errorf("after a put of two fields the others changed: %+v", dave)
	}
	// The password works: dave signs in through a whole flow.
	if out, errOut, code := runCmd(t, t.Context(), nil, "connect", "--user", "dave", "--password", "dave-pw-1", "--platform-url", p); code != 0 {
		t.Fatalf("connect as dave: exit %d\n%s\n%s", code, out, errOut)
	}
	// An empty value empties a field; get's JSON is a valid --file, read-only keys and all.
	raw, _, _ := adminRun(t, p, "users", "get", "dave", "--json")
	file := filepath.Join(t.TempDir(), "dave.json")
	if err := os.WriteFile(file, []byte(strings.Replace(raw, `"u-2001"`, `"u-2002"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := adminRun(t, p, "users", "put", "dave", "--file", file, "--email", ""); code != 0 {
		t.Fatalf("users put --file (get's JSON): exit %d\n%s\n%s", code, out, errOut)
	}
	dave = userOut{}
	adminJSON(t, p, &dave, "users", "get", "dave")
	if dave.Reference != "u-2002" || dave.Email != "" || dave.Phone != "+6591230000" || !dave.HasPassword {
		t.Errorf("after put --file --email '': %+v", dave)
	}
	wantExit(t, p, 2, `names username "dave"`, "users", "put", "erin", "--file", file)

	out, _, code = adminRun(t, p, "users", "get", "carol")
	if code != 0 || !strings.Contains(out, "custom_attributes  {\"tier\":\"gold\",\"locale\":\"en-SG\"}") || strings.Contains(out, "password-") {
		t.Errorf("users get carol: exit %d\n%s", code, out)
	}
	if out, _, code = adminRun(t, p, "users", "delete", "dave"); code != 0 || out != "Deleted user \"dave\".\n" {
		t.Errorf("users delete: exit %d %q", code, out)
	}
	var del map[string]any
	adminJSON(t, p, &del, "users", "delete", "carol")
	if del["deleted"] != true || del["username"] != "carol" {
		t.Errorf("users delete --json = %v", del)
	}
	wantExit(t, p, 1, `user "dave" does not exist`, "users", "get", "dave")
	wantExit(t, p, 1, `user "dave" does not exist`, "users", "delete", "dave")
	// A refusal names the party's code and reason.
	wantExit(t, p, 2, "refused PUT /_sim/users/dave: invalid_request: password is empty", "users", "put", "dave", "--password", "")
}

type clientOut struct {
	ClientID     string   `json:"client_id"`
	Name         string   `json:"name"`
	RedirectURIs []string `json:"redirect_uris"`
	Scopes       []string `json:"scopes"`
	AuthMethod   string   `json:"token_endpoint_auth_method"`
	RequirePKCE  bool     `json:"require_pkce"`
	SkipConsent  bool     `json:"skip_consent"`
}

func TestClientsCommands(t *testing.T) {
	t.Parallel()
	p := runUpForFaults(t)["platform"]

	out, _, code := adminRun(t, p, "clients", "list")
	if code != 0 || !strings.Contains(out, demo.HostappClientID) {
		t.Fatalf("clients list: exit %d\n%s", code, out)
	}
	out, errOut, code := adminRun(t, p, "clients", "put", "my-web", "--secret", "my-web-secret-1", "--redirect-uris", "https://app.example.com/cb,https://app.example.com/cb2",
		"--scopes", "openid", "--scopes", "profile", "--name", "My web app")
	if code != 0 || strings.Contains(out, "my-web-secret-1") {
		t.Fatalf("clients put: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, errOut, code := adminRun(t, p, "clients", "put", "my-web", "--skip-consent"); code != 0 {
		t.Fatalf("clients put --skip-consent: exit %d %s", code, errOut)
	}
	var c clientOut
	adminJSON(t, p, &c, "clients", "get", "my-web")
	if c.Name != "My web app" || len(c.RedirectURIs) != 2 || strings.Join(c.Scopes, " ") != "openid profile" || !c.SkipConsent || c.AuthMethod != "client_secret_basic" {
		t.Errorf("clients get after two puts = %+v", c)
	}
	// A refusal names the party's code and reason: a public client has no secret.
	wantExit(t, p, 2, "invalid_request: a client with token_endpoint_auth_method none is public and has no secret",
		"clients", "put", "my-web", "--auth-method", "none", "--secret", "x")
	var list struct{ Clients []clientOut }
	adminJSON(t, p, &list, "clients", "list")
	if len(list.Clients) != 4 {
		t.Errorf("clients list --json has %d clients, want 4: %+v", len(list.Clients), list)
	}
	if out, _, code := adminRun(t, p, "clients", "delete", "my-web"); code != 0 || !strings.Contains(out, `Deleted client "my-web".`) {
		t.Errorf("clients delete: exit %d %q", code, out)
	}
	wantExit(t, p, 1, `client "my-web" does not exist`, "clients", "get", "my-web")
	wantExit(t, p, 2, "a new client needs redirect_uris", "clients", "put", "my-web", "--name", "x")
	wantExit(t, p, 2, "nothing to put", "clients", "put", "my-web")
}

func TestDashboardCommands(t *testing.T) {
	t.Parallel()
	p := runUpForFaults(t)["platform"]

	out, _, code := adminRun(t, p, "dashboard", "hostapps", "list")
	if code != 0 || !strings.Contains(out, demo.ClientID) || !strings.Contains(out, contract.Mask(demo.HostappSecret)) || strings.Contains(out, demo.HostappSecret) {
		t.Fatalf("hostapps list (masked): exit %d\n%s", code, out)
	}
	if out, _, _ := adminRun(t, p, "dashboard", "hostapps", "list", "--show-secrets"); !strings.Contains(out, demo.HostappSecret) {
		t.Errorf("hostapps list --show-secrets:\n%s", out)
	}
	// set changes the fields given, the others stay.
	if _, errOut, code := adminRun(t, p, "dashboard", "hostapps", "set", demo.ClientID, "--token-prefix", "Bearer", "--ip-allowlist", "127.0.0.0/8,10.0.0.0/8"); code != 0 {
		t.Fatalf("hostapps set: exit %d %s", code, errOut)
	}
	var h map[string]any
	adminJSON(t, p, &h, "dashboard", "hostapps", "get", demo.ClientID, "--show-secrets")
	if h["token_prefix"] != "Bearer" || h["hostapp_client_id"] != demo.HostappClientID || h["hostapp_secret_key"] != demo.HostappSecret ||
		h["name"] != demo.HostappName || len(h["ip_allowlist"].([]any)) != 2 {
		t.Errorf("host app after set = %v", h)
	}
	// get's JSON, secrets masked, is a valid --file: the masked secrets keep the stored ones.
	raw, _, _ := adminRun(t, p, "dashboard", "miniapps", "get", demo.AppID, "--json")
	file := filepath.Join(t.TempDir(), "app.json")
	os.WriteFile(file, []byte(strings.Replace(raw, `"required_fields": []`, `"required_fields": ["email"]`, 1)), 0o600)
	out, errOut, code := adminRun(t, p, "dashboard", "miniapps", "set", demo.AppID, "-f", file, "--consent-link", "Terms=https://example.com/terms")
	if code != 0 || !strings.Contains(errOut, "secret_key in --file is masked; the stored one is kept") {
		t.Fatalf("miniapps set -f (get's JSON): exit %d\n%s\n%s", code, out, errOut)
	}
	var m map[string]any
	adminJSON(t, p, &m, "dashboard", "miniapps", "get", demo.AppID, "--show-secrets")
	if m["secret_key"] != demo.MiniappSecret || len(m["required_fields"].([]any)) != 1 || len(m["consent_links"].([]any)) != 1 {
		t.Errorf("miniapp after set -f = %v", m)
	}
	wantExit(t, p, 2, "is a masked value", "dashboard", "miniapps", "set", demo.AppID, "--miniapp-secret", contract.Mask(demo.MiniappSecret))

	// A new miniapp and its partnership, then both go.
	wantExit(t, p, 2, "invalid_request: url: is required for a new miniapp", "dashboard", "miniapps", "set", "app2", "--name", "Second")
	if out, errOut, code := adminRun(t, p, "dashboard", "miniapps", "set", "app2", "--name", "Second", "--url", "http://127.0.0.1:9/",
		"--auth-token-url", "http://127.0.0.1:9/boxo/auth-token", "--miniapp-secret", "second-secret-1"); code != 0 || !strings.Contains(out, "secret_key       seco…[15]") {
		t.Fatalf("miniapps set (new): exit %d\n%s\n%s", code, out, errOut)
	}
	if _, errOut, code := adminRun(t, p, "dashboard", "partnerships", "set", demo.ClientID, "app2", "--direct-enabled"); code != 0 {
		t.Fatalf("partnerships set: %d %s", code, errOut)
	}
	if _, errOut, code := adminRun(t, p, "dashboard", "partnerships", "set", demo.ClientID, "app2", "--connect-enabled=false"); code != 0 {
		t.Fatalf("partnerships set: %d %s", code, errOut)
	}
	var ps struct{ Partnerships []map[string]any }
	adminJSON(t, p, &ps, "dashboard", "partnerships", "list")
	if len(ps.Partnerships) != 2 || ps.Partnerships[1]["app_id"] != "app2" || ps.Partnerships[1]["direct_enabled"] != true || ps.Partnerships[1]["connect_enabled"] != false {
		t.Errorf("partnerships list = %v", ps)
	}
	out, _, _ = adminRun(t, p, "dashboard", "partnerships", "get", demo.ClientID, "app2")
	if !strings.Contains(out, "connect_enabled  false") || !strings.Contains(out, "direct_enabled   true") {
		t.Errorf("partnerships get:\n%s", out)
	}
	for _, args := range [][]string{{"partnerships", "delete", demo.ClientID, "app2"}, {"miniapps", "delete", "app2"}} {
		if _, errOut, code := adminRun(t, p, append([]string{"dashboard"}, args...)...); code != 0 {
			t.Errorf("dashboard %v: exit %d %s", args, code, errOut)
		}
	}
	wantExit(t, p, 1, `miniapp "app2" does not exist`, "dashboard", "miniapps", "get", "app2")
	wantExit(t, p, 1, `partnership "352131" "app2" does not exist`, "dashboard", "partnerships", "delete", demo.ClientID, "app2")
}

func TestTraceList(t *testing.T) {
	t.Parallel()
	urls := runUpForFaults(t)
	p := urls["platform"]
	for _, u := range []string{"bob", "carol"} {
		if _, code := connectJSON(t, urls, u); code != 0 {
			t.Fatalf("connect %s: exit %d", u, code)
		}
	}
	mustRun(t, "fault", "set", "--step", "7", "--kind", "error_code", "--error-code", "INVALID_AUTH_CODE", "--nth", "1", "--platform-url", p)
	if _, code := connectJSON(t, urls, "alice"); code != 1 {
		t.Fatalf("connect with a fault at step 7: exit %d, want 1", code)
	}

	lines := func(args ...string) []string {
		t.Helper()
		out, errOut, code := adminRun(t, p, append([]string{"trace", "--list"}, args...)...)
		if code != 0 {
			t.Fatalf("trace --list %v: exit %d\n%s", args, code, errOut)
		}
		return strings.Split(strings.TrimSpace(out), "\n")
	}
	all := lines()
	if len(all) != 4 || !strings.HasPrefix(all[0], "ID ") || !strings.Contains(all[0], "DURATION") {
		t.Fatalf("trace --list:\n%s", strings.Join(all, "\n"))
	}
	if !strings.Contains(all[1], "failed INVALID_AUTH_CODE") || !strings.Contains(all[2], " carol ") || !strings.Contains(all[3], " bob ") ||
		!strings.Contains(all[3], " app16973 ") || !strings.Contains(all[3], " connect ") || !strings.Contains(all[3], " ok ") || !strings.HasSuffix(all[3], "ms") {
		t.Errorf("trace --list lines, newest first:\n%s", strings.Join(all, "\n"))
	}
	for _, tc := range []struct {
		args []string
		want []string // a word of each line, in order
	}{
		{[]string{"--outcome", "error"}, []string{"INVALID_AUTH_CODE"}},
		{[]string{"--outcome", "INVALID_AUTH_CODE"}, []string{"INVALID_AUTH_CODE"}},
		{[]string{"--outcome", "ok"}, []string{"carol", "bob"}},
		{[]string{"--outcome", "ok", "--limit", "1"}, []string{"carol"}},
		{[]string{"--user", "bob"}, []string{"bob"}},
		{[]string{"--user", "u-1003"}, []string{"carol"}},
		{[]string{"--app-id", demo.AppID, "--outcome", "ok"}, []string{"carol", "bob"}},
	} {
		got := lines(tc.args...)[1:]
		if len(got) != len(tc.want) {
			t.Errorf("trace --list %v: %d flows, want %d:\n%s", tc.args, len(got), len(tc.want), strings.Join(got, "\n"))
			continue
		}
		for i, w := range tc.want {
			if !strings.Contains(got[i], w) {
				t.Errorf("trace --list %v line %d = %q, want %s", tc.args, i+1, got[i], w)
			}
		}
	}
	if got := lines("--app-id", "nope"); len(got) != 1 || got[0] != "No flows match." {
		t.Errorf("trace --list --app-id nope: %q", got)
	}
	// A code nobody sends matches nothing, and the user is told why.
	for code, note := range map[string]bool{"maybe": true, "USER_DENIED": false, "INVALID_AUTH_CODE": false} {
		out, errOut, _ := adminRun(t, p, "trace", "--list", "--outcome", code, "--app-id", "nope")
		if strings.TrimSpace(out) != "No flows match." || strings.Contains(errOut, "not an error code boxo-sim knows") != note {
			t.Errorf("trace --list --outcome %s with no match: stdout %q stderr %q, want a note: %v", code, out, errOut, note)
		}
	}
	var list struct {
		Flows []struct {
			ID, Mode, Outcome, ErrorCode string
			DurationMS                   float64 `json:"duration_ms"`
		}
	}
	adminJSON(t, p, &list, "trace", "--list", "--outcome", "error")
	if len(list.Flows) != 1 || list.Flows[0].ID == "" || list.Flows[0].Mode != "connect" || list.Flows[0].Outcome != "failed" || list.Flows[0].DurationMS <= 0 {
		t.Errorf("trace --list --json = %+v", list)
	}
}

func TestSessionRefreshAndLogout(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := runUpForFaults(t, "--data-dir", dir)["platform"]
	session := func(args ...string) (string, string, int) {
		t.Helper()
		return runCmd(t, t.Context(), nil, append([]string{"session"}, append(args, "--user", "bob", "--data-dir", dir)...)...)
	}
	if _, errOut, code := session("refresh"); code != 1 || !strings.Contains(errOut, "no token store") {
		t.Errorf("refresh before any connect: exit %d %q", code, errOut)
	}
	mustRun(t, "connect", "--user", "bob", "--platform-url", p, "--data-dir", dir)
	file := filepath.Join(dir, "sdk-tokens.json")
	before, _ := os.ReadFile(file)

	var res map[string]any
	out, errOut, code := session("refresh", "--json")
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res["refreshed"] != true || res["user"] != "bob" || res["app_id"] != demo.AppID {
		t.Fatalf("session refresh --json: exit %d\n%s\n%s", code, out, errOut)
	}
	after, _ := os.ReadFile(file)
	if bytes.Equal(before, after) || !strings.HasPrefix(res["auth_token"].(string), "eyJ") || !strings.Contains(res["auth_token"].(string), "…[") {
		t.Errorf("refresh saved no new pair, or printed the token unmasked: %v", res)
	}
	if out, errOut, code = session("refresh"); code != 0 || !strings.HasPrefix(out, "Refreshed bob's session at app16973") {
		t.Fatalf("second refresh: exit %d\n%s\n%s", code, out, errOut)
	}
	saved, _ := os.ReadFile(file)

	if out, errOut, code = session("logout"); code != 0 || !strings.HasPrefix(out, "Logged bob out of app16973") {
		t.Fatalf("session logout: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, errOut, code = session("refresh"); code != 1 || !strings.Contains(errOut, `no miniapp session for user "bob"`) {
		t.Errorf("refresh after logout: exit %d %q; want 1, no session", code, errOut)
	}
	// The session ended at the miniapp too: with the pair put back, the miniapp refuses it.
	if err := os.WriteFile(file, saved, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code = session("refresh"); code != 1 || !strings.Contains(errOut, "the miniapp refused the refresh (401): invalid_grant: the refresh token is unknown") {
		t.Errorf("refresh of an ended session: exit %d %q; want the miniapp's refusal", code, errOut)
	}
	if _, errOut, code = session("logout"); code != 1 || !strings.Contains(errOut, "invalid_token") {
		t.Errorf("logout of an ended session: exit %d %q; want the miniapp's refusal", code, errOut)
	}
}

func TestAdminCommandUsageErrors(t *testing.T) {
	t.Parallel()
	noUp := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"users", "frob"}, `unknown command "frob"`},
		{[]string{"users", "get"}, "takes USERNAME"},
		{[]string{"users", "put", "bob", "--nope"}, "unknown flag: --nope"},
		{[]string{"users", "put", "bob", "--custom-attributes", "[1]"}, "not a JSON object"},
		{[]string{"users", "put", "bob", "--file", filepath.Join(noUp, "none.json")}, "--file"},
		{[]string{"clients", "put", "x", "--skip-consent=maybe"}, "invalid argument"},
		{[]string{"dashboard", "partnerships", "get", "352131"}, "takes CLIENT_ID APP_ID"},
		{[]string{"dashboard", "miniapps", "set", "a", "--consent-link", "no-equals"}, "TITLE=URL"},
		{[]string{"dashboard", "frob"}, `unknown command "frob"`},
		{[]string{"session", "refresh"}, "--user is required"},
		{[]string{"session", "logout", "--user", "bob", "x"}, "unknown command"},
		{[]string{"trace", "--outcome", "ok"}, "--outcome works only with --list"},
		{[]string{"trace", "--list", "--limit", "0"}, "--limit 0"},
		{[]string{"trace", "--list", "flow_x"}, "give no FLOW_ID"},
		{[]string{"trace", "--list", "--outcome", "no way"}, `--outcome "no way"`},
		{[]string{"users", "list", "--data-dir", noUp}, "no 'boxo-sim up' is running on"},
		{[]string{"session", "refresh", "--user", "bob", "--data-dir", noUp}, "no 'boxo-sim up' is running on"},
	} {
		_, errOut, code := runCmd(t, t.Context(), nil, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("boxo-sim %s: exit %d, stderr %q; want 2 and %q", strings.Join(tc.args, " "), code, errOut, tc.want)
		}
	}
}

// TestAdminCompletion: shell completion offers the running stack's usernames, app ids and
// client ids.
func TestAdminCompletion(t *testing.T) {
	t.Parallel()
	p := runUpForFaults(t)["platform"]
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"users", "get", "--platform-url", p, ""}, []string{"alice", "bob", "carol"}},
		{[]string{"dashboard", "partnerships", "get", "--platform-url", p, demo.ClientID, ""}, []string{demo.AppID}},
		{[]string{"dashboard", "hostapps", "set", "--platform-url", p, ""}, []string{demo.ClientID}},
		{[]string{"clients", "delete", "--platform-url", p, ""}, []string{demo.HostappClientID}},
		{[]string{"session", "refresh", "--platform-url", p, "--user", ""}, []string{"bob"}},
		{[]string{"trace", "--platform-url", p, "--list", "--app-id", ""}, []string{demo.AppID}},
		{[]string{"trace", "--list", "--outcome", ""}, []string{"error", contract.CodeInvalidAuthCode}},
	} {
		out, errOut, code := runCmd(t, t.Context(), nil, append([]string{"__complete"}, tc.args...)...)
		got := strings.Split(out, "\n")
		for _, w := range tc.want {
			if code != 0 || !strings.Contains("\n"+out, "\n"+w+"\n") {
				t.Errorf("completion of %v = %q (exit %d, %s), want %s among them", tc.args, got, code, errOut, w)
			}
		}
	}
}

// TestUsersPutFromStdin: --file - reads the fields, a password among them, from stdin, as a
// user would pipe them to the binary.
func TestUsersPutFromStdin(t *testing.T) {
	t.Parallel()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	p := runUpForFaults(t)["platform"]
	cmd := exec.Command(bin, "users", "put", "erin", "--file", "-", "--platform-url", p)
	cmd.Stdin = strings.NewReader(`{"password":"erin-pw-1","reference":"u-3001","email":"erin@example.com"}`)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil || strings.Contains(out.String(), "erin-pw-1") {
		t.Fatalf("users put --file -: %v\n%s\n%s", err, out.String(), errb.String())
	}
	if out, errOut, code := runCmd(t, t.Context(), nil, "connect", "--user", "erin", "--password", "erin-pw-1", "--platform-url", p); code != 0 {
		t.Fatalf("connect with the password from stdin: exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestAdminCommandsNeedTheToken: against parties that require the admin token (an up bound
// beyond loopback), a command without it is a setup error that says how to give it, and the
// token from the up's state file works.
func TestAdminCommandsNeedTheToken(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	urls := runUpForFaults(t, "--bind", "0.0.0.0", "--data-dir", dir)
	host := "http://127.0.0.1:" + portOf(t, urls["hostapp"])
	st, err := stack.ReadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	// The host app named alone: the call itself meets the 401.
	env := map[string]string{"BOXO_SIM_PLATFORM_PORT": freePort(t)}
	_, errOut, code := runCmd(t, t.Context(), env, "users", "list", "--hostapp-url", host)
	if code != 2 || !strings.Contains(errOut, "refused") || !strings.Contains(errOut, "--admin-token") {
		t.Errorf("users list without the token: exit %d, %q; want 2 and how to give the token", code, errOut)
	}
	if out, errOut, code := runCmd(t, t.Context(), env, "users", "list", "--hostapp-url", host, "--admin-token", st.AdminToken); code != 0 || !strings.Contains(out, "carol") {
		t.Errorf("users list --admin-token: exit %d\n%s\n%s", code, out, errOut)
	}
	if out, errOut, code := runCmd(t, t.Context(), nil, "dashboard", "hostapps", "list", "--data-dir", dir); code != 0 || !strings.Contains(out, demo.ClientID) {
		t.Errorf("dashboard hostapps list with the up's --data-dir: exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestTraceListBesideARelayedHostapp: trace --list names users from the host app's records;
// a host app the platform relays to has none to read, and the list says nothing of it on
// stderr: the users are a nicety, not the command's answer.
func TestTraceListBesideARelayedHostapp(t *testing.T) {
	t.Parallel()
	host := startUp(t, "--only", "hostapp", "--hostapp-port", "0")
	relay := startUp(t, "--demo", "--platform-port", "0", "--miniapp-port", "0", "--hostapp-url", host.urls["hostapp"])
	out, errOut, code := runCmd(t, t.Context(), nil, "trace", "--list", "--json", "--platform-url", relay.urls["platform"])
	if code != 0 || errOut != "" || !strings.Contains(out, `"outcome": "ok"`) {
		t.Fatalf("trace --list beside a relayed host app: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}
