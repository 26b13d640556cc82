package platform_test

import (
	"net/http"
	"slices"
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
			// The SDK asks get_consent at step 4, in place of its prompt (PROTOCOL §2.5, §7.4).
			if env.ErrorCode != tt.code || env.Source() != contract.PartyPlatform || env.Step() != 4 {
				t.Errorf("got %s/%s/step %d, want %s/platform/step 4", env.ErrorCode, env.Source(), env.Step(), tt.code)
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

// TestConsentLinks: the Dashboard's consent links of a miniapp (PROTOCOL §3.5) are kept,
// answered with the miniapp's settings for the SDK's prompt, and checked on the way in.
func TestConsentLinks(t *testing.T) {
	e := newEnv(t)
	mustPut(t, e, "/_sim/miniapps/"+demo.AppID, `{"consent_links":[{"title":"Terms","url":"https://example.com/terms"},{"title":"Privacy","url":"https://example.com/privacy"}]}`)
	rec := e.do(http.MethodGet, "/api/v1/miniapps/"+demo.AppID+"/settings/?client_id="+demo.ClientID, "", nil)
	var s contract.MiniappSettings
	decode(t, rec, &s)
	want := []contract.ConsentLink{{Title: "Terms", URL: "https://example.com/terms"}, {Title: "Privacy", URL: "https://example.com/privacy"}}
	if !slices.Equal(s.ConsentLinks, want) {
		t.Errorf("settings consent_links = %+v, want %+v", s.ConsentLinks, want)
	}
	before := e.do(http.MethodGet, "/_sim/miniapps/"+demo.AppID, "", nil).Body.String()
	if !strings.Contains(before, `"consent_links":[{"title":"Terms"`) {
		t.Errorf("GET /_sim/miniapps lacks the links: %s", before)
	}
	for _, tt := range []struct{ name, body, field string }{
		{"no title", `{"consent_links":[{"title":" ","url":"https://example.com/"}]}`, "consent_links[0].title"},
		{"relative URL", `{"consent_links":[{"title":"T","url":"/terms"}]}`, "consent_links[0].url"},
		{"javascript URL", `{"consent_links":[{"title":"T","url":"https://e.com/"},{"title":"U","url":"javascript:alert(1)"}]}`, "consent_links[1].url"},
		{"too many", `{"consent_links":[` + strings.Repeat(`{"title":"T","url":"https://e.com/"},`, 10) + `{"title":"T","url":"https://e.com/"}]}`, "consent_links"},
		{"unknown key", `{"consent_links":[{"title":"T","href":"https://e.com/"}]}`, "href"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.do(http.MethodPut, "/_sim/miniapps/"+demo.AppID, tt.body, nil)
			if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), tt.field) {
				t.Errorf("%d %s, want 400 naming %s", rec.Code, rec.Body, tt.field)
			}
		})
	}
	if after := e.do(http.MethodGet, "/_sim/miniapps/"+demo.AppID, "", nil).Body.String(); after != before {
		t.Errorf("a rejected PUT changed the record:\n%s\n%s", before, after)
	}
}
