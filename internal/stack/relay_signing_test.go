package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/clock"
	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/signing"
	"github.com/boxo-sim/boxo-sim/internal/stack"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

// signedBackend is a team's backend with request signing on, as a test server: it verifies
// every call with internal/signing and answers the contract's "always 200" error form
// (INVALID_SIGNATURE, SIGNATURE_VALIDATION_ERROR) when the signature does not hold, else
// answer's body.
type signedBackend struct {
	*httptest.Server
	mu       sync.Mutex
	verified []string // the paths whose signature held
}

func newSignedBackend(t *testing.T, secret string, clk *clock.Clock, answer func(path string) any) *signedBackend {
	t.Helper()
	b := &signedBackend{}
	v := &signing.Verifier{Now: clk.Now}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		if e := v.Verify(r, body, secret); e != nil {
			json.NewEncoder(w).Encode(map[string]string{"error_code": e.Code})
			return
		}
		b.mu.Lock()
		b.verified = append(b.verified, r.URL.Path)
		b.mu.Unlock()
		json.NewEncoder(w).Encode(answer(r.URL.Path))
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *signedBackend) paths() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.verified...)
}

// TestRelaySigning: up's signing secrets towards relayed backends (hostapp_signing_secret,
// miniapp_signing_secret) switch signing on in their Dashboard records, so the platform signs
// steps 6, 8 and 10 for a host and a miniapp backend that verify with internal/signing, and
// verifies the host backend's own Direct calls with its secret.
func TestRelaySigning(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC))
	host := newSignedBackend(t, "team-host-sign", clk, func(path string) any {
		if path == demo.AccessTokenPath {
			return map[string]string{"access_token": "team-access-1"}
		}
		return map[string]any{"user_data": map[string]string{"reference": "team-u-1", "email": "team@example.com"}}
	})
	mini := newSignedBackend(t, "team-mini-sign", clk, func(string) any {
		return map[string]string{"auth_token": "team-mini-token-1"}
	})
	st := startWith(t, stack.Config{Clock: clk, HostURL: host.URL, MiniappURL: mini.URL, Relay: stack.Relay{
		HostappSigningSecret: "team-host-sign", MiniappSigningSecret: "team-mini-sign"}})
	sdk := newSDK(t, st)
	code := func(context.Context) (string, error) { return "team-code-1", nil }
	res, fe := connect(t, sdk, sdkstub.Options{AuthCode: code, SkipMe: true})
	mustSucceed(t, res, fe)
	if got := append(host.paths(), mini.paths()...); strings.Join(got, " ") != demo.AccessTokenPath+" "+demo.UserDataPath+" "+demo.AuthTokenPath {
		t.Errorf("signatures verified at %v, want steps 6, 8 and 10", got)
	}
	body := string(admin(t, http.MethodGet, st.PlatformURL+"/_sim/hostapps/"+demo.ClientID, nil))
	if strings.Contains(body, "team-host-sign") || !strings.Contains(body, `"signing_enabled":true`) {
		t.Errorf("the host app's Dashboard record: %s", body)
	}

	// The host backend's own Direct call: verified with the secret given to up.
	direct := []byte(`{"client_id":"` + demo.ClientID + `","app_id":"` + demo.AppID + `","user_data":{"reference":"team-u-2","email":"t2@example.com"}}`)
	u := st.PlatformURL + "/api/v1/connect/"
	post := func(h http.Header) (int, contract.ErrorEnvelope) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, u, bytes.NewReader(direct))
		req.Header = h
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var env contract.ErrorEnvelope
		json.NewDecoder(res.Body).Decode(&env)
		return res.StatusCode, env
	}
	if status, env := post(http.Header{}); status != http.StatusBadRequest || env.ErrorCode != contract.CodeInvalidSignature {
		t.Errorf("unsigned Direct call: %d %s, want %s", status, env.ErrorCode, contract.CodeInvalidSignature)
	}
	h := http.Header{}
	signing.Sign("team-host-sign", http.MethodPost, u, direct, clk.Now(), "").Apply(h)
	if status, env := post(h); status != http.StatusOK {
		t.Errorf("signed Direct call: %d %s", status, env.ErrorCode)
	}

	// Another secret at the platform: the team's host backend refuses step 6's signature.
	other := startWith(t, stack.Config{Clock: clk, HostURL: host.URL, MiniappURL: mini.URL, Relay: stack.Relay{HostappSigningSecret: "not-the-team-secret"}})
	_, fe = connect(t, newSDK(t, other), sdkstub.Options{AuthCode: code, SkipMe: true})
	if fe == nil || fe.Step != 7 || fe.Party != contract.PartyHostapp || fe.Code != contract.CodeInvalidSignature {
		t.Errorf("another secret: %v, want the host backend's %s at step 7", fe, contract.CodeInvalidSignature)
	}
	// No miniapp secret given on this start: the miniapp backend gets unsigned calls and
	// refuses them.
	unsigned := startWith(t, stack.Config{Clock: clk, HostURL: host.URL, MiniappURL: mini.URL, Relay: stack.Relay{HostappSigningSecret: "team-host-sign"}})
	_, fe = connect(t, newSDK(t, unsigned), sdkstub.Options{AuthCode: code, SkipMe: true})
	if fe == nil || fe.Step != 11 || fe.Party != contract.PartyMiniapp || fe.Code != contract.CodeInvalidSignature {
		t.Errorf("no miniapp signing secret: %v, want the miniapp backend's %s at step 11", fe, contract.CodeInvalidSignature)
	}

	// A signing secret needs its backend located at a URL.
	for _, r := range []stack.Relay{{HostappSigningSecret: "s"}, {MiniappSigningSecret: "s"}} {
		if _, err := tryStart(t, stack.Config{Relay: r}); err == nil || !strings.Contains(err.Error(), "signing_secret is for a backend not started here") {
			t.Errorf("%+v without a relayed backend: %v", r, err)
		}
	}
}
