package hostapp_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/boxo-sim/boxo-sim/hostapp"
	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/cors"
	"github.com/boxo-sim/boxo-sim/internal/demo"
)

const spaOrigin = "http://localhost:5173"

// fetch sends a request as a page of origin would (PROTOCOL §2.12).
func (l *live) fetch(method, path, origin string, header map[string]string, body string) response {
	l.t.Helper()
	req, err := http.NewRequest(method, l.url+path, strings.NewReader(body))
	if err != nil {
		l.t.Fatal(err)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	c := &http.Client{Transport: l.srv.Client().Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return (&browser{t: l.t, c: c}).do(req)
}

func preflight(method string, headers string) map[string]string {
	return map[string]string{"Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers}
}

func TestCORS(t *testing.T) {
	l := newLive(t)
	l.withSPA()
	b := l.browser()
	b.signIn("carol")
	verifier := oauth2.GenerateVerifier()

	// The browser-called endpoints answer preflights and carry Access-Control-Allow-Origin on
	// every answer, errors included; never credentials.
	for _, ep := range []struct{ method, path, headers string }{
		{"GET", "/.well-known/openid-configuration", ""},
		{"GET", "/auth/v1/jwks", ""},
		{"POST", "/auth/v1/token", "content-type"},
		{"GET", "/auth/v1/userinfo", "authorization"},
		{"POST", "/auth/v1/userinfo", "authorization"},
		{"POST", "/auth/v1/revoke", "content-type"},
	} {
		r := l.fetch(http.MethodOptions, ep.path, spaOrigin, preflight(ep.method, ep.headers), "")
		if r.status != http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != spaOrigin ||
			!strings.Contains(r.header.Get("Access-Control-Allow-Methods"), ep.method) ||
			!strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "Authorization") ||
			r.header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("preflight %s %s: %d %v", ep.method, ep.path, r.status, r.header)
		}
	}
	if r := l.fetch(http.MethodGet, "/.well-known/openid-configuration", spaOrigin, nil, ""); r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != spaOrigin {
		t.Errorf("discovery: %d %v", r.status, r.header)
	}
	// The public client's whole life from the page's origin: exchange, userinfo, revocation.
	code := codeOf(t, b.result(authzPath("spa", spaRedirect, url.Values{"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}})))
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	r := l.fetch(http.MethodPost, "/auth/v1/token", spaOrigin, form, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {spaRedirect}, "client_id": {"spa"}, "code_verifier": {verifier}}.Encode())
	if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != spaOrigin || !strings.Contains(r.body, "access_token") {
		t.Fatalf("token: %d %v %s", r.status, r.header, r.body)
	}
	access := jsonString(t, r.body, "access_token")
	if r := l.fetch(http.MethodGet, "/auth/v1/userinfo", spaOrigin, map[string]string{"Authorization": "Bearer " + access}, ""); r.status != 200 ||
		r.header.Get("Access-Control-Allow-Origin") != spaOrigin || !strings.Contains(r.body, "carol") {
		t.Fatalf("userinfo: %d %v %s", r.status, r.header, r.body)
	}
	if r := l.fetch(http.MethodPost, "/auth/v1/revoke", spaOrigin, form, url.Values{"token": {access}, "client_id": {"spa"}}.Encode()); r.status != 200 ||
		r.header.Get("Access-Control-Allow-Origin") != spaOrigin {
		t.Fatalf("revoke: %d %v", r.status, r.header)
	}
	if r := l.fetch(http.MethodGet, "/auth/v1/userinfo", spaOrigin, map[string]string{"Authorization": "Bearer " + access}, ""); r.status != 401 ||
		r.header.Get("Access-Control-Allow-Origin") != spaOrigin {
		t.Fatalf("userinfo error without CORS: %d %v", r.status, r.header)
	}
	if r := l.fetch(http.MethodPost, "/auth/v1/token", spaOrigin, form, "grant_type=authorization_code"); r.status != 401 ||
		r.header.Get("Access-Control-Allow-Origin") != spaOrigin {
		t.Fatalf("token error without CORS: %d %v", r.status, r.header)
	}

	// The authorization endpoint, the pages and the admin routes are not for fetch.
	for _, path := range []string{"/auth/v1/authorize", "/auth/v1/login", "/auth/v1/logout", "/_sim/clients", "/boxo/connect/user-data"} {
		r := l.fetch(http.MethodOptions, path, spaOrigin, preflight("POST", "content-type"), "")
		if r.status == http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight %s: %d %v", path, r.status, r.header)
		}
		if r := l.fetch(http.MethodGet, path, spaOrigin, nil, ""); r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("GET %s with Origin: %v", path, r.header)
		}
	}
}

// cors_origins narrows the origins, on the authorization server as on the platform.
func TestCORSRestricted(t *testing.T) {
	p, err := cors.New([]string{spaOrigin})
	if err != nil {
		t.Fatal(err)
	}
	l := newLive(t, func(c *hostapp.Config) { c.CORS = p })
	if r := l.fetch(http.MethodOptions, "/auth/v1/token", spaOrigin, preflight("POST", "content-type"), ""); r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != spaOrigin {
		t.Fatalf("allowed origin: %d %v", r.status, r.header)
	}
	if r := l.fetch(http.MethodOptions, "/auth/v1/token", "https://evil.example", preflight("POST", "content-type"), ""); r.status != 403 || r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("other origin's preflight: %d %v", r.status, r.header)
	}
	if r := l.fetch(http.MethodGet, "/.well-known/openid-configuration", "https://evil.example", nil, ""); r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("other origin's GET: %d %v", r.status, r.header)
	}
}

// signedIn asks the authorization server, without showing a page, whether b is signed in.
func (l *live) signedIn(b *browser) bool {
	l.t.Helper()
	p, _ := resultParams(l.t, b.get(authzPath(demo.HostappClientID, l.url+demo.BoxoCallbackPath, url.Values{"prompt": {"none"}})).location(l.t))
	if p.Get("code") == "" && p.Get("error") != "login_required" {
		l.t.Fatalf("prompt=none answered %v", p)
	}
	return p.Get("code") != ""
}

func jsonString(t *testing.T, body, key string) string {
	t.Helper()
	m := map[string]any{}
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("not JSON: %s", body)
	}
	v, _ := m[key].(string)
	return v
}

// The sign-in and sign-out forms refuse posts a browser sends from another site (login CSRF,
// forced sign-out): Sec-Fetch-Site, else Origin against Host. Non-browser clients send
// neither and are served.
func TestSignInAndOutRefuseCrossSitePosts(t *testing.T) {
	l := newLive(t)
	creds := url.Values{"username": {"carol"}, "password": {"carol-password"}}.Encode()
	login := func(h map[string]string) response {
		h["Content-Type"] = "application/x-www-form-urlencoded"
		return l.fetch(http.MethodPost, "/auth/v1/login", "", h, creds)
	}
	for name, h := range map[string]map[string]string{
		"Sec-Fetch-Site cross-site": {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
		"Sec-Fetch-Site same-site":  {"Sec-Fetch-Site": "same-site", "Origin": "http://127.0.0.1:1"},
		"Origin of another host":    {"Origin": "https://evil.example"},
	} {
		r := login(h)
		if r.status != http.StatusForbidden || r.header.Get("Set-Cookie") != "" || r.header.Get("Location") != "" ||
			!strings.Contains(r.body, "cross_site_request") || strings.Contains(r.body, "could not be trusted") {
			t.Errorf("%s: %d %v", name, r.status, r.header)
		}
	}
	for name, h := range map[string]map[string]string{
		"Sec-Fetch-Site same-origin": {"Sec-Fetch-Site": "same-origin", "Origin": l.url},
		"Origin of this host":        {"Origin": l.url},
		"no browser headers":         {},
	} {
		if r := login(h); r.status != http.StatusFound || !strings.Contains(r.header.Get("Set-Cookie"), hostapp.SessionCookie) {
			t.Errorf("%s: %d %v", name, r.status, r.header)
		}
	}

	// Sign-out: a cross-site post leaves the session alone.
	b := l.browser()
	b.signIn("alice")
	post := func(h map[string]string) response {
		req, _ := http.NewRequest(http.MethodPost, l.url+"/auth/v1/logout", nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		return b.do(req)
	}
	if r := post(map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}); r.status != http.StatusForbidden {
		t.Fatalf("cross-site sign-out: %d", r.status)
	}
	if !l.signedIn(b) {
		t.Fatal("a cross-site post signed the user out")
	}
	if r := post(map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": l.url}); r.status != http.StatusFound {
		t.Fatalf("sign-out: %d", r.status)
	}
	if l.signedIn(b) {
		t.Fatal("still signed in after signing out")
	}
}

// Pages are not sniffed and leak no URL (authorization parameters) as Referer.
func TestPageSecurityHeaders(t *testing.T) {
	l := newLive(t)
	b := l.browser()
	pages := map[string]response{
		"sign-in":  b.get("/auth/v1/login"),
		"error":    b.get("/auth/v1/authorize?client_id=nobody&redirect_uri=x"),
		"callback": b.get(demo.BoxoCallbackPath + "?code=abc"),
	}
	b.signIn("alice")
	pages["consent"] = b.get(authzPath(hostapp.DemoWebClientID, l.url+hostapp.DemoWebCallbackPath, nil))
	pages["refused post"] = l.fetch(http.MethodPost, "/auth/v1/login", "https://evil.example",
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "username=a")
	for name, r := range pages {
		if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || r.header.Get("X-Content-Type-Options") != "nosniff" ||
			r.header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s page: %d %v", name, r.status, r.header)
		}
	}
}

// ---- gaps found by mutating the host app's code

// A Connect code replayed after it expired still revokes what it issued: the used-code
// check comes before the expiry check.
func TestConnectCodeReplayAfterExpiryRevokes(t *testing.T) {
	e := newEnv(t)
	code := e.boxoCode("alice")
	access, refresh := e.tokens(code)
	e.clk.Advance(hostapp.DefaultAuthCodeTTL + time.Minute) // the code has expired; the access token has not
	wantCode(t, e.userData(access), "")
	wantCode(t, e.redeem(code), contract.CodeInvalidAuthCode)
	wantCode(t, e.userData(access), contract.CodeInvalidAccessToken)
	wantCode(t, e.refresh(refresh), contract.CodeInvalidRefreshToken)
}

// Tokens of the authorization server and of the v1 API are not Connect access tokens.
func TestConnectUserDataRefusesOtherAPIsTokens(t *testing.T) {
	l := newLive(t)
	b := l.browser()
	b.signIn("alice")
	_, _, m := l.tokenCall(hostapp.DemoWebClientID, hostapp.DemoWebClientSecret, codeForm(l.demoCode(b, nil), l.url+hostapp.DemoWebCallbackPath))
	_, v1, _ := l.v1Token(v1Body(hostapp.DemoV1AppID, hostapp.DemoV1AppSecret, l.v1Nonce(b)))
	for _, tok := range []string{m["access_token"].(string), v1["access_token"].(string)} {
		wantCode(t, l.userData(tok), contract.CodeInvalidAccessToken)
	}
	// The same user's Connect token is served.
	code := codeOf(t, b.result(authzPath(demo.HostappClientID, l.url+demo.BoxoCallbackPath, nil)))
	access, _ := l.tokens(code)
	wantCode(t, l.userData(access), "")
}

// A client without the email scope gets no e-mail claims for a user who has an e-mail.
func TestEmailScopeGating(t *testing.T) {
	l := newLive(t)
	l.putClient("noemail", `{"secret":"s","redirect_uris":["`+rpRedirect+`"],"scopes":["openid","profile"],"skip_consent":true}`)
	l.putClient("withemail", `{"secret":"s","redirect_uris":["`+rpRedirect+`"],"scopes":["openid","email"],"skip_consent":true}`)
	b := l.browser()
	b.signIn("alice") // has an e-mail
	for client, want := range map[string]bool{"noemail": false, "withemail": true} {
		status, _, tok := l.tokenCall(client, "s", codeForm(codeOf(t, b.result(authzPath(client, rpRedirect, nil))), rpRedirect))
		if status != 200 {
			t.Fatalf("%s: %d %v", client, status, tok)
		}
		idt := l.idTokenClaims(client, tok["id_token"].(string))
		var ui map[string]any
		if err := json.Unmarshal([]byte(l.userinfo(tok["access_token"].(string)).body), &ui); err != nil {
			t.Fatal(err)
		}
		for where, claims := range map[string]map[string]any{"ID token": idt, "userinfo": ui} {
			_, hasEmail := claims["email"]
			_, hasVerified := claims["email_verified"]
			if hasEmail != want || hasVerified != want {
				t.Errorf("%s %s: email %v, email_verified %v, want both %v", client, where, claims["email"], claims["email_verified"], want)
			}
		}
	}
}

// Repeated parameters at the token and revocation endpoints are invalid_request (RFC 6749
// §3.2, RFC 7009 §2.1), even when the first value alone would succeed.
func TestRepeatedFormParameters(t *testing.T) {
	l := newLive(t)
	b := l.browser()
	b.signIn("alice")
	redirect := l.url + hostapp.DemoWebCallbackPath
	id, secret := hostapp.DemoWebClientID, hostapp.DemoWebClientSecret
	code := l.demoCode(b, nil)
	f := codeForm(code, redirect)
	f.Add("code", "another-code")
	if status, _, m := l.tokenCall(id, secret, f); status != 400 || m["error"] != "invalid_request" {
		t.Fatalf("code=a&code=b: %d %v", status, m)
	}
	status, _, m := l.tokenCall(id, secret, codeForm(code, redirect))
	if status != 200 {
		t.Fatalf("the refused request spent the code: %d %v", status, m)
	}
	access := m["access_token"].(string)
	r := l.revoke(oauth2.AuthStyleInHeader, id, secret, url.Values{"token": {access, "other"}})
	if r.status != 400 || !strings.Contains(r.body, "invalid_request") {
		t.Fatalf("token=a&token=b: %d %s", r.status, r.body)
	}
	if r := l.userinfo(access); r.status != 200 {
		t.Fatalf("the refused revocation revoked: %d", r.status)
	}
	if r := l.revoke(oauth2.AuthStyleInHeader, id, secret, url.Values{"token": {access}}); r.status != 200 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
}

// The consent forms refuse cross-site posts too, even with the session's CSRF token.
func TestConsentRefusesCrossSitePosts(t *testing.T) {
	l := newLive(t)
	b := l.browser()
	b.signIn("alice")
	r := b.get(authzPath(hostapp.DemoWebClientID, l.url+hostapp.DemoWebCallbackPath, nil))
	action, fields, ok := consentForm(r.body)
	if !ok {
		t.Fatalf("no consent page: %d %s", r.status, r.body)
	}
	fields.Set("decision", "allow")
	post := func(h map[string]string) response {
		req, _ := http.NewRequest(http.MethodPost, l.url+action, strings.NewReader(fields.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range h {
			req.Header.Set(k, v)
		}
		return b.do(req)
	}
	if r := post(map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}); r.status != http.StatusForbidden || r.header.Get("Location") != "" {
		t.Fatalf("cross-site consent: %d %v", r.status, r.header)
	}
	if r := post(map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": l.url}); r.status != http.StatusFound || mustParams(t, r).Get("code") == "" {
		t.Fatalf("same-origin consent: %d %v", r.status, r.header)
	}
}
