package hostapp_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/boxo-sim/boxo-sim/hostapp"
	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
)

// The rules of PROTOCOL §6.13, each with a request that passes and one that is refused.
// Clients are configured through /_sim/clients; requests are raw HTTP unless the point is
// that a standard client library works.

const (
	rpRedirect  = "https://rp.example/cb"
	spaRedirect = "https://spa.example/cb"
)

// withRP registers "rp", a confidential client (client_secret_basic) that skips consent.
func (l *live) withRP() {
	l.putClient("rp", `{"secret":"rp-secret","redirect_uris":["`+rpRedirect+`"],"scopes":["openid","profile","email"],"skip_consent":true}`)
}

// withSPA registers "spa", a public client (token_endpoint_auth_method none).
func (l *live) withSPA() {
	l.putClient("spa", `{"token_endpoint_auth_method":"none","redirect_uris":["`+spaRedirect+`"],"scopes":["openid","profile","email"],"skip_consent":true}`)
}

// authzPath builds an authorization request for client with the redirect URI and params.
func authzPath(client, redirect string, params url.Values) string {
	q := url.Values{"client_id": {client}, "redirect_uri": {redirect}, "response_type": {"code"}, "state": {"st-1"}}
	for k, v := range params {
		q[k] = v
	}
	for k, v := range q {
		if len(v) == 1 && v[0] == "" {
			delete(q, k)
		}
	}
	return "/auth/v1/authorize?" + q.Encode()
}

// result follows one authorization request that must redirect to the client at once and
// returns the result parameters (query or fragment).
func (b *browser) result(path string) url.Values {
	b.t.Helper()
	r := b.get(path)
	loc := r.location(b.t)
	if loc.Path == "/auth/v1/login" || loc.Host == "" {
		b.t.Fatalf("redirected to %s, not to the client", loc)
	}
	p, _ := resultParams(b.t, loc)
	if p.Get("state") != "st-1" {
		b.t.Fatalf("state not echoed: %s", loc)
	}
	return p
}

// wantAuthzError asserts that the result is the OAuth error code and carries no grant.
func wantAuthzError(t *testing.T, p url.Values, code string) {
	t.Helper()
	if p.Get("error") != code || p.Get("error_description") == "" || p.Has("code") || p.Has("access_token") || p.Has("id_token") {
		t.Fatalf("result %v, want error %s", p, code)
	}
}

// codeOf asserts that the result is a code and returns it.
func codeOf(t *testing.T, p url.Values) string {
	t.Helper()
	if p.Get("code") == "" || p.Has("error") {
		t.Fatalf("result %v, want a code", p)
	}
	return p.Get("code")
}

func TestClientAuthenticationPerClient(t *testing.T) {
	l := newLive(t)
	l.withRP()
	l.withSPA()
	l.putClient("poster", `{"secret":"poster-secret","token_endpoint_auth_method":"client_secret_post","redirect_uris":["`+rpRedirect+`"],"scopes":["openid"],"skip_consent":true}`)
	b := l.browser()
	b.signIn("alice")
	verifier := oauth2.GenerateVerifier()
	pkce := url.Values{"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
	code := func(client, redirect string) string {
		return codeOf(t, b.result(authzPath(client, redirect, pkce)))
	}
	form := func(c string, extra ...string) url.Values {
		f := codeForm(c, rpRedirect)
		f.Set("code_verifier", verifier)
		for i := 0; i+1 < len(extra); i += 2 {
			f.Set(extra[i], extra[i+1])
		}
		return f
	}
	wantRefused := func(t *testing.T, status int, h http.Header, m map[string]any) {
		t.Helper()
		if status != http.StatusUnauthorized || m["error"] != "invalid_client" || h.Get("WWW-Authenticate") == "" {
			t.Fatalf("%d %v, want 401 invalid_client", status, m)
		}
	}

	t.Run("client_secret_basic client", func(t *testing.T) {
		c := code("rp", rpRedirect)
		status, h, m := l.tokenCall("", "", form(c, "client_id", "rp", "client_secret", "rp-secret"))
		wantRefused(t, status, h, m)
		status, h, m = l.tokenCall("", "", form(c, "client_id", "rp"))
		wantRefused(t, status, h, m)
		if status, _, m := l.tokenCall("rp", "rp-secret", form(c)); status != 200 || m["access_token"] == nil {
			t.Fatalf("Basic: %d %v", status, m)
		}
	})
	t.Run("client_secret_post client", func(t *testing.T) {
		c := code("poster", rpRedirect)
		status, h, m := l.tokenCall("poster", "poster-secret", form(c))
		wantRefused(t, status, h, m)
		status, h, m = l.tokenCall("", "", form(c, "client_id", "poster"))
		wantRefused(t, status, h, m)
		status, h, m = l.tokenCall("", "", form(c, "client_id", "poster", "client_secret", "wrong"))
		wantRefused(t, status, h, m)
		if status, _, m := l.tokenCall("", "", form(c, "client_id", "poster", "client_secret", "poster-secret")); status != 200 || m["access_token"] == nil {
			t.Fatalf("post: %d %v", status, m)
		}
	})
	t.Run("public client", func(t *testing.T) {
		c := code("spa", spaRedirect)
		f := func(extra ...string) url.Values {
			v := form(c, extra...)
			v.Set("redirect_uri", spaRedirect)
			return v
		}
		status, h, m := l.tokenCall("spa", "anything", f())
		wantRefused(t, status, h, m)
		status, h, m = l.tokenCall("", "", f("client_id", "spa", "client_secret", "anything"))
		wantRefused(t, status, h, m)
		status, h, m = l.tokenCall("", "", f())
		wantRefused(t, status, h, m)
		status, _, m = l.tokenCall("", "", f("client_id", "spa"))
		if status != 200 || m["access_token"] == nil || m["refresh_token"] == nil {
			t.Fatalf("public client: %d %v", status, m)
		}
		// It refreshes and revokes with its client_id alone, and cannot use the Connect
		// adapter, which needs a secret.
		status, _, m2 := l.tokenCall("", "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m["refresh_token"].(string)}, "client_id": {"spa"}})
		if status != 200 || m2["access_token"] == nil {
			t.Fatalf("public refresh: %d %v", status, m2)
		}
		if r := l.revoke(oauth2.AuthStyleInHeader, "spa", "", url.Values{"token": {m2["access_token"].(string)}}); r.status != 401 {
			t.Fatalf("public client revoking with Basic: %d %s", r.status, r.body)
		}
		if r := l.revoke(oauth2.AuthStyleAutoDetect, "", "", url.Values{"token": {m2["access_token"].(string)}, "client_id": {"spa"}}); r.status != 200 {
			t.Fatalf("public client revoking: %d %s", r.status, r.body)
		}
		if r := l.userinfo(m2["access_token"].(string)); r.status != 401 {
			t.Fatalf("revoked token at userinfo: %d", r.status)
		}
		wantCode(t, l.connectCall(http.MethodPost, demo.AccessTokenPath, demo.TokenPrefix+" "+contract.BasicCredential("spa", ""),
			`{"auth_code":"`+code("spa", spaRedirect)+`"}`, nil), contract.CodeAccessDenied)
	})
}

// The admin API keeps a public client public and a confidential one with a secret.
func TestClientsAdminAuthMethod(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ body, want string }{
		{`{"token_endpoint_auth_method":"private_key_jwt","secret":"s","redirect_uris":["https://a.example/cb"]}`, "token_endpoint_auth_method"},
		{`{"token_endpoint_auth_method":"none","secret":"s","redirect_uris":["https://a.example/cb"]}`, "no secret"},
		{`{"token_endpoint_auth_method":"none","require_pkce":false,"redirect_uris":["https://a.example/cb"]}`, "always requires PKCE"},
		{`{"redirect_uris":["https://a.example/cb"]}`, "needs a secret"},
		{`{"token_endpoint_auth_method":"client_secret_post","redirect_uris":["https://a.example/cb"]}`, "needs a secret"},
	} {
		rec := e.do(call{method: http.MethodPut, path: "/_sim/clients/c1", body: tc.body, header: jsonHeader})
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), tc.want) {
			t.Errorf("%s: %d %s", tc.body, rec.Code, rec.Body)
		}
	}
	rec := e.do(call{method: http.MethodPut, path: "/_sim/clients/pub", header: jsonHeader, body: `{"token_endpoint_auth_method":"none","redirect_uris":["https://a.example/cb"]}`})
	if m := jsonBody(t, rec); rec.Code != 200 || m["token_endpoint_auth_method"] != "none" || m["require_pkce"] != true {
		t.Fatalf("public client: %d %v", rec.Code, m)
	}
	// Turning it confidential needs a secret; then PKCE is the client's choice.
	if rec := e.do(call{method: http.MethodPut, path: "/_sim/clients/pub", header: jsonHeader, body: `{"token_endpoint_auth_method":"client_secret_basic"}`}); rec.Code != 400 {
		t.Fatalf("confidential without secret: %d %s", rec.Code, rec.Body)
	}
	rec = e.do(call{method: http.MethodPut, path: "/_sim/clients/pub", header: jsonHeader, body: `{"token_endpoint_auth_method":"client_secret_basic","secret":"s","require_pkce":false}`})
	if m := jsonBody(t, rec); rec.Code != 200 || m["token_endpoint_auth_method"] != "client_secret_basic" || m["require_pkce"] != false {
		t.Fatalf("confidential: %d %v", rec.Code, m)
	}
	rec = e.do(call{method: http.MethodGet, path: "/_sim/clients/" + hostapp.DemoWebClientID})
	if m := jsonBody(t, rec); m["token_endpoint_auth_method"] != "client_secret_basic" || m["require_pkce"] != false {
		t.Fatalf("seeded client defaults: %v", m)
	}
}

func TestPKCE(t *testing.T) {
	l := newLive(t)
	l.withRP()
	b := l.browser()
	b.signIn("alice")
	verifier := oauth2.GenerateVerifier()
	s256 := oauth2.S256ChallengeFromVerifier(verifier)
	code := func(params url.Values) string { return codeOf(t, b.result(authzPath("rp", rpRedirect, params))) }
	redeem := func(c string, verifier *string) (int, map[string]any) {
		f := codeForm(c, rpRedirect)
		if verifier != nil {
			f.Set("code_verifier", *verifier)
		}
		status, _, m := l.tokenCall("rp", "rp-secret", f)
		return status, m
	}
	want := func(t *testing.T, status int, m map[string]any, wantStatus int, wantErr string) {
		t.Helper()
		if status != wantStatus || (wantErr == "" && m["access_token"] == nil) || (wantErr != "" && m["error"] != wantErr) {
			t.Fatalf("%d %v, want %d %q", status, m, wantStatus, wantErr)
		}
	}
	other := oauth2.GenerateVerifier()
	short := "too-short"

	t.Run("S256", func(t *testing.T) {
		c := code(url.Values{"code_challenge": {s256}, "code_challenge_method": {"S256"}})
		status, m := redeem(c, nil)
		want(t, status, m, 400, "invalid_grant")
		if d, _ := m["error_description"].(string); !strings.Contains(d, "code_verifier is required") {
			t.Fatalf("missing verifier: %q", d)
		}
		status, m = redeem(c, &other)
		want(t, status, m, 400, "invalid_grant")
		status, m = redeem(c, &short)
		want(t, status, m, 400, "invalid_request")
		// The refused attempts did not spend the code.
		status, m = redeem(c, &verifier)
		want(t, status, m, 200, "")
	})
	t.Run("plain", func(t *testing.T) {
		c := code(url.Values{"code_challenge": {verifier}, "code_challenge_method": {"plain"}})
		// A plain challenge is the verifier itself: the code keeps only its hash.
		if rec, err := l.db.GetAuthCode(t.Context(), contract.Hash(c)); err != nil || rec.CodeChallenge == verifier || rec.CodeChallengeMethod != "plain" {
			t.Fatalf("stored challenge %q %q (%v)", rec.CodeChallenge, rec.CodeChallengeMethod, err)
		}
		status, m := redeem(c, &other)
		want(t, status, m, 400, "invalid_grant")
		status, m = redeem(c, &verifier)
		want(t, status, m, 200, "")
	})
	t.Run("method defaults to plain", func(t *testing.T) {
		c := code(url.Values{"code_challenge": {s256}})
		status, m := redeem(c, &verifier) // would match S256, not plain
		want(t, status, m, 400, "invalid_grant")
		status, m = redeem(c, &s256)
		want(t, status, m, 200, "")
	})
	t.Run("verifier without challenge", func(t *testing.T) {
		c := code(nil)
		status, m := redeem(c, &verifier)
		want(t, status, m, 400, "invalid_grant")
		status, m = redeem(c, nil)
		want(t, status, m, 200, "")
	})
	t.Run("malformed challenges", func(t *testing.T) {
		for name, params := range map[string]url.Values{
			"S256 too long":            {"code_challenge": {s256 + "A"}, "code_challenge_method": {"S256"}},
			"S256 padded":              {"code_challenge": {s256[:42] + "="}, "code_challenge_method": {"S256"}},
			"plain too short":          {"code_challenge": {"abc"}, "code_challenge_method": {"plain"}},
			"plain bad character":      {"code_challenge": {strings.Repeat("a", 42) + "+"}},
			"plain too long":           {"code_challenge": {strings.Repeat("a", 129)}},
			"unknown method":           {"code_challenge": {s256}, "code_challenge_method": {"S512"}},
			"method without challenge": {"code_challenge_method": {"S256"}},
		} {
			t.Log(name)
			wantAuthzError(t, b.result(authzPath("rp", rpRedirect, params)), "invalid_request")
		}
		// The longest plain verifier is fine.
		long := strings.Repeat("a.~_-", 25) + "abc"
		c := code(url.Values{"code_challenge": {long}, "code_challenge_method": {"plain"}})
		status, m := redeem(c, &long)
		want(t, status, m, 200, "")
	})
	t.Run("require_pkce", func(t *testing.T) {
		l.putClient("rp", `{"require_pkce":true}`)
		defer l.putClient("rp", `{"require_pkce":false}`)
		wantAuthzError(t, b.result(authzPath("rp", rpRedirect, nil)), "invalid_request")
		// Response types that issue no code are not concerned.
		p := b.result(authzPath("rp", rpRedirect, url.Values{"response_type": {"token"}}))
		if p.Get("access_token") == "" {
			t.Fatalf("token response with require_pkce: %v", p)
		}
		c := code(url.Values{"code_challenge": {s256}, "code_challenge_method": {"S256"}})
		status, m := redeem(c, &verifier)
		want(t, status, m, 200, "")
	})
	t.Run("public clients must use PKCE", func(t *testing.T) {
		l.withSPA()
		wantAuthzError(t, b.result(authzPath("spa", spaRedirect, nil)), "invalid_request")
		codeOf(t, b.result(authzPath("spa", spaRedirect, url.Values{"code_challenge": {s256}, "code_challenge_method": {"S256"}})))
		// Also when the stored flag says otherwise (a record written by other means).
		c, err := l.db.GetClient(t.Context(), "spa")
		if err != nil {
			t.Fatal(err)
		}
		c.RequirePKCE = false
		if _, err := l.db.PutClient(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		wantAuthzError(t, b.result(authzPath("spa", spaRedirect, nil)), "invalid_request")
	})
}

// A code bound to a challenge cannot be redeemed at the Connect adapter, which has no
// verifier to send; the adapter's ordinary codes still work.
func TestPKCEBoundCodeAtConnect(t *testing.T) {
	e := newEnv(t)
	c := e.signIn("alice", "alice-password")
	rec := e.authorize(c, url.Values{"client_id": {demo.HostappClientID}, "response_type": {"code"}, "redirect_uri": {boxoCallback},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"}}, nil)
	code := location(t, rec).Query().Get("code")
	if code == "" {
		t.Fatalf("no code: %s", rec.Header().Get("Location"))
	}
	wantCode(t, e.redeem(code), contract.CodeInvalidAuthCode)
	e.tokens(e.codeFor(c))
}

// idTokenClaims verifies an ID token with go-oidc and returns its claims.
func (l *live) idTokenClaims(client, raw string) map[string]any {
	l.t.Helper()
	p, err := oidc.NewProvider(l.ctx(), l.url)
	if err != nil {
		l.t.Fatal(err)
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: client, Now: l.clk.Now}).Verify(l.ctx(), raw)
	if err != nil {
		l.t.Fatal(err)
	}
	var m map[string]any
	if err := idt.Claims(&m); err != nil {
		l.t.Fatal(err)
	}
	return m
}

// exchange redeems a code of "rp" and returns the verified ID token's claims.
func (l *live) exchange(code string) map[string]any {
	l.t.Helper()
	status, _, m := l.tokenCall("rp", "rp-secret", codeForm(code, rpRedirect))
	if status != 200 {
		l.t.Fatalf("exchange: %d %v", status, m)
	}
	return l.idTokenClaims("rp", m["id_token"].(string))
}

// signInAgain expects a redirect to the sign-in page, signs in there as user and follows
// the way back; it returns the final redirect's result parameters.
func (b *browser) signInAgain(r response, user string) url.Values {
	b.t.Helper()
	login := r.location(b.t)
	if login.Path != "/auth/v1/login" {
		b.t.Fatalf("want a redirect to sign in, got %s", login)
	}
	du, _ := demo.FindUser(user)
	back := b.post("/auth/v1/login", url.Values{"username": {du.Username}, "password": {du.Password}, "return_to": {login.Query().Get("return_to")}})
	return b.result(back.location(b.t).String())
}

func TestAuthTimeAndMaxAge(t *testing.T) {
	l := newLive(t)
	l.withRP()
	b := l.browser()
	b.signIn("alice") // at testStart
	l.clk.Advance(10 * time.Minute)

	// Within max_age: no new sign-in, auth_time is the session's.
	claims := l.exchange(codeOf(t, b.result(authzPath("rp", rpRedirect, url.Values{"max_age": {"600"}}))))
	if claims["auth_time"] != float64(testStart.Unix()) {
		t.Fatalf("auth_time %v, want %d", claims["auth_time"], testStart.Unix())
	}
	// Older than max_age: the user signs in again, and the old session is over.
	oldJar := l.browser()
	oldJar.c.Jar.SetCookies(mustURL(t, l.url), b.c.Jar.Cookies(mustURL(t, l.url)))
	l.clk.Advance(time.Second)
	r := b.get(authzPath("rp", rpRedirect, url.Values{"max_age": {"600"}}))
	if rt := r.location(t).Query().Get("return_to"); strings.Contains(rt, "max_age") || !strings.Contains(rt, "client_id=rp") {
		t.Fatalf("return_to %q", rt)
	}
	if loc := oldJar.get(authzPath("rp", rpRedirect, nil)).location(t); loc.Path != "/auth/v1/login" {
		t.Fatalf("the old session still signs in: %s", loc)
	}
	if page := b.get(r.location(t).String()); !strings.Contains(page.body, "asks you to sign in again") {
		t.Fatalf("the sign-in page does not say why: %s", page.body)
	}
	claims = l.exchange(codeOf(t, b.signInAgain(r, "alice")))
	if want := testStart.Add(10*time.Minute + time.Second).Unix(); claims["auth_time"] != float64(want) {
		t.Fatalf("auth_time %v after signing in again, want %d", claims["auth_time"], want)
	}
	// max_age=0 always asks, even right after a sign-in.
	r = b.get(authzPath("rp", rpRedirect, url.Values{"max_age": {"0"}}))
	codeOf(t, b.signInAgain(r, "alice"))
	// Malformed max_age.
	for _, v := range []string{"-1", "abc", "1.5", "+5", ""} {
		wantAuthzError(t, b.result(authzPath("rp", rpRedirect, nil)+"&max_age="+url.QueryEscape(v)), "invalid_request")
	}
	// auth_time is in the implicit ID token too.
	p := b.result(authzPath("rp", rpRedirect, url.Values{"response_type": {"id_token"}, "nonce": {"n-1"}}))
	if c := l.idTokenClaims("rp", p.Get("id_token")); c["auth_time"] == nil {
		t.Fatalf("implicit ID token without auth_time: %v", c)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestPrompt(t *testing.T) {
	l := newLive(t)
	l.withRP()
	web := func(params url.Values) string {
		return authzPath(hostapp.DemoWebClientID, l.url+hostapp.DemoWebCallbackPath, params)
	}
	none := url.Values{"prompt": {"none"}}

	t.Run("none", func(t *testing.T) {
		b := l.browser()
		wantAuthzError(t, b.result(authzPath("rp", rpRedirect, none)), "login_required")
		b.signIn("alice")
		codeOf(t, b.result(authzPath("rp", rpRedirect, none)))
		// The demo web client asks for consent, which prompt=none cannot show.
		wantAuthzError(t, b.result(web(none)), "consent_required")
		b.authorize(web(nil)) // consents
		codeOf(t, b.result(web(none)))
		// A session older than max_age cannot be refreshed silently.
		l.clk.Advance(time.Hour)
		wantAuthzError(t, b.result(authzPath("rp", rpRedirect, url.Values{"prompt": {"none"}, "max_age": {"60"}})), "login_required")
		codeOf(t, b.result(authzPath("rp", rpRedirect, url.Values{"prompt": {"none"}, "max_age": {"3600"}})))
		// max_age=0 is prompt=login, which prompt=none cannot satisfy, even right after a sign-in.
		b.signIn("alice")
		wantAuthzError(t, b.result(authzPath("rp", rpRedirect, url.Values{"prompt": {"none"}, "max_age": {"0"}})), "login_required")
	})
	t.Run("refused values", func(t *testing.T) {
		b := l.browser()
		b.signIn("alice")
		for _, v := range []string{"none login", "consent none", "create", "login bogus"} {
			wantAuthzError(t, b.result(authzPath("rp", rpRedirect, url.Values{"prompt": {v}})), "invalid_request")
		}
		// Values that may go together are accepted: a new sign-in, then the consent page.
		if loc := b.get(authzPath("rp", rpRedirect, url.Values{"prompt": {"consent login"}})).location(t); loc.Path != "/auth/v1/login" {
			t.Fatalf("prompt=consent login: %s", loc)
		}
	})
	for _, v := range []string{"login", "select_account"} {
		t.Run(v, func(t *testing.T) {
			b := l.browser()
			b.signIn("alice")
			codeOf(t, b.result(authzPath("rp", rpRedirect, nil))) // no prompt: no sign-in
			l.clk.Advance(time.Minute)
			r := b.get(authzPath("rp", rpRedirect, url.Values{"prompt": {v}}))
			if rt := r.location(t).Query().Get("return_to"); strings.Contains(rt, "prompt") {
				t.Fatalf("return_to keeps the prompt: %q", rt)
			}
			claims := l.exchange(codeOf(t, b.signInAgain(r, "bob")))
			if claims["preferred_username"] != "bob" || claims["auth_time"] != float64(l.clk.Now().Unix()) {
				t.Fatalf("after prompt=%s: %v", v, claims)
			}
		})
	}
	t.Run("consent", func(t *testing.T) {
		b := l.browser()
		b.signIn("alice")
		b.authorize(web(nil))
		if r := b.get(web(nil)); r.status != http.StatusFound {
			t.Fatalf("consented before, still asked: %d", r.status)
		}
		r := b.get(web(url.Values{"prompt": {"consent"}}))
		if _, _, ok := consentForm(r.body); r.status != 200 || !ok {
			t.Fatalf("prompt=consent showed no consent page: %d", r.status)
		}
		codeOf(t, mustParams(t, b.decide(r, "allow")))
		// Also for a client that skips consent.
		if r := b.get(authzPath("rp", rpRedirect, url.Values{"prompt": {"consent"}})); r.status != 200 {
			t.Fatalf("prompt=consent on a skip_consent client: %d", r.status)
		}
		// prompt=login consent: a new sign-in, then the page.
		r = b.get(web(url.Values{"prompt": {"login consent"}}))
		login := r.location(t)
		du, _ := demo.FindUser("alice")
		back := b.post("/auth/v1/login", url.Values{"username": {du.Username}, "password": {du.Password}, "return_to": {login.Query().Get("return_to")}})
		if r := b.get(back.location(t).String()); r.status != 200 {
			t.Fatalf("prompt=login consent: no consent page after signing in: %d", r.status)
		}
	})
}

func mustParams(t *testing.T, r response) url.Values {
	t.Helper()
	p, _ := resultParams(t, r.location(t))
	return p
}

func TestNonceRequiredForIDTokens(t *testing.T) {
	l := newLive(t)
	l.withRP()
	b := l.browser()
	b.signIn("alice")
	for _, rt := range []string{"id_token", "id_token token"} {
		wantAuthzError(t, b.result(authzPath("rp", rpRedirect, url.Values{"response_type": {rt}})), "invalid_request")
		if p := b.result(authzPath("rp", rpRedirect, url.Values{"response_type": {rt}, "nonce": {"n-1"}})); p.Get("id_token") == "" {
			t.Fatalf("%s with nonce: %v", rt, p)
		}
	}
	// The code flow and token alone return no ID token from this endpoint: no nonce needed.
	codeOf(t, b.result(authzPath("rp", rpRedirect, nil)))
	if p := b.result(authzPath("rp", rpRedirect, url.Values{"response_type": {"token"}})); p.Get("access_token") == "" {
		t.Fatalf("token without nonce: %v", p)
	}
}

func TestRequestObjectsRefused(t *testing.T) {
	l := newLive(t)
	l.withRP()
	b := l.browser()
	b.signIn("alice")
	wantAuthzError(t, b.result(authzPath("rp", rpRedirect, url.Values{"request": {"eyJhbGciOiJub25lIn0.e30."}})), "request_not_supported")
	wantAuthzError(t, b.result(authzPath("rp", rpRedirect, url.Values{"request_uri": {"https://rp.example/req.jwt"}})), "request_uri_not_supported")
	wantAuthzError(t, b.result(authzPath("rp", rpRedirect, url.Values{"registration": {"{}"}})), "registration_not_supported")
	codeOf(t, b.result(authzPath("rp", rpRedirect, nil)))
}

// RFC 6749 §4.2.2: the implicit response carries scope when it differs from the request's.
func TestImplicitScope(t *testing.T) {
	l := newLive(t)
	l.withRP() // scopes openid profile email
	b := l.browser()
	b.signIn("alice")
	for _, tc := range []struct {
		scope string // "-" for none sent
		want  string
	}{
		{"email profile openid", ""},
		{"openid", "openid profile email"},
		{"openid profile email phone", "openid profile email"},
		{"-", "openid profile email"},
	} {
		q := url.Values{"response_type": {"token"}, "scope": {tc.scope}}
		if tc.scope == "-" {
			q.Del("scope")
		}
		p := b.result(authzPath("rp", rpRedirect, q))
		if p.Get("access_token") == "" || p.Get("scope") != tc.want || p.Has("scope") != (tc.want != "") {
			t.Errorf("scope %q: result scope %q (present %v), want %q", tc.scope, p.Get("scope"), p.Has("scope"), tc.want)
		}
	}
}

// RFC 6750 §3.1: no credentials, no error code.
func TestUserinfoWithoutCredentials(t *testing.T) {
	l := newLive(t)
	for name, auth := range map[string]string{"none": "", "Basic": "Basic " + contract.BasicCredential("a", "b")} {
		req, _ := http.NewRequest(http.MethodGet, l.url+"/auth/v1/userinfo", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		r := (&browser{t: t, c: l.srv.Client()}).do(req)
		if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") != `Bearer realm="userinfo"` || strings.Contains(r.body, "error") {
			t.Errorf("%s: %d %q %s", name, r.status, r.header.Get("WWW-Authenticate"), r.body)
		}
	}
	r := l.userinfo("not-a-token")
	if r.status != http.StatusUnauthorized || !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("bad token: %d %q", r.status, r.header.Get("WWW-Authenticate"))
	}
}

// Every claim of discovery is compared with what the server does.
func TestDiscoveryMatchesBehaviour(t *testing.T) {
	l := newLive(t)
	l.withRP()
	b := l.browser()
	b.signIn("carol")
	var doc struct {
		Issuer                   string   `json:"issuer"`
		ResponseTypes            []string `json:"response_types_supported"`
		ResponseModes            []string `json:"response_modes_supported"`
		GrantTypes               []string `json:"grant_types_supported"`
		AuthMethods              []string `json:"token_endpoint_auth_methods_supported"`
		RevocationAuthMethods    []string `json:"revocation_endpoint_auth_methods_supported"`
		PKCEMethods              []string `json:"code_challenge_methods_supported"`
		Prompts                  []string `json:"prompt_values_supported"`
		Scopes                   []string `json:"scopes_supported"`
		Claims                   []string `json:"claims_supported"`
		Algs                     []string `json:"id_token_signing_alg_values_supported"`
		RequestParameter         *bool    `json:"request_parameter_supported"`
		RequestURIParameter      *bool    `json:"request_uri_parameter_supported"`
		ClaimsParameter          *bool    `json:"claims_parameter_supported"`
		RequireRequestURIRegistr *bool    `json:"require_request_uri_registration"`
	}
	load := func() {
		r := b.get("/.well-known/openid-configuration")
		if err := json.Unmarshal([]byte(r.body), &doc); err != nil {
			t.Fatal(err)
		}
	}
	load()
	authz := func(params url.Values) url.Values {
		params.Set("nonce", contract.RandomHex(8))
		return b.result(authzPath("rp", rpRedirect, params))
	}

	for _, rt := range doc.ResponseTypes {
		if p := authz(url.Values{"response_type": {rt}}); p.Has("error") {
			t.Errorf("advertised response_type %q: %v", rt, p)
		}
	}
	wantAuthzError(t, authz(url.Values{"response_type": {"code id_token"}}), "unsupported_response_type")
	for _, m := range doc.ResponseModes {
		if p := authz(url.Values{"response_mode": {m}}); p.Has("error") {
			t.Errorf("advertised response_mode %q: %v", m, p)
		}
	}
	wantAuthzError(t, authz(url.Values{"response_mode": {"form_post"}}), "invalid_request")
	for _, pv := range doc.Prompts {
		if pv == "none" {
			if p := authz(url.Values{"prompt": {pv}}); p.Has("error") {
				t.Errorf("advertised prompt %q: %v", pv, p)
			}
			continue
		}
		// login and select_account send the browser to sign in; consent shows the page.
		r := b.get(authzPath("rp", rpRedirect, url.Values{"prompt": {pv}}))
		switch {
		case pv == "consent" && r.status == 200:
		case r.status == http.StatusFound && r.location(t).Path == "/auth/v1/login":
			b.signIn("carol")
		default:
			t.Errorf("advertised prompt %q: %d %s", pv, r.status, r.header.Get("Location"))
		}
	}
	wantAuthzError(t, authz(url.Values{"prompt": {"create"}}), "invalid_request")
	if !slices.Equal(doc.PKCEMethods, []string{"S256", "plain"}) {
		t.Errorf("code_challenge_methods_supported %v", doc.PKCEMethods)
	}
	verifier := oauth2.GenerateVerifier()
	for _, m := range doc.PKCEMethods {
		challenge := verifier
		if m == "S256" {
			challenge = oauth2.S256ChallengeFromVerifier(verifier)
		}
		f := codeForm(codeOf(t, authz(url.Values{"code_challenge": {challenge}, "code_challenge_method": {m}})), rpRedirect)
		f.Set("code_verifier", verifier)
		if status, _, m2 := l.tokenCall("rp", "rp-secret", f); status != 200 {
			t.Errorf("advertised code_challenge_method %s: %d %v", m, status, m2)
		}
	}
	wantAuthzError(t, authz(url.Values{"code_challenge": {verifier}, "code_challenge_method": {"S512"}}), "invalid_request")

	// Grant types: the code and refresh grants at the token endpoint, implicit through the
	// token response types above; others refused.
	if !slices.Equal(doc.GrantTypes, []string{"authorization_code", "refresh_token", "implicit"}) {
		t.Errorf("grant_types_supported %v", doc.GrantTypes)
	}
	status, _, tok := l.tokenCall("rp", "rp-secret", codeForm(codeOf(t, authz(url.Values{})), rpRedirect))
	if status != 200 {
		t.Fatalf("authorization_code: %d %v", status, tok)
	}
	if status, _, m := l.tokenCall("rp", "rp-secret", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}); status != 200 {
		t.Errorf("refresh_token: %d %v", status, m)
	}
	for _, g := range []string{"client_credentials", "password", "urn:ietf:params:oauth:grant-type:device_code"} {
		if status, _, m := l.tokenCall("rp", "rp-secret", url.Values{"grant_type": {g}}); status != 400 || m["error"] != "unsupported_grant_type" {
			t.Errorf("grant %s: %d %v", g, status, m)
		}
	}

	// Client authentication: exactly the methods some client uses, as clients change.
	if !slices.Equal(doc.AuthMethods, []string{"client_secret_basic"}) || !slices.Equal(doc.RevocationAuthMethods, doc.AuthMethods) {
		t.Errorf("auth methods with the seeded clients %v / %v", doc.AuthMethods, doc.RevocationAuthMethods)
	}
	l.withSPA()
	l.putClient("poster", `{"secret":"p","token_endpoint_auth_method":"client_secret_post","redirect_uris":["`+rpRedirect+`"]}`)
	load()
	if !slices.Equal(doc.AuthMethods, []string{"client_secret_basic", "client_secret_post", "none"}) {
		t.Errorf("auth methods with every kind of client: %v", doc.AuthMethods)
	}
	if rec := l.do(call{method: http.MethodDelete, path: "/_sim/clients/poster"}); rec.Code != 200 {
		t.Fatal(rec.Body)
	}
	load()
	if !slices.Equal(doc.AuthMethods, []string{"client_secret_basic", "none"}) {
		t.Errorf("auth methods after deleting the post client: %v", doc.AuthMethods)
	}

	// Request objects: advertised as unsupported, and refused.
	if doc.RequestParameter == nil || *doc.RequestParameter || doc.RequestURIParameter == nil || *doc.RequestURIParameter ||
		doc.ClaimsParameter == nil || *doc.ClaimsParameter || doc.RequireRequestURIRegistr == nil || *doc.RequireRequestURIRegistr {
		t.Errorf("request/claims parameter flags must be present and false: %+v", doc)
	}
	wantAuthzError(t, authz(url.Values{"request": {"x"}}), "request_not_supported")
	wantAuthzError(t, authz(url.Values{"request_uri": {"https://rp.example/r"}}), "request_uri_not_supported")

	// Signing algorithm and claims: every claim carol's ID token and userinfo carry with
	// every scope is advertised.
	l.putClient("rp", `{"scopes":["openid","profile","email","phone"]}`)
	_, _, tok = l.tokenCall("rp", "rp-secret", codeForm(codeOf(t, authz(url.Values{})), rpRedirect))
	idt := decodeJWT(t, tok["id_token"].(string))
	if !slices.Equal(doc.Algs, []string{idt.header["alg"].(string)}) {
		t.Errorf("id_token_signing_alg_values_supported %v, token alg %v", doc.Algs, idt.header["alg"])
	}
	var ui map[string]any
	if err := json.Unmarshal([]byte(l.userinfo(tok["access_token"].(string)).body), &ui); err != nil {
		t.Fatal(err)
	}
	for _, set := range []map[string]any{idt.claims, ui} {
		for k := range set {
			if !slices.Contains(doc.Claims, k) {
				t.Errorf("claim %q is issued but not in claims_supported", k)
			}
		}
	}
	for _, sc := range []string{"openid", "profile", "email", "phone"} {
		if !slices.Contains(doc.Scopes, sc) {
			t.Errorf("scope %q is used but not advertised", sc)
		}
	}
	if doc.Issuer != idt.claims["iss"] {
		t.Errorf("issuer %q, token iss %v", doc.Issuer, idt.claims["iss"])
	}
}

// A public client as x/oauth2 makes one (no secret, client_id in the form) with PKCE, its ID
// token verified by go-oidc.
func TestPublicClientStandardLibraries(t *testing.T) {
	l := newLive(t)
	l.withSPA()
	ctx := l.ctx()
	provider, err := oidc.NewProvider(ctx, l.url)
	if err != nil {
		t.Fatal(err)
	}
	ep := provider.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInParams
	conf := &oauth2.Config{ClientID: "spa", Endpoint: ep, RedirectURL: spaRedirect, Scopes: []string{oidc.ScopeOpenID, "email"}}
	b := l.browser()
	b.signIn("carol")
	verifier, nonce := oauth2.GenerateVerifier(), contract.RandomHex(8)

	// Without PKCE the public client gets no code at all.
	r := b.get(conf.AuthCodeURL("st-1", oidc.Nonce(nonce)))
	p, _ := resultParams(t, r.location(t))
	wantAuthzError(t, p, "invalid_request")

	p, _ = resultParams(t, b.get(conf.AuthCodeURL("st-1", oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))).location(t))
	tok, err := conf.Exchange(ctx, codeOf(t, p), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: "spa", Now: l.clk.Now}).Verify(ctx, tok.Extra("id_token").(string))
	if err != nil || idt.Nonce != nonce {
		t.Fatalf("ID token %+v %v", idt, err)
	}
	if ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err != nil || ui.Email != "carol@example.com" {
		t.Fatalf("userinfo %+v %v", ui, err)
	}
}
