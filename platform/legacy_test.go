package platform_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
)

// TestLegacyLogin: POST /api/v1/partner/login/ (PROTOCOL §7.10) is refused while the host
// app's switch is off, and with it on takes the payload as an auth code through steps 6–11 and
// answers {"token"} alone.
func TestLegacyLogin(t *testing.T) {
	e := newEnv(t)
	e.happy()
	body := func(payload string) string {
		b, _ := json.Marshal(contract.LegacyLoginRequest{ClientID: demo.ClientID, AppID: demo.AppID, Payload: payload})
		return string(b)
	}
	rec := e.do(http.MethodPost, "/api/v1/partner/login/", body(testAuthCode), nil)
	env := wantEnvelope(t, rec, contract.CodeFeatureDisabledInHostapp, contract.PartyPlatform, 5)
	if !strings.Contains(env.ErrorMessage, "the legacy payload login") || !strings.Contains(env.Explained(), "legacy_login_enabled") {
		t.Errorf("switched off: %q does not say which switch", env.Explained())
	}
	if n := len(e.host.requests(demo.AccessTokenPath)); n != 0 {
		t.Errorf("switched off, the host got %d access-token calls", n)
	}

	mustPut(t, e, "/_sim/hostapps/"+demo.ClientID, `{"legacy_login_enabled":true}`)
	wantEnvelope(t, e.do(http.MethodPost, "/api/v1/partner/login", `{"client_id":"352131","app_id":"app16973"}`, nil), contract.CodeInvalidRequest, contract.PartyPlatform, 5)
	if rec := e.do(http.MethodPost, "/api/v1/partner/login/", `{"client_id":"352131","app_id":"app16973","payload":""}`, nil); !strings.Contains(rec.Body.String(), "payload is required") {
		t.Errorf("empty payload: %s", rec.Body)
	}

	rec = e.do(http.MethodPost, "/api/v1/partner/login/", body(testAuthCode), map[string]string{contract.HeaderFlowID: "flow-legacy-1"})
	if rec.Code != http.StatusOK || !jsonEqual(rec.Body.String(), `{"token":"`+miniToken+`"}`) {
		t.Fatalf("switched on: %d %s", rec.Code, rec.Body)
	}
	at := e.host.requests(demo.AccessTokenPath)
	if len(at) != 1 || !jsonEqual(at[0].Body, `{"auth_code":"`+testAuthCode+`"}`) {
		t.Errorf("step 6 did not carry the payload as the auth code: %+v", at)
	}
	f, _ := e.flow("flow-legacy-1")
	if s := stepsOf(f, 12); len(s) != 1 || s[0].Call != "POST /api/v1/partner/login/ response" {
		t.Errorf("step 12 = %+v", s)
	}
}
