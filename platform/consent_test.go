package platform_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
)

func TestSettings(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/api/v1/miniapps/" + demo.AppID + "/settings/", "/api/v1/miniapps/" + demo.AppID + "/settings"} {
		rec := e.do(http.MethodGet, p+"?client_id="+demo.ClientID+"&is_desktop=true", "", map[string]string{contract.HeaderFlowID: "flow-1"})
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", p, rec.Code, rec.Body)
		}
		var s contract.MiniappSettings
		decode(t, rec, &s)
		if s.Miniapp.AppID != demo.AppID || s.Miniapp.Name != demo.MiniappName || s.Miniapp.URL != e.mini.srv.URL+"/" || s.RequiredFields != nil {
			t.Errorf("%s: %s", p, rec.Body)
		}
		assertNoSecrets(t, "settings", rec.Body.String())
	}
	mustPut(t, e, "/_sim/miniapps/app-lonely", `{"name":"Lonely","url":"http://127.0.0.1:1/","auth_token_url":"http://127.0.0.1:1/t","secret_key":"k"}`)
	// Connect switched off does not stop a miniapp from opening.
	mustPut(t, e, "/_sim/partnerships/"+demo.ClientID+"/"+demo.AppID, `{"connect_enabled":false}`)
	if rec := e.do(http.MethodGet, "/api/v1/miniapps/"+demo.AppID+"/settings/?client_id="+demo.ClientID, "", nil); rec.Code != http.StatusOK {
		t.Errorf("Connect off: %d", rec.Code)
	}
	for _, tt := range []struct{ name, path, code string }{
		{"no client_id", "/api/v1/miniapps/" + demo.AppID + "/settings/", contract.CodeInvalidRequest},
		{"empty client_id", "/api/v1/miniapps/" + demo.AppID + "/settings/?client_id=", contract.CodeInvalidRequest},
		{"unknown client", "/api/v1/miniapps/" + demo.AppID + "/settings/?client_id=1", contract.CodeHostappNotFound},
		{"unknown app", "/api/v1/miniapps/app-x/settings/?client_id=" + demo.ClientID, contract.CodeMiniappNotFound},
		{"no partnership", "/api/v1/miniapps/app-lonely/settings?client_id=" + demo.ClientID, contract.CodeNoIntegration},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantEnvelope(t, e.do(http.MethodGet, tt.path, "", nil), tt.code, contract.PartyPlatform, 1)
		})
	}
}

func TestGetConsent(t *testing.T) {
	e := newEnv(t)
	e.happy()
	q := "?client_id=" + demo.ClientID + "&app_id=" + demo.AppID + "&user_reference=u-1003"
	var got map[string]any
	rec := e.do(http.MethodGet, "/api/v1/accounts/consent/get_consent/"+q, "", nil)
	decode(t, rec, &got)
	if rec.Code != http.StatusOK || got["consent"] != false || got["granted_at"] != nil || len(got["fields"].([]any)) != 0 ||
		got["client_id"] != demo.ClientID || got["app_id"] != demo.AppID || got["user_reference"] != "u-1003" {
		t.Errorf("before: %d %s", rec.Code, rec.Body)
	}
	if !strings.Contains(rec.Body.String(), `"granted_at":null`) {
		t.Errorf("granted_at must be null: %s", rec.Body)
	}

	if rec := e.do(http.MethodPost, "/api/v1/authorize/", authorizeBody(testAuthCode, demo.ClientID, demo.AppID, "u-1003"), nil); rec.Code != http.StatusOK {
		t.Fatalf("authorize: %d %s", rec.Code, rec.Body)
	}
	for _, p := range []string{"/api/v1/accounts/consent/get_consent/", "/api/v1/accounts/consent/get_consent"} {
		rec = e.do(http.MethodGet, p+q, "", nil)
		decode(t, rec, &got)
		if rec.Code != http.StatusOK || got["consent"] != true || got["granted_at"] != "2030-01-02T03:04:05Z" || len(got["fields"].([]any)) != 4 {
			t.Errorf("after (%s): %d %s", p, rec.Code, rec.Body)
		}
	}

	rec = e.do(http.MethodPost, "/_sim/consent/revoke", `{"client_id":"`+demo.ClientID+`","app_id":"`+demo.AppID+`","user_reference":"u-1003"}`, nil)
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != `{"revoked":true}` {
		t.Errorf("revoke: %d %s", rec.Code, rec.Body)
	}
	rec = e.do(http.MethodPost, "/_sim/consent/revoke", `{"client_id":"`+demo.ClientID+`","app_id":"`+demo.AppID+`","user_reference":"u-1003"}`, nil)
	if strings.TrimSpace(rec.Body.String()) != `{"revoked":false}` {
		t.Errorf("revoke again: %s", rec.Body)
	}
	if rec := e.do(http.MethodPost, "/_sim/consent/revoke", `{"client_id":"x"}`, nil); rec.Code != http.StatusBadRequest {
		t.Errorf("revoke without app_id: %d", rec.Code)
	}
	rec = e.do(http.MethodGet, "/api/v1/accounts/consent/get_consent/"+q, "", nil)
	decode(t, rec, &got)
	if got["consent"] != false {
		t.Errorf("after revoke: %s", rec.Body)
	}
}

func TestGetConsentErrors(t *testing.T) {
	e := newEnv(t)
	mustPut(t, e, "/_sim/miniapps/app-lonely", `{"name":"Lonely","url":"http://127.0.0.1:1/","auth_token_url":"http://127.0.0.1:1/t","secret_key":"k"}`)
	base := "/api/v1/accounts/consent/get_consent/"
	tests := []struct{ name, query, remote, code string }{
		{"no client_id", "?app_id=app16973&user_reference=u", "", contract.CodeInvalidRequest},
		{"no app_id", "?client_id=352131&user_reference=u", "", contract.CodeInvalidRequest},
		{"no user_reference", "?client_id=352131&app_id=app16973", "", contract.CodeHostappUserIDRequired},
		{"unknown client", "?client_id=1&app_id=app16973&user_reference=u", "", contract.CodeHostappNotFound},
		{"caller not allowed", "?client_id=352131&app_id=app16973&user_reference=u", "192.0.2.1:5555", contract.CodeNotAWhitelistedIP},
		{"unknown app", "?client_id=352131&app_id=app-x&user_reference=u", "", contract.CodeMiniappNotFound},
		{"no partnership", "?client_id=352131&app_id=app-lonely&user_reference=u", "", contract.CodeNoIntegration},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptestRequest(t, base+tt.query, tt.remote)
			rec := serve(e, req)
			env := envelope(t, rec)
			if env.ErrorCode != tt.code || env.Source() != contract.PartyPlatform {
				t.Errorf("got %s/%s, want %s", env.ErrorCode, env.Source(), tt.code)
			}
		})
	}
	// An allowlist that includes the caller lets it through; IPv6 loopback is in the default.
	mustPut(t, e, "/_sim/hostapps/"+demo.ClientID, `{"ip_allowlist":["192.0.2.0/24"]}`)
	if rec := serve(e, httptestRequest(t, base+"?client_id=352131&app_id=app16973&user_reference=u", "192.0.2.1:5555")); rec.Code != http.StatusOK {
		t.Errorf("allowed caller: %d %s", rec.Code, rec.Body)
	}
	mustPut(t, e, "/_sim/miniapps/"+demo.AppID, `{"ip_allowlist":["198.51.100.0/24"]}`)
	if rec := serve(e, httptestRequest(t, base+"?client_id=352131&app_id=app16973&user_reference=u", "127.0.0.1:5555")); rec.Code != http.StatusBadRequest {
		t.Errorf("loopback no longer listed: %d", rec.Code)
	}
}
