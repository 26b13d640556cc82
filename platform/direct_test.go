package platform_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/signing"
)

// directBody is a /api/v1/connect/ body for the demo pair with the given user_data.
func directBody(userData string) string {
	return `{"client_id":"` + demo.ClientID + `","app_id":"` + demo.AppID + `","user_data":` + userData + `}`
}

// direct posts a Direct call under flowID from loopback.
func (e *env) direct(flowID, body string, hdr map[string]string) *httptest.ResponseRecorder {
	e.t.Helper()
	h := map[string]string{contract.HeaderFlowID: flowID}
	for k, v := range hdr {
		h[k] = v
	}
	return e.do(http.MethodPost, "/api/v1/connect/", body, h)
}

// put changes a Dashboard record over the admin routes, failing the test on an error.
func (e *env) put(path, body string) {
	e.t.Helper()
	if rec := e.do(http.MethodPut, path, body, nil); rec.Code != http.StatusOK {
		e.t.Fatalf("PUT %s %s: %d %s", path, body, rec.Code, rec.Body)
	}
}

func TestDirectSuccess(t *testing.T) {
	e := newEnv(t)
	e.mini.on(http.MethodPost, demo.AuthTokenPath, ok200(`{"auth_token":"`+miniToken+`","refresh_token":"`+miniRefresh+`"}`))
	for i, p := range []string{"/api/v1/connect/", "/api/v1/connect"} {
		flowID := []string{"flow_direct_ok", "flow_direct_ok2"}[i]
		rec := e.do(http.MethodPost, p, directBody(carolUserDataObj), map[string]string{contract.HeaderFlowID: flowID})
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", p, rec.Code, rec.Body)
		}
		var got map[string]string
		decode(t, rec, &got)
		if got["token"] != miniToken || got["refresh_token"] != miniRefresh || len(got) != 2 {
			t.Errorf("%s answered %v, want {token, refresh_token}", p, got)
		}
		if rec.Header().Get(contract.HeaderFlowID) != flowID {
			t.Errorf("X-Sim-Flow-Id = %q", rec.Header().Get(contract.HeaderFlowID))
		}
		f, raw := e.flow(flowID)
		if f.Mode != "direct" || f.Outcome != contract.OutcomeOK || f.UserReference != "u-1003" {
			t.Errorf("flow = mode %q outcome %q ref %q, want direct ok u-1003", f.Mode, f.Outcome, f.UserReference)
		}
		var nums []int
		for _, st := range f.Steps {
			nums = append(nums, st.Step)
		}
		if len(nums) != 4 || nums[0] != 6 || nums[1] != 7 || nums[2] != 8 || nums[3] != 9 {
			t.Errorf("steps = %v, want 6 7 8 9", nums)
		}
		if strings.Contains(raw, miniToken) || strings.Contains(raw, miniRefresh) {
			t.Errorf("the flow log shows a token in full: %s", raw)
		}
	}
	// Step 7 is the miniapp's Get Auth Token, as OAuth step 10: Basic credential, headers, the
	// checked user data.
	got := e.mini.requests(demo.AuthTokenPath)
	if len(got) != 2 {
		t.Fatalf("miniapp got %d calls, want 2", len(got))
	}
	r := got[0]
	if r.Header.Get("Authorization") != wantMiniappBasic || r.Header.Get(contract.HeaderHostappClientID) != demo.ClientID ||
		r.Header.Get(contract.HeaderMiniappAppID) != demo.AppID || r.Header.Get(signing.HeaderSignature) != "" {
		t.Errorf("step 7 headers = %v", r.Header)
	}
	var ud contract.UserData
	if err := json.Unmarshal([]byte(r.Body), &ud); err != nil || ud.Reference != "u-1003" || ud.Email != "carol@example.com" {
		t.Errorf("step 7 body = %s (%v)", r.Body, err)
	}
	// The consent record (§7.3).
	q := "?client_id=" + demo.ClientID + "&app_id=" + demo.AppID + "&user_reference=u-1003"
	rec := e.do(http.MethodGet, "/api/v1/accounts/consent/get_consent/"+q, "", nil)
	var c map[string]any
	decode(t, rec, &c)
	if c["consent"] != true {
		t.Errorf("get_consent after Direct = %s", rec.Body)
	}
	if e.host.count() != 0 {
		t.Errorf("Direct called the host backend %d times; it calls none", e.host.count())
	}
}

func TestDirectErrors(t *testing.T) {
	const carol = carolUserDataObj
	cases := []struct {
		name  string
		setup func(e *env)
		body  string
		hdr   map[string]string
		code  string
		step  int
	}{
		{name: "not JSON", body: `{"client_id":`, code: contract.CodeParsingErrorInvalidRequestBody, step: 6},
		{name: "client_id a number", body: `{"client_id":352131,"app_id":"` + demo.AppID + `","user_data":` + carol + `}`, code: contract.CodeInvalidRequest, step: 6},
		{name: "no client_id", body: `{"app_id":"` + demo.AppID + `","user_data":` + carol + `}`, code: contract.CodeInvalidRequest, step: 6},
		{name: "no app_id", body: `{"client_id":"` + demo.ClientID + `","user_data":` + carol + `}`, code: contract.CodeInvalidRequest, step: 6},
		{name: "no user_data", body: `{"client_id":"` + demo.ClientID + `","app_id":"` + demo.AppID + `"}`, code: contract.CodeInvalidRequest, step: 6},
		{name: "user_data null", body: directBody("null"), code: contract.CodeInvalidRequest, step: 6},
		{name: "unknown host app", body: strings.Replace(directBody(carol), demo.ClientID, "999999", 1), code: contract.CodeHostappNotFound, step: 6},
		{name: "unknown miniapp", body: strings.Replace(directBody(carol), demo.AppID, "app00000", 1), code: contract.CodeMiniappNotFound, step: 6},
		{name: "caller not allowlisted", setup: func(e *env) {
			e.put("/_sim/hostapps/"+demo.ClientID, `{"ip_allowlist":["10.0.0.0/8"]}`)
			e.put("/_sim/miniapps/"+demo.AppID, `{"ip_allowlist":["10.0.0.0/8"]}`)
		}, body: directBody(carol), code: contract.CodeNotAWhitelistedIP, step: 6},
		{name: "Connect off for the host app", setup: func(e *env) {
			e.put("/_sim/hostapps/"+demo.ClientID, `{"connect_enabled":false}`)
		}, body: directBody(carol), code: contract.CodeFeatureDisabledInHostapp, step: 6},
		{name: "Direct off for the partnership", setup: func(e *env) {
			e.put("/_sim/partnerships/"+demo.ClientID+"/"+demo.AppID, `{"direct_enabled":false}`)
		}, body: directBody(carol), code: contract.CodeFeatureDisabledInIntegration, step: 6},
		{name: "no partnership", setup: func(e *env) {
			if rec := e.do(http.MethodDelete, "/_sim/partnerships/"+demo.ClientID+"/"+demo.AppID, "", nil); rec.Code != http.StatusOK {
				e.t.Fatalf("delete partnership: %d", rec.Code)
			}
		}, body: directBody(carol), code: contract.CodeNoIntegration, step: 6},
		{name: "no reference", body: directBody(`{"email":"a@example.com"}`), code: contract.CodeInvalidUserData, step: 6},
		{name: "neither email nor phone", body: directBody(`{"reference":"u-1"}`), code: contract.CodeInvalidUserData, step: 6},
		{name: "reference too long", body: directBody(`{"reference":"` + strings.Repeat("r", 101) + `","email":"a@example.com"}`), code: contract.CodeInvalidUserData, step: 6},
		{name: "encrypted user data", body: directBody(`"c2VjcmV0"`), code: contract.CodeInvalidUserData, step: 6},
		{name: "user_data not an object", body: directBody(`[1]`), code: contract.CodeInvalidUserData, step: 6},
		{name: "required field missing", setup: func(e *env) {
			e.put("/_sim/miniapps/"+demo.AppID, `{"required_fields":["first_name","phone"]}`)
		}, body: directBody(`{"reference":"u-1","email":"a@example.com"}`), code: contract.CodeResponseAttributeMissing, step: 6},
		{name: "signing on, request unsigned", setup: func(e *env) {
			e.put("/_sim/hostapps/"+demo.ClientID, `{"signing_enabled":true,"signing_secret":"host-sign-1"}`)
		}, body: directBody(carol), code: contract.CodeInvalidSignature, step: 6},
		{name: "signing on, no secret", setup: func(e *env) {
			e.put("/_sim/hostapps/"+demo.ClientID, `{"signing_enabled":true}`)
		}, body: directBody(carol), code: contract.CodeMissingRequestSignatureSettings, step: 6},
		{name: "miniapp signing on, no secret", setup: func(e *env) {
			e.put("/_sim/miniapps/"+demo.AppID, `{"signing_enabled":true}`)
		}, body: directBody(carol), code: contract.CodeMissingRequestSignatureSettings, step: 6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			if c.setup != nil {
				c.setup(e)
			}
			rec := e.direct("flow_direct_err", c.body, c.hdr)
			wantEnvelope(t, rec, c.code, contract.PartyPlatform, c.step)
			if n := e.mini.count(); n != 0 {
				t.Errorf("the miniapp was called %d times", n)
			}
			f, _ := e.flow("flow_direct_err")
			if f.Mode != "direct" || f.Outcome != contract.OutcomeFailed || f.ErrorCode != c.code {
				t.Errorf("flow = %s/%s/%s, want direct/failed/%s", f.Mode, f.Outcome, f.ErrorCode, c.code)
			}
		})
	}
}

// A miniapp's error passes through with source miniapp at step 8; no consent is recorded.
func TestDirectMiniappError(t *testing.T) {
	e := newEnv(t)
	e.mini.on(http.MethodPost, demo.AuthTokenPath, ok200(`{"error_code":"INVALID_USER_DATA"}`))
	rec := e.direct("flow_direct_mini", directBody(carolUserDataObj), nil)
	wantEnvelope(t, rec, contract.CodeInvalidUserData, contract.PartyMiniapp, 8)
	q := "?client_id=" + demo.ClientID + "&app_id=" + demo.AppID + "&user_reference=u-1003"
	var c map[string]any
	decode(t, e.do(http.MethodGet, "/api/v1/accounts/consent/get_consent/"+q, "", nil), &c)
	if c["consent"] != false {
		t.Errorf("a failed Direct call recorded consent: %v", c)
	}

	e.mini.on(http.MethodPost, demo.AuthTokenPath, reply(http.StatusBadGateway, `{}`))
	rec = e.direct("flow_direct_mini2", directBody(carolUserDataObj), nil)
	wantEnvelope(t, rec, contract.CodeUnexpectedResponseError, contract.PartyPlatform, 8)
}

// With signing on for the host app, a signed Direct call passes, a replayed one is refused,
// and with signing on for the miniapp the platform's step-7 call verifies with its secret.
func TestDirectSigned(t *testing.T) {
	e := newEnv(t)
	e.put("/_sim/hostapps/"+demo.ClientID, `{"signing_enabled":true,"signing_secret":"host-sign-1"}`)
	e.put("/_sim/miniapps/"+demo.AppID, `{"signing_enabled":true,"signing_secret":"mini-sign-1"}`)
	for _, p := range []string{"/_sim/hostapps/" + demo.ClientID, "/_sim/miniapps/" + demo.AppID} {
		if b := e.do(http.MethodGet, p, "", nil).Body.String(); strings.Contains(b, "host-sign-1") || strings.Contains(b, "mini-sign-1") ||
			!strings.Contains(b, `"signing_enabled":true`) {
			t.Errorf("GET %s shows the signing secret or not the switch: %s", p, b)
		}
	}
	v := &signing.Verifier{Now: func() time.Time { return fixedNow }}
	e.mini.on(http.MethodPost, demo.AuthTokenPath, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := v.Verify(r, body, "mini-sign-1"); err != nil {
			t.Errorf("step 7 does not verify: %v", err)
		}
		ok200(`{"auth_token":"`+miniToken+`"}`)(w, r)
	})
	body := directBody(carolUserDataObj)
	sign := func(secret string, at time.Time) map[string]string {
		h := signing.Sign(secret, http.MethodPost, "http://example.com/api/v1/connect/", []byte(body), at, "")
		return map[string]string{signing.HeaderSignature: h.Signature, signing.HeaderTimestamp: h.Timestamp, signing.HeaderNonce: h.Nonce}
	}
	good := sign("host-sign-1", fixedNow)
	if rec := e.direct("flow_signed", body, good); rec.Code != http.StatusOK {
		t.Fatalf("signed Direct call: %d %s", rec.Code, rec.Body)
	}
	wantEnvelope(t, e.direct("flow_signed_again", body, good), contract.CodeSignatureValidationError, contract.PartyPlatform, 6)
	wantEnvelope(t, e.direct("flow_signed_stale", body, sign("host-sign-1", fixedNow.Add(-301e9))), contract.CodeSignatureValidationError, contract.PartyPlatform, 6)
	wantEnvelope(t, e.direct("flow_signed_wrong", body, sign("other", fixedNow)), contract.CodeInvalidSignature, contract.PartyPlatform, 6)
	if n := len(e.mini.requests(demo.AuthTokenPath)); n != 1 {
		t.Errorf("the miniapp was called %d times, want 1", n)
	}
}

// Signing switched on without a secret stops the OAuth flow too, before the host is called
// (PROTOCOL §5.1: the platform can neither sign nor verify).
func TestSigningNotConfigured(t *testing.T) {
	for _, path := range []string{"/_sim/hostapps/" + demo.ClientID, "/_sim/miniapps/" + demo.AppID} {
		e := newEnv(t)
		e.put(path, `{"signing_enabled":true}`)
		wantEnvelope(t, e.authorize("flow_sign_unset"), contract.CodeMissingRequestSignatureSettings, contract.PartyPlatform, 5)
		if n := e.host.count() + e.mini.count(); n != 0 {
			t.Errorf("%s: %d calls went out", path, n)
		}
		// With a secret the host is called, signed.
		e.put(path, `{"signing_secret":"s-1"}`)
		e.happy()
		if rec := e.authorize("flow_sign_set"); rec.Code != http.StatusOK {
			t.Fatalf("%s with a secret: %d %s", path, rec.Code, rec.Body)
		}
		got := e.host.requests(demo.AccessTokenPath)
		if path == "/_sim/miniapps/"+demo.AppID {
			got = e.mini.requests(demo.AuthTokenPath)
		}
		if len(got) != 1 || got[0].Header.Get(signing.HeaderSignature) == "" || got[0].Header.Get(signing.HeaderNonce) == "" {
			t.Errorf("%s: the call is not signed: %v", path, got)
		}
	}
}

// The SDK reports a Direct flow's own steps (1–5, 10–12) under mode direct; the mode must
// match the flow's, and step 12 ends it.
func TestDirectStepReports(t *testing.T) {
	e := newEnv(t)
	e.mini.on(http.MethodPost, demo.AuthTokenPath, ok200(`{"auth_token":"`+miniToken+`"}`))
	if rec := e.direct("flow_rep_direct", directBody(carolUserDataObj), nil); rec.Code != http.StatusOK {
		t.Fatalf("direct: %d %s", rec.Code, rec.Body)
	}
	report := func(id, body string) int {
		t.Helper()
		return e.do(http.MethodPost, "/_sim/flows/"+id+"/steps", body, nil).Code
	}
	step := func(n int) string { return `{"step":` + strconv.Itoa(n) + `,"actor":"sdk","call":"x"}` }
	for _, c := range []struct {
		name, body string
		want       int
	}{
		{"as an OAuth flow", `{"mode":"connect","steps":[` + step(1) + `]}`, http.StatusConflict},
		{"an unknown mode", `{"mode":"sideways","steps":[` + step(1) + `]}`, http.StatusBadRequest},
		{"OAuth step 13", `{"mode":"direct","steps":[` + step(13) + `]}`, http.StatusBadRequest},
		{"the platform's step 7", `{"mode":"direct","steps":[` + step(7) + `]}`, http.StatusBadRequest},
		{"steps 1 and 10-12", `{"mode":"direct","steps":[` + step(1) + `,` + step(10) + `,` + step(11) + `,` + step(12) + `]}`, http.StatusOK},
		{"after step 12", `{"mode":"direct","steps":[` + step(11) + `]}`, http.StatusConflict},
	} {
		if got := report("flow_rep_direct", c.body); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	if f, _ := e.flow("flow_rep_direct"); f.Outcome != contract.OutcomeOK || len(f.Steps) != 8 || f.Note != "" {
		t.Errorf("flow after the reports: %s, %d steps, note %q", f.Outcome, len(f.Steps), f.Note)
	}
	// An OAuth flow takes no Direct-only step number.
	e.happy()
	if rec := e.authorize("flow_rep_oauth"); rec.Code != http.StatusOK {
		t.Fatalf("authorize: %d", rec.Code)
	}
	if got := report("flow_rep_oauth", `{"steps":[`+step(10)+`]}`); got != http.StatusBadRequest {
		t.Errorf("step 10 on an OAuth flow: %d", got)
	}
	if got := report("flow_rep_oauth", `{"mode":"direct","steps":[`+step(1)+`]}`); got != http.StatusConflict {
		t.Errorf("mode direct on an OAuth flow: %d", got)
	}
}

// With signing on for the host app, get_consent takes signed calls only (PROTOCOL §7.4: the
// same protection as Direct).
func TestConsentSigned(t *testing.T) {
	e := newEnv(t)
	e.put("/_sim/hostapps/"+demo.ClientID, `{"signing_enabled":true,"signing_secret":"host-sign-1"}`)
	path := "/api/v1/accounts/consent/get_consent/?client_id=" + demo.ClientID + "&app_id=" + demo.AppID + "&user_reference=u-1003"
	wantEnvelope(t, e.do(http.MethodGet, path, "", nil), contract.CodeInvalidSignature, contract.PartyPlatform, 4)
	bad := signing.Sign("another-secret", http.MethodGet, "http://example.com"+path, nil, fixedNow, "")
	wantEnvelope(t, e.do(http.MethodGet, path, "", map[string]string{signing.HeaderSignature: bad.Signature, signing.HeaderTimestamp: bad.Timestamp, signing.HeaderNonce: bad.Nonce}),
		contract.CodeInvalidSignature, contract.PartyPlatform, 4)
	h := signing.Sign("host-sign-1", http.MethodGet, "http://example.com"+path, nil, fixedNow, "")
	hdr := map[string]string{signing.HeaderSignature: h.Signature, signing.HeaderTimestamp: h.Timestamp, signing.HeaderNonce: h.Nonce}
	if rec := e.do(http.MethodGet, path, "", hdr); rec.Code != http.StatusOK {
		t.Errorf("signed get_consent: %d %s", rec.Code, rec.Body)
	}
	wantEnvelope(t, e.do(http.MethodGet, path, "", hdr), contract.CodeSignatureValidationError, contract.PartyPlatform, 4)
}
