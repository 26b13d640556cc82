package stack_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
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
