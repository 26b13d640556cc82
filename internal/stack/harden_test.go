package stack_test

import (
	"bufio"
	"database/sql"
	"encoding/json"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/clock"
	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/fault"
	"github.com/boxo-sim/boxo-sim/internal/stack"
	"github.com/boxo-sim/boxo-sim/internal/testkit"
	"github.com/boxo-sim/boxo-sim/sdkstub"

	_ "github.com/mattn/go-sqlite3"
)

// send sends one request with the given headers ("Host" sets the Host header) and returns
// the status and the body's "error" value.
func send(t *testing.T, method, u, body string, header ...string) (int, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, r)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct {
		Error string `json:"error"`
	}
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &e)
	return resp.StatusCode, e.Error
}

// TestAdminRoutesRefuseWebPages plays a web page the developer visits reaching a
// loopback-bound stack: DNS rebinding (a foreign Host), a cross-site form post, a fetch from
// another origin. Each is refused on every party; the same requests from a command-line
// client pass.
func TestAdminRoutesRefuseWebPages(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t)
	for _, base := range []string{st.HostURL, st.PlatformURL, st.MiniappURL} {
		u, _ := url.Parse(base)
		port := u.Port()
		cases := []struct {
			name, method, path, body string
			header                   []string
			status                   int
			code                     string
		}{
			{"loopback read", "GET", "/_sim/faults", "", nil, 200, ""},
			{"localhost Host", "GET", "/_sim/faults", "", []string{"Host", "localhost:" + port}, 200, ""},
			{"rebinding Host", "GET", "/_sim/faults", "", []string{"Host", "attacker.example:" + port}, 403, "forbidden"},
			{"rebinding Host on the clock", "GET", "/_sim/clock", "", []string{"Host", "attacker.example"}, 403, "forbidden"},
			{"cross-site form post", "PUT", "/_sim/faults", "step=5&kind=reset", []string{"Content-Type", "application/x-www-form-urlencoded", "Origin", "http://attacker.example", "Sec-Fetch-Site", "cross-site"}, 403, "forbidden"},
			{"form post without Origin", "PUT", "/_sim/faults", "step=5&kind=reset", []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"},
			{"text/plain post", "POST", "/_sim/clock", `{"advance":"1h"}`, []string{"Content-Type", "text/plain"}, 415, "unsupported_media_type"},
			{"body without a type", "POST", "/_sim/clock", `{"advance":"1h"}`, nil, 415, "unsupported_media_type"},
			{"JSON from a foreign origin", "POST", "/_sim/clock", `{"advance":"1h"}`, []string{"Content-Type", "application/json", "Origin", "http://localhost:5173"}, 403, "forbidden"},
			{"JSON with Sec-Fetch-Site cross-site", "DELETE", "/_sim/faults", "", []string{"Sec-Fetch-Site", "cross-site"}, 403, "forbidden"},
			{"JSON from the party's own origin", "DELETE", "/_sim/faults", "", []string{"Origin", base}, 200, ""},
		}
		for _, tc := range cases {
			status, code := send(t, tc.method, base+tc.path, tc.body, tc.header...)
			if status != tc.status || code != tc.code {
				t.Errorf("%s %s: %d %q, want %d %q", base, tc.name, status, code, tc.status, tc.code)
			}
		}
		// Contract endpoints are not the guard's business.
		if status, _ := send(t, "GET", base+"/healthz", "", "Host", "attacker.example"); status != 200 {
			t.Errorf("%s /healthz with a foreign Host: %d, want 200", base, status)
		}
	}
	if got := st.Clock.Now(); !got.Equal(time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("a refused request moved the clock to %s", got)
	}
	// The console page is guarded like /_sim/.
	if status, _ := send(t, "GET", st.PlatformURL+"/", "", "Host", "attacker.example"); status != http.StatusForbidden {
		t.Fatalf("platform / with a foreign Host: %d, want 403", status)
	}
}

// TestAdminRoutesNeedTheTokenBeyondLoopback binds the host app to every interface and calls
// it through 127.0.0.1: even a loopback caller then needs the admin token.
func TestAdminRoutesNeedTheTokenBeyondLoopback(t *testing.T) {
	t.Parallel()
	const token = "test-admin-token-0123456789"
	st, _ := startStack(t, stackOpts{hostAddr: "0.0.0.0:0", adminToken: token})
	u, _ := url.Parse(st.HostURL)
	base := "http://127.0.0.1:" + u.Port()
	if status, code := send(t, "GET", base+"/_sim/users", ""); status != http.StatusUnauthorized || code != "unauthorized" {
		t.Fatalf("no token: %d %q, want 401 unauthorized", status, code)
	}
	if status, _ := send(t, "PUT", base+"/_sim/users/carol", `{"password":"owned","reference":"u-1003"}`, "Content-Type", "application/json"); status != http.StatusUnauthorized {
		t.Fatalf("resetting carol's password without the token: %d, want 401", status)
	}
	if status, _ := send(t, "GET", base+"/_sim/users", "", "Authorization", "Bearer wrong-token-0123456789"); status != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d, want 401", status)
	}
	if status, _ := send(t, "GET", base+"/_sim/users", "", "Authorization", "Bearer "+token); status != http.StatusOK {
		t.Fatalf("with the token: %d, want 200", status)
	}
	if status, _ := send(t, "GET", base+"/_sim/users", "", "Authorization", "Bearer "+token, "Host", "boxo.internal:"+u.Port()); status != http.StatusOK {
		t.Fatalf("with the token under another host name: %d, want 200", status)
	}
	if status, _ := send(t, "GET", base+"/.well-known/openid-configuration", ""); status != http.StatusOK {
		t.Fatalf("a contract endpoint without the token: %d, want 200", status)
	}
	// The platform, still on loopback, admits loopback callers without the token.
	if status, _ := send(t, "GET", st.PlatformURL+"/_sim/hostapps", ""); status != http.StatusOK {
		t.Fatalf("loopback-bound platform: %d, want 200", status)
	}
	// The console's proxy to the host's fault table passes the caller's token on.
	if status, _ := send(t, "GET", st.PlatformURL+"/_sim/parties/hostapp/faults", ""); status != http.StatusUnauthorized {
		t.Fatalf("the platform's proxy to the host's faults without the token: %d, want the host's 401", status)
	}
	if status, _ := send(t, "GET", st.PlatformURL+"/_sim/parties/hostapp/faults", "", "Authorization", "Bearer "+token); status != http.StatusOK {
		t.Fatalf("the platform's proxy to the host's faults with the token: %d, want 200", status)
	}
	// The SDK given the token records its steps in the flow log; flows run as before.
	sdk := newSDK(t, st, func(c *sdkstub.Config) { c.AdminToken = token })
	res, fe := connect(t, sdk, sdkstub.Options{User: "alice"})
	mustSucceed(t, res, fe)
}

// TestEpochClockDoesNotMakeUsedCodesFresh runs a flow whose auth code is submitted twice
// while the clock reads 1970-01-01T00:00:00Z, the instant stores once took for "unset".
func TestEpochClockDoesNotMakeUsedCodesFresh(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t, stackOpts{clock: clock.NewFake(time.Unix(0, 0))})
	putFaults(t, st, fault.Fault{Party: stack.Hostapp, Step: 6, Kind: fault.KindReplayCode})
	sdk := newSDK(t, st)
	for range 3 {
		res, fe := connect(t, sdk, sdkstub.Options{User: "alice", SkipMe: true})
		expectFailure(t, res, fe, want{7, contract.PartyHostapp, contract.CodeInvalidAuthCode})
	}
}

// TestSlowBodyIsCut sends a request body one byte at a time: the connection is cut after
// the body timeout, as a slow header would be.
func TestSlowBodyIsCut(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t, stackOpts{bodyTimeout: 300 * time.Millisecond})
	u, _ := url.Parse(st.PlatformURL)
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const body = `{"client_id":"352131","app_id":"app16973","auth_code":"x"}`
	if _, err := io.WriteString(c, "POST /api/v1/authorize/ HTTP/1.1\r\nHost: "+u.Host+"\r\nContent-Type: application/json\r\nContent-Length: "+itoa(len(body))+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for i := 0; i < len(body); i++ {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			if _, err := c.Write([]byte{body[i]}); err != nil {
				return
			}
		}
	}()
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(3 * time.Second))
	_, err = io.Copy(io.Discard, bufio.NewReader(c))
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the slow body's connection was still open after %s", time.Since(start).Round(time.Millisecond))
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("the slow body's connection was cut after %s, want about the 300ms body timeout", took)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestDataFilesArePrivate checks the modes of a new data directory and that a start
// tightens the ones an older version left, saying so.
func TestDataFilesArePrivate(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	st, _ := startStack(t, stackOpts{dataDir: dir})
	sdk := newSDK(t, st)
	res, fe := connect(t, sdk, sdkstub.Options{User: "alice"})
	mustSucceed(t, res, fe)
	sdk.CloseIdleConnections()
	check := func(when string) {
		t.Helper()
		if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: data directory mode %v (%v), want 0700", when, fi.Mode().Perm(), err)
		}
		n := 0
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			n++
			if fi, err := d.Info(); err == nil && fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: %s mode %v, want 0600", when, d.Name(), fi.Mode().Perm())
			}
			return nil
		})
		if n < 4 {
			t.Errorf("%s: only %d files in the data directory", when, n)
		}
	}
	check("new")
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	// An older version's modes.
	_ = os.Chmod(dir, 0o755)
	for _, db := range stack.DatabaseFiles {
		_ = os.Chmod(filepath.Join(dir, db), 0o644)
	}
	var logs testkit.Buffer
	startStack(t, stackOpts{dataDir: dir, logs: &logs})
	check("restarted")
	if !strings.Contains(logs.String(), "made it private") || !strings.Contains(logs.String(), "hostapp.db") {
		t.Fatalf("tightening was not logged:\n%s", logs.String())
	}
}

// TestClockRefusesWhatItCannotRepresent sets the clock out of its range and advances it
// until it would overflow: each is refused in the /_sim/ error form and the clock stays.
func TestClockRefusesWhatItCannotRepresent(t *testing.T) {
	t.Parallel()
	st, clk := startStack(t)
	before := clk.Now()
	for _, body := range []string{
		`{"set":"0001-01-01T00:00:00Z"}`,
		`{"set":"0000-01-01T00:00:00+01:00"}`,
		`{"set":"9999-12-31T23:59:59Z"}`,
		`{"advance":"2562047h"}`,
		`{"advance":"2562047h"}`,
		`{"advance":"-2562047h"}`,
	} {
		status, code := send(t, "POST", st.PlatformURL+"/_sim/clock", body, "Content-Type", "application/json")
		if status != http.StatusBadRequest || code != contract.OAuthInvalidRequest {
			t.Errorf("%s: %d %q, want 400 %s", body, status, code, contract.OAuthInvalidRequest)
		}
		if now := clk.Now(); !now.Equal(before) {
			t.Fatalf("%s moved the clock to %s", body, now)
		}
	}
	if status, _ := send(t, "POST", st.PlatformURL+"/_sim/clock", `{"set":"1970-01-01T00:00:00Z"}`, "Content-Type", "application/json"); status != http.StatusOK {
		t.Fatalf("setting the epoch: %d, want 200", status)
	}
}

// TestAllowlistsFollowOneRule puts lists that would lock every caller out to the three
// parties' allowlists: each party refuses them alike and keeps its list.
func TestAllowlistsFollowOneRule(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t)
	targets := map[string]string{
		"hostapp settings":  st.HostURL + "/_sim/settings",
		"miniapp settings":  st.MiniappURL + "/_sim/settings",
		"platform host app": st.PlatformURL + "/_sim/hostapps/352131",
		"platform miniapp":  st.PlatformURL + "/_sim/miniapps/app16973",
	}
	for name, u := range targets {
		for _, list := range []string{`[""]`, `["  "]`, `["::ffff:10.0.0.0/104"]`, `["::ffff:127.0.0.1"]`, `["127.0.0.1,10.0.0.1"]`, `["fe80::1%eth0"]`, `["10.0.0.0/33"]`} {
			status, code := send(t, "PUT", u, `{"ip_allowlist":`+list+`}`, "Content-Type", "application/json")
			if status != http.StatusBadRequest || code == "" {
				t.Errorf("%s: ip_allowlist %s: %d %q, want 400", name, list, status, code)
			}
		}
	}
	sdk := newSDK(t, st)
	res, fe := connect(t, sdk, sdkstub.Options{User: "alice"})
	mustSucceed(t, res, fe)
	// Ids: the miniapp takes its app_id with the Dashboard's rule.
	for _, id := range []string{"app/16973", "app 1", "app:1", strings.Repeat("a", 65)} {
		b, _ := json.Marshal(map[string]string{"app_id": id})
		if status, _ := send(t, "PUT", st.MiniappURL+"/_sim/settings", string(b), "Content-Type", "application/json"); status != http.StatusBadRequest {
			t.Errorf("miniapp app_id %q: %d, want 400", id, status)
		}
		if status, _ := send(t, "PUT", st.PlatformURL+"/_sim/miniapps/"+url.PathEscape(id), `{"name":"x"}`, "Content-Type", "application/json"); status != http.StatusBadRequest && status != http.StatusNotFound {
			t.Errorf("platform app_id %q: %d, want 400", id, status)
		}
	}
}

// openDB opens one of a stack's databases beside it, for what no route shows.
func openDB(t *testing.T, st *stack.Stack, name string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(st.DataDir, name)+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func count(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(t.Context(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// TestSweepDeletesWhatExpired runs flows, moves the stack's clock and sweeps: expired codes,
// tokens and sessions go, and the flow log keeps its newest N flows and no flow older than D.
func TestSweepDeletesWhatExpired(t *testing.T) {
	t.Parallel()
	st, clk := startStack(t, stackOpts{maxFlows: 3, maxAge: 48 * time.Hour})
	sdk := newSDK(t, st)
	for range 5 {
		res, fe := connect(t, sdk, sdkstub.Options{User: "alice"})
		mustSucceed(t, res, fe)
	}
	host, mini := openDB(t, st, "hostapp.db"), openDB(t, st, "miniapp.db")
	if count(t, host, `SELECT COUNT(*) FROM auth_codes`) == 0 || count(t, host, `SELECT COUNT(*) FROM sessions`) == 0 ||
		count(t, mini, `SELECT COUNT(*) FROM refresh_tokens`) == 0 {
		t.Fatal("the flows left no codes, sessions or refresh tokens to sweep")
	}
	flows := func() int {
		t.Helper()
		return len(decode[struct{ Flows []any }](t, admin(t, "GET", st.PlatformURL+"/_sim/flows?limit=500", nil)).Flows)
	}
	if _, err := st.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := flows(); n != 3 {
		t.Fatalf("after the sweep the flow log holds %d flows, want the newest 3", n)
	}
	codes := count(t, host, `SELECT COUNT(*) FROM auth_codes`)
	if codes == 0 {
		t.Fatal("the sweep deleted codes that had not expired")
	}

	if err := clk.Advance(400 * 24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	n, err := st.Sweep(t.Context())
	if err != nil || n == 0 {
		t.Fatalf("sweep: %d deleted, %v", n, err)
	}
	now := clk.Now().UnixMilli()
	for q, want := range map[string]int{
		`SELECT COUNT(*) FROM auth_codes`:                                              0,
		`SELECT COUNT(*) FROM sessions`:                                                0,
		`SELECT COUNT(*) FROM tokens WHERE expires_at IS NOT NULL AND expires_at <= ?`: 0,
	} {
		if got := count(t, host, q, now); got != want {
			t.Errorf("hostapp %s = %d after the sweep, want %d", q, got, want)
		}
	}
	if got := count(t, mini, `SELECT COUNT(*) FROM refresh_tokens`); got != 0 {
		t.Errorf("miniapp refresh tokens after the sweep: %d, want 0", got)
	}
	if n := flows(); n != 0 {
		t.Fatalf("flows older than 48h after the sweep: %d, want 0", n)
	}
	// The stack still works.
	res, fe := connect(t, sdk, sdkstub.Options{User: "bob"})
	mustSucceed(t, res, fe)
}

// TestFlowLogWithABadTimeStillLists stores what older versions let a posted step store — a
// time before year 0000 and an infinite duration — and reads the flow log.
func TestFlowLogWithABadTimeStillLists(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t)
	sdk := newSDK(t, st)
	res, fe := connect(t, sdk, sdkstub.Options{User: "alice"})
	mustSucceed(t, res, fe)
	db := openDB(t, st, "platform.db")
	bad := time.Date(-1, 12, 31, 23, 0, 0, 0, time.UTC).UnixMilli()
	if _, err := db.ExecContext(t.Context(), `INSERT INTO flow_steps (flow_id, step, actor, call, status, started_at, duration_ms, outcome, error_code, note)
		VALUES (?, 2, 'miniapp', 'x', 0, ?, 9e999, 'ok', '', '')`, res.FlowID, bad); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(t.Context(), `UPDATE flows SET started_at = ? WHERE id = ?`, bad, res.FlowID); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/_sim/flows", "/_sim/flows/latest", "/_sim/flows/" + res.FlowID} {
		if status, b := call(t, "GET", st.PlatformURL+p, nil); status != http.StatusOK {
			t.Errorf("GET %s: %d %s", p, status, b)
		}
	}
	fl := decode[contract.Flow](t, admin(t, "GET", st.PlatformURL+"/_sim/flows/"+res.FlowID, nil))
	if fl.StartedAt.Year() != 0 || len(fl.Steps) != 17 {
		t.Fatalf("flow read back: started %s, %d steps", fl.StartedAt, len(fl.Steps))
	}
}

// TestFlowLogClears empties the flow log through DELETE /_sim/flows.
func TestFlowLogClears(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t)
	sdk := newSDK(t, st)
	for range 2 {
		res, fe := connect(t, sdk, sdkstub.Options{User: "alice"})
		mustSucceed(t, res, fe)
	}
	if got := decode[map[string]int](t, admin(t, "DELETE", st.PlatformURL+"/_sim/flows", nil)); got["deleted"] != 2 {
		t.Fatalf("DELETE /_sim/flows answered %v, want 2 deleted", got)
	}
	if status, _ := call(t, "GET", st.PlatformURL+"/_sim/flows/latest", nil); status != http.StatusNotFound {
		t.Fatalf("latest flow after clearing: %d, want 404", status)
	}
	if n := count(t, openDB(t, st, "platform.db"), `SELECT COUNT(*) FROM flow_steps`); n != 0 {
		t.Fatalf("%d steps left after clearing", n)
	}
}

// TestFaultTableIsBounded adds faults until the table is full: the next is refused with a
// clear error and the table keeps working.
func TestFaultTableIsBounded(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t)
	list := make([]map[string]any, fault.MaxFaults)
	for i := range list {
		list[i] = map[string]any{"step": 6, "kind": "delay", "delay": "1ms", "nth": i + 1000}
	}
	admin(t, "PUT", st.HostURL+"/_sim/faults", map[string]any{"faults": list})
	status, b := call(t, "PUT", st.HostURL+"/_sim/faults", map[string]any{"step": 6, "kind": "reset"})
	if status != http.StatusConflict || !strings.Contains(string(b), "at most 1000") {
		t.Fatalf("fault beyond the bound: %d %s, want 409 naming the bound", status, b)
	}
	admin(t, "DELETE", st.HostURL+"/_sim/faults", nil)
	admin(t, "PUT", st.HostURL+"/_sim/faults", map[string]any{"step": 6, "kind": "reset"})
}

// TestAdminStoreFailureIsAnsweredInForm breaks the platform's database under a running
// stack: its admin routes answer in their JSON error form and log the failure.
func TestAdminStoreFailureIsAnsweredInForm(t *testing.T) {
	t.Parallel()
	var logs testkit.Buffer
	st, _ := startStack(t, stackOpts{logs: &logs})
	if _, err := openDB(t, st, "platform.db").ExecContext(t.Context(), `DROP TABLE flows`); err != nil {
		t.Fatal(err)
	}
	status, b := call(t, "GET", st.PlatformURL+"/_sim/flows", nil)
	var e map[string]string
	if json.Unmarshal(b, &e) != nil || status != http.StatusInternalServerError || e["error"] != "internal_error" {
		t.Fatalf("store failure answered %d %s, want 500 in the /_sim/ JSON form", status, b)
	}
	if !strings.Contains(logs.String(), "request failed") || !strings.Contains(logs.String(), "no such table: flows") {
		t.Fatalf("the store failure was not logged:\n%s", logs.String())
	}
}

// TestTraceExplainsAReplayedCode submits one auth code in two flows: the second replays it,
// the host revokes what the first got, and both fail. Each flow's trace says why.
func TestTraceExplainsAReplayedCode(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t)
	// Hold the first flow between getting its token (step 7) and using it (step 8).
	putFaults(t, st, fault.Fault{Party: stack.Hostapp, Step: 8, Kind: fault.KindDelay, Delay: fault.Duration(300 * time.Millisecond), Nth: 1})
	sdk := newSDK(t, st)
	code, err := sdk.HostAuthCode("alice", "")(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	authorize := func(flowID string) {
		b, _ := json.Marshal(map[string]string{"client_id": "352131", "app_id": "app16973", "auth_code": code})
		status, body := call(t, "POST", st.PlatformURL+"/api/v1/authorize/", string(b), contract.HeaderFlowID, flowID)
		if status != http.StatusBadRequest {
			t.Errorf("flow %s: %d %s, want a failure", flowID, status, body)
		}
	}
	done := make(chan struct{})
	go func() { defer close(done); authorize("flow_winner") }()
	for st.Faults(contract.PartyHostapp).List()[0].Matched == 0 {
		time.Sleep(2 * time.Millisecond)
	}
	authorize("flow_replay")
	<-done

	note := func(id, code string) string {
		t.Helper()
		fl := decode[contract.Flow](t, admin(t, "GET", st.PlatformURL+"/_sim/flows/"+id, nil))
		for _, s := range fl.Steps {
			if s.Outcome == contract.OutcomeFailed && s.ErrorCode == code {
				return s.Note
			}
		}
		t.Fatalf("flow %s has no step failed with %s: %+v", id, code, fl.Steps)
		return ""
	}
	if n := note("flow_winner", contract.CodeInvalidAccessToken); !strings.Contains(n, "revoked") || !strings.Contains(n, "flow_replay") {
		t.Errorf("the flow that lost its token does not say why: %q", n)
	}
	if n := note("flow_replay", contract.CodeInvalidAuthCode); !strings.Contains(n, "flow_winner") {
		t.Errorf("the replaying flow does not name the other: %q", n)
	}
}

// TestSharedDataDirKeepsItsMode: a --data-dir that holds other files (say, the user's project
// directory) is not made private behind the user's back; the databases are.
func TestSharedDataDirKeepsItsMode(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(dir, 0o755)
	var logs testkit.Buffer
	startStack(t, stackOpts{dataDir: dir, logs: &logs})
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o755 {
		t.Fatalf("a directory with other files became %v", fi.Mode().Perm())
	}
	if fi, _ := os.Stat(filepath.Join(dir, "hostapp.db")); fi.Mode().Perm() != 0o600 {
		t.Fatalf("hostapp.db is %v, want 0600", fi.Mode().Perm())
	}
	if !strings.Contains(logs.String(), "its mode is left alone") {
		t.Fatalf("no warning:\n%s", logs.String())
	}
}
