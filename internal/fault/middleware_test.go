package fault_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/clock"
	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/fault"
)

// realAnswer is what the handler behind the middleware answers every call with.
const realAnswer = `{"access_token":"tok-123","refresh_token":"ref-456","expires_in":3600,"user_data":{"reference":"u-1","email":"a@example.com","tags":["x"]}}`

type backend struct {
	calls  atomic.Int32
	bodies chan string
}

// serve starts party's middleware over a handler that answers realAnswer and records calls.
func serve(t *testing.T, party string, clk *clock.Clock, faults ...fault.Fault) (*httptest.Server, *backend, *fault.Table) {
	t.Helper()
	tb := fault.NewTable(party)
	for _, f := range faults {
		mustAdd(t, tb, f)
	}
	if clk == nil {
		clk = clock.NewFake(time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC))
	}
	be := &backend{bodies: make(chan string, 10)}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		be.calls.Add(1)
		b, _ := io.ReadAll(r.Body)
		be.bodies <- string(b)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Real", "yes")
		io.WriteString(w, realAnswer)
	})
	srv := httptest.NewServer(fault.Middleware(party, tb, clk, next))
	t.Cleanup(srv.Close)
	return srv, be, tb
}

func send(t *testing.T, ctx context.Context, method, url, body string) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func mustSend(t *testing.T, method, url, body string) (*http.Response, []byte) {
	t.Helper()
	resp, b, err := send(t, t.Context(), method, url, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return resp, b
}

func TestErrorCodeTakesTheEndpointsForm(t *testing.T) {
	cases := []struct {
		name, party, path string
		f                 fault.Fault
		status            int
		check             func(t *testing.T, b []byte)
	}{
		{"host always-200", contract.PartyHostapp, "/boxo/connect/access-token", fault.Fault{Step: 7}, 200, func(t *testing.T, b []byte) {
			if m := decodeMap(t, b); m["error_code"] != contract.CodeInvalidAuthCode || len(m) != 1 {
				t.Errorf("body %s", b)
			}
		}},
		{"miniapp always-200", contract.PartyMiniapp, "/boxo/auth-token/", fault.Fault{Step: 11}, 200, func(t *testing.T, b []byte) {
			if m := decodeMap(t, b); m["error_code"] != contract.CodeInvalidAuthCode {
				t.Errorf("body %s", b)
			}
		}},
		{"miniapp /api/me", contract.PartyMiniapp, "/api/me", fault.Fault{Step: 14}, 401, func(t *testing.T, b []byte) {
			if m := decodeMap(t, b); m["error"] != "invalid_token" {
				t.Errorf("body %s", b)
			}
		}},
		{"miniapp refresh", contract.PartyMiniapp, "/api/auth/refresh", fault.Fault{Endpoint: "/api/auth/refresh"}, 401, func(t *testing.T, b []byte) {
			if m := decodeMap(t, b); m["error"] != "invalid_grant" {
				t.Errorf("body %s", b)
			}
		}},
		{"host token endpoint", contract.PartyHostapp, "/auth/v1/token", fault.Fault{Endpoint: "/auth/v1/token"}, 400, func(t *testing.T, b []byte) {
			if m := decodeMap(t, b); m["error"] != "server_error" || m["error_code"] != nil {
				t.Errorf("body %s", b)
			}
		}},
		{"platform envelope at step 5", contract.PartyPlatform, "/api/v1/authorize", fault.Fault{Step: 5}, 400, func(t *testing.T, b []byte) {
			var env contract.ErrorEnvelope
			json.Unmarshal(b, &env)
			if env.ErrorCode != contract.CodeInvalidAuthCode || env.ErrorMessage != contract.Message(contract.CodeInvalidAuthCode) || env.CustomAttributes["detail"] != "injected fault" || env.Source() != "platform" || env.Step() != 5 {
				t.Errorf("envelope %s", b)
			}
		}},
		{"platform envelope by endpoint names the step", contract.PartyPlatform, "/api/v1/miniapps/app1/settings/",
			fault.Fault{Endpoint: "/api/v1/miniapps/{app_id}/settings"}, 400, func(t *testing.T, b []byte) {
				var env contract.ErrorEnvelope
				json.Unmarshal(b, &env)
				if env.ErrorCode != contract.CodeInvalidAuthCode || env.Step() != 1 {
					t.Errorf("envelope %s", b)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.f.Kind, tc.f.ErrorCode = fault.KindErrorCode, contract.CodeInvalidAuthCode
			srv, be, _ := serve(t, tc.party, nil, tc.f)
			resp, b := mustSend(t, http.MethodPost, srv.URL+tc.path, `{}`)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, b)
			}
			tc.check(t, b)
			if be.calls.Load() != 0 {
				t.Error("the real handler ran behind an error_code fault")
			}
		})
	}
}

func decodeMap(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not a JSON object: %v: %s", err, b)
	}
	return m
}

func TestTransformingKinds(t *testing.T) {
	long := strings.Repeat("t", contract.MaxTokenLen+1)
	cases := []struct {
		name  string
		f     fault.Fault
		check func(t *testing.T, resp *http.Response, b []byte)
	}{
		{"non-json", fault.Fault{Kind: fault.KindMalformed, Body: "non-json"}, func(t *testing.T, resp *http.Response, b []byte) {
			if resp.StatusCode != 200 || json.Valid(b) || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				t.Errorf("%d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
			}
		}},
		{"truncated", fault.Fault{Kind: fault.KindMalformed, Body: "truncated"}, func(t *testing.T, resp *http.Response, b []byte) {
			if string(b) != realAnswer[:len(realAnswer)/2] || resp.Header.Get("X-Real") != "yes" {
				t.Errorf("body %s", b)
			}
		}},
		{"wrong-types", fault.Fault{Kind: fault.KindMalformed, Body: "wrong-types"}, func(t *testing.T, _ *http.Response, b []byte) {
			m := decodeMap(t, b)
			ud, _ := m["user_data"].(map[string]any)
			tags, _ := ud["tags"].([]any)
			if m["access_token"] != float64(len("tok-123")) || m["expires_in"] != float64(3600) || ud["email"] != float64(len("a@example.com")) || len(tags) != 1 || tags[0] != float64(1) {
				t.Errorf("body %s", b)
			}
		}},
		{"long_token", fault.Fault{Kind: fault.KindLongToken}, func(t *testing.T, _ *http.Response, b []byte) {
			m := decodeMap(t, b)
			if m["access_token"] != long || m["refresh_token"] != long || m["expires_in"] != float64(3600) {
				t.Errorf("body %.200s", b)
			}
		}},
		{"missing_field dotted", fault.Fault{Kind: fault.KindMissingField, Field: "user_data.email"}, func(t *testing.T, _ *http.Response, b []byte) {
			m := decodeMap(t, b)
			ud, _ := m["user_data"].(map[string]any)
			if _, ok := ud["email"]; ok || ud["reference"] != "u-1" || m["access_token"] != "tok-123" {
				t.Errorf("body %s", b)
			}
		}},
		{"missing_field absent", fault.Fault{Kind: fault.KindMissingField, Field: "user_data.phone.x"}, func(t *testing.T, _ *http.Response, b []byte) {
			var want, got any
			json.Unmarshal([]byte(realAnswer), &want)
			json.Unmarshal(b, &got)
			if !jsonEqual(want, got) {
				t.Errorf("body %s, want the real answer", b)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.f.Step = 7
			srv, be, _ := serve(t, contract.PartyHostapp, nil, tc.f)
			resp, b := mustSend(t, http.MethodPost, srv.URL+"/boxo/connect/access-token", `{}`)
			tc.check(t, resp, b)
			if be.calls.Load() != 1 {
				t.Errorf("the real handler ran %d times, want 1", be.calls.Load())
			}
		})
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestStatusAndUnmatchedCalls(t *testing.T) {
	srv, be, tb := serve(t, contract.PartyHostapp, nil, fault.Fault{Step: 8, Kind: fault.KindStatus, Status: 502})
	resp, b := mustSend(t, http.MethodGet, srv.URL+"/boxo/connect/user-data/", "")
	if resp.StatusCode != 502 || decodeMap(t, b)["error"] != "injected_fault" {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	resp, b = mustSend(t, http.MethodPost, srv.URL+"/boxo/connect/access-token", `{}`)
	if resp.StatusCode != 200 || string(b) != realAnswer {
		t.Fatalf("an unaddressed endpoint was changed: %d %s", resp.StatusCode, b)
	}
	if f := tb.List()[0]; f.Matched != 1 || f.Fired != 1 || be.calls.Load() != 1 {
		t.Fatalf("counters %+v, real calls %d", f, be.calls.Load())
	}
}

func TestFaultsApplyInIDOrder(t *testing.T) {
	delay := fault.Fault{Step: 7, Kind: fault.KindDelay, Delay: fault.Duration(100 * time.Millisecond)}
	status := fault.Fault{Step: 7, Kind: fault.KindStatus, Status: 500}

	srv, _, _ := serve(t, contract.PartyHostapp, nil, delay, status)
	start := time.Now()
	resp, _ := mustSend(t, http.MethodPost, srv.URL+"/boxo/connect/access-token", `{}`)
	if el := time.Since(start); resp.StatusCode != 500 || el < 100*time.Millisecond {
		t.Fatalf("delay then status: %d after %v, want 500 after the delay", resp.StatusCode, el)
	}

	delay.Delay = fault.Duration(time.Minute)
	srv, _, tb := serve(t, contract.PartyHostapp, nil, status, delay)
	start = time.Now()
	resp, _ = mustSend(t, http.MethodPost, srv.URL+"/boxo/connect/access-token", `{}`)
	if el := time.Since(start); resp.StatusCode != 500 || el > 30*time.Second {
		t.Fatalf("status then delay: %d after %v, want 500 at once", resp.StatusCode, el)
	}
	if fs := tb.List(); fs[0].Fired != 1 || fs[1].Fired != 1 {
		t.Fatalf("counters %+v", fs)
	}
}

func TestDelayEndsWhenTheCallerGivesUp(t *testing.T) {
	srv, be, _ := serve(t, contract.PartyHostapp, nil, fault.Fault{Step: 7, Kind: fault.KindDelay, Delay: fault.Duration(time.Minute)})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, _, err := send(t, ctx, http.MethodPost, srv.URL+"/boxo/connect/access-token", `{}`); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the caller's deadline", err)
	}
	start := time.Now()
	srv.Close() // waits for the handler, which must end with the caller
	if el := time.Since(start); el > 30*time.Second {
		t.Fatalf("the delayed handler outlived its caller by %v", el)
	}
	if be.calls.Load() != 0 {
		t.Fatal("the real handler ran after the caller gave up")
	}
}

func TestResetDropsTheConnection(t *testing.T) {
	srv, be, _ := serve(t, contract.PartyMiniapp, nil, fault.Fault{Step: 10, Kind: fault.KindReset})
	_, _, err := send(t, t.Context(), http.MethodPost, srv.URL+"/boxo/auth-token", `{}`)
	if err == nil {
		t.Fatal("a reset call got an answer")
	}
	if !errors.Is(err, syscall.ECONNRESET) && !strings.Contains(err.Error(), "EOF") {
		t.Logf("transport error: %v", err)
	}
	if be.calls.Load() != 0 {
		t.Fatal("the real handler ran behind a reset")
	}
}

func TestReplayCodeHandlesTheSameRequestTwice(t *testing.T) {
	srv, be, _ := serve(t, contract.PartyHostapp, nil, fault.Fault{Step: 6, Kind: fault.KindReplayCode})
	resp, b := mustSend(t, http.MethodPost, srv.URL+"/boxo/connect/access-token", `{"auth_code":"abc"}`)
	if resp.StatusCode != 200 || string(b) != realAnswer || be.calls.Load() != 2 {
		t.Fatalf("%d %s after %d calls", resp.StatusCode, b, be.calls.Load())
	}
	if a, b := <-be.bodies, <-be.bodies; a != `{"auth_code":"abc"}` || b != a {
		t.Fatalf("the two calls got bodies %q and %q", a, b)
	}
}

func TestExpireAdvancesTheClock(t *testing.T) {
	start := time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)
	clk := clock.NewFake(start)
	srv, be, _ := serve(t, contract.PartyMiniapp, clk, fault.Fault{Step: 14, Kind: fault.KindExpire, Nth: 1})
	for range 2 {
		mustSend(t, http.MethodGet, srv.URL+"/api/me", "")
	}
	if got, want := clk.Now(), start.Add(time.Hour+time.Second); !got.Equal(want) || be.calls.Load() != 2 {
		t.Fatalf("clock %v, want %v (moved once); real calls %d", got, want, be.calls.Load())
	}
}
