package hostapp_test

import (
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/boxo-sim/boxo-sim/hostapp"
	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// oauthConfig is the demo web client as golang.org/x/oauth2 sees it, endpoints from
// discovery.
func (l *live) oauthConfig(p *oidc.Provider, style oauth2.AuthStyle) *oauth2.Config {
	ep := p.Endpoint()
	ep.AuthStyle = style
	return &oauth2.Config{ClientID: hostapp.DemoWebClientID, ClientSecret: hostapp.DemoWebClientSecret,
		Endpoint: ep, RedirectURL: l.url + hostapp.DemoWebCallbackPath, Scopes: []string{oidc.ScopeOpenID}}
}

// The code flow driven by independent, standard clients: x/oauth2 for the flow (with PKCE
// S256), go-oidc for the ID token against discovery and JWKS.
func TestCodeFlowStandardClients(t *testing.T) {
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		t.Run(map[oauth2.AuthStyle]string{oauth2.AuthStyleInHeader: "client_secret_basic", oauth2.AuthStyleInParams: "client_secret_post"}[style], func(t *testing.T) {
			l := newLive(t)
			if style == oauth2.AuthStyleInParams {
				l.putClient(hostapp.DemoWebClientID, `{"token_endpoint_auth_method":"client_secret_post"}`)
			}
			ctx := l.ctx()
			provider, err := oidc.NewProvider(ctx, l.url)
			if err != nil {
				t.Fatal(err)
			}
			conf := l.oauthConfig(provider, style)
			verifier := provider.Verifier(&oidc.Config{ClientID: hostapp.DemoWebClientID, Now: l.clk.Now})

			b := l.browser()
			state, nonce, pkce := contract.RandomHex(16), contract.RandomHex(16), oauth2.GenerateVerifier()
			// Not signed in: the authorization request sends the browser to sign in and back.
			r := b.get(conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(pkce)))
			login := r.location(t)
			if login.Path != "/auth/v1/login" {
				t.Fatalf("not signed in: redirected to %s", login)
			}
			du := "carol"
			r = b.post("/auth/v1/login", url.Values{"username": {du}, "password": {"carol-password"}, "return_to": {login.Query().Get("return_to")}})
			r = b.get(r.location(t).String())
			if !strings.Contains(r.body, "Demo Web Client") || !strings.Contains(r.body, "<code>email</code>") {
				t.Fatalf("consent page does not list the client and its scopes: %s", r.body)
			}
			cb := b.decide(r, "allow").location(t)
			if got := cb.Scheme + "://" + cb.Host + cb.Path; got != conf.RedirectURL || cb.Query().Get("state") != state {
				t.Fatalf("callback %s", cb)
			}

			// The code is bound to the challenge: no verifier, then the wrong one, are refused
			// without spending it.
			_, err = conf.Exchange(ctx, cb.Query().Get("code"))
			wantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
			_, err = conf.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier()))
			wantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
			l.clk.Advance(time.Minute) // iat moves on; auth_time stays the sign-in's
			tok, err := conf.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(pkce))
			if err != nil {
				t.Fatal(err)
			}
			if tok.TokenType != "Bearer" || tok.RefreshToken == "" || tok.Extra("expires_in") != 315360000.0 {
				t.Fatalf("token %+v expires_in %v", tok, tok.Extra("expires_in"))
			}
			rawID, _ := tok.Extra("id_token").(string)
			idt, err := verifier.Verify(ctx, rawID)
			if err != nil {
				t.Fatal(err)
			}
			if idt.Nonce != nonce || idt.Issuer != l.url || !slices.Equal(idt.Audience, []string{hostapp.DemoWebClientID}) ||
				!idt.Expiry.Equal(testStart.Add(time.Minute+604800*time.Second)) || !idt.IssuedAt.Equal(testStart.Add(time.Minute)) {
				t.Fatalf("ID token %+v", idt)
			}
			if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
				t.Fatalf("at_hash: %v", err)
			}
			var claims struct {
				Email         string `json:"email"`
				EmailVerified bool   `json:"email_verified"`
				Name          string `json:"name"`
				GivenName     string `json:"given_name"`
				FamilyName    string `json:"family_name"`
				Locale        string `json:"locale"`
				Phone         string `json:"phone_number"`
				AuthTime      int64  `json:"auth_time"`
			}
			if err := idt.Claims(&claims); err != nil {
				t.Fatal(err)
			}
			if claims.Email != "carol@example.com" || !claims.EmailVerified || claims.Name != "Carol Tan" || claims.GivenName != "Carol" ||
				claims.FamilyName != "Tan" || claims.Locale != "en-SG" || claims.Phone != "" || claims.AuthTime != testStart.Unix() {
				t.Fatalf("claims %+v (phone is not a scope of this client)", claims)
			}

			// The access token is an RS256 JWT per PROTOCOL §6.8.
			at := decodeJWT(t, tok.AccessToken)
			if at.header["kid"] == "" || at.header["alg"] != "RS256" || at.claims["aud"] != l.url || at.claims["client_id"] != hostapp.DemoWebClientID ||
				at.claims["scope"] != "openid profile email" || at.claims["sub"] != idt.Subject ||
				at.claims["exp"].(float64)-at.claims["iat"].(float64) != 315360000 {
				t.Fatalf("access token %v %v", at.header, at.claims)
			}

			// userinfo through go-oidc.
			ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatal(err)
			}
			if ui.Subject != idt.Subject || ui.Email != "carol@example.com" {
				t.Fatalf("userinfo %+v", ui)
			}

			// Refresh with rotation; the old refresh token is then refused.
			// The refreshed ID token keeps the sign-in's auth_time (OIDC Core §12.2).
			l.clk.Advance(time.Hour)
			old := *tok
			old.Expiry = time.Now().Add(-time.Minute) // make x/oauth2 refresh
			tok2, err := conf.TokenSource(ctx, &old).Token()
			if err != nil {
				t.Fatal(err)
			}
			if tok2.AccessToken == tok.AccessToken || tok2.RefreshToken == tok.RefreshToken || tok2.RefreshToken == "" {
				t.Fatalf("refresh did not rotate: %+v", tok2)
			}
			idt2, err := verifier.Verify(ctx, tok2.Extra("id_token").(string))
			if err != nil {
				t.Fatalf("refreshed ID token: %v", err)
			}
			var claims2 struct {
				AuthTime int64 `json:"auth_time"`
			}
			if err := idt2.Claims(&claims2); err != nil || claims2.AuthTime != testStart.Unix() || !idt2.IssuedAt.Equal(testStart.Add(61*time.Minute)) {
				t.Fatalf("refreshed ID token: auth_time %d, iat %v (%v)", claims2.AuthTime, idt2.IssuedAt, err)
			}
			_, err = conf.TokenSource(ctx, &old).Token()
			wantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)

			// Revocation (RFC 7009) of the new access token ends its grant: userinfo refuses it
			// and the refresh token that came with it.
			rr := l.revoke(style, hostapp.DemoWebClientID, hostapp.DemoWebClientSecret, url.Values{"token": {tok2.AccessToken}})
			if rr.status != http.StatusOK {
				t.Fatalf("revoke: %d %s", rr.status, rr.body)
			}
			if _, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok2)); err == nil {
				t.Fatal("userinfo accepted a revoked token")
			}
			expired := *tok2
			expired.Expiry = time.Now().Add(-time.Minute)
			_, err = conf.TokenSource(ctx, &expired).Token()
			wantRetrieveError(t, err, "invalid_grant", http.StatusBadRequest)
		})
	}
}

var jsonHeader = map[string]string{"Content-Type": "application/json"}

// putClient creates or changes a client through the admin API.
func (e *env) putClient(id, body string) {
	e.t.Helper()
	if rec := e.do(call{method: http.MethodPut, path: "/_sim/clients/" + id, body: body, header: jsonHeader}); rec.Code != http.StatusOK {
		e.t.Fatalf("PUT client %s: %d %s", id, rec.Code, rec.Body)
	}
}

// revoke posts form to the revocation endpoint, authenticating as style says.
func (l *live) revoke(style oauth2.AuthStyle, id, secret string, form url.Values) response {
	l.t.Helper()
	form = cloneValues(form)
	if style == oauth2.AuthStyleInParams {
		form.Set("client_id", id)
		form.Set("client_secret", secret)
	}
	req, _ := http.NewRequest(http.MethodPost, l.url+"/auth/v1/revoke", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if style == oauth2.AuthStyleInHeader {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	return (&browser{t: l.t, c: l.srv.Client()}).do(req)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

func wantRetrieveError(t *testing.T, err error, code string, status int) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != code || re.Response.StatusCode != status {
		t.Fatalf("err = %v, want RetrieveError %s with status %d", err, code, status)
	}
}

type jwtParts struct {
	header map[string]any
	claims map[string]any
}

// decodeJWT decodes a compact JWT's header and claims without verifying it.
func decodeJWT(t *testing.T, raw string) jwtParts {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWT: %q", raw)
	}
	var p jwtParts
	for i, dst := range []*map[string]any{&p.header, &p.claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func TestDiscoveryAndJWKS(t *testing.T) {
	l := newLive(t)
	b := l.browser()
	var doc map[string]any
	r := b.get("/.well-known/openid-configuration")
	if err := json.Unmarshal([]byte(r.body), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["issuer"] != l.url || doc["jwks_uri"] != l.url+"/auth/v1/jwks" || doc["token_endpoint"] != l.url+"/auth/v1/token" {
		t.Fatalf("discovery %v", doc)
	}
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal([]byte(b.get("/auth/v1/jwks").body), &set); err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&testKey().PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum(der)
	if len(set.Keys) != 1 || set.Keys[0]["kid"] != hex.EncodeToString(sum[:]) || set.Keys[0]["kty"] != "RSA" || set.Keys[0]["alg"] != "RS256" || set.Keys[0]["e"] != "AQAB" {
		t.Fatalf("jwks %v", set)
	}
}

// Without Config.SigningKey the key is generated once and kept in the store.
func TestSigningKeyGeneratedAndStored(t *testing.T) {
	db := openTestDB(t)
	kid := func() string {
		h, err := hostapp.New(hostapp.Config{BaseURL: testBaseURL, Store: db})
		if err != nil {
			t.Fatal(err)
		}
		rec := (&env{t: t, h: h}).do(call{method: http.MethodGet, path: "/auth/v1/jwks"})
		var set struct {
			Keys []struct {
				Kid string `json:"kid"`
			} `json:"keys"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &set); err != nil || len(set.Keys) != 1 {
			t.Fatalf("jwks %s %v", rec.Body, err)
		}
		return set.Keys[0].Kid
	}
	first := kid()
	if second := kid(); second != first || len(first) != 40 {
		t.Fatalf("kid %q then %q: the stored key was not reused", first, second)
	}
	k, err := db.GetSigningKey(t.Context())
	if err != nil || k.ID != first {
		t.Fatalf("stored key %q %v", k.ID, err)
	}
}

// The key is made only when something first needs it: starting the host app and serving
// requests that sign nothing (discovery, the Connect endpoints) leave the store without one.
func TestSigningKeyMadeOnFirstUse(t *testing.T) {
	db := openTestDB(t)
	h, err := hostapp.New(hostapp.Config{BaseURL: testBaseURL, Store: db})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, h: h}
	if rec := e.do(call{method: http.MethodGet, path: "/.well-known/openid-configuration"}); rec.Code != http.StatusOK {
		t.Fatalf("discovery: %d %s", rec.Code, rec.Body)
	}
	if _, err := db.GetSigningKey(t.Context()); !errors.Is(err, hostapp.ErrNotFound) {
		t.Fatalf("a signing key was made before anything needed one (%v)", err)
	}
	// Several first requests at once wait for one key.
	bodies := make([]string, 8)
	var wg sync.WaitGroup
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, testBaseURL+"/auth/v1/jwks", nil))
			bodies[i] = fmt.Sprint(rec.Code, rec.Body)
		}()
	}
	wg.Wait()
	for _, b := range bodies {
		if b != bodies[0] || !strings.HasPrefix(b, "200") {
			t.Fatalf("concurrent first JWKS requests answered differently:\n%s\n%s", bodies[0], b)
		}
	}
	k, err := db.GetSigningKey(t.Context())
	if err != nil || !strings.Contains(bodies[0], k.ID) {
		t.Fatalf("the JWKS served does not hold the stored key %q (%v): %s", k.ID, err, bodies[0])
	}
}

// tokenCall posts to the token endpoint with Basic credentials (form-encoded inside, RFC
// 6749 §2.3.1) unless id is "".
func (l *live) tokenCall(id, secret string, form url.Values) (int, http.Header, map[string]any) {
	l.t.Helper()
	req, err := http.NewRequest(http.MethodPost, l.url+"/auth/v1/token", strings.NewReader(form.Encode()))
	if err != nil {
		l.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := l.srv.Client().Do(req)
	if err != nil {
		l.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		l.t.Fatalf("token response is not JSON: %v", err)
	}
	if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Pragma") != "no-cache" {
		l.t.Errorf("token response caching headers %v", resp.Header)
	}
	return resp.StatusCode, resp.Header, m
}

// demoCode gets a code for the demo web client as alice (consenting when asked).
func (l *live) demoCode(b *browser, extra url.Values) string {
	l.t.Helper()
	q := url.Values{"client_id": {hostapp.DemoWebClientID}, "response_type": {"code"}, "redirect_uri": {l.url + hostapp.DemoWebCallbackPath}}
	for k, v := range extra {
		q[k] = v
	}
	cb := b.authorize("/auth/v1/authorize?" + q.Encode())
	code := cb.Query().Get("code")
	if code == "" {
		l.t.Fatalf("no code: %s", cb)
	}
	return code
}

func codeForm(code, redirect string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}}
}

func TestTokenEndpointErrors(t *testing.T) {
	l := newLive(t)
	b := l.browser()
	b.signIn("alice")
	redirect := l.url + hostapp.DemoWebCallbackPath
	id, secret := hostapp.DemoWebClientID, hostapp.DemoWebClientSecret

	t.Run("wrong client secret", func(t *testing.T) {
		status, h, m := l.tokenCall(id, "wrong", codeForm(l.demoCode(b, nil), redirect))
		if status != http.StatusUnauthorized || m["error"] != "invalid_client" || h.Get("WWW-Authenticate") != `Basic realm="token"` {
			t.Fatalf("%d %v %v", status, h, m)
		}
	})
	for _, tc := range []struct {
		name   string
		id     string
		secret string
		form   url.Values
		status int
		want   string
	}{
		{"no client authentication", "", "", codeForm("x", redirect), 401, "invalid_client"},
		{"unknown client", "nobody", secret, codeForm("x", redirect), 401, "invalid_client"},
		{"secret_post wrong", "", "", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "redirect_uri": {redirect}, "client_id": {id}, "client_secret": {"no"}}, 401, "invalid_client"},
		{"two auth methods", id, secret, url.Values{"grant_type": {"authorization_code"}, "client_secret": {secret}}, 400, "invalid_request"},
		{"missing grant_type", id, secret, url.Values{"code": {"x"}}, 400, "invalid_request"},
		{"unsupported grant_type", id, secret, url.Values{"grant_type": {"password"}, "username": {"alice"}}, 400, "unsupported_grant_type"},
		{"client_credentials", id, secret, url.Values{"grant_type": {"client_credentials"}}, 400, "unsupported_grant_type"},
		{"missing code", id, secret, url.Values{"grant_type": {"authorization_code"}, "redirect_uri": {redirect}}, 400, "invalid_request"},
		{"missing redirect_uri", id, secret, url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}, 400, "invalid_request"},
		{"unknown code", id, secret, codeForm(contract.RandomHex(20), redirect), 400, "invalid_grant"},
		{"missing refresh_token", id, secret, url.Values{"grant_type": {"refresh_token"}}, 400, "invalid_request"},
		{"unknown refresh_token", id, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}}, 400, "invalid_grant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, h, m := l.tokenCall(tc.id, tc.secret, tc.form)
			if status != tc.status || m["error"] != tc.want || m["error_description"] == "" {
				t.Fatalf("%d %v, want %d %s", status, m, tc.status, tc.want)
			}
			if (status == 401) != (h.Get("WWW-Authenticate") != "") {
				t.Fatalf("WWW-Authenticate %q with status %d", h.Get("WWW-Authenticate"), status)
			}
		})
	}
	t.Run("malformed bodies", func(t *testing.T) {
		for _, tc := range []struct{ ctype, body string }{
			{"application/json", `{"grant_type":"authorization_code"}`},
			{"", "grant_type=authorization_code"},
			{"application/x-www-form-urlencoded", "grant_type=authorization_code&grant_type=refresh_token"},
			{"application/x-www-form-urlencoded", "code=%zz"},
			{"application/x-www-form-urlencoded", "code=" + strings.Repeat("a", contract.MaxBodyBytes)},
		} {
			req, _ := http.NewRequest(http.MethodPost, l.url+"/auth/v1/token", strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			req.SetBasicAuth(id, secret)
			resp, err := l.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&m)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || m["error"] != "invalid_request" {
				t.Errorf("%q %.40q: %d %v", tc.ctype, tc.body, resp.StatusCode, m)
			}
		}
	})
	t.Run("code with another redirect_uri", func(t *testing.T) {
		code := l.demoCode(b, nil)
		status, _, m := l.tokenCall(id, secret, codeForm(code, redirect+"?x=1"))
		if status != 400 || m["error"] != "invalid_grant" {
			t.Fatalf("%d %v", status, m)
		}
		// The failed attempt did not spend the code.
		if status, _, m := l.tokenCall(id, secret, codeForm(code, redirect)); status != 200 || m["access_token"] == nil {
			t.Fatalf("%d %v", status, m)
		}
	})
	t.Run("code redeemed by another client", func(t *testing.T) {
		code := l.demoCode(b, nil)
		status, _, m := l.tokenCall(hostapp.DemoV1AppID, hostapp.DemoV1AppSecret, codeForm(code, redirect))
		if status != 400 || m["error"] != "invalid_grant" {
			t.Fatalf("%d %v", status, m)
		}
		if status, _, _ := l.tokenCall(id, secret, codeForm(code, redirect)); status != 200 {
			t.Fatalf("the rightful client could not redeem after the other's attempt: %d", status)
		}
	})
	t.Run("code expired", func(t *testing.T) {
		code := l.demoCode(b, nil)
		l.clk.Advance(10 * time.Minute)
		status, _, m := l.tokenCall(id, secret, codeForm(code, redirect))
		if status != 400 || m["error"] != "invalid_grant" {
			t.Fatalf("%d %v", status, m)
		}
	})
	t.Run("code reused revokes the first grant", func(t *testing.T) {
		code := l.demoCode(b, nil)
		status, _, first := l.tokenCall(id, secret, codeForm(code, redirect))
		if status != 200 {
			t.Fatalf("%d %v", status, first)
		}
		access := first["access_token"].(string)
		if r := l.userinfo(access); r.status != 200 {
			t.Fatalf("userinfo before replay: %d %s", r.status, r.body)
		}
		status, _, m := l.tokenCall(id, secret, codeForm(code, redirect))
		if status != 400 || m["error"] != "invalid_grant" {
			t.Fatalf("replay: %d %v", status, m)
		}
		if r := l.userinfo(access); r.status != http.StatusUnauthorized {
			t.Fatalf("userinfo after replay: %d %s", r.status, r.body)
		}
		status, _, m = l.tokenCall(id, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first["refresh_token"].(string)}})
		if status != 400 || m["error"] != "invalid_grant" {
			t.Fatalf("refresh after replay: %d %v", status, m)
		}
	})
	t.Run("refresh token of another client", func(t *testing.T) {
		_, _, m := l.tokenCall(id, secret, codeForm(l.demoCode(b, nil), redirect))
		status, _, m2 := l.tokenCall(hostapp.DemoV1AppID, hostapp.DemoV1AppSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m["refresh_token"].(string)}})
		if status != 400 || m2["error"] != "invalid_grant" {
			t.Fatalf("%d %v", status, m2)
		}
	})
	t.Run("refresh token expired", func(t *testing.T) {
		_, _, m := l.tokenCall(id, secret, codeForm(l.demoCode(b, nil), redirect))
		l.clk.Advance(30 * 24 * time.Hour)
		status, _, m2 := l.tokenCall(id, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m["refresh_token"].(string)}})
		if status != 400 || m2["error"] != "invalid_grant" {
			t.Fatalf("%d %v", status, m2)
		}
	})
}

// userinfo calls GET /auth/v1/userinfo with a Bearer token.
func (l *live) userinfo(token string) response {
	l.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, l.url+"/auth/v1/userinfo", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return (&browser{t: l.t, c: l.srv.Client()}).do(req)
}

func TestUserinfoErrors(t *testing.T) {
	l := newLive(t)
	b := l.browser()
	b.signIn("bob")
	redirect := l.url + hostapp.DemoWebCallbackPath
	_, _, m := l.tokenCall(hostapp.DemoWebClientID, hostapp.DemoWebClientSecret, codeForm(l.demoCode(b, nil), redirect))
	access, refresh := m["access_token"].(string), m["refresh_token"].(string)
	r := l.userinfo(access)
	var claims map[string]any
	if err := json.Unmarshal([]byte(r.body), &claims); err != nil || r.status != 200 || claims["sub"] == "" || claims["preferred_username"] != "bob" || claims["email"] != nil {
		t.Fatalf("userinfo: %d %s", r.status, r.body)
	}
	// A JWT signed by someone else with our kid, a refresh token, garbage, no token.
	forged := access[:strings.LastIndex(access, ".")] + ".c2lnbmF0dXJl"
	for name, tok := range map[string]string{"refresh token": refresh, "garbage": "abc", "forged signature": forged} {
		r := l.userinfo(tok)
		if r.status != http.StatusUnauthorized || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), `Bearer realm="userinfo", error="invalid_token"`) ||
			!strings.Contains(r.body, `"error":"invalid_token"`) {
			t.Errorf("%s: %d %v %s", name, r.status, r.header, r.body)
		}
	}
	// Expired (the access token lives ten years).
	l.clk.Advance(315360000 * time.Second)
	if r := l.userinfo(access); r.status != http.StatusUnauthorized {
		t.Fatalf("expired: %d %s", r.status, r.body)
	}
}

func TestRevokeEndpoint(t *testing.T) {
	l := newLive(t)
	b := l.browser()
	b.signIn("alice")
	redirect := l.url + hostapp.DemoWebCallbackPath
	_, _, m := l.tokenCall(hostapp.DemoWebClientID, hostapp.DemoWebClientSecret, codeForm(l.demoCode(b, nil), redirect))
	revoke := func(id, secret, token string) response {
		req, _ := http.NewRequest(http.MethodPost, l.url+"/auth/v1/revoke", strings.NewReader(url.Values{"token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(id, secret)
		return (&browser{t: t, c: l.srv.Client()}).do(req)
	}
	if r := revoke(hostapp.DemoWebClientID, "wrong", m["refresh_token"].(string)); r.status != 401 {
		t.Fatalf("wrong secret: %d", r.status)
	}
	if r := revoke(hostapp.DemoV1AppID, hostapp.DemoV1AppSecret, m["refresh_token"].(string)); r.status != 400 || !strings.Contains(r.body, "unauthorized_client") {
		t.Fatalf("other client: %d %s", r.status, r.body)
	}
	if r := l.userinfo(m["access_token"].(string)); r.status != 200 {
		t.Fatalf("a refused revocation revoked: %d", r.status)
	}
	// Revoking the refresh token revokes the access token of its grant too.
	if r := revoke(hostapp.DemoWebClientID, hostapp.DemoWebClientSecret, m["refresh_token"].(string)); r.status != 200 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if r := l.userinfo(m["access_token"].(string)); r.status != 401 {
		t.Fatalf("access token after revoking its refresh token: %d", r.status)
	}
	if r := revoke(hostapp.DemoWebClientID, hostapp.DemoWebClientSecret, "unknown-token"); r.status != 200 {
		t.Fatalf("unknown token: %d", r.status)
	}
}

func TestConsent(t *testing.T) {
	l := newLive(t)
	b := l.browser()
	b.signIn("alice")
	authz := "/auth/v1/authorize?" + url.Values{"client_id": {hostapp.DemoWebClientID}, "response_type": {"code"},
		"redirect_uri": {l.url + hostapp.DemoWebCallbackPath}, "state": {"s-1"}}.Encode()

	// Deny → access_denied to the client, with state.
	r := b.get(authz)
	loc := b.decide(r, "deny").location(t)
	if loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "s-1" || loc.Query().Get("code") != "" {
		t.Fatalf("deny: %s", loc)
	}
	// Still asked after a deny; allow grants.
	loc = b.decide(b.get(authz), "allow").location(t)
	if loc.Query().Get("code") == "" {
		t.Fatalf("allow: %s", loc)
	}
	// Previously granted with the same scopes: no page.
	if r := b.get(authz); r.status != http.StatusFound || r.location(t).Query().Get("code") == "" {
		t.Fatalf("granted before, still asked: %d", r.status)
	}
	// Changed scopes force a new consent.
	if rec := l.do(call{method: http.MethodPut, path: "/_sim/clients/" + hostapp.DemoWebClientID, body: `{"scopes":["openid","profile","email","phone"]}`}); rec.Code != 200 {
		t.Fatalf("PUT client: %d %s", rec.Code, rec.Body)
	}
	r = b.get(authz)
	if r.status != http.StatusOK || !strings.Contains(r.body, "<code>phone</code>") {
		t.Fatalf("changed scopes did not ask again: %d %s", r.status, r.body)
	}
	// Another user has not consented.
	b2 := l.browser()
	b2.signIn("bob")
	if r := b2.get(authz); r.status != http.StatusOK {
		t.Fatalf("bob was not asked: %d", r.status)
	}

	// CSRF: a forged post (wrong token, or from a browser without the session) consents nothing.
	_, fields, _ := consentForm(r.body)
	fields.Set("decision", "allow")
	fields.Set("csrf", "forged")
	if r := b.post("/auth/v1/authorize", fields); r.status != http.StatusForbidden || r.header.Get("Location") != "" {
		t.Fatalf("forged csrf: %d %v", r.status, r.header)
	}
	_, fields, _ = consentForm(b.get(authz).body)
	fields.Set("decision", "allow")
	if r := l.browser().post("/auth/v1/authorize", fields); r.status != http.StatusForbidden {
		t.Fatalf("post from another browser: %d", r.status)
	}
	// A tampered redirect_uri in the form is validated again and never redirected to.
	fields.Set("redirect_uri", "https://evil.example/cb")
	if r := b.post("/auth/v1/authorize", fields); r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
		t.Fatalf("tampered redirect_uri: %d %v", r.status, r.header)
	}
	if r := b.get(authz); r.status != http.StatusOK {
		t.Fatal("a rejected post recorded consent")
	}
}

// PROTOCOL §6.3, §9.24: where each response type's result goes, by default and on request.
func TestResponseTypePlacement(t *testing.T) {
	l := newLive(t)
	b := l.browser()
	b.signIn("carol")
	// A client that skips consent, with openid.
	if rec := l.do(call{method: http.MethodPut, path: "/_sim/clients/rp", body: `{"secret":"rp-secret","redirect_uris":["https://rp.example/cb?tenant=7"],"scopes":["openid","email"],"skip_consent":true}`}); rec.Code != 200 {
		t.Fatalf("PUT client: %d %s", rec.Code, rec.Body)
	}
	provider, err := oidc.NewProvider(l.ctx(), l.url)
	if err != nil {
		t.Fatal(err)
	}
	verifier := provider.Verifier(&oidc.Config{ClientID: "rp", Now: l.clk.Now})

	for _, tc := range []struct {
		responseType, mode string
		wantPlace          string // "query" or "fragment"
		wantErr            string // the error the client gets, "" for success
	}{
		{"code", "", "query", ""},
		{"code", "query", "query", ""},
		{"code", "fragment", "fragment", ""},
		{"none", "", "query", ""},
		{"none", "fragment", "fragment", ""},
		{"token", "", "fragment", ""},
		{"token", "fragment", "fragment", ""},
		{"token", "query", "fragment", "invalid_request"},
		{"id_token", "", "fragment", ""},
		{"id_token", "query", "fragment", "invalid_request"},
		{"id_token token", "", "fragment", ""},
		{"token id_token", "fragment", "fragment", ""},
		{"id_token token", "query", "fragment", "invalid_request"},
		{"code id_token", "", "query", "unsupported_response_type"},
	} {
		t.Run(tc.responseType+"/"+tc.mode, func(t *testing.T) {
			nonce := contract.RandomHex(8)
			// The scope sent is the one granted (the client's), so no scope comes back (RFC 6749
			// §4.2.2); TestImplicitScope covers the other case.
			q := url.Values{"client_id": {"rp"}, "redirect_uri": {"https://rp.example/cb?tenant=7"}, "response_type": {tc.responseType},
				"state": {"st&=x"}, "nonce": {nonce}, "scope": {"email openid"}}
			if tc.mode != "" {
				q.Set("response_mode", tc.mode)
			}
			loc := b.authorize("/auth/v1/authorize?" + q.Encode())
			if loc.Host != "rp.example" || loc.Path != "/cb" || loc.Query().Get("tenant") != "7" {
				t.Fatalf("redirected to %s", loc)
			}
			p, place := resultParams(t, loc)
			if place != tc.wantPlace || p.Get("state") != "st&=x" {
				t.Fatalf("results in the %s (want %s), state %q: %s", place, tc.wantPlace, p.Get("state"), loc)
			}
			if place == "fragment" && len(loc.Query()) != 1 {
				t.Fatalf("results leaked into the query: %s", loc)
			}
			if tc.wantErr != "" {
				if p.Get("error") != tc.wantErr || p.Has("access_token") || p.Has("id_token") || p.Has("code") {
					t.Fatalf("want error %s: %v", tc.wantErr, p)
				}
				return
			}
			if p.Has("error") {
				t.Fatalf("error %v", p)
			}
			rt := strings.Fields(tc.responseType)
			want := []string{"state"}
			switch {
			case tc.responseType == "code":
				want = append(want, "code")
			case tc.responseType == "none":
			default:
				want = append(want, "token_type", "expires_in")
				if slices.Contains(rt, "token") {
					want = append(want, "access_token")
				}
				if slices.Contains(rt, "id_token") {
					want = append(want, "id_token")
				}
			}
			tenant := p.Get("tenant") // kept in the query when results go there
			p.Del("tenant")
			got := make([]string, 0, len(p))
			for k := range p {
				got = append(got, k)
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("parameters %v (tenant %q), want %v", got, tenant, want)
			}
			if p.Has("id_token") {
				idt, err := verifier.Verify(l.ctx(), p.Get("id_token"))
				if err != nil {
					t.Fatal(err)
				}
				if idt.Nonce != nonce {
					t.Fatalf("nonce %q, want %q", idt.Nonce, nonce)
				}
				wantExp := "604800"
				if p.Has("access_token") {
					if err := idt.VerifyAccessToken(p.Get("access_token")); err != nil {
						t.Fatalf("at_hash: %v", err)
					}
					wantExp = "315360000"
				}
				if p.Get("expires_in") != wantExp || p.Get("token_type") != "Bearer" {
					t.Fatalf("expires_in %s token_type %s", p.Get("expires_in"), p.Get("token_type"))
				}
			}
			if p.Has("access_token") {
				if r := l.userinfo(p.Get("access_token")); r.status != 200 || !strings.Contains(r.body, "carol@example.com") {
					t.Fatalf("implicit access token at userinfo: %d %s", r.status, r.body)
				}
			}
		})
	}
}

func TestRedirectMatchHost(t *testing.T) {
	l := newLive(t)
	b := l.browser()
	b.signIn("alice")
	if rec := l.do(call{method: http.MethodPut, path: "/_sim/clients/seedlike", body: `{"secret":"s","redirect_uris":["https://www.myapp.com/auth"],"redirect_match":"host","skip_consent":true}`}); rec.Code != 200 {
		t.Fatalf("PUT client: %d %s", rec.Code, rec.Body)
	}
	authz := func(redirect string) response {
		return b.get("/auth/v1/authorize?" + url.Values{"client_id": {"seedlike"}, "response_type": {"code"}, "redirect_uri": {redirect}}.Encode())
	}
	if loc := authz("https://www.myapp.com/other?x=1").location(t); loc.Path != "/other" || loc.Query().Get("code") == "" {
		t.Fatalf("same host: %s", loc)
	}
	for _, bad := range []string{"https://evil.example/auth", "http://www.myapp.com/auth", "https://www.myapp.com:8443/auth", "https://www.myapp.com.evil.example/auth"} {
		if r := authz(bad); r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
			t.Errorf("%s: %d %v", bad, r.status, r.header.Get("Location"))
		}
	}
}

// The authorization server's log never holds a code, token, nonce value or secret either.
func TestAuthorizationServerLogsHoldNoSecrets(t *testing.T) {
	var buf syncBuffer
	l := newLive(t, withLogger(io.MultiWriter(&buf, t.Output())))
	b := l.browser()
	b.signIn("carol")
	redirect := l.url + hostapp.DemoWebCallbackPath
	pkce := oauth2.GenerateVerifier()
	code := l.demoCode(b, url.Values{"nonce": {"nonce-value-1234"}, "code_challenge": {pkce}, "code_challenge_method": {"plain"}})
	wrong := codeForm(code, redirect)
	wrong.Set("code_verifier", oauth2.GenerateVerifier())
	l.tokenCall(hostapp.DemoWebClientID, hostapp.DemoWebClientSecret, wrong)
	right := codeForm(code, redirect)
	right.Set("code_verifier", pkce)
	_, _, m := l.tokenCall(hostapp.DemoWebClientID, hostapp.DemoWebClientSecret, right)
	_, _, m2 := l.tokenCall(hostapp.DemoWebClientID, hostapp.DemoWebClientSecret,
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m["refresh_token"].(string)}})
	l.tokenCall(hostapp.DemoWebClientID, hostapp.DemoWebClientSecret, codeForm(code, redirect)) // replay
	l.tokenCall(hostapp.DemoWebClientID, "wrong-secret-value", codeForm(code, redirect))
	l.userinfo(m2["access_token"].(string))
	nonce := l.v1Nonce(b)
	_, v1, _ := l.v1Token(v1Body(hostapp.DemoV1AppID, hostapp.DemoV1AppSecret, nonce))
	l.v1Delete(v1["access_token"].(string))
	b.get(b.authorize(b.get("/demo").location(t).String()).String())

	logs := buf.String()
	if !strings.Contains(logs, "level=DEBUG") || !strings.Contains(logs, "replayed") {
		t.Fatal("the flow logged nothing at debug level; the test would prove nothing")
	}
	for _, secret := range []string{code, m["access_token"].(string), m["refresh_token"].(string), m["id_token"].(string),
		m2["access_token"].(string), m2["refresh_token"].(string), nonce, v1["access_token"].(string),
		hostapp.DemoWebClientSecret, hostapp.DemoV1AppSecret, "wrong-secret-value", "carol-password", pkce, wrong.Get("code_verifier")} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains secret %q", contract.Mask(secret))
		}
	}
}
