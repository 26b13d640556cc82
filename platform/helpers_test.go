package platform_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/platform"
	"github.com/boxo-sim/boxo-sim/platform/sqlite"
)

// fixedNow is the platform's clock in every test.
var fixedNow = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// Values the fakes hand out; tests assert that none of them leaks into the flow log.
const (
	testAuthCode     = "authcode-0f1e2d3c4b5a69788796a5b4c3d2e1f0"
	hostAccess       = "host-access-Zm9vYmFyYmF6cXV4cXV1eA"
	hostRefresh      = "host-refresh-cXV1eHF1dXhmb29iYXJiYXo"
	hostAccess2      = "host-access2-YmF6cXV4Zm9vYmFycXV1eA"
	hostRefresh2     = "host-refresh2-ZmFrZXJlZnJlc2h0b2tlbg"
	miniToken        = "eyJhbGciOiJIUzI1NiJ9.mini-auth-token.c2lnbmF0dXJl"
	miniRefresh      = "mini-refresh-bWluaXJlZnJlc2h0b2tlbg"
	carolUserDataObj = `{"reference":"u-1003","email":"carol@example.com","phone":"+6598765432","first_name":"Carol","last_name":"Tan","custom_attributes":{"tier":"gold"}}`
)

// Exact Authorization values of PROTOCOL §7.7's worked examples.
const (
	wantHostCredential = "Token aG9zdGFwcC1jbGllbnQtMTpob3N0YXBwLXNlY3JldC0x"
	wantMiniappBasic   = "Basic YXBwMTY5NzM6bWluaWFwcC1zZWNyZXQtMQ=="
)

// received is one request a fake got.
type received struct {
	Method string
	Path   string
	Header http.Header
	Body   string
}

// fake is a host app or miniapp backend: it answers only the routes a test set, and fails
// the test on any other request.
type fake struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	routes map[string]http.HandlerFunc
	got    []received
}

func newFake(t *testing.T) *fake {
	t.Helper()
	f := &fake{t: t, routes: map[string]http.HandlerFunc{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	key := r.Method + " " + r.URL.Path
	f.mu.Lock()
	f.got = append(f.got, received{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: string(body)})
	h := f.routes[key]
	f.mu.Unlock()
	if h == nil {
		f.t.Errorf("fake %s: unexpected request %s", f.srv.URL, key)
		http.Error(w, "unexpected", http.StatusTeapot)
		return
	}
	h(w, r)
}

// on sets the handler of "METHOD /path".
func (f *fake) on(method, path string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[method+" "+path] = h
}

// requests returns what the fake received at path, in order.
func (f *fake) requests(path string) []received {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []received
	for _, r := range f.got {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

func (f *fake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.got)
}

// reply answers with a fixed status and body.
func reply(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func ok200(body string) http.HandlerFunc { return reply(http.StatusOK, body) }

// env is a platform on a temp-dir store, seeded with the demo records pointing at a fake
// host app and a fake miniapp.
type env struct {
	t    *testing.T
	h    http.Handler
	db   *sqlite.DB
	host *fake
	mini *fake
}

func openDB(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "platform.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func newEnv(t *testing.T, tweak ...func(*platform.Config)) *env {
	t.Helper()
	e := &env{t: t, db: openDB(t), host: newFake(t), mini: newFake(t)}
	if err := platform.SeedDemo(t.Context(), e.db, platform.Demo{HostURL: e.host.srv.URL, MiniappURL: e.mini.srv.URL}); err != nil {
		t.Fatal(err)
	}
	cfg := platform.Config{
		BaseURL: "http://127.0.0.1:8082", Store: e.db, Logger: testLogger(t),
		Now: func() time.Time { return fixedNow }, CallTimeout: 5 * time.Second,
	}
	for _, f := range tweak {
		f(&cfg)
	}
	h, err := platform.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.h = h
	return e
}

// happy sets the fakes to answer every step of a successful flow.
func (e *env) happy() {
	e.host.on(http.MethodPost, demo.AccessTokenPath, ok200(`{"access_token":"`+hostAccess+`","refresh_token":"`+hostRefresh+`"}`))
	e.host.on(http.MethodGet, demo.UserDataPath, ok200(`{"user_data":`+carolUserDataObj+`}`))
	e.mini.on(http.MethodPost, demo.AuthTokenPath, ok200(`{"auth_token":"`+miniToken+`","refresh_token":"`+miniRefresh+`"}`))
}

// do sends a request through the platform's router from a loopback address.
func (e *env) do(method, path, body string, hdr map[string]string) *httptest.ResponseRecorder {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequestWithContext(e.t.Context(), method, path, rd)
	req.RemoteAddr = "127.0.0.1:40000"
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

func authorizeBody(authCode, clientID, appID, userRef string) string {
	b, _ := json.Marshal(contract.AuthorizeRequest{AuthCode: authCode, ClientID: clientID, AppID: appID, UserReference: userRef})
	return string(b)
}

// authorize runs POST /api/v1/authorize/ for the demo pair under flow id flowID.
func (e *env) authorize(flowID string) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.do(http.MethodPost, "/api/v1/authorize/", authorizeBody(testAuthCode, demo.ClientID, demo.AppID, ""),
		map[string]string{contract.HeaderFlowID: flowID})
}

// envelope decodes a 400 answer, failing the test on another status.
func envelope(t *testing.T, rec *httptest.ResponseRecorder) contract.ErrorEnvelope {
	t.Helper()
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400; body %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var env contract.ErrorEnvelope
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatalf("body is not an envelope: %v: %s", err, rec.Body)
	}
	if env.ErrorMessage == "" {
		t.Errorf("envelope without error_message: %s", rec.Body)
	}
	return env
}

// wantEnvelope checks code, source and step of a 400 envelope.
func wantEnvelope(t *testing.T, rec *httptest.ResponseRecorder, code, source string, step int) contract.ErrorEnvelope {
	t.Helper()
	env := envelope(t, rec)
	if env.ErrorCode != code || env.Source() != source || env.Step() != step {
		t.Errorf("envelope = %s/%s/step %d, want %s/%s/step %d (%s)", env.ErrorCode, env.Source(), env.Step(), code, source, step, env.ErrorMessage)
	}
	// The platform speaks Boxo's error_message (contract §5.1) wherever Boxo publishes one
	// that needs no value the platform lacks; its own explanation goes to the detail.
	if want := contract.Message(code); want != "" && !strings.Contains(want, "{") && env.ErrorMessage != want {
		t.Errorf("error_message = %q, want Boxo's %q", env.ErrorMessage, want)
	} else if prefix, _, ok := strings.Cut(want, "{"); ok && source == contract.PartyPlatform &&
		(!strings.HasPrefix(env.ErrorMessage, prefix) || strings.Contains(env.ErrorMessage, "{")) {
		t.Errorf("error_message = %q, want Boxo's %q filled in", env.ErrorMessage, want)
	}
	if source == contract.PartyPlatform && env.Detail() == "" && env.ErrorMessage == contract.Message(code) {
		t.Errorf("envelope of %s has no detail", code)
	}
	return env
}

// flow reads /_sim/flows/{id} and decodes it.
func (e *env) flow(id string) (contract.Flow, string) {
	e.t.Helper()
	rec := e.do(http.MethodGet, "/_sim/flows/"+id, "", nil)
	if rec.Code != http.StatusOK {
		e.t.Fatalf("GET flow %s: %d %s", id, rec.Code, rec.Body)
	}
	var f contract.Flow
	if err := json.Unmarshal(rec.Body.Bytes(), &f); err != nil {
		e.t.Fatal(err)
	}
	return f, rec.Body.String()
}

// stepsOf returns the flow's steps with that number.
func stepsOf(f contract.Flow, n int) []contract.FlowStep {
	var out []contract.FlowStep
	for _, s := range f.Steps {
		if s.Step == n {
			out = append(out, s)
		}
	}
	return out
}

// decode unmarshals a JSON answer into v.
func decode(t *testing.T, rec *httptest.ResponseRecorder, v any) {
	t.Helper()
	if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
}

// httptestRequest is a GET from remote ("" means IPv6 loopback).
func httptestRequest(t *testing.T, target, remote string) *http.Request {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, target, nil)
	req.RemoteAddr = "[::1]:40000"
	if remote != "" {
		req.RemoteAddr = remote
	}
	return req
}

func serve(e *env, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}
