package hostapp_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/hostapp"
	"github.com/boxo-sim/boxo-sim/hostapp/sqlite"
	"github.com/boxo-sim/boxo-sim/internal/clock"
	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/testkit"
)

const (
	testBaseURL  = "http://127.0.0.1:8081"
	loopbackAddr = "127.0.0.1:40000" // an allowed peer (PROTOCOL §7.6 default)
	foreignAddr  = "192.0.2.1:1234"  // httptest's default RemoteAddr, outside the allowlist
)

// testKey is the test binary's one RSA key.
var testKey = testkit.SigningKey

var (
	testStart     = time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)
	boxoCallback  = testBaseURL + demo.BoxoCallbackPath
	boxoBasicAuth = demo.TokenPrefix + " " + contract.BasicCredential(demo.HostappClientID, demo.HostappSecret)
)

// env is one host app on a fresh database with a fake clock.
type env struct {
	t   *testing.T
	h   http.Handler
	db  *sqlite.DB
	clk *clock.Clock
	cfg hostapp.Config
}

type envOption func(*hostapp.Config)

// withLogger sends the party's log to w as well as to the test output, at Debug level.
func withLogger(w io.Writer) envOption {
	return func(c *hostapp.Config) {
		c.Logger = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
}

func openTestDB(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "hostapp.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// newEnv builds the host app with New on a seeded temp-dir store and a fixed clock.
func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	db := openTestDB(t)
	if err := hostapp.SeedDemo(t.Context(), db, testBaseURL); err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(testStart)
	cfg := hostapp.Config{
		BaseURL: testBaseURL, Store: db, Now: clk.Now, SigningKey: testKey(),
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil)),
	}
	for _, o := range opts {
		o(&cfg)
	}
	h, err := hostapp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, h: h, db: db, clk: clk, cfg: cfg}
}

// serve runs req through the router from an allowed peer unless req sets RemoteAddr.
func (e *env) serve(req *http.Request) *httptest.ResponseRecorder {
	e.t.Helper()
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if rec.Code >= 500 {
		e.t.Errorf("%s %s: status %d, body %s", req.Method, req.URL, rec.Code, rec.Body)
	}
	return rec
}

// call is one request to the router.
type call struct {
	method, path string
	body         string
	header       map[string]string
	remote       string // "" means loopbackAddr
	cookie       *http.Cookie
	host         string // "" keeps httptest's example.com
}

func (e *env) do(c call) *httptest.ResponseRecorder {
	e.t.Helper()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req := httptest.NewRequest(c.method, c.path, body)
	req.RemoteAddr = loopbackAddr
	if c.remote != "" {
		req.RemoteAddr = c.remote
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	if c.host != "" {
		req.Host = c.host
	}
	if c.cookie != nil {
		req.AddCookie(c.cookie)
	}
	return e.serve(req)
}

// jsonBody decodes a JSON response into a map.
func jsonBody(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, body %s", ct, rec.Body)
	}
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, rec.Body)
	}
	return m
}

// signIn signs a demo user in and returns the session cookie.
func (e *env) signIn(username, password string) *http.Cookie {
	e.t.Helper()
	rec := e.do(call{method: http.MethodPost, path: "/auth/v1/login",
		body:   url.Values{"username": {username}, "password": {password}}.Encode(),
		header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
	if rec.Code != http.StatusFound {
		e.t.Fatalf("sign-in of %s: status %d: %s", username, rec.Code, rec.Body)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == hostapp.SessionCookie {
			return c
		}
	}
	e.t.Fatal("sign-in set no session cookie")
	return nil
}

// authorize requests GET /auth/v1/authorize with params and returns the response.
func (e *env) authorize(cookie *http.Cookie, params url.Values, header map[string]string) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.do(call{method: http.MethodGet, path: "/auth/v1/authorize?" + params.Encode(), cookie: cookie, header: header})
}

// boxoCode signs username in (once per call) and gets an auth code for the Boxo client.
func (e *env) boxoCode(username string) string {
	e.t.Helper()
	du, ok := demo.FindUser(username)
	if !ok {
		e.t.Fatalf("no demo user %s", username)
	}
	return e.codeFor(e.signIn(du.Username, du.Password))
}

// codeFor gets a Boxo-client auth code with an existing session.
func (e *env) codeFor(cookie *http.Cookie) string {
	e.t.Helper()
	rec := e.authorize(cookie, url.Values{"client_id": {demo.HostappClientID}, "response_type": {"code"},
		"response_mode": {"query"}, "redirect_uri": {boxoCallback}, "state": {"st-1"}}, nil)
	loc := location(e.t, rec)
	if loc.Query().Get("state") != "st-1" {
		e.t.Fatalf("state not echoed: %s", loc)
	}
	code := loc.Query().Get("code")
	if code == "" {
		e.t.Fatalf("no code in %s", loc)
	}
	return code
}

// location returns the parsed Location of a 302.
func location(t *testing.T, rec *httptest.ResponseRecorder) *url.URL {
	t.Helper()
	if rec.Code != http.StatusFound {
		t.Fatalf("status %d, want 302; body %s", rec.Code, rec.Body)
	}
	u, err := url.Parse(rec.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// connectCall is a Connect request from the platform with the demo headers.
func (e *env) connectCall(method, path, auth, body string, extra map[string]string) map[string]any {
	e.t.Helper()
	h := map[string]string{
		contract.HeaderMiniappAppID: demo.AppID, contract.HeaderHostappClientID: demo.ClientID,
	}
	if auth != "" {
		h["Authorization"] = auth
	}
	if body != "" {
		h["Content-Type"] = "application/json"
	}
	for k, v := range extra {
		if v == "" {
			delete(h, k)
		} else {
			h[k] = v
		}
	}
	rec := e.do(call{method: method, path: path, body: body, header: h})
	if rec.Code != http.StatusOK {
		e.t.Fatalf("%s %s: status %d, want 200 (always 200): %s", method, path, rec.Code, rec.Body)
	}
	return jsonBody(e.t, rec)
}

// redeem posts the step-6 call for code.
func (e *env) redeem(code string) map[string]any {
	e.t.Helper()
	return e.connectCall(http.MethodPost, demo.AccessTokenPath, boxoBasicAuth, `{"auth_code":"`+code+`"}`, nil)
}

// tokens redeems code and fails unless it got a token pair.
func (e *env) tokens(code string) (access, refresh string) {
	e.t.Helper()
	m := e.redeem(code)
	access, _ = m["access_token"].(string)
	refresh, _ = m["refresh_token"].(string)
	if access == "" || refresh == "" || m["error_code"] != nil {
		e.t.Fatalf("no token pair: %v", m)
	}
	return access, refresh
}

// userData calls step 8 with an access token.
func (e *env) userData(access string) map[string]any {
	e.t.Helper()
	return e.connectCall(http.MethodGet, demo.UserDataPath, demo.TokenPrefix+" "+access, "", nil)
}

// refresh calls the host refresh endpoint.
func (e *env) refresh(token string) map[string]any {
	e.t.Helper()
	return e.connectCall(http.MethodPost, demo.RefreshTokenPath, boxoBasicAuth, `{"refresh_token":"`+token+`"}`, nil)
}

func wantCode(t *testing.T, m map[string]any, code string) {
	t.Helper()
	got, _ := m["error_code"].(string)
	if got != code {
		t.Fatalf("error_code = %q, want %q (body %v)", got, code, m)
	}
	if code != "" {
		if _, ok := m["access_token"]; ok {
			t.Fatalf("error answer carries a token: %v", m)
		}
	}
}

// syncBuffer is a buffer safe for concurrent writers.
type syncBuffer = testkit.Buffer
