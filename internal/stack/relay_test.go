package stack_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/clock"
	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/stack"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

// startWith starts a stack on ephemeral ports with cfg's relay fields.
func startWith(t *testing.T, cfg stack.Config) *stack.Stack {
	t.Helper()
	st, err := tryStart(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func tryStart(t *testing.T, cfg stack.Config) (*stack.Stack, error) {
	t.Helper()
	cfg.HostAddr, cfg.PlatformAddr, cfg.MiniappAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.NewFake(time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC))
	}
	cfg.SigningKey = signingKey()
	cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	st, err := stack.Start(t.Context(), cfg)
	if err == nil {
		t.Cleanup(func() { st.Close() })
	}
	return st, err
}

func platformFlow(t *testing.T, st *stack.Stack, id string) contract.Flow {
	t.Helper()
	return decode[contract.Flow](t, admin(t, http.MethodGet, st.PlatformURL+"/_sim/flows/"+id, nil))
}

// TestRelayToASeparateMiniapp is the end-to-end case: a platform started with
// MiniappURL runs a full Connect through a miniapp started by another boxo-sim.
func TestRelayToASeparateMiniapp(t *testing.T) {
	t.Parallel()
	mini := startWith(t, stack.Config{Only: []string{stack.Miniapp}})
	st := startWith(t, stack.Config{MiniappURL: mini.MiniappURL + "/"})
	if !slices.Equal(st.Started, []string{stack.Hostapp, stack.Platform}) || !st.Relayed(stack.Miniapp) || st.Relayed(stack.Hostapp) {
		t.Fatalf("started %v, relayed miniapp %t", st.Started, st.Relayed(stack.Miniapp))
	}
	if st.MiniappURL != mini.MiniappURL || st.AppID != demo.AppID {
		t.Fatalf("MiniappURL %q, AppID %q", st.MiniappURL, st.AppID)
	}
	res, fe := connect(t, newSDK(t, st), sdkstub.Options{User: "bob"})
	mustSucceed(t, res, fe)
	if res.Me == nil || res.Me.CreatedText() != "true" || res.Me.Reference != "u-1002" {
		t.Fatalf("me = %+v", res.Me)
	}
	if users := miniappUsers(t, mini); len(users) != 1 || users[0]["reference"] != "u-1002" {
		t.Fatalf("the separate miniapp has users %v", users)
	}
	for _, s := range platformFlow(t, st, res.FlowID).Steps {
		if len(s.Violations) > 0 {
			t.Errorf("step %d has violations %q", s.Step, s.Violations)
		}
	}
}

// TestRelayToASeparateHost runs Connect through a host app started by another boxo-sim,
// with the Dashboard credentials given, and records a wrong secret as the host's answer.
func TestRelayToASeparateHost(t *testing.T) {
	t.Parallel()
	host := startWith(t, stack.Config{Only: []string{stack.Hostapp}})
	st := startWith(t, stack.Config{HostURL: host.HostURL, Relay: stack.Relay{
		HostappClientID: demo.HostappClientID, HostappSecret: demo.HostappSecret, TokenPrefix: "token"}})
	if !slices.Equal(st.Started, []string{stack.Platform, stack.Miniapp}) || !st.Relayed(stack.Hostapp) {
		t.Fatalf("started %v", st.Started)
	}
	res, fe := connect(t, newSDK(t, st), sdkstub.Options{User: "alice"})
	mustSucceed(t, res, fe)

	bad := startWith(t, stack.Config{HostURL: host.HostURL, Relay: stack.Relay{HostappSecret: "not-the-secret"}})
	res, fe = connect(t, newSDK(t, bad), sdkstub.Options{User: "alice"})
	if fe == nil || fe.Step != 7 || fe.Code != contract.CodeAccessDenied || fe.Party != contract.PartyHostapp {
		t.Fatalf("wrong secret: %v", fe)
	}
	body := string(admin(t, http.MethodGet, bad.PlatformURL+"/_sim/hostapps/"+demo.ClientID, nil))
	if strings.Contains(body, "not-the-secret") || !strings.Contains(body, host.HostURL+demo.AccessTokenPath) {
		t.Errorf("the Dashboard record shows the secret or lacks the relay URL: %s", body)
	}
}

// TestRelayMiniappWithItsOwnAppID relays to a miniapp known by another app_id and secret:
// the platform gets a record and a partnership for it.
func TestRelayMiniappWithItsOwnAppID(t *testing.T) {
	t.Parallel()
	mini := startWith(t, stack.Config{Only: []string{stack.Miniapp}})
	admin(t, http.MethodPut, mini.MiniappURL+"/_sim/settings", map[string]any{"app_id": "app-real", "secret_key": "real-secret-42"})
	st := startWith(t, stack.Config{MiniappURL: mini.MiniappURL, Relay: stack.Relay{MiniappAppID: "app-real", MiniappSecret: "real-secret-42"}})
	if st.AppID != "app-real" {
		t.Fatalf("AppID = %q", st.AppID)
	}
	res, fe := connect(t, newSDK(t, st), sdkstub.Options{User: "carol", AppID: st.AppID})
	mustSucceed(t, res, fe)
	// The demo miniapp's record is left alone, so a flow to it does not reach this miniapp.
	connect(t, newSDK(t, st), sdkstub.Options{User: "alice"})
	if users := miniappUsers(t, mini); len(users) != 1 || users[0]["reference"] != "u-1003" {
		t.Fatalf("the relayed miniapp has users %v, want carol's only", users)
	}
}

// TestRelayRecordsViolations: a miniapp that answers 401 fails the flow with UNEXPECTED_RESPONSE_ERROR,
// and the flow log names the rule it broke.
func TestRelayRecordsViolations(t *testing.T) {
	t.Parallel()
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error_code":"ACCESS_DENIED"}`))
	}))
	t.Cleanup(broken.Close)
	st := startWith(t, stack.Config{MiniappURL: broken.URL})
	res, fe := connect(t, newSDK(t, st), sdkstub.Options{})
	if fe == nil || fe.Step != 11 || fe.Code != contract.CodeUnexpectedResponseError {
		t.Fatalf("flow: %v", fe)
	}
	// The failure line carries the status, the body's error_code and the likely cause.
	if !strings.Contains(fe.Message, "miniapp answered HTTP 401 with error_code ACCESS_DENIED") || !strings.Contains(fe.Message, "refused the credentials") {
		t.Errorf("failure message %q", fe.Message)
	}
	var got []string
	for _, s := range platformFlow(t, st, res.FlowID).Steps {
		if s.Step == 11 {
			got = append(got, s.Violations...)
		}
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], "contract §2.3: miniapp answered HTTP 401") || !strings.HasPrefix(got[1], "contract §2.2:") {
		t.Fatalf("step 11 violations = %q", got)
	}
}

// TestRelayCredentialsRestored: a data directory used for relaying works again with the
// simulated parties: their demo credentials come back.
func TestRelayCredentialsRestored(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	relayed, err := tryStart(t, stack.Config{DataDir: dir, HostURL: "http://127.0.0.1:1", MiniappURL: "http://127.0.0.1:1",
		Relay: stack.Relay{HostappClientID: "real-client", HostappSecret: "real-secret", TokenPrefix: "Bearer", MiniappSecret: "real-mini-secret"}})
	if err != nil {
		t.Fatal(err)
	}
	relayed.Close()
	st := startWith(t, stack.Config{DataDir: dir})
	res, fe := connect(t, newSDK(t, st), sdkstub.Options{})
	mustSucceed(t, res, fe)
}

func TestRelayConfigErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cfg  stack.Config
		want string
	}{
		{"host started and located", stack.Config{Only: []string{"hostapp,platform"}, HostURL: "http://127.0.0.1:1"}, "hostapp is both started here"},
		{"miniapp started and located", stack.Config{Only: []string{"miniapp"}, MiniappURL: "http://127.0.0.1:1"}, "miniapp is both started here"},
		{"nothing left", stack.Config{Only: []string{"hostapp", "miniapp"}, HostURL: "http://127.0.0.1:1"}, "both started here"},
		{"secret without URL", stack.Config{Relay: stack.Relay{HostappSecret: "s"}}, "give --hostapp-url"},
		{"app id without URL", stack.Config{Relay: stack.Relay{MiniappAppID: "app-x"}}, "give --miniapp-url"},
		{"prefix with a space", stack.Config{HostURL: "http://127.0.0.1:1", Relay: stack.Relay{TokenPrefix: "Two words"}}, "token_prefix"},
		{"client id with a colon", stack.Config{HostURL: "http://127.0.0.1:1", Relay: stack.Relay{HostappClientID: "a:b"}}, "':'"},
		{"app id with a slash", stack.Config{MiniappURL: "http://127.0.0.1:1", Relay: stack.Relay{MiniappAppID: "app/1"}}, "miniapp_app_id"},
		{"endpoint without URL", stack.Config{Relay: stack.Relay{AccessTokenURL: "/api/token"}}, "access_token_url is for a backend not started here: give --hostapp-url"},
		{"auth token URL without URL", stack.Config{Relay: stack.Relay{AuthTokenURL: "/login"}}, "give --miniapp-url"},
		{"endpoint neither path nor URL", stack.Config{HostURL: "http://127.0.0.1:1", Relay: stack.Relay{UserDataURL: "api/me"}}, "user_data_url"},
		{"method", stack.Config{HostURL: "http://127.0.0.1:1", Relay: stack.Relay{UserDataMethod: "PUT"}}, "use GET or POST"},
		{"unknown field", stack.Config{Relay: stack.Relay{RequiredFields: []string{"age"}}}, `"age" is not a user field`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := tryStart(t, tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// otherPaths is a host backend the way a team's own may look: the boxo-sim host app behind
// other paths (POST /api/boxo/token, POST /api/boxo/me) and an HTML 404 for the rest. phone,
// when set, replaces the phone in every user data answer.
func otherPaths(t *testing.T, host *stack.Stack, phone string) *httptest.Server {
	t.Helper()
	target, err := url.Parse(host.HostURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			switch r.In.URL.Path {
			case "/api/boxo/token":
				r.Out.URL.Path = demo.AccessTokenPath
			case "/api/boxo/me":
				r.Out.URL.Path, r.Out.Method, r.Out.Body, r.Out.ContentLength = demo.UserDataPath, http.MethodGet, nil, 0
				r.Out.Header.Del("Content-Type")
			}
		},
		ModifyResponse: func(resp *http.Response) error {
			if phone == "" || resp.Request.URL.Path != demo.UserDataPath {
				return nil
			}
			var body map[string]map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				return err
			}
			resp.Body.Close()
			body["user_data"]["phone"] = phone
			b, _ := json.Marshal(body)
			resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
			resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
			return nil
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && (r.URL.Path == "/api/boxo/token" || r.URL.Path == "/api/boxo/me"):
			proxy.ServeHTTP(w, r)
		default:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, "<!DOCTYPE html><html><body>404: This page could not be found.</body></html>")
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestRelayToABackendOnOtherPaths: with the endpoints given (a path and an absolute URL, and
// POST for user data), a full flow runs through a host backend whose paths differ from
// boxo-sim's, with no admin call, and again after a restart on the same data directory.
// Without them, the 404 is reported with its likely cause.
func TestRelayToABackendOnOtherPaths(t *testing.T) {
	t.Parallel()
	host := startWith(t, stack.Config{Only: []string{stack.Hostapp}})
	backend := otherPaths(t, host, "")
	dir := t.TempDir()
	cfg := stack.Config{DataDir: dir, HostURL: backend.URL, Relay: stack.Relay{
		AccessTokenURL: "/api/boxo/token", UserDataURL: backend.URL + "/api/boxo/me", UserDataMethod: "post"}}
	withHost := func(c *sdkstub.Config) { c.HostURL = host.HostURL } // the code is minted at the host app itself
	for run := range 2 {
		st, err := tryStart(t, cfg)
		if err != nil {
			t.Fatal(err)
		}
		res, fe := connect(t, newSDK(t, st, withHost), sdkstub.Options{User: "bob"})
		mustSucceed(t, res, fe)
		for _, s := range platformFlow(t, st, res.FlowID).Steps {
			if len(s.Violations) > 0 {
				t.Errorf("run %d: step %d has violations %q", run, s.Step, s.Violations)
			}
			if s.Step == 8 && s.Call != "POST /api/boxo/me" {
				t.Errorf("run %d: step 8 is %q, want POST /api/boxo/me", run, s.Call)
			}
		}
		st.Close()
	}

	plain := startWith(t, stack.Config{DataDir: dir, HostURL: backend.URL})
	_, fe := connect(t, newSDK(t, plain, withHost), sdkstub.Options{User: "bob"})
	if fe == nil || fe.Step != 7 || fe.Code != contract.CodeUnexpectedResponseError ||
		!strings.Contains(fe.Message, "HTTP 404") || !strings.Contains(fe.Message, "no route at "+backend.URL+demo.AccessTokenPath) {
		t.Fatalf("default paths against the backend: %+v", fe)
	}
}

// TestRelayPhoneViolationAtStep9: a host answering a phone that is not E.164 gets the
// violation at step 9, where it broke the rule, though the flow fails at the miniapp.
func TestRelayPhoneViolationAtStep9(t *testing.T) {
	t.Parallel()
	host := startWith(t, stack.Config{Only: []string{stack.Hostapp}})
	backend := otherPaths(t, host, "0612 345 678")
	st := startWith(t, stack.Config{HostURL: backend.URL, Relay: stack.Relay{
		AccessTokenURL: "/api/boxo/token", UserDataURL: "/api/boxo/me", UserDataMethod: "POST"}})
	res, fe := connect(t, newSDK(t, st, func(c *sdkstub.Config) { c.HostURL = host.HostURL }), sdkstub.Options{User: "alice"})
	if fe == nil || fe.Step != 11 || fe.Code != contract.CodeInvalidUserData {
		t.Fatalf("flow: %+v", fe)
	}
	var at9 []string
	for _, s := range platformFlow(t, st, res.FlowID).Steps {
		if s.Step == 9 {
			at9 = append(at9, s.Violations...)
		}
	}
	if len(at9) != 1 || !strings.Contains(at9[0], "§3.10") || !strings.Contains(at9[0], `user_data.phone "0612 345 678" is not E.164`) {
		t.Fatalf("step 9 violations = %q", at9)
	}
}

// TestRelayRequiredFields: the required fields given are the miniapp's in the Dashboard.
func TestRelayRequiredFields(t *testing.T) {
	t.Parallel()
	st := startWith(t, stack.Config{Relay: stack.Relay{RequiredFields: []string{"phone", "custom_attributes"}}})
	body := string(admin(t, http.MethodGet, st.PlatformURL+"/_sim/miniapps/"+demo.AppID, nil))
	if !strings.Contains(body, `"required_fields":["phone","custom_attributes"]`) {
		t.Fatalf("miniapp record: %s", body)
	}
	res, fe := connect(t, newSDK(t, st), sdkstub.Options{User: "carol"})
	mustSucceed(t, res, fe)
	_, fe = connect(t, newSDK(t, st), sdkstub.Options{User: "bob"}) // a phone, no custom attributes
	if fe == nil || fe.Code != contract.CodeResponseAttributeMissing {
		t.Fatalf("flow for a user without custom attributes: %+v", fe)
	}
}
