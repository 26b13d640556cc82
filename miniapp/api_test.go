package miniapp_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/miniapp"
)

const aliceBody = `{"reference":"u-1001","email":"alice@example.com"}`

func TestMeCreatedThenNot(t *testing.T) {
	e := newEnv(t)
	first := e.mustMe(e.login(clientID, aliceBody).AuthToken)
	second := e.mustMe(e.login(clientID, aliceBody).AuthToken)
	if first.CreatedText() != "true" || second.CreatedText() == "true" || first.ID != second.ID {
		t.Fatalf("first %+v, second %+v: want created true then false for one user", first, second)
	}
	// Both slash forms.
	r := httptest.NewRequest(http.MethodGet, "/api/me/", nil)
	r.Header.Set("Authorization", "Bearer "+e.login(clientID, aliceBody).AuthToken)
	if w := e.serve(r); w.Code != http.StatusOK {
		t.Fatalf("/api/me/: %d %s", w.Code, w.Body)
	}
}

func TestMeExpiry(t *testing.T) {
	e := newEnv(t)
	tok := e.login(clientID, aliceBody).AuthToken
	e.clk.Advance(time.Hour - time.Second)
	e.mustMe(tok)
	e.clk.Advance(time.Second) // now == exp: expired
	wantInvalidToken(t, e.me(tok))
}

// forge signs claims with the method and key; the claims start from a valid token's.
func forge(t *testing.T, method jwt.SigningMethod, key any, valid string, edit func(jwt.MapClaims)) string {
	t.Helper()
	c := claimsOf(t, valid)
	if edit != nil {
		edit(c)
	}
	s, err := jwt.NewWithClaims(method, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMeRejects(t *testing.T) {
	e := newEnv(t)
	valid := e.login(clientID, aliceBody).AuthToken
	other := e.login(clientID, `{"reference":"u-1002","phone":"+6591234567"}`).AuthToken
	key := e.settings().SigningKey
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	hs := func(edit func(jwt.MapClaims)) string { return forge(t, jwt.SigningMethodHS256, key, valid, edit) }
	if w := e.me(hs(nil)); w.Code != http.StatusOK { // the forger itself is sound
		t.Fatalf("re-signed valid claims refused: %s", w.Body)
	}
	parts := strings.Split(valid, ".")

	cases := []struct {
		name   string
		header string
	}{
		{"no Authorization", ""},
		{"Basic scheme", basicDemo},
		{"Bearer without token", "Bearer "},
		{"garbage", "Bearer not-a-jwt"},
		{"two segments", "Bearer " + parts[0] + "." + parts[1]},
		{"tampered payload", "Bearer " + parts[0] + "." + strings.Split(other, ".")[1] + "." + parts[2]},
		{"tampered signature", "Bearer " + parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))},
		{"other key", "Bearer " + forge(t, jwt.SigningMethodHS256, []byte("0123456789abcdef0123456789abcdef"), valid, nil)},
		{"alg none", "Bearer " + forge(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, valid, nil)},
		{"alg HS512 with the right key", "Bearer " + forge(t, jwt.SigningMethodHS512, key, valid, nil)},
		{"alg RS256", "Bearer " + forge(t, jwt.SigningMethodRS256, rsaKey, valid, nil)},
		{"wrong issuer", "Bearer " + hs(func(c jwt.MapClaims) { c["iss"] = "http://evil.example" })},
		{"no issuer", "Bearer " + hs(func(c jwt.MapClaims) { delete(c, "iss") })},
		{"wrong audience", "Bearer " + hs(func(c jwt.MapClaims) { c["aud"] = "app85076" })},
		{"no audience", "Bearer " + hs(func(c jwt.MapClaims) { delete(c, "aud") })},
		{"no exp", "Bearer " + hs(func(c jwt.MapClaims) { delete(c, "exp") })},
		{"exp passed", "Bearer " + hs(func(c jwt.MapClaims) { c["exp"] = t0.Unix() - 1 })},
		{"exp not a number", "Bearer " + hs(func(c jwt.MapClaims) { c["exp"] = "tomorrow" })},
		{"no sid", "Bearer " + hs(func(c jwt.MapClaims) { delete(c, "sid") })},
		{"unknown sid", "Bearer " + hs(func(c jwt.MapClaims) { c["sid"] = "ms_000000000000000000000000" })},
		{"sid of another user", "Bearer " + hs(func(c jwt.MapClaims) { c["sid"] = claimsOf(t, other)["sid"] })},
		{"no sub", "Bearer " + hs(func(c jwt.MapClaims) { delete(c, "sub") })},
		{"over 1000 characters", "Bearer " + hs(func(c jwt.MapClaims) { c["pad"] = strings.Repeat("x", 1000) })},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			r := httptest.NewRequest(http.MethodGet, "/api/me", nil)
			if c.header != "" {
				r.Header.Set("Authorization", c.header)
			}
			wantInvalidToken(t, e.serve(r))
		})
	}
}

func TestRefreshRotation(t *testing.T) {
	e := newEnv(t)
	first := e.login(clientID, aliceBody)
	e.clk.Advance(10 * time.Minute)

	var next contract.MiniappTokens
	w := e.refresh(first.RefreshToken)
	decode(t, w, http.StatusOK, &next)
	if !strings.Contains(w.Body.String(), `"auth_token"`) || !strings.Contains(w.Body.String(), `"refresh_token"`) {
		t.Fatalf("answer %s", w.Body)
	}
	if next.RefreshToken == "" || next.RefreshToken == first.RefreshToken || next.AuthToken == "" {
		t.Fatalf("not rotated: %s", w.Body)
	}
	c, c0 := claimsOf(t, next.AuthToken), claimsOf(t, first.AuthToken)
	if c["sid"] != c0["sid"] || c["sub"] != c0["sub"] || c["iat"] != float64(t0.Add(10*time.Minute).Unix()) {
		t.Fatalf("refreshed claims %v, first %v", c, c0)
	}
	if me := e.mustMe(next.AuthToken); me.CreatedText() == "true" || me.Reference != "u-1001" {
		t.Fatalf("refreshed /api/me %+v, want created=false", me)
	}
	e.mustMe(first.AuthToken) // the old auth_token lives on until it expires

	// The spent token is refused, the new one works once.
	wantError(t, e.refresh(first.RefreshToken), http.StatusUnauthorized, "invalid_grant")
	decode(t, e.refresh(next.RefreshToken), http.StatusOK, &next)
	wantError(t, e.refresh("unknown-token"), http.StatusUnauthorized, "invalid_grant")
	wantError(t, e.refresh(strings.Repeat("x", 5000)), http.StatusUnauthorized, "invalid_grant")

	// Refresh tokens expire after 30 days.
	e.clk.Advance(30*24*time.Hour - time.Second)
	decode(t, e.refresh(next.RefreshToken), http.StatusOK, &next)
	e.clk.Advance(30 * 24 * time.Hour)
	wantError(t, e.refresh(next.RefreshToken), http.StatusUnauthorized, "invalid_grant")
}

func TestRefreshConcurrentReuse(t *testing.T) {
	e := newEnv(t)
	tok := e.login(clientID, aliceBody).RefreshToken
	const n = 20
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := httptest.NewRequest(http.MethodPost, "/api/auth/refresh", strings.NewReader(`{"refresh_token":"`+tok+`"}`))
			codes[i] = httptestServe(e, r).Code
		})
	}
	wg.Wait()
	ok := 0
	for _, c := range codes {
		switch c {
		case http.StatusOK:
			ok++
		case http.StatusUnauthorized:
		default:
			t.Fatalf("status %d", c)
		}
	}
	if ok != 1 {
		t.Fatalf("%d refreshes succeeded, want 1", ok)
	}
}

func TestRefreshMalformed(t *testing.T) {
	e := newEnv(t)
	cases := []struct{ name, contentType, body string }{
		{"wrong content type", "text/plain", `{"refresh_token":"x"}`},
		{"form", "application/x-www-form-urlencoded", `refresh_token=x`},
		{"not JSON", "application/json", `{"refresh_token":`},
		{"empty body", "application/json", ``},
		{"null", "application/json", `null`},
		{"array", "application/json", `["x"]`},
		{"missing key", "application/json", `{"token":"x"}`},
		{"empty token", "application/json", `{"refresh_token":""}`},
		{"number", "application/json", `{"refresh_token":42}`},
		{"over 1 MiB", "application/json", `{"refresh_token":"` + strings.Repeat("x", 1<<20) + `"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			r := httptest.NewRequest(http.MethodPost, "/api/auth/refresh", strings.NewReader(c.body))
			r.Header.Set("Content-Type", c.contentType)
			wantError(t, e.serve(r), http.StatusBadRequest, "invalid_request")
		})
	}
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	a := e.login(clientID, aliceBody)
	b := e.login(clientID, aliceBody) // a second session of the same user

	// Logout with a refreshed token ends the whole session, refresh chain included.
	var next contract.MiniappTokens
	decode(t, e.refresh(a.RefreshToken), http.StatusOK, &next)

	w := e.logout(next.AuthToken)
	var body map[string]any
	decode(t, w, http.StatusOK, &body)
	if len(body) != 1 || body["result"] != true {
		t.Fatalf("logout answered %s", w.Body)
	}
	wantInvalidToken(t, e.me(next.AuthToken))
	wantInvalidToken(t, e.me(a.AuthToken)) // same session
	wantError(t, e.refresh(next.RefreshToken), http.StatusUnauthorized, "invalid_grant")
	wantInvalidToken(t, e.logout(a.AuthToken))

	// The other session is untouched.
	e.mustMe(b.AuthToken)
	decode(t, e.refresh(b.RefreshToken), http.StatusOK, &next)

	for _, bad := range []string{"", "garbage", forge(t, jwt.SigningMethodHS256, []byte("k"), b.AuthToken, nil)} {
		wantInvalidToken(t, e.logout(bad))
	}
	r := httptest.NewRequest(http.MethodGet, "/api/auth/logout", nil)
	wantError(t, e.serve(r), http.StatusMethodNotAllowed, "method_not_allowed")
}

// TestTokensSurviveRestart: the signing key is kept in the store, so a token issued before a
// restart (a new store handle and a new router) still works after it.
func TestTokensSurviveRestart(t *testing.T) {
	e := newEnv(t)
	tok := e.login(clientID, aliceBody)
	key := e.settings().SigningKey
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	e.db = openDB(t, e.path)
	if err := miniapp.SeedDemo(t.Context(), e.db, demo.AppID, "another-secret"); err != nil { // changes nothing
		t.Fatal(err)
	}
	if string(e.settings().SigningKey) != string(key) {
		t.Fatal("signing key changed across restart")
	}
	e.h = e.build()
	e.login(clientID, aliceBody) // the first secret still works
	e.mustMe(tok.AuthToken)
	decode(t, e.refresh(tok.RefreshToken), http.StatusOK, &struct{}{})
}

// TestOverRealSocket runs steps 10–11 and 14–15 through a real listener and client, with
// PROTOCOL §7.7's Authorization header written out, so RemoteAddr is a real peer address.
func TestOverRealSocket(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.h)
	defer srv.Close()

	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+demo.AuthTokenPath, strings.NewReader(protocolBody))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Basic YXBwMTY5NzM6bWluaWFwcC1zZWNyZXQtMQ==")
	req.Header.Set("X-Hostapp-Client-ID", clientID)
	req.Header.Set("X-Miniapp-App-ID", "app16973")
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok contract.AuthTokenResponse
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK || tok.AuthToken == "" {
		t.Fatalf("auth-token: %d %+v %v", resp.StatusCode, tok, err)
	}

	req, _ = http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/api/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AuthToken)
	resp2, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	var me contract.Me
	if err := json.NewDecoder(resp2.Body).Decode(&me); err != nil || resp2.StatusCode != http.StatusOK || me.CreatedText() != "true" || me.Reference != "u-42" {
		t.Fatalf("/api/me: %d %+v %v", resp2.StatusCode, me, err)
	}
}
