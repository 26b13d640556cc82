package hostapp_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/hostapp"
	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/signing"
)

// fakePlatform is a real server playing the platform's /api/v1/connect/: it records what it
// receives and answers with answer.
type fakePlatform struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []*http.Request
	bodies []string
	answer func(w http.ResponseWriter, r *http.Request, body []byte)
}

func newFakePlatform(t *testing.T) *fakePlatform {
	t.Helper()
	p := &fakePlatform{answer: func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"token":"mini-token-1","refresh_token":"mini-refresh-1"}`)
	}}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/_sim/") {
			// The home screen lists the Dashboard's miniapps: none here.
			io.WriteString(w, `{"partnerships":[],"miniapps":[]}`)
			return
		}
		body, _ := io.ReadAll(r.Body)
		p.mu.Lock()
		p.got, p.bodies = append(p.got, r), append(p.bodies, string(body))
		p.mu.Unlock()
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/connect/" {
			t.Errorf("fake platform: unexpected %s %s", r.Method, r.URL.Path)
		}
		p.answer(w, r, body)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *fakePlatform) calls() ([]*http.Request, []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.got, p.bodies
}

func directTokens(e *env, cookie *http.Cookie, body string, header map[string]string) *httptest.ResponseRecorder {
	e.t.Helper()
	return directTokensAt(e, "/boxo/direct/tokens", cookie, body, header)
}

func directTokensAt(e *env, path string, cookie *http.Cookie, body string, header map[string]string) *httptest.ResponseRecorder {
	e.t.Helper()
	h := map[string]string{"Content-Type": "application/json", contract.HeaderFlowID: "flow_direct_host"}
	for k, v := range header {
		h[k] = v
	}
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.RemoteAddr = loopbackAddr
	for k, v := range h {
		req.Header.Set(k, v)
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req) // not e.serve: a 502 is an answer under test here
	return rec
}

func TestDirectTokens(t *testing.T) {
	p := newFakePlatform(t)
	e := newEnv(t, func(c *hostapp.Config) { c.Web.PlatformURL = p.srv.URL })
	cookie := e.signIn("carol", "carol-password")

	rec := directTokens(e, cookie, `{"app_id":"`+demo.AppID+`"}`, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	got := jsonBody(t, rec)
	if got["token"] != "mini-token-1" || got["refresh_token"] != "mini-refresh-1" {
		t.Errorf("answer = %v", got)
	}
	if rec.Header().Get(contract.HeaderFlowID) != "flow_direct_host" {
		t.Errorf("X-Sim-Flow-Id = %q", rec.Header().Get(contract.HeaderFlowID))
	}
	reqs, bodies := p.calls()
	if len(reqs) != 1 {
		t.Fatalf("platform got %d calls", len(reqs))
	}
	var sent struct {
		ClientID string            `json:"client_id"`
		AppID    string            `json:"app_id"`
		UserData contract.UserData `json:"user_data"`
	}
	if err := json.Unmarshal([]byte(bodies[0]), &sent); err != nil {
		t.Fatal(err)
	}
	if sent.ClientID != demo.ClientID || sent.AppID != demo.AppID || sent.UserData.Reference != "u-1003" || sent.UserData.Email != "carol@example.com" {
		t.Errorf("step 6 body = %s", bodies[0])
	}
	r := reqs[0]
	if r.Header.Get("Content-Type") != "application/json" || r.Header.Get(contract.HeaderFlowID) != "flow_direct_host" || r.Header.Get(signing.HeaderSignature) != "" {
		t.Errorf("step 6 headers = %v", r.Header)
	}

	// The platform's envelope comes back unchanged, status included.
	p.answer = func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error_code":"INVALID_USER_DATA","error_message":"Invalid user data.","custom_attributes":{"source":"platform","step":6}}`)
	}
	rec = directTokens(e, cookie, `{"app_id":"`+demo.AppID+`"}`, nil)
	if rec.Code != http.StatusBadRequest || jsonBody(t, rec)["error_code"] != contract.CodeInvalidUserData {
		t.Errorf("platform error: %d %s", rec.Code, rec.Body)
	}
	// Something else from the platform is the host's own 502.
	p.answer = func(w http.ResponseWriter, _ *http.Request, _ []byte) { w.WriteHeader(http.StatusInternalServerError) }
	rec = directTokens(e, cookie, `{"app_id":"`+demo.AppID+`"}`, nil)
	if rec.Code != http.StatusBadGateway || jsonBody(t, rec)["error_code"] != contract.CodeUnexpectedResponseError {
		t.Errorf("platform 500: %d %s", rec.Code, rec.Body)
	}
}

func TestDirectTokensRefusals(t *testing.T) {
	p := newFakePlatform(t)
	e := newEnv(t, func(c *hostapp.Config) { c.Web.PlatformURL = p.srv.URL })
	cookie := e.signIn("carol", "carol-password")
	body := `{"app_id":"` + demo.AppID + `"}`
	for _, c := range []struct {
		name   string
		cookie *http.Cookie
		body   string
		header map[string]string
		status int
	}{
		{"not signed in", nil, body, nil, http.StatusUnauthorized},
		{"a form", cookie, "app_id=" + demo.AppID, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType},
		{"cross-site", cookie, body, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"other origin", cookie, body, map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"no app_id", cookie, `{}`, nil, http.StatusBadRequest},
	} {
		rec := directTokens(e, c.cookie, c.body, c.header)
		if rec.Code != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.name, rec.Code, c.status, rec.Body)
			continue
		}
		var env contract.ErrorEnvelope
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Source() != contract.PartyHostapp || env.Step() != 5 {
			t.Errorf("%s: body %s is not the host's envelope at step 5", c.name, rec.Body)
		}
	}
	if reqs, _ := p.calls(); len(reqs) != 0 {
		t.Errorf("a refused request reached the platform %d times", len(reqs))
	}
}

// TestWebDirectTokens: the home screen's Direct endpoint is /boxo/direct/tokens for a page
// (PROTOCOL §7.3 step 5), as strict as /web/auth-code: a same-origin request with an Origin
// and the session's CSRF token, else refused at step 5 without reaching the platform.
func TestWebDirectTokens(t *testing.T) {
	p := newFakePlatform(t)
	e := newEnv(t, func(c *hostapp.Config) { c.Web.PlatformURL = p.srv.URL })
	carol := e.signIn("carol", "carol-password")
	csrf, _ := e.homeConfig(carol)["csrf"].(string)
	good := func() map[string]string {
		return map[string]string{"Origin": "http://example.com", "Sec-Fetch-Site": "same-origin", "X-CSRF-Token": csrf}
	}
	body := `{"app_id":"` + demo.AppID + `"}`
	for _, c := range []struct {
		name   string
		cookie *http.Cookie
		change func(map[string]string)
		status int
	}{
		{"not signed in", nil, func(map[string]string) {}, http.StatusUnauthorized},
		{"no CSRF token", carol, func(h map[string]string) { delete(h, "X-CSRF-Token") }, http.StatusForbidden},
		{"another session's token", carol, func(h map[string]string) {
			h["X-CSRF-Token"] = e.homeConfig(e.signIn("bob", "bob-password"))["csrf"].(string)
		}, http.StatusForbidden},
		{"no origin", carol, func(h map[string]string) { delete(h, "Origin") }, http.StatusForbidden},
		{"another origin", carol, func(h map[string]string) { h["Origin"] = "http://evil.example" }, http.StatusForbidden},
		{"cross-site fetch", carol, func(h map[string]string) { h["Sec-Fetch-Site"] = "cross-site" }, http.StatusForbidden},
	} {
		h := good()
		c.change(h)
		rec := directTokensAt(e, "/web/direct-tokens", c.cookie, body, h)
		var env contract.ErrorEnvelope
		if rec.Code != c.status || json.Unmarshal(rec.Body.Bytes(), &env) != nil || env.Source() != contract.PartyHostapp || env.Step() != 5 {
			t.Errorf("%s: %d %s, want %d with the host's envelope at step 5", c.name, rec.Code, rec.Body, c.status)
		}
	}
	if reqs, _ := p.calls(); len(reqs) != 0 {
		t.Fatalf("a refused request reached the platform %d times", len(reqs))
	}
	rec := directTokensAt(e, "/web/direct-tokens", carol, body, good())
	if got := jsonBody(t, rec); rec.Code != http.StatusOK || got["token"] != "mini-token-1" {
		t.Fatalf("direct tokens from the page: %d %s", rec.Code, rec.Body)
	}
	if reqs, bodies := p.calls(); len(reqs) != 1 || !strings.Contains(bodies[0], `"reference":"u-1003"`) {
		t.Errorf("the platform got %v", bodies)
	}
	// Unlike /web/auth-code, this route lets Sec-Fetch-Site: none through.
	h := good()
	h["Sec-Fetch-Site"] = "none"
	if rec := directTokensAt(e, "/web/direct-tokens", carol, body, h); rec.Code != http.StatusOK {
		t.Errorf("direct tokens with Sec-Fetch-Site none: %d %s", rec.Code, rec.Body)
	}
}

// With signing on, the Direct call is signed with the host's secret and verifies at the
// platform's URL; the platform's calls to /boxo/connect/* must be signed.
func TestDirectTokensSigned(t *testing.T) {
	p := newFakePlatform(t)
	e := newEnv(t, func(c *hostapp.Config) { c.Web.PlatformURL = p.srv.URL })
	if rec := e.do(call{method: http.MethodPut, path: "/_sim/settings", body: `{"signing_enabled":true,"signing_secret":"host-sign-1"}`,
		header: map[string]string{"Content-Type": "application/json"}}); rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "host-sign-1") {
		t.Fatalf("PUT settings: %d %s", rec.Code, rec.Body)
	}
	v := &signing.Verifier{Now: e.clk.Now}
	p.answer = func(w http.ResponseWriter, r *http.Request, body []byte) {
		if err := v.Verify(r, body, "host-sign-1"); err != nil {
			t.Errorf("the Direct call does not verify: %v", err)
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"token":"mini-token-1"}`)
	}
	cookie := e.signIn("carol", "carol-password")
	if rec := directTokens(e, cookie, `{"app_id":"`+demo.AppID+`"}`, nil); rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}

	// The platform's calls: unsigned, wrongly signed, replayed, stale.
	code := e.boxoCode("carol")
	body := `{"auth_code":"` + code + `"}`
	u := "http://example.com" + demo.AccessTokenPath
	sig := func(secret string, at time.Time, nonce string) map[string]string {
		h := signing.Sign(secret, http.MethodPost, u, []byte(body), at, nonce)
		return map[string]string{signing.HeaderSignature: h.Signature, signing.HeaderTimestamp: h.Timestamp, signing.HeaderNonce: h.Nonce}
	}
	wantCode(t, e.connectCall(http.MethodPost, demo.AccessTokenPath, boxoBasicAuth, body, nil), contract.CodeInvalidSignature)
	wantCode(t, e.connectCall(http.MethodPost, demo.AccessTokenPath, boxoBasicAuth, body, sig("wrong", e.clk.Now(), "")), contract.CodeInvalidSignature)
	wantCode(t, e.connectCall(http.MethodPost, demo.AccessTokenPath, boxoBasicAuth, body, sig("host-sign-1", e.clk.Now().Add(-time.Hour), "")), contract.CodeSignatureValidationError)
	good := sig("host-sign-1", e.clk.Now(), "")
	if got := e.connectCall(http.MethodPost, demo.AccessTokenPath, boxoBasicAuth, body, good); got["access_token"] == nil {
		t.Errorf("a signed step 6 was refused: %v", got)
	}
	wantCode(t, e.connectCall(http.MethodPost, demo.AccessTokenPath, boxoBasicAuth, body, good), contract.CodeSignatureValidationError)
}
