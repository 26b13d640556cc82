package hostapp_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/hostapp"
	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
)

// v1Nonce walks GET /v1/oauth/authorize (consenting when asked) and returns the nonce.
func (l *live) v1Nonce(b *browser) string {
	l.t.Helper()
	loc := b.authorize("/v1/oauth/authorize?" + url.Values{"application_id": {hostapp.DemoV1AppID},
		"return_uri": {l.url + hostapp.DemoV1CallbackPath}}.Encode())
	if loc.Path != hostapp.DemoV1CallbackPath || len(loc.Query().Get("nonce")) != 40 {
		l.t.Fatalf("v1 redirect %s", loc)
	}
	return loc.Query().Get("nonce")
}

func (l *live) v1Token(body string) (int, map[string]any, string) {
	l.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, l.url+"/v1/oauth/access_token", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	r := (&browser{t: l.t, c: l.srv.Client()}).do(req)
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		l.t.Fatalf("not JSON: %s", r.body)
	}
	return r.status, m, r.body
}

func v1Body(app, secret, nonce string) string {
	b, _ := json.Marshal(map[string]string{"application_id": app, "application_secret": secret, "nonce": nonce})
	return string(b)
}

func (l *live) v1Delete(token string) response {
	l.t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, l.url+"/v1/oauth/"+url.PathEscape(token), nil)
	return (&browser{t: l.t, c: l.srv.Client()}).do(req)
}

func TestV1Flow(t *testing.T) {
	l := newLive(t)
	b := l.browser()
	// Not signed in: sign-in first, then the consent page, then the nonce.
	start := "/v1/oauth/authorize?" + url.Values{"application_id": {hostapp.DemoV1AppID}, "return_uri": {l.url + hostapp.DemoV1CallbackPath}}.Encode()
	if loc := b.get(start).location(t); loc.Path != "/auth/v1/login" || loc.Query().Get("return_to") != start {
		t.Fatalf("not signed in: %s", loc)
	}
	b.signIn("carol")
	if r := b.get(start); r.status != http.StatusOK || !strings.Contains(r.body, "Demo v1 Application") {
		t.Fatalf("no consent page: %d", r.status)
	}
	nonce := l.v1Nonce(b)

	status, m, raw := l.v1Token(v1Body(hostapp.DemoV1AppID, hostapp.DemoV1AppSecret, nonce))
	tok, _ := m["access_token"].(string)
	if status != http.StatusCreated || len(tok) != 64 || strings.Trim(tok, "0123456789abcdef") != "" || m["token_type"] != "Bearer" ||
		!strings.Contains(raw, `"expires_in":null`) {
		t.Fatalf("v1 token: %d %s", status, raw)
	}
	// The token never expires and works at userinfo.
	l.clk.Advance(20 * 365 * 24 * time.Hour)
	if r := l.userinfo(tok); r.status != 200 || !strings.Contains(r.body, "carol@example.com") {
		t.Fatalf("userinfo with v1 token: %d %s", r.status, r.body)
	}
	// DELETE revokes; again and for unknown tokens it is still 200.
	for range 2 {
		if r := l.v1Delete(tok); r.status != http.StatusOK {
			t.Fatalf("DELETE: %d %s", r.status, r.body)
		}
	}
	if r := l.userinfo(tok); r.status != http.StatusUnauthorized {
		t.Fatalf("userinfo after DELETE: %d", r.status)
	}
	if r := l.v1Delete(contract.RandomHex(32)); r.status != http.StatusOK {
		t.Fatalf("DELETE unknown: %d", r.status)
	}
}

func TestV1NonceRules(t *testing.T) {
	l := newLive(t)
	b := l.browser()
	b.signIn("alice")
	app, secret := hostapp.DemoV1AppID, hostapp.DemoV1AppSecret

	t.Run("nonce reused", func(t *testing.T) {
		nonce := l.v1Nonce(b)
		status, first, _ := l.v1Token(v1Body(app, secret, nonce))
		if status != 201 {
			t.Fatalf("%d %v", status, first)
		}
		status, m, _ := l.v1Token(v1Body(app, secret, nonce))
		if status != 400 || m["error"] != "invalid_grant" {
			t.Fatalf("reuse: %d %v", status, m)
		}
		if r := l.userinfo(first["access_token"].(string)); r.status != http.StatusUnauthorized {
			t.Fatalf("first token after reuse: %d", r.status)
		}
	})
	t.Run("nonce expired", func(t *testing.T) {
		nonce := l.v1Nonce(b)
		l.clk.Advance(10 * time.Minute)
		if status, m, _ := l.v1Token(v1Body(app, secret, nonce)); status != 400 || m["error"] != "invalid_grant" {
			t.Fatalf("%d %v", status, m)
		}
	})
	nonce := l.v1Nonce(b)
	for _, tc := range []struct {
		name, body string
		status     int
		want       string
	}{
		{"wrong secret", v1Body(app, "wrong", nonce), 401, "invalid_client"},
		{"unknown application", v1Body("nobody", secret, nonce), 401, "invalid_client"},
		{"other application", v1Body(hostapp.DemoWebClientID, hostapp.DemoWebClientSecret, nonce), 400, "invalid_grant"},
		{"OAuth code as nonce", v1Body(app, secret, contract.RandomHex(20)), 400, "invalid_grant"},
		{"missing nonce", v1Body(app, secret, ""), 400, "invalid_request"},
		{"bad JSON", `{"application_id":`, 400, "invalid_request"},
		{"wrong types", `{"application_id":1}`, 400, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, m, _ := l.v1Token(tc.body)
			if status != tc.status || m["error"] != tc.want {
				t.Fatalf("%d %v, want %d %s", status, m, tc.status, tc.want)
			}
		})
	}
	// None of the failures spent the nonce.
	if status, m, _ := l.v1Token(v1Body(app, secret, nonce)); status != 201 {
		t.Fatalf("%d %v", status, m)
	}
}

func TestV1AuthorizeErrors(t *testing.T) {
	l := newLive(t)
	b := l.browser()
	b.signIn("alice")
	ret := l.url + hostapp.DemoV1CallbackPath
	for name, q := range map[string]url.Values{
		"unknown application": {"application_id": {"nobody"}, "return_uri": {ret}},
		"return_uri mismatch": {"application_id": {hostapp.DemoV1AppID}, "return_uri": {"https://evil.example/cb"}},
		"no return_uri":       {"application_id": {hostapp.DemoV1AppID}},
		"no application_id":   {"return_uri": {ret}},
	} {
		if r := b.get("/v1/oauth/authorize?" + q.Encode()); r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
			t.Errorf("%s: %d %v", name, r.status, r.header.Get("Location"))
		}
	}
	// Deny → access_denied on return_uri.
	r := b.get("/v1/oauth/authorize?" + url.Values{"application_id": {hostapp.DemoV1AppID}, "return_uri": {ret}}.Encode())
	if loc := b.decide(r, "deny").location(t); loc.Query().Get("error") != "access_denied" || loc.Query().Has("nonce") {
		t.Fatalf("deny: %s", loc)
	}
}

// DELETE /v1/oauth/{token} takes any API's token and revokes its paired refresh token.
func TestV1DeleteRevokesConnectPair(t *testing.T) {
	e := newEnv(t)
	access, refresh := e.tokens(e.boxoCode("alice"))
	if rec := e.do(call{method: http.MethodDelete, path: "/v1/oauth/" + access}); rec.Code != http.StatusOK {
		t.Fatalf("DELETE: %d %s", rec.Code, rec.Body)
	}
	wantCode(t, e.userData(access), contract.CodeInvalidAccessToken)
	wantCode(t, e.refresh(refresh), contract.CodeInvalidRefreshToken)
	// The Connect endpoints take only Connect tokens.
	_ = demo.AppID
}

func TestDemoClientPage(t *testing.T) {
	l := newLive(t)
	b := l.browser()
	b.signIn("carol")

	start := b.get("/demo")
	authz := start.location(t)
	q := authz.Query()
	state := q.Get("state")
	if authz.Path != "/auth/v1/authorize" || len(state) != 32 || q.Get("client_id") != hostapp.DemoWebClientID || q.Get("nonce") == "" {
		t.Fatalf("/demo redirected to %s", authz)
	}
	cb := b.authorize(authz.String())
	if cb.Path != hostapp.DemoWebCallbackPath || cb.Query().Get("state") != state {
		t.Fatalf("callback %s", cb)
	}
	page := b.get(cb.String())
	if page.status != http.StatusOK || !strings.Contains(page.body, "signed in") || !strings.Contains(page.body, "carol@example.com") {
		t.Fatalf("demo callback: %d %s", page.status, page.body)
	}
	// The page shows tokens masked: no whole JWT (three dot-separated parts) appears.
	if regexp.MustCompile(`eyJ[\w-]+\.[\w-]+\.`).MatchString(page.body) || !strings.Contains(page.body, "eyJh…") {
		t.Fatalf("demo page shows a token unmasked: %s", page.body)
	}
	// The state is single use: the same callback again is rejected.
	if r := b.get(cb.String()); r.status != http.StatusBadRequest || !strings.Contains(r.body, "state_mismatch") {
		t.Fatalf("replayed callback: %d %s", r.status, r.body)
	}

	for name, mutate := range map[string]func(*browser, url.Values){
		"no state":        func(_ *browser, v url.Values) { v.Del("state") },
		"forged state":    func(_ *browser, v url.Values) { v.Set("state", contract.RandomHex(16)) },
		"another browser": nil, // a browser with its own demo cookie but not this state
	} {
		t.Run(name, func(t *testing.T) {
			b.get("/demo") // a fresh state for this browser
			cb := b.authorize(b.get("/demo").location(t).String())
			v := cb.Query()
			other := b
			if mutate == nil {
				other = l.browser()
				other.signIn("carol")
				other.get("/demo")
			} else {
				mutate(b, v)
			}
			if r := other.get(hostapp.DemoWebCallbackPath + "?" + v.Encode()); r.status != http.StatusBadRequest || !strings.Contains(r.body, "state_mismatch") {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
	}
	t.Run("state expired", func(t *testing.T) {
		cb := b.authorize(b.get("/demo").location(t).String())
		l.clk.Advance(10 * time.Minute)
		if r := b.get(cb.String()); r.status != http.StatusBadRequest || !strings.Contains(r.body, "state_mismatch") {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
}

func TestClientsAdminWrite(t *testing.T) {
	e := newEnv(t)
	put := func(id, body string) (int, map[string]any) {
		rec := e.do(call{method: http.MethodPut, path: "/_sim/clients/" + id, body: body})
		return rec.Code, jsonBody(t, rec)
	}
	status, m := put("web2", `{"secret":"s2","name":"Web 2","redirect_uris":["https://w2.example/cb","com.example.app:/oauth"],"scopes":["openid","email","openid"]}`)
	if status != 200 || m["name"] != "Web 2" || mustJSON(m["scopes"]) != `["openid","email"]` || m["skip_consent"] != false ||
		m["redirect_match"] != "exact" || m["secret"] != nil {
		t.Fatalf("create: %d %v", status, m)
	}
	// Merge: absent keys keep their values.
	status, m = put("web2", `{"skip_consent":true,"redirect_match":"host"}`)
	if status != 200 || m["name"] != "Web 2" || m["skip_consent"] != true || m["redirect_match"] != "host" || len(m["redirect_uris"].([]any)) != 2 {
		t.Fatalf("merge: %d %v", status, m)
	}
	c, err := e.db.GetClient(t.Context(), "web2")
	if err != nil || c.SecretHash != contract.Hash("s2") {
		t.Fatalf("stored %+v %v", c, err)
	}
	if rec := e.do(call{method: http.MethodGet, path: "/_sim/clients/web2"}); rec.Code != 200 || strings.Contains(rec.Body.String(), contract.Hash("s2")) {
		t.Fatalf("GET: %d %s", rec.Code, rec.Body)
	}
	for _, tc := range []struct{ id, body string }{
		{"new1", `{"redirect_uris":["https://a/cb"]}`},                   // no secret
		{"new1", `{"secret":"s"}`},                                       // no redirect_uris
		{"new1", `{"secret":"s","redirect_uris":[]}`},                    // empty list
		{"new1", `{"secret":"s","redirect_uris":["/relative"]}`},         // not absolute
		{"new1", `{"secret":"s","redirect_uris":["https://a/cb#frag"]}`}, // fragment
		{"new1", `{"secret":"s","redirect_uris":["https:///cb"]}`},       // no host
		{"new1", `{"secret":"","redirect_uris":["https://a/cb"]}`},       // empty secret
		{"new1", `{"secret":"s","redirect_uris":["https://a/cb"],"scopes":["two words"]}`},
		{"new1", `{"secret":"s","redirect_uris":["https://a/cb"],"redirect_match":"prefix"}`},
		{"new1", `{"secret":"s","redirect_uris":["https://a/cb"],"color":"red"}`},
		{"bad:id", `{"secret":"s","redirect_uris":["https://a/cb"]}`},
		{"new1", `{"secret":"s","redirect_uris":"https://a/cb"}`},
	} {
		if status, m := put(tc.id, tc.body); status != 400 || m["error"] != "invalid_request" {
			t.Errorf("PUT %s %s: %d %v", tc.id, tc.body, status, m)
		}
	}
	if rec := e.do(call{method: http.MethodGet, path: "/_sim/clients/new1"}); rec.Code != http.StatusNotFound {
		t.Fatalf("a rejected PUT created the client: %d", rec.Code)
	}

	// Deleting a client ends its tokens.
	access, _ := e.tokens(e.boxoCode("alice"))
	if rec := e.do(call{method: http.MethodDelete, path: "/_sim/clients/" + demo.HostappClientID}); rec.Code != 200 {
		t.Fatalf("DELETE: %d %s", rec.Code, rec.Body)
	}
	wantCode(t, e.userData(access), contract.CodeInvalidAccessToken)
	if rec := e.do(call{method: http.MethodDelete, path: "/_sim/clients/" + demo.HostappClientID}); rec.Code != http.StatusNotFound {
		t.Fatalf("DELETE again: %d", rec.Code)
	}
}
