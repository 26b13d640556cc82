package miniapp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/boxo-sim/boxo-sim/internal/clock"
	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/testkit"
	"github.com/boxo-sim/boxo-sim/miniapp"
	"github.com/boxo-sim/boxo-sim/miniapp/sqlite"
)

const (
	baseURL = "http://127.0.0.1:8083"
	// basicDemo is PROTOCOL §7.7's worked example, app16973:miniapp-secret-1, written out.
	basicDemo = "Basic YXBwMTY5NzM6bWluaWFwcC1zZWNyZXQtMQ=="
	loopback  = "127.0.0.1:40000"
	clientID  = demo.ClientID
)

var t0 = time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)

// lockedBuffer collects log output written from several goroutines.
type lockedBuffer = testkit.Buffer

// env is one miniapp under test: its router, store, clock and collected logs.
type env struct {
	t    *testing.T
	h    http.Handler
	db   *sqlite.DB
	path string
	clk  *clock.Clock
	logs *lockedBuffer
}

// newEnv builds the miniapp with New on a seeded temp-dir store, a fake clock at t0 and a
// Debug-level logger that writes to the test output and to env.logs.
func newEnv(t *testing.T, opts ...func(*miniapp.Config)) *env {
	t.Helper()
	e := &env{t: t, path: filepath.Join(t.TempDir(), "miniapp.db"), clk: clock.NewFake(t0), logs: &lockedBuffer{}}
	e.db = openDB(t, e.path)
	if err := miniapp.SeedDemo(t.Context(), e.db, demo.AppID, demo.MiniappSecret); err != nil {
		t.Fatal(err)
	}
	e.h = e.build(opts...)
	return e
}

func openDB(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func (e *env) build(opts ...func(*miniapp.Config)) http.Handler {
	e.t.Helper()
	log := slog.New(slog.NewTextHandler(io.MultiWriter(e.t.Output(), e.logs), &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := miniapp.Config{BaseURL: baseURL, Store: e.db, Logger: log, Now: e.clk.Now}
	for _, o := range opts {
		o(&cfg)
	}
	h, err := miniapp.New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

// serve runs one request through the full router.
func (e *env) serve(r *http.Request) *httptest.ResponseRecorder {
	e.t.Helper()
	if r.RemoteAddr == "192.0.2.1:1234" { // httptest's default peer: make it loopback
		r.RemoteAddr = loopback
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	if w.Code >= 500 {
		e.t.Errorf("%s %s answered %d: %s", r.Method, r.URL.Path, w.Code, w.Body)
	}
	return w
}

// authTokenRequest is a well-formed step-10 call with the given body.
func authTokenRequest(body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, demo.AuthTokenPath, strings.NewReader(body))
	r.Header.Set("Authorization", basicDemo)
	r.Header.Set(contract.HeaderMiniappAppID, demo.AppID)
	r.Header.Set(contract.HeaderHostappClientID, clientID)
	r.Header.Set("Content-Type", "application/json")
	return r
}

// login performs step 10 for the client and body and wants tokens back.
func (e *env) login(client, body string) contract.AuthTokenResponse {
	e.t.Helper()
	r := authTokenRequest(body)
	r.Header.Set(contract.HeaderHostappClientID, client)
	w := e.serve(r)
	var resp contract.AuthTokenResponse
	decode(e.t, w, http.StatusOK, &resp)
	if resp.ErrorCode != "" || resp.AuthToken == "" || resp.RefreshToken == "" {
		e.t.Fatalf("login: want tokens, got %s", w.Body)
	}
	return resp
}

// me calls GET /api/me with the token.
func (e *env) me(token string) *httptest.ResponseRecorder {
	e.t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/api/me", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return e.serve(r)
}

// mustMe wants /api/me to accept the token.
func (e *env) mustMe(token string) contract.Me {
	e.t.Helper()
	var me contract.Me
	decode(e.t, e.me(token), http.StatusOK, &me)
	return me
}

func (e *env) refresh(refreshToken string) *httptest.ResponseRecorder {
	e.t.Helper()
	body, _ := json.Marshal(map[string]string{"refresh_token": refreshToken})
	r := httptest.NewRequest(http.MethodPost, "/api/auth/refresh", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return e.serve(r)
}

func (e *env) logout(token string) *httptest.ResponseRecorder {
	e.t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/api/auth/logout", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return e.serve(r)
}

func (e *env) users() []miniapp.User {
	e.t.Helper()
	us, err := e.db.Users(context.Background(), miniapp.UserFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	return us
}

func (e *env) settings() miniapp.Settings {
	e.t.Helper()
	s, err := e.db.Settings(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// decode checks status and JSON content type and decodes the body into v.
func decode(t *testing.T, w *httptest.ResponseRecorder, status int, v any) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d; body %s", w.Code, status, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q, want application/json", ct)
	}
	if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
		t.Fatalf("body %q: %v", w.Body, err)
	}
}

// wantError checks a Plain-form error: status and {"error": code}.
func wantError(t *testing.T, w *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	var body map[string]string
	decode(t, w, status, &body)
	if body["error"] != code {
		t.Fatalf("error %q, want %q; body %s", body["error"], code, w.Body)
	}
}

// wantInvalidToken checks /api/me's and logout's 401 (PROTOCOL §3.15).
func wantInvalidToken(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	wantError(t, w, http.StatusUnauthorized, "invalid_token")
	if got := w.Header().Get("WWW-Authenticate"); got != `Bearer error="invalid_token"` {
		t.Fatalf("WWW-Authenticate %q", got)
	}
}

// claimsOf decodes a token's claims without verifying it.
func claimsOf(t *testing.T, token string) jwt.MapClaims {
	t.Helper()
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(token, claims); err != nil {
		t.Fatal(err)
	}
	return claims
}
