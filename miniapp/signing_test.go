package miniapp_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/signing"
)

// With request signing on (PROTOCOL §7.8), the Get Auth Token call must carry a valid
// signature: missing or wrong → INVALID_SIGNATURE, stale or replayed →
// SIGNATURE_VALIDATION_ERROR, all as always-200 answers; the secret is never shown.
func TestAuthTokenSigned(t *testing.T) {
	e := newEnv(t)
	body := `{"reference":"u-1","email":"a@example.com"}`
	putOK := func(b string) string { return put(t, e, b, http.StatusOK).Body.String() }
	send := func(secret string, at time.Time, nonce string, edit func(http.Header)) string {
		r := authTokenRequest(body)
		if secret != "" {
			signing.Sign(secret, http.MethodPost, "http://example.com"+demo.AuthTokenPath, []byte(body), at, nonce).Apply(r.Header)
		}
		if edit != nil {
			edit(r.Header)
		}
		var resp contract.AuthTokenResponse
		decode(t, e.serve(r), http.StatusOK, &resp)
		if resp.ErrorCode == "" && resp.AuthToken == "" {
			t.Fatalf("neither token nor error_code")
		}
		return resp.ErrorCode
	}
	if got := putOK(`{"signing_enabled":true}`); strings.Contains(got, "secret") {
		t.Errorf("settings show a secret: %s", got)
	}
	if got := send("", t0, "", nil); got != contract.CodeMissingRequestSignatureSettings {
		t.Errorf("signing on without a secret: %q", got)
	}
	if got := putOK(`{"signing_secret":"mini-sign-1"}`); strings.Contains(got, "mini-sign-1") || !strings.Contains(got, `"signing_enabled":true`) {
		t.Errorf("settings after the secret: %s", got)
	}
	for _, c := range []struct {
		name   string
		secret string
		at     time.Time
		edit   func(http.Header)
		want   string
	}{
		{"unsigned", "", t0, nil, contract.CodeInvalidSignature},
		{"wrong secret", "other", t0, nil, contract.CodeInvalidSignature},
		{"signature dropped", "mini-sign-1", t0, func(h http.Header) { h.Del(signing.HeaderSignature) }, contract.CodeInvalidSignature},
		{"stale", "mini-sign-1", t0.Add(-10 * time.Minute), nil, contract.CodeSignatureValidationError},
		{"good", "mini-sign-1", t0, nil, ""},
	} {
		if got := send(c.secret, c.at, "nonce-"+strings.ReplaceAll(c.name, " ", "-"), c.edit); got != c.want {
			t.Errorf("%s: error_code %q, want %q", c.name, got, c.want)
		}
	}
	if got := send("mini-sign-1", t0, "nonce-good", nil); got != contract.CodeSignatureValidationError {
		t.Errorf("replayed nonce: %q", got)
	}
	// Off again: unsigned calls pass.
	putOK(`{"signing_enabled":false}`)
	if got := send("", t0, "", nil); got != "" {
		t.Errorf("signing off, unsigned: %q", got)
	}
}
