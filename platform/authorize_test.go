package platform_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/platform"
)

func TestAuthorizeSuccess(t *testing.T) {
	e := newEnv(t)
	e.happy()
	rec := e.authorize("flow-ok-1")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var got contract.AuthorizeResponse
	decode(t, rec, &got)
	if got != (contract.AuthorizeResponse{Token: miniToken, RefreshToken: miniRefresh}) {
		t.Errorf("answer = %+v", got)
	}
	if h := rec.Header().Get(contract.HeaderFlowID); h != "flow-ok-1" {
		t.Errorf("X-Sim-Flow-Id = %q", h)
	}

	// Step 6: PROTOCOL §3.7 and §7.7's worked example.
	at := e.host.requests(demo.AccessTokenPath)
	if len(at) != 1 {
		t.Fatalf("access-token calls = %d", len(at))
	}
	wantHeaders(t, "step 6", at[0], map[string]string{
		"Authorization": wantHostCredential, contract.HeaderMiniappAppID: demo.AppID,
		contract.HeaderHostappClientID: demo.ClientID, "Content-Type": "application/json", contract.HeaderFlowID: "flow-ok-1",
	})
	if at[0].Method != http.MethodPost || !jsonEqual(at[0].Body, `{"auth_code":"`+testAuthCode+`"}`) {
		t.Errorf("step 6 = %s %s", at[0].Method, at[0].Body)
	}

	// Step 8: GET with the access token, no body (§3.9).
	ud := e.host.requests(demo.UserDataPath)
	if len(ud) != 1 {
		t.Fatalf("user-data calls = %d", len(ud))
	}
	wantHeaders(t, "step 8", ud[0], map[string]string{
		"Authorization": "Token " + hostAccess, contract.HeaderMiniappAppID: demo.AppID,
		contract.HeaderHostappClientID: demo.ClientID, contract.HeaderFlowID: "flow-ok-1",
	})
	if ud[0].Method != http.MethodGet || ud[0].Body != "" || ud[0].Header.Get("Content-Type") != "" {
		t.Errorf("step 8 = %s with body %q, Content-Type %q", ud[0].Method, ud[0].Body, ud[0].Header.Get("Content-Type"))
	}

	// Step 10: Basic credential, headers and the flat UserData body (§3.11).
	mt := e.mini.requests(demo.AuthTokenPath)
	if len(mt) != 1 {
		t.Fatalf("auth-token calls = %d", len(mt))
	}
	wantHeaders(t, "step 10", mt[0], map[string]string{
		"Authorization": wantMiniappBasic, contract.HeaderMiniappAppID: demo.AppID,
		contract.HeaderHostappClientID: demo.ClientID, "Content-Type": "application/json", contract.HeaderFlowID: "flow-ok-1",
	})
	if !jsonEqual(mt[0].Body, carolUserDataObj) {
		t.Errorf("step 10 body = %s", mt[0].Body)
	}

	// The host pair is kept per (client_id, app_id, reference) (§3.8, §9.14).
	tok, err := e.db.GetHostTokens(t.Context(), demo.ClientID, demo.AppID, "u-1003")
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != hostAccess || tok.RefreshToken != hostRefresh {
		t.Errorf("kept tokens = %+v", tok)
	}
	// No user_reference, no consent.
	if _, err := e.db.GetConsent(t.Context(), demo.ClientID, demo.AppID, "u-1003"); !errors.Is(err, platform.ErrNotFound) {
		t.Errorf("consent written without user_reference: %v", err)
	}
}

func TestAuthorizeForwardsOnlyKnownFields(t *testing.T) {
	e := newEnv(t)
	e.happy()
	// Unknown keys dropped, absent and null optional keys omitted (PROTOCOL §3.10, §3.11).
	e.host.on(http.MethodGet, demo.UserDataPath, ok200(`{"user_data":{"reference":"u-1001","email":"alice@example.com",
		"phone":null,"password":"hunter2","internal_id":7,"custom_attributes":null}}`))
	if rec := e.authorize("flow-fields"); rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	mt := e.mini.requests(demo.AuthTokenPath)
	if len(mt) != 1 || mt[0].Body != `{"reference":"u-1001","email":"alice@example.com"}` {
		t.Errorf("step 10 body = %+v", mt)
	}
}

func TestAuthorizeGeneratesFlowID(t *testing.T) {
	e := newEnv(t)
	e.happy()
	for _, sent := range []string{"", "bad id with spaces", strings.Repeat("x", 65)} {
		rec := e.authorize(sent)
		id := rec.Header().Get(contract.HeaderFlowID)
		if rec.Code != http.StatusOK || !regexp.MustCompile(`^flow_[0-9a-f]{16}$`).MatchString(id) {
			t.Fatalf("sent %q: status %d, flow id %q", sent, rec.Code, id)
		}
		at := e.host.requests(demo.AccessTokenPath)
		if got := at[len(at)-1].Header.Get(contract.HeaderFlowID); got != id {
			t.Errorf("host saw flow id %q, SDK got %q", got, id)
		}
		if f, _ := e.flow(id); len(f.Steps) != 7 {
			t.Errorf("flow %s has %d steps, want 7 (6 to 12)", id, len(f.Steps))
		}
	}
}

func TestAuthorizeBothSlashForms(t *testing.T) {
	e := newEnv(t)
	e.happy()
	for _, p := range []string{"/api/v1/authorize/", "/api/v1/authorize"} {
		rec := e.do(http.MethodPost, p, authorizeBody(testAuthCode, demo.ClientID, demo.AppID, ""), nil)
		if rec.Code != http.StatusOK {
			t.Errorf("%s: %d %s", p, rec.Code, rec.Body)
		}
	}
	if rec := e.do(http.MethodGet, "/api/v1/authorize/", "", nil); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET authorize: %d", rec.Code)
	}
}

func TestAuthorizeStep5Checks(t *testing.T) {
	e := newEnv(t)
	// A miniapp without a partnership, and a second host app with Connect switched off.
	mustPut(t, e, "/_sim/miniapps/app-lonely", `{"name":"Lonely","url":"http://127.0.0.1:1/","auth_token_url":"http://127.0.0.1:1/t","secret_key":"s3cret"}`)
	mustPut(t, e, "/_sim/hostapps/host-off", `{"name":"Off","connect_enabled":false,"access_token_url":"http://127.0.0.1:1/a",
		"user_data_url":"http://127.0.0.1:1/u","hostapp_client_id":"hc","hostapp_secret_key":"hs"}`)
	mustPut(t, e, "/_sim/partnerships/host-off/"+demo.AppID, `{}`)
	mustPut(t, e, "/_sim/hostapps/host-on", `{"name":"On","access_token_url":"http://127.0.0.1:1/a",
		"user_data_url":"http://127.0.0.1:1/u","hostapp_client_id":"hc","hostapp_secret_key":"hs"}`)
	mustPut(t, e, "/_sim/partnerships/host-on/"+demo.AppID, `{"connect_enabled":false}`)

	good := authorizeBody(testAuthCode, demo.ClientID, demo.AppID, "")
	tests := []struct {
		name, body, contentType, code string
	}{
		{"bad JSON", `{"auth_code":`, "application/json", contract.CodeParsingErrorInvalidRequestBody},
		{"not an object", `["x"]`, "application/json", contract.CodeInvalidRequest},
		{"wrong content type", good, "text/plain", contract.CodeParsingErrorInvalidRequestBody},
		{"form content type", "auth_code=x&client_id=352131&app_id=app16973", "application/x-www-form-urlencoded", contract.CodeParsingErrorInvalidRequestBody},
		{"empty body", "", "application/json", contract.CodeParsingErrorInvalidRequestBody},
		{"over 1 MiB", `{"auth_code":"` + strings.Repeat("a", contract.MaxBodyBytes) + `","client_id":"352131","app_id":"app16973"}`, "application/json", contract.CodeParsingErrorInvalidRequestBody},
		{"missing auth_code", authorizeBody("", demo.ClientID, demo.AppID, ""), "application/json", contract.CodeInvalidRequest},
		{"blank auth_code", authorizeBody("   ", demo.ClientID, demo.AppID, ""), "application/json", contract.CodeInvalidRequest},
		{"missing client_id", authorizeBody(testAuthCode, "", demo.AppID, ""), "application/json", contract.CodeInvalidRequest},
		{"missing app_id", authorizeBody(testAuthCode, demo.ClientID, "", ""), "application/json", contract.CodeInvalidRequest},
		{"auth_code not a string", `{"auth_code":42,"client_id":"352131","app_id":"app16973"}`, "application/json", contract.CodeInvalidRequest},
		{"auth_code too long", authorizeBody(strings.Repeat("c", 1001), demo.ClientID, demo.AppID, ""), "application/json", contract.CodeInvalidRequest},
		{"user_reference too long", authorizeBody(testAuthCode, demo.ClientID, demo.AppID, strings.Repeat("r", 101)), "application/json", contract.CodeInvalidRequest},
		{"unknown client", authorizeBody(testAuthCode, "999999", demo.AppID, ""), "application/json", contract.CodeHostappNotFound},
		{"hostapp_client_id is not client_id", authorizeBody(testAuthCode, demo.HostappClientID, demo.AppID, ""), "application/json", contract.CodeHostappNotFound},
		{"unknown miniapp", authorizeBody(testAuthCode, demo.ClientID, "app-nope", ""), "application/json", contract.CodeMiniappNotFound},
		{"no partnership", authorizeBody(testAuthCode, demo.ClientID, "app-lonely", ""), "application/json", contract.CodeNoIntegration},
		{"Connect off on host app", authorizeBody(testAuthCode, "host-off", demo.AppID, ""), "application/json", contract.CodeFeatureDisabledInHostapp},
		{"Connect off on partnership", authorizeBody(testAuthCode, "host-on", demo.AppID, ""), "application/json", contract.CodeFeatureDisabledInIntegration},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.do(http.MethodPost, "/api/v1/authorize/", tt.body, map[string]string{"Content-Type": tt.contentType, contract.HeaderFlowID: "flow-step5"})
			wantEnvelope(t, rec, tt.code, contract.PartyPlatform, 5)
			if rec.Header().Get(contract.HeaderFlowID) != "flow-step5" {
				t.Errorf("no X-Sim-Flow-Id on the error answer")
			}
		})
	}
	if n := e.host.count() + e.mini.count(); n != 0 {
		t.Errorf("the fakes got %d calls; step-5 failures must not reach them", n)
	}
	// Each failed authorize is in the flow log as a failed step 12.
	f, _ := e.flow("flow-step5")
	if f.Outcome != contract.OutcomeFailed || len(stepsOf(f, 12)) != len(tests) {
		t.Errorf("flow-step5: outcome %s, %d step-12 records", f.Outcome, len(stepsOf(f, 12)))
	}
}

// hostStepCase is a host answer and the envelope it must produce.
type hostStepCase struct {
	name    string
	handler http.HandlerFunc
	code    string
	source  string
}

func TestAuthorizeStep7(t *testing.T) {
	long := strings.Repeat("t", contract.MaxTokenLen+1)
	exact := strings.Repeat("ü", contract.MaxTokenLen) // 1000 code points, 2000 bytes: allowed
	tests := []hostStepCase{
		{"HTTP 500", reply(500, `{"access_token":"x"}`), contract.CodeUnexpectedResponseError, contract.PartyPlatform},
		{"HTTP 201", reply(201, `{"access_token":"x"}`), contract.CodeUnexpectedResponseError, contract.PartyPlatform},
		{"403 with error_code", reply(403, `{"error_code":"NOT_A_WHITELISTED_IP"}`), contract.CodeUnexpectedResponseError, contract.PartyPlatform},
		{"redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/elsewhere", http.StatusFound) }, contract.CodeUnexpectedResponseError, contract.PartyPlatform},
		{"non-JSON", ok200(`<html>Token abcdefghijklmnopqrstuvwxyz</html>`), contract.CodeFailedToParseResponse, contract.PartyPlatform},
		{"empty body", ok200(``), contract.CodeFailedToParseResponse, contract.PartyPlatform},
		{"JSON array", ok200(`[{"access_token":"x"}]`), contract.CodeFailedToParseResponse, contract.PartyPlatform},
		{"JSON null", ok200(`null`), contract.CodeFailedToParseResponse, contract.PartyPlatform},
		{"token not a string", ok200(`{"access_token":12345}`), contract.CodeFailedToParseResponse, contract.PartyPlatform},
		{"neither token nor code", ok200(`{"token_type":"Bearer"}`), contract.CodeResponseAttributeMissing, contract.PartyPlatform},
		{"null token", ok200(`{"access_token":null}`), contract.CodeResponseAttributeMissing, contract.PartyPlatform},
		{"token over 1000", ok200(`{"access_token":"` + long + `"}`), contract.CodeUnexpectedResponseError, contract.PartyPlatform},
		{"refresh token over 1000", ok200(`{"access_token":"x","refresh_token":"` + long + `"}`), contract.CodeUnexpectedResponseError, contract.PartyPlatform},
		{"answer over 1 MiB", ok200(`{"access_token":"x","pad":"` + strings.Repeat("p", contract.MaxBodyBytes) + `"}`), contract.CodeUnexpectedResponseError, contract.PartyPlatform},
		{"INVALID_AUTH_CODE", ok200(`{"error_code":"INVALID_AUTH_CODE"}`), contract.CodeInvalidAuthCode, contract.PartyHostapp},
		{"ACCESS_DENIED", ok200(`{"error_code":"ACCESS_DENIED"}`), contract.CodeAccessDenied, contract.PartyHostapp},
		{"unknown code passes unchanged", ok200(`{"error_code":"HOST_IS_SAD"}`), "HOST_IS_SAD", contract.PartyHostapp},
		{"token and error: error wins", ok200(`{"access_token":"x","error_code":"INVALID_AUTH_CODE"}`), contract.CodeInvalidAuthCode, contract.PartyHostapp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.host.on(http.MethodPost, demo.AccessTokenPath, tt.handler) // no user-data route: step 8 must not happen
			wantEnvelope(t, e.authorize("flow-7"), tt.code, tt.source, 7)
			if n := len(e.host.requests(demo.AccessTokenPath)); n != 1 {
				t.Errorf("access-token calls = %d, want exactly 1 (never retried)", n)
			}
			f, _ := e.flow("flow-7")
			if f.Outcome != contract.OutcomeFailed || f.ErrorCode != tt.code {
				t.Errorf("flow outcome %s/%s", f.Outcome, f.ErrorCode)
			}
			if s7 := stepsOf(f, 7); len(s7) != 1 || s7[0].Outcome != contract.OutcomeFailed || s7[0].ErrorCode != tt.code {
				t.Errorf("step 7 = %+v", s7)
			}
		})
	}
	t.Run("token of exactly 1000 code points", func(t *testing.T) {
		e := newEnv(t)
		e.happy()
		e.host.on(http.MethodPost, demo.AccessTokenPath, ok200(`{"access_token":"`+exact+`"}`))
		if rec := e.authorize("flow-exact"); rec.Code != http.StatusOK {
			t.Errorf("status %d: %s", rec.Code, rec.Body)
		}
	})
}

func TestAuthorizeStep7Timeout(t *testing.T) {
	e := newEnv(t, func(c *platform.Config) { c.CallTimeout = 200 * time.Millisecond })
	e.host.on(http.MethodPost, demo.AccessTokenPath, func(w http.ResponseWriter, r *http.Request) {
		select { // hold the answer until the platform gives up
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	start := time.Now()
	rec := e.authorize("flow-timeout")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("authorize took %v with a 200ms call timeout", d)
	}
	wantEnvelope(t, rec, contract.CodeUnexpectedResponseError, contract.PartyPlatform, 7)
	f, _ := e.flow("flow-timeout")
	if s7 := stepsOf(f, 7); len(s7) != 1 || !strings.Contains(s7[0].Note, "did not answer within 200ms") {
		t.Errorf("step 7 = %+v", s7)
	}
}

func TestAuthorizeHostUnreachable(t *testing.T) {
	e := newEnv(t)
	e.host.srv.Close() // nothing listens there any more
	wantEnvelope(t, e.authorize("flow-down"), contract.CodeUnexpectedResponseError, contract.PartyPlatform, 7)
}

func TestAuthorizeStep9(t *testing.T) {
	tests := []hostStepCase{
		{"HTTP 500", reply(500, `{"user_data":`+carolUserDataObj+`}`), contract.CodeUnexpectedResponseError, contract.PartyPlatform},
		{"non-JSON", ok200(`user data here`), contract.CodeFailedToParseResponse, contract.PartyPlatform},
		{"missing user_data", ok200(`{}`), contract.CodeResponseAttributeMissing, contract.PartyPlatform},
		{"null user_data", ok200(`{"user_data":null}`), contract.CodeResponseAttributeMissing, contract.PartyPlatform},
		{"error_code not a string", ok200(`{"error_code":7}`), contract.CodeFailedToParseResponse, contract.PartyPlatform},
		{"INVALID_ACCESS_TOKEN", ok200(`{"error_code":"INVALID_ACCESS_TOKEN"}`), contract.CodeInvalidAccessToken, contract.PartyHostapp},
		{"HOSTAPP_USER_NOT_FOUND", ok200(`{"error_code":"HOSTAPP_USER_NOT_FOUND"}`), contract.CodeHostappUserNotFound, contract.PartyHostapp},
		{"user data and error: error wins", ok200(`{"user_data":` + carolUserDataObj + `,"error_code":"HOSTAPP_USER_NOT_FOUND"}`), contract.CodeHostappUserNotFound, contract.PartyHostapp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			// No refresh token at step 7, so no refresh-and-retry; no miniapp route: step 10 must not happen.
			e.host.on(http.MethodPost, demo.AccessTokenPath, ok200(`{"access_token":"`+hostAccess+`"}`))
			e.host.on(http.MethodGet, demo.UserDataPath, tt.handler)
			wantEnvelope(t, e.authorize("flow-9"), tt.code, tt.source, 9)
			if n := len(e.host.requests(demo.UserDataPath)); n != 1 {
				t.Errorf("user-data calls = %d", n)
			}
			f, _ := e.flow("flow-9")
			if f.ErrorCode != tt.code {
				t.Errorf("flow error_code = %s", f.ErrorCode)
			}
		})
	}
}

func TestAuthorizeUserDataPOST(t *testing.T) {
	e := newEnv(t)
	e.happy()
	mustPut(t, e, "/_sim/hostapps/"+demo.ClientID, `{"user_data_method":"POST","token_prefix":"Bearer"}`)
	e.host.on(http.MethodPost, demo.UserDataPath, ok200(`{"user_data":`+carolUserDataObj+`}`))
	if rec := e.authorize("flow-post"); rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	ud := e.host.requests(demo.UserDataPath)
	if len(ud) != 1 || ud[0].Method != http.MethodPost || ud[0].Body != "{}" || ud[0].Header.Get("Content-Type") != "application/json" {
		t.Fatalf("step 8 = %+v", ud)
	}
	// The configured prefix applies to both host calls (PROTOCOL §9.5).
	if got := ud[0].Header.Get("Authorization"); got != "Bearer "+hostAccess {
		t.Errorf("step 8 Authorization = %q", got)
	}
	at := e.host.requests(demo.AccessTokenPath)
	if got := at[0].Header.Get("Authorization"); got != "Bearer aG9zdGFwcC1jbGllbnQtMTpob3N0YXBwLXNlY3JldC0x" {
		t.Errorf("step 6 Authorization = %q", got)
	}
}

func TestAuthorizeUserDataChecks(t *testing.T) {
	tests := []struct {
		name     string
		userData string
		code     string
	}{
		{"not an object", `["u-1"]`, contract.CodeInvalidUserData},
		{"a number", `42`, contract.CodeInvalidUserData},
		{"reference missing", `{"email":"a@example.com"}`, contract.CodeInvalidUserData},
		{"reference empty", `{"reference":"","email":"a@example.com"}`, contract.CodeInvalidUserData},
		{"reference blank", `{"reference":"  ","email":"a@example.com"}`, contract.CodeInvalidUserData},
		{"reference null", `{"reference":null,"email":"a@example.com"}`, contract.CodeInvalidUserData},
		{"reference a number", `{"reference":1003,"email":"a@example.com"}`, contract.CodeInvalidUserData},
		{"reference 101 code points", `{"reference":"` + strings.Repeat("é", 101) + `","email":"a@example.com"}`, contract.CodeInvalidUserData},
		{"neither email nor phone", `{"reference":"u-1","first_name":"A"}`, contract.CodeInvalidUserData},
		{"empty email and phone", `{"reference":"u-1","email":"","phone":""}`, contract.CodeInvalidUserData},
		{"email a number", `{"reference":"u-1","email":5}`, contract.CodeInvalidUserData},
		{"phone an object", `{"reference":"u-1","email":"a@example.com","phone":{"n":"1"}}`, contract.CodeInvalidUserData},
		{"first_name a bool", `{"reference":"u-1","email":"a@example.com","first_name":true}`, contract.CodeInvalidUserData},
		{"custom_attributes an array", `{"reference":"u-1","email":"a@example.com","custom_attributes":["x"]}`, contract.CodeInvalidUserData},
		{"custom_attributes a string", `{"reference":"u-1","email":"a@example.com","custom_attributes":"{}"}`, contract.CodeInvalidUserData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.happy()
			e.mini.on(http.MethodPost, demo.AuthTokenPath, nil) // step 10 must not happen
			e.host.on(http.MethodGet, demo.UserDataPath, ok200(`{"user_data":`+tt.userData+`}`))
			wantEnvelope(t, e.authorize("flow-ud"), tt.code, contract.PartyPlatform, 9)
			if n := e.mini.count(); n != 0 {
				t.Errorf("miniapp got %d calls", n)
			}
		})
	}
	t.Run("reference of 100 code points is fine", func(t *testing.T) {
		e := newEnv(t)
		e.happy()
		ref := strings.Repeat("é", 100)
		e.host.on(http.MethodGet, demo.UserDataPath, ok200(`{"user_data":{"reference":"`+ref+`","phone":"+6591234567"}}`))
		if rec := e.authorize("flow-100"); rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}

func TestAuthorizeMissingRequiredFields(t *testing.T) {
	tests := []struct {
		name     string
		required string
		userData string
		missing  []string
	}{
		{"phone and first_name", `["email","phone","first_name"]`, `{"reference":"u-1001","email":"alice@example.com"}`, []string{"phone", "first_name"}},
		{"empty string counts as missing", `["last_name"]`, `{"reference":"u-1","email":"a@example.com","last_name":""}`, []string{"last_name"}},
		{"empty custom_attributes", `["custom_attributes"]`, `{"reference":"u-1","email":"a@example.com","custom_attributes":{ }}`, []string{"custom_attributes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.happy()
			e.mini.on(http.MethodPost, demo.AuthTokenPath, nil)
			mustPut(t, e, "/_sim/miniapps/"+demo.AppID, `{"required_fields":`+tt.required+`}`)
			e.host.on(http.MethodGet, demo.UserDataPath, ok200(`{"user_data":`+tt.userData+`}`))
			env := wantEnvelope(t, e.authorize("flow-req"), contract.CodeResponseAttributeMissing, contract.PartyPlatform, 9)
			var got []string
			b, _ := json.Marshal(env.CustomAttributes["missing"])
			_ = json.Unmarshal(b, &got)
			if !reflect.DeepEqual(got, tt.missing) {
				t.Errorf("missing = %v, want %v", got, tt.missing)
			}
		})
	}
	t.Run("all present", func(t *testing.T) {
		e := newEnv(t)
		e.happy()
		mustPut(t, e, "/_sim/miniapps/"+demo.AppID, `{"required_fields":["email","phone","first_name","last_name","custom_attributes"]}`)
		if rec := e.authorize("flow-req-ok"); rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}

func TestAuthorizeEncryptedUserData(t *testing.T) {
	e := newEnv(t)
	e.happy()
	// Required fields cannot be checked on ciphertext; the miniapp decrypts and checks.
	mustPut(t, e, "/_sim/miniapps/"+demo.AppID, `{"required_fields":["phone"]}`)
	const cipher = "AAECAwQFBgcICQoLDA0OD2i86XmGKp2dXGjLJmYwvzum4nyE4LSBhRmhGpnVRQVRqcZKtdklxDdAl/6UaEg1Dw=="
	e.host.on(http.MethodGet, demo.UserDataPath, ok200(`{"user_data":"`+cipher+`"}`))
	rec := e.do(http.MethodPost, "/api/v1/authorize/", authorizeBody(testAuthCode, demo.ClientID, demo.AppID, "u-42"),
		map[string]string{contract.HeaderFlowID: "flow-enc"})
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	mt := e.mini.requests(demo.AuthTokenPath)
	if len(mt) != 1 || mt[0].Body != `{"user_data":"`+cipher+`"}` {
		t.Errorf("step 10 body = %+v", mt)
	}
	// With no reference from the host, the pair is not kept: the SDK's user_reference is not
	// authenticated, and keying on it would let one user's flow overwrite another's pair.
	if tok, err := e.db.GetHostTokens(t.Context(), demo.ClientID, demo.AppID, "u-42"); !errors.Is(err, platform.ErrNotFound) {
		t.Errorf("kept tokens under the SDK's reference: %+v, %v", tok, err)
	}
}

func TestAuthorizeStep11(t *testing.T) {
	tests := []hostStepCase{
		{"HTTP 500", reply(500, `{"auth_token":"x"}`), contract.CodeUnexpectedResponseError, contract.PartyPlatform},
		{"HTTP 401", reply(401, `{"error_code":"ACCESS_DENIED"}`), contract.CodeUnexpectedResponseError, contract.PartyPlatform},
		{"non-JSON", ok200(`OK`), contract.CodeFailedToParseResponse, contract.PartyPlatform},
		{"neither token nor code", ok200(`{"token":"x"}`), contract.CodeUnexpectedResponseError, contract.PartyPlatform},
		{"token over 1000", ok200(`{"auth_token":"` + strings.Repeat("a", 1001) + `"}`), contract.CodeUnexpectedResponseError, contract.PartyPlatform},
		{"refresh over 1000", ok200(`{"auth_token":"a","refresh_token":"` + strings.Repeat("a", 1001) + `"}`), contract.CodeUnexpectedResponseError, contract.PartyPlatform},
		{"token not a string", ok200(`{"auth_token":["a"]}`), contract.CodeFailedToParseResponse, contract.PartyPlatform},
		{"INVALID_USER_DATA", ok200(`{"error_code":"INVALID_USER_DATA"}`), contract.CodeInvalidUserData, contract.PartyMiniapp},
		{"ACCESS_DENIED", ok200(`{"error_code":"ACCESS_DENIED"}`), contract.CodeAccessDenied, contract.PartyMiniapp},
		{"token and error: error wins", ok200(`{"auth_token":"a","error_code":"MINIAPP_SAYS_NO"}`), "MINIAPP_SAYS_NO", contract.PartyMiniapp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.happy()
			e.mini.on(http.MethodPost, demo.AuthTokenPath, tt.handler)
			wantEnvelope(t, e.authorize("flow-11"), tt.code, tt.source, 11)
			// The host pair is still kept: the host issued it (PROTOCOL §3.8).
			if _, err := e.db.GetHostTokens(t.Context(), demo.ClientID, demo.AppID, "u-1003"); err != nil {
				t.Errorf("host tokens not kept: %v", err)
			}
		})
	}
	t.Run("timeout", func(t *testing.T) {
		e := newEnv(t, func(c *platform.Config) { c.CallTimeout = 200 * time.Millisecond })
		e.happy()
		e.mini.on(http.MethodPost, demo.AuthTokenPath, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
		wantEnvelope(t, e.authorize("flow-11-timeout"), contract.CodeUnexpectedResponseError, contract.PartyPlatform, 11)
	})
	t.Run("no refresh token is fine", func(t *testing.T) {
		e := newEnv(t)
		e.happy()
		e.mini.on(http.MethodPost, demo.AuthTokenPath, ok200(`{"auth_token":"`+miniToken+`"}`))
		rec := e.authorize("flow-11-noref")
		if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "refresh_token") {
			t.Errorf("%d %s", rec.Code, rec.Body)
		}
	})
}

// refreshEnv answers INVALID_ACCESS_TOKEN to the first access token and user data to the
// refreshed one.
func refreshEnv(t *testing.T, refresh http.HandlerFunc) *env {
	e := newEnv(t)
	e.happy()
	e.host.on(http.MethodGet, demo.UserDataPath, func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("Authorization") {
		case "Token " + hostAccess2:
			ok200(`{"user_data":`+carolUserDataObj+`}`)(w, r)
		default:
			ok200(`{"error_code":"INVALID_ACCESS_TOKEN"}`)(w, r)
		}
	})
	if refresh != nil {
		e.host.on(http.MethodPost, demo.RefreshTokenPath, refresh)
	}
	return e
}

func TestAuthorizeRefreshAndRetry(t *testing.T) {
	e := refreshEnv(t, ok200(`{"access_token":"`+hostAccess2+`","refresh_token":"`+hostRefresh2+`"}`))
	rec := e.authorize("flow-refresh")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	rt := e.host.requests(demo.RefreshTokenPath)
	if len(rt) != 1 {
		t.Fatalf("refresh calls = %d", len(rt))
	}
	// PROTOCOL §7.1: same credential header as step 6, body {"refresh_token"}.
	wantHeaders(t, "refresh", rt[0], map[string]string{
		"Authorization": wantHostCredential, contract.HeaderMiniappAppID: demo.AppID,
		contract.HeaderHostappClientID: demo.ClientID, "Content-Type": "application/json", contract.HeaderFlowID: "flow-refresh",
	})
	if !jsonEqual(rt[0].Body, `{"refresh_token":"`+hostRefresh+`"}`) {
		t.Errorf("refresh body = %s", rt[0].Body)
	}
	if n := len(e.host.requests(demo.UserDataPath)); n != 2 {
		t.Errorf("user-data calls = %d, want 2", n)
	}
	tok, err := e.db.GetHostTokens(t.Context(), demo.ClientID, demo.AppID, "u-1003")
	if err != nil || tok.AccessToken != hostAccess2 || tok.RefreshToken != hostRefresh2 {
		t.Errorf("kept tokens = %+v, %v", tok, err)
	}
	f, body := e.flow("flow-refresh")
	if len(stepsOf(f, 8)) != 3 || len(stepsOf(f, 9)) != 3 {
		t.Errorf("steps 8/9 = %d/%d, want 3/3", len(stepsOf(f, 8)), len(stepsOf(f, 9)))
	}
	if strings.Count(body, "refresh-and-retry") < 4 {
		t.Errorf("refresh-and-retry notes missing: %s", body)
	}
	if f.Outcome != contract.OutcomeOK || f.ErrorCode != "" {
		t.Errorf("flow outcome %s/%s, want ok (closed at step 12) without error", f.Outcome, f.ErrorCode)
	}
}

func TestAuthorizeRefreshFails(t *testing.T) {
	tests := []struct {
		name    string
		refresh http.HandlerFunc
	}{
		{"INVALID_REFRESH_TOKEN", ok200(`{"error_code":"INVALID_REFRESH_TOKEN"}`)},
		{"HTTP 500", reply(500, `oops`)},
		{"no access token", ok200(`{"refresh_token":"x"}`)},
		{"still rejected after refresh", ok200(`{"access_token":"host-access-still-bad-token"}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := refreshEnv(t, tt.refresh)
			e.mini.on(http.MethodPost, demo.AuthTokenPath, nil)
			wantEnvelope(t, e.authorize("flow-refresh-fail"), contract.CodeInvalidAccessToken, contract.PartyHostapp, 9)
			if n := len(e.host.requests(demo.RefreshTokenPath)); n != 1 {
				t.Errorf("refresh calls = %d, want 1", n)
			}
			f, _ := e.flow("flow-refresh-fail")
			if f.Outcome != contract.OutcomeFailed || f.ErrorCode != contract.CodeInvalidAccessToken {
				t.Errorf("flow %s/%s", f.Outcome, f.ErrorCode)
			}
		})
	}
}

func TestAuthorizeNoRefreshWithoutTokenOrURL(t *testing.T) {
	t.Run("no refresh token", func(t *testing.T) {
		e := refreshEnv(t, nil) // an unexpected refresh call fails the test
		e.host.on(http.MethodPost, demo.AccessTokenPath, ok200(`{"access_token":"`+hostAccess+`"}`))
		wantEnvelope(t, e.authorize("f"), contract.CodeInvalidAccessToken, contract.PartyHostapp, 9)
	})
	t.Run("no refresh URL", func(t *testing.T) {
		e := refreshEnv(t, nil)
		mustPut(t, e, "/_sim/hostapps/"+demo.ClientID, `{"refresh_token_url":""}`)
		wantEnvelope(t, e.authorize("f"), contract.CodeInvalidAccessToken, contract.PartyHostapp, 9)
	})
	t.Run("other code", func(t *testing.T) {
		e := refreshEnv(t, nil)
		e.host.on(http.MethodGet, demo.UserDataPath, ok200(`{"error_code":"HOSTAPP_USER_NOT_FOUND"}`))
		wantEnvelope(t, e.authorize("f"), contract.CodeHostappUserNotFound, contract.PartyHostapp, 9)
	})
}

func TestAuthorizeConsentRecord(t *testing.T) {
	e := newEnv(t)
	e.happy()
	rec := e.do(http.MethodPost, "/api/v1/authorize/", authorizeBody(testAuthCode, demo.ClientID, demo.AppID, "u-1003"),
		map[string]string{contract.HeaderFlowID: "flow-consent"})
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	c, err := e.db.GetConsent(t.Context(), demo.ClientID, demo.AppID, "u-1003")
	if err != nil {
		t.Fatal(err)
	}
	if !c.GrantedAt.Equal(fixedNow) || !reflect.DeepEqual(c.Fields, []string{"email", "phone", "first_name", "last_name"}) {
		t.Errorf("consent = %+v", c)
	}

	// A mismatching user_reference is noted, not an error (PROTOCOL §9.37); a failed flow
	// writes no consent.
	rec = e.do(http.MethodPost, "/api/v1/authorize/", authorizeBody(testAuthCode, demo.ClientID, demo.AppID, "someone-else"),
		map[string]string{contract.HeaderFlowID: "flow-mismatch"})
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	f, _ := e.flow("flow-mismatch")
	s9 := stepsOf(f, 9)
	if len(s9) != 1 || !strings.Contains(s9[0].Note, `"someone-else"`) || !strings.Contains(s9[0].Note, `"u-1003"`) {
		t.Errorf("step 9 note = %+v", s9)
	}
	if f.UserReference != "someone-else" {
		t.Errorf("flow user_reference = %q", f.UserReference)
	}

	e.mini.on(http.MethodPost, demo.AuthTokenPath, ok200(`{"error_code":"INVALID_USER_DATA"}`))
	e.do(http.MethodPost, "/api/v1/authorize/", authorizeBody(testAuthCode, demo.ClientID, demo.AppID, "u-failed"), nil)
	if _, err := e.db.GetConsent(t.Context(), demo.ClientID, demo.AppID, "u-failed"); !errors.Is(err, platform.ErrNotFound) {
		t.Errorf("consent written for a failed flow: %v", err)
	}
}

// TestAuthorizeConcurrentFlows: flows are independent (PROTOCOL §9.45); each keeps its own
// steps and answer under -race.
func TestAuthorizeConcurrentFlows(t *testing.T) {
	e := newEnv(t)
	e.happy()
	e.mini.on(http.MethodPost, demo.AuthTokenPath, func(w http.ResponseWriter, r *http.Request) {
		ok200(`{"auth_token":"token-for-`+r.Header.Get(contract.HeaderFlowID)+`"}`)(w, r)
	})
	const n = 8
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id := "flow-par-" + strconv.Itoa(i)
			rec := e.authorize(id)
			var got contract.AuthorizeResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != http.StatusOK || got.Token != "token-for-"+id {
				t.Errorf("%s: %d %s", id, rec.Code, rec.Body)
			}
		})
	}
	wg.Wait()
	for i := range n {
		if f, _ := e.flow("flow-par-" + strconv.Itoa(i)); len(f.Steps) != 7 {
			t.Errorf("flow %d has %d steps", i, len(f.Steps))
		}
	}
}

// TestAuthorizeRegistryChangesApplyAtOnce: a PUT takes effect on the next flow.
func TestAuthorizeRegistryChangesApplyAtOnce(t *testing.T) {
	e := newEnv(t)
	e.happy()
	other := newFake(t)
	other.on(http.MethodPost, "/v2/token", ok200(`{"error_code":"INVALID_AUTH_CODE"}`))
	mustPut(t, e, "/_sim/hostapps/"+demo.ClientID, `{"access_token_url":"`+other.srv.URL+`/v2/token","hostapp_secret_key":"rotated"}`)
	wantEnvelope(t, e.authorize("f"), contract.CodeInvalidAuthCode, contract.PartyHostapp, 7)
	got := other.requests("/v2/token")
	if len(got) != 1 || got[0].Header.Get("Authorization") != "Token "+contract.BasicCredential(demo.HostappClientID, "rotated") {
		t.Errorf("new URL/secret not used: %+v", got)
	}
}

func wantHeaders(t *testing.T, what string, r received, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := r.Header.Get(k); got != v {
			t.Errorf("%s: header %s = %q, want %q", what, k, got, v)
		}
	}
}

func jsonEqual(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func mustPut(t *testing.T, e *env, path, body string) {
	t.Helper()
	rec := e.do(http.MethodPut, path, body, nil)
	if rec.Code != http.StatusOK && rec.Code != http.StatusCreated {
		t.Fatalf("PUT %s: %d %s", path, rec.Code, rec.Body)
	}
}
