package check_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/check"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/signing"
	"github.com/boxo-sim/boxo-sim/internal/stack"
)

// freeAddr reserves a loopback port for the checker, so the host app can be told its URL
// before the checker listens.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// hostDirect is the trigger of a real boxo-sim host app: carol signs in and the host app
// asks its backend for Direct tokens, which makes the backend call the checker.
func hostDirect(hostURL string) func(ctx context.Context, _ string) error {
	return func(ctx context.Context, _ string) error {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := c.PostForm(hostURL+"/auth/v1/login", url.Values{"username": {"carol"}, "password": {"carol-password"}})
		if err != nil {
			return err
		}
		res.Body.Close()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, hostURL+"/boxo/direct/tokens", strings.NewReader(`{"app_id":"`+demo.AppID+`"}`))
		req.Header.Set("Content-Type", "application/json")
		res, err = c.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return nil
	}
}

// The simulator's own host app passes every check of the Direct plan, signed or not.
func TestDirectPlanPassesTheSimulatedHostapp(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	st, err := stack.Start(t.Context(), stack.Config{
		Only: []string{stack.Hostapp}, HostAddr: "127.0.0.1:0", PlatformURL: "http://" + addr,
		DataDir: t.TempDir(), SigningKey: signingKey(), Logger: slog.New(slog.NewTextHandler(t.Output(), nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := check.DirectConfig{Listen: addr, ClientID: demo.ClientID, AppID: demo.AppID, Wait: 10 * time.Second, Trigger: hostDirect(st.HostURL)}
	rep, err := check.RunDirect(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		want := check.Pass
		if r.ID == "direct-signature" {
			want = check.Skip
		}
		if r.Status != want {
			t.Errorf("%s: %s %s, want %s", r.ID, r.Status, r.Message, want)
		}
	}
	if len(rep.Results) != len(check.DirectPlan()) || rep.Results[0].Evidence == nil {
		t.Errorf("report: %+v", rep)
	}

	// Signing on at the host: the signature verifies with the same secret, not another.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPut, st.HostURL+"/_sim/settings", strings.NewReader(`{"signing_enabled":true,"signing_secret":"host-sign-1"}`))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("PUT settings: %v %v", err, res)
	}
	res.Body.Close()
	for secret, want := range map[string]check.Status{"host-sign-1": check.Pass, "host-sign-2": check.Fail} {
		cfg.SigningSecret = secret
		rep, err := check.RunDirect(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if r, _ := rep.Result("direct-signature"); r.Status != want {
			t.Errorf("secret %s: direct-signature %s %s, want %s", secret, r.Status, r.Message, want)
		}
	}
}

// A backend that sends what §7.3 forbids fails the check that names it; one that never
// calls fails direct-called and skips the rest.
func TestDirectPlanFailures(t *testing.T) {
	t.Parallel()
	sendTo := func(path, body, contentType string, sign bool) func(ctx context.Context, u string) error {
		return func(ctx context.Context, u string) error {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u+path, strings.NewReader(body))
			req.Header.Set("Content-Type", contentType)
			if sign {
				signing.Sign("s3", http.MethodPost, u+"/api/v1/connect/", []byte(body), time.Now().Add(-time.Hour), "").Apply(req.Header)
			}
			res, err := http.DefaultClient.Do(req)
			if err == nil {
				res.Body.Close()
			}
			return err
		}
	}
	send := func(body, contentType string, sign bool) func(ctx context.Context, u string) error {
		return sendTo("/api/v1/connect/", body, contentType, sign)
	}
	good := `{"client_id":"352131","app_id":"app16973","user_data":{"reference":"u-1","email":"a@example.com"}}`
	for _, c := range []struct {
		name    string
		trigger func(ctx context.Context, u string) error
		secret  string
		failing string
	}{
		{"other path", sendTo("/api/v1/connect/direct/", good, "application/json", false), "", "direct-called"},
		{"form body", send("client_id=352131", "application/x-www-form-urlencoded", false), "", "direct-json"},
		{"wrong client", send(strings.Replace(good, "352131", "999", 1), "application/json", false), "", "direct-ids"},
		{"no email or phone", send(`{"client_id":"352131","app_id":"app16973","user_data":{"reference":"u-1"}}`, "application/json", false), "", "direct-user-data"},
		{"encrypted", send(`{"client_id":"352131","app_id":"app16973","user_data":"c2VjcmV0"}`, "application/json", false), "", "direct-user-data"},
		{"bad phone", send(`{"client_id":"352131","app_id":"app16973","user_data":{"reference":"u-1","phone":"12345"}}`, "application/json", false), "", "direct-phone"},
		{"unsigned", send(good, "application/json", false), "s3", "direct-signature"},
		{"stale signature", send(good, "application/json", true), "s3", "direct-signature"},
		{"no call", func(context.Context, string) error { return nil }, "", "direct-called"},
	} {
		wait := 5 * time.Second
		if c.name == "no call" {
			wait = 200 * time.Millisecond
		}
		rep, err := check.RunDirect(t.Context(), check.DirectConfig{ClientID: demo.ClientID, AppID: demo.AppID, Wait: wait, Trigger: c.trigger, SigningSecret: c.secret})
		if err != nil {
			t.Fatal(err)
		}
		if r, _ := rep.Result(c.failing); r.Status != check.Fail {
			t.Errorf("%s: %s is %s (%s), want FAIL", c.name, c.failing, r.Status, r.Message)
		}
		if !rep.Failed() {
			t.Errorf("%s: the report does not fail", c.name)
		}
	}
}
