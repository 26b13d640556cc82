package stack_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/clock"
	"github.com/boxo-sim/boxo-sim/internal/cors"
	"github.com/boxo-sim/boxo-sim/internal/stack"
	"github.com/boxo-sim/boxo-sim/internal/testkit"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

// signingKey is the test binary's one RSA key.
var signingKey = testkit.SigningKey

type stackOpts struct {
	callTimeout time.Duration
	logs        io.Writer // in addition to the test output
	cors        *cors.Policy
	grace       time.Duration
	bodyTimeout time.Duration
	adminToken  string
	clock       *clock.Clock
	dataDir     string
	maxFlows    int
	maxAge      time.Duration
	hostAddr    string // "" means 127.0.0.1:0
	userDataKey string
	lifetimes   stack.Lifetimes
	httpClient  *http.Client // the platform's outbound client
	proxies     []string     // trusted proxies of every party
}

// startStack starts the three parties on ephemeral ports with databases in a temp dir and a
// fake clock shared by all of them.
func startStack(t *testing.T, opts ...stackOpts) (*stack.Stack, *clock.Clock) {
	t.Helper()
	var o stackOpts
	if len(opts) > 0 {
		o = opts[0]
	}
	var w io.Writer = t.Output()
	if o.logs != nil {
		w = io.MultiWriter(t.Output(), o.logs)
	}
	clk := o.clock
	if clk == nil {
		clk = clock.NewFake(time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC))
	}
	dir := o.dataDir
	if dir == "" {
		dir = t.TempDir()
	}
	hostAddr := o.hostAddr
	if hostAddr == "" {
		hostAddr = "127.0.0.1:0"
	}
	st, err := stack.Start(t.Context(), stack.Config{
		HostAddr: hostAddr, PlatformAddr: "127.0.0.1:0", MiniappAddr: "127.0.0.1:0",
		DataDir: dir, Clock: clk, CallTimeout: o.callTimeout, SigningKey: signingKey(), CORS: o.cors,
		Logger:        slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})),
		ShutdownGrace: o.grace, BodyTimeout: o.bodyTimeout, AdminToken: o.adminToken,
		FlowLogMaxFlows: o.maxFlows, FlowLogMaxAge: o.maxAge,
		UserDataKey: o.userDataKey, Lifetimes: o.lifetimes, HTTPClient: o.httpClient, TrustedProxies: o.proxies,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, clk
}

func newSDK(t *testing.T, st *stack.Stack, cfg ...func(*sdkstub.Config)) *sdkstub.SDK {
	t.Helper()
	c := sdkstub.Config{PlatformURL: st.PlatformURL, HostURL: st.HostURL, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))}
	for _, f := range cfg {
		f(&c)
	}
	sdk, err := sdkstub.New(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sdk.CloseIdleConnections) // runs before the stack's Close: nothing for it to wait for
	return sdk
}

// connect runs one flow and fails the test when it cannot run at all.
func connect(t *testing.T, sdk *sdkstub.SDK, o sdkstub.Options) (*sdkstub.Result, *sdkstub.Error) {
	t.Helper()
	res, err := sdk.Connect(t.Context(), o)
	if res == nil {
		t.Fatalf("connect could not run: %v", err)
	}
	if err == nil {
		return res, nil
	}
	fe, ok := err.(*sdkstub.Error)
	if !ok {
		t.Fatalf("connect: unexpected error type %T: %v", err, err)
	}
	return res, fe
}

// mustSucceed fails the test unless the flow reached step 16.
func mustSucceed(t *testing.T, res *sdkstub.Result, fe *sdkstub.Error) {
	t.Helper()
	if fe != nil {
		t.Fatalf("flow %s failed: %v\nsteps: %+v", res.FlowID, fe, res.Steps)
	}
	if !res.OK {
		t.Fatalf("flow %s did not reach step 16", res.FlowID)
	}
}

// call sends a request with a JSON body (when body is not nil) and returns status and body.
func call(t *testing.T, method, url string, body any, header ...string) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			r = strings.NewReader(b)
		case []byte:
			r = bytes.NewReader(b)
		default:
			j, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			r = bytes.NewReader(j)
		}
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// admin sends a /_sim/ request and fails the test unless it answers 2xx.
func admin(t *testing.T, method, url string, body any) []byte {
	t.Helper()
	status, b := call(t, method, url, body)
	if status < 200 || status > 299 {
		t.Fatalf("%s %s: status %d: %s", method, url, status, b)
	}
	return b
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %T from %s: %v", v, b, err)
	}
	return v
}

// miniappUsers lists the miniapp's users through its admin API.
func miniappUsers(t *testing.T, st *stack.Stack) []map[string]any {
	t.Helper()
	b := admin(t, http.MethodGet, st.MiniappURL+"/_sim/users", nil)
	var wrapped struct {
		Users []map[string]any `json:"users"`
	}
	if err := json.Unmarshal(b, &wrapped); err == nil && wrapped.Users != nil {
		return wrapped.Users
	}
	return decode[[]map[string]any](t, b)
}

// syncBuffer is a buffer safe for concurrent writers.
type syncBuffer = testkit.Buffer
