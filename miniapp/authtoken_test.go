package miniapp_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/miniapp"
)

// protocolBody is PROTOCOL §3.11's example body.
const protocolBody = `{"reference": "u-42", "email": "user@example.com", "phone": "+6591234567",
 "first_name": "Ada", "last_name": "Lee", "custom_attributes": {"tier": "gold"}}`

func TestBasicCredentialIsProtocolExample(t *testing.T) {
	if got := "Basic " + contract.BasicCredential(demo.AppID, demo.MiniappSecret); got != basicDemo {
		t.Fatalf("BasicCredential = %q, want contract §7.7's %q", got, basicDemo)
	}
}

func TestAuthTokenProtocolExample(t *testing.T) {
	e := newEnv(t)
	w := e.serve(authTokenRequest(protocolBody))
	var raw map[string]any
	decode(t, w, http.StatusOK, &raw)
	if len(raw) != 2 || raw["auth_token"] == nil || raw["refresh_token"] == nil {
		t.Fatalf("want exactly auth_token and refresh_token, got %s", w.Body)
	}
	tok, refresh := raw["auth_token"].(string), raw["refresh_token"].(string)
	if len(tok) > contract.MaxTokenLen || len(refresh) != 43 {
		t.Fatalf("token lengths %d and %d", len(tok), len(refresh))
	}

	users := e.users()
	if len(users) != 1 {
		t.Fatalf("%d users, want 1", len(users))
	}
	u := users[0]
	c := claimsOf(t, tok)
	want := map[string]any{
		"sub": u.ID, "ref": "u-42", "cid": clientID, "iss": baseURL, "aud": []any{demo.AppID},
		"iat": float64(t0.Unix()), "exp": float64(t0.Add(time.Hour).Unix()), "created": true,
	}
	for k, v := range want {
		if fmt.Sprint(c[k]) != fmt.Sprint(v) {
			t.Errorf("claim %s = %v, want %v", k, c[k], v)
		}
	}
	if sid, _ := c["sid"].(string); sid == "" {
		t.Errorf("claim sid missing: %v", c)
	}

	me := e.mustMe(tok)
	wantMe := contract.Me{ID: u.ID, Reference: "u-42", ClientID: clientID, Email: "user@example.com",
		Phone: "+6591234567", FirstName: "Ada", LastName: "Lee", CustomAttributes: json.RawMessage(`{"tier":"gold"}`), Created: new(true)}
	if !reflect.DeepEqual(me, wantMe) {
		t.Fatalf("/api/me = %+v\nwant %+v", me, wantMe)
	}
	// The refresh token is stored hashed, never raw.
	if _, err := e.db.RotateRefreshToken(context.Background(), refresh, t0, miniapp.RefreshToken{Hash: "x"}); err == nil {
		t.Fatal("the raw refresh token was found in the store")
	}
}

func TestAuthTokenRejects(t *testing.T) {
	const okBody = `{"reference":"u-1","email":"a@example.com"}`
	type tc struct {
		name   string
		body   string
		modify func(r *http.Request)
		status int
		code   string
	}
	header := func(k, v string) func(*http.Request) {
		return func(r *http.Request) {
			if v == "" {
				r.Header.Del(k)
			} else {
				r.Header.Set(k, v)
			}
		}
	}
	basic := func(cred string) func(*http.Request) { return header("Authorization", "Basic "+cred) }
	both := func(fs ...func(*http.Request)) func(*http.Request) {
		return func(r *http.Request) {
			for _, f := range fs {
				f(r)
			}
		}
	}
	outside := func(r *http.Request) { r.RemoteAddr = "203.0.113.7:5555" }
	const (
		ip    = contract.CodeNotAWhitelistedIP
		creds = contract.CodeAccessDenied
		req   = contract.CodeInvalidRequest
		data  = contract.CodeInvalidUserData
		hdr   = contract.CodeMissingHeader
	)
	cases := []tc{
		// IP filter (PROTOCOL §7.6): 403, RemoteAddr only, before anything else.
		{"peer outside allowlist", okBody, outside, 403, ip},
		{"X-Forwarded-For ignored", okBody, both(outside, header("X-Forwarded-For", "127.0.0.1")), 403, ip},
		{"IP checked before credentials", okBody, both(outside, header("Authorization", "")), 403, ip},

		// Credentials (§3.11, §7.7, §9.7).
		{"no Authorization", okBody, header("Authorization", ""), 200, creds},
		{"Bearer scheme", okBody, header("Authorization", "Bearer YXBwMTY5NzM6bWluaWFwcC1zZWNyZXQtMQ=="), 200, creds},
		{"scheme without credential", okBody, header("Authorization", "Basic"), 200, creds},
		{"credential not base64", okBody, basic("!!!not-base64"), 200, creds},
		{"credential without colon", okBody, basic(base64.StdEncoding.EncodeToString([]byte("app16973miniapp-secret-1"))), 200, creds},
		{"wrong secret", okBody, basic(contract.BasicCredential(demo.AppID, "miniapp-secret-2")), 200, creds},
		{"empty secret", okBody, basic(contract.BasicCredential(demo.AppID, "")), 200, creds},
		{"secret with suffix", okBody, basic(contract.BasicCredential(demo.AppID, demo.MiniappSecret+"x")), 200, creds},
		{"wrong app_id, header agrees", okBody,
			both(basic(contract.BasicCredential("app99999", demo.MiniappSecret)), header(contract.HeaderMiniappAppID, "app99999")), 200, creds},
		{"X-Miniapp-App-ID missing", okBody, header(contract.HeaderMiniappAppID, ""), 200, hdr},
		{"X-Miniapp-App-ID differs", okBody, header(contract.HeaderMiniappAppID, "app85076"), 200, creds},
		{"credentials checked before client id", okBody, both(header("Authorization", ""), header(contract.HeaderHostappClientID, "")), 200, creds},
		{"credentials checked before body", `not json`, header("Authorization", ""), 200, creds},

		// A missing header: MISSING_HEADER; header and body form: INVALID_REQUEST; a field of the
		// wrong type is user data: INVALID_USER_DATA.
		{"X-Hostapp-Client-ID missing", okBody, header(contract.HeaderHostappClientID, ""), 200, hdr},
		{"X-Hostapp-Client-ID too long", okBody, header(contract.HeaderHostappClientID, strings.Repeat("9", 65)), 200, req},
		{"client id checked before body", `{}`, header(contract.HeaderHostappClientID, ""), 200, hdr},
		{"wrong content type", okBody, header("Content-Type", "text/plain"), 200, req},
		{"form content type", "reference=u-1&email=a", header("Content-Type", "application/x-www-form-urlencoded"), 200, req},
		{"not JSON", `{"reference":`, nil, 200, req},
		{"empty body", ``, nil, 200, req},
		{"two JSON values", okBody + okBody, nil, 200, req},
		{"body over 1 MiB", `{"reference":"u-1","email":"a@example.com","pad":"` + strings.Repeat("x", contract.MaxBodyBytes) + `"}`, nil, 200, req},
		{"JSON array", `[` + okBody + `]`, nil, 200, req},
		{"JSON string", `"u-1"`, nil, 200, req},
		{"JSON null", `null`, nil, 200, req},
		{"reference is a number", `{"reference":42,"email":"a@example.com"}`, nil, 200, data},
		{"email is a number", `{"reference":"u-1","email":7}`, nil, 200, data},
		{"phone is an object", `{"reference":"u-1","phone":{"n":"+6591234567"}}`, nil, 200, data},
		{"first_name is a bool", `{"reference":"u-1","email":"a@example.com","first_name":true}`, nil, 200, data},

		// User data (§3.11, §3.10): INVALID_USER_DATA.
		{"reference missing", `{"email":"a@example.com"}`, nil, 200, data},
		{"reference empty", `{"reference":"","email":"a@example.com"}`, nil, 200, data},
		{"reference null", `{"reference":null,"email":"a@example.com"}`, nil, 200, data},
		{"reference 101 code points", `{"reference":"` + strings.Repeat("é", 101) + `","email":"a@example.com"}`, nil, 200, data},
		{"empty object", `{}`, nil, 200, data},
		{"neither email nor phone", `{"reference":"u-1","first_name":"Ada"}`, nil, 200, data},
		{"email and phone empty", `{"reference":"u-1","email":"","phone":""}`, nil, 200, data},
		{"phone without plus", `{"reference":"u-1","phone":"6591234567"}`, nil, 200, data},
		{"phone starting with 0", `{"reference":"u-1","phone":"+0591234567"}`, nil, 200, data},
		{"phone one digit", `{"reference":"u-1","phone":"+6"}`, nil, 200, data},
		{"phone 16 digits", `{"reference":"u-1","phone":"+1234567890123456"}`, nil, 200, data},
		{"phone with space", `{"reference":"u-1","phone":"+65 91234567"}`, nil, 200, data},
		{"bad phone beside good email", `{"reference":"u-1","email":"a@example.com","phone":"12"}`, nil, 200, data},
		{"custom_attributes string", `{"reference":"u-1","email":"a@example.com","custom_attributes":"gold"}`, nil, 200, data},
		{"custom_attributes array", `{"reference":"u-1","email":"a@example.com","custom_attributes":[1]}`, nil, 200, data},
		{"custom_attributes number", `{"reference":"u-1","email":"a@example.com","custom_attributes":1}`, nil, 200, data},
		{"encrypted user_data", `{"user_data":"AAECAwQFBgcICQoLDA0ODw=="}`, nil, 200, data},
		{"user_data beside fields", `{"reference":"u-1","email":"a@example.com","user_data":{"reference":"u-1"}}`, nil, 200, data},
	}
	e := newEnv(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			r := authTokenRequest(c.body)
			if c.modify != nil {
				c.modify(r)
			}
			w := e.serve(r)
			var body map[string]string
			decode(t, w, c.status, &body)
			if len(body) != 1 || body["error_code"] != c.code {
				t.Fatalf("body %s, want only error_code %s", w.Body, c.code)
			}
			if n := len(e.users()); n != 0 {
				t.Fatalf("%d users written by a refused call", n)
			}
		})
	}
}

func TestAuthTokenAccepts(t *testing.T) {
	cases := []struct {
		name   string
		body   string
		modify func(*http.Request)
		want   miniapp.User
	}{
		{"email only", `{"reference":"u-1","email":"a@example.com"}`, nil,
			miniapp.User{Reference: "u-1", Email: "a@example.com"}},
		{"phone only", `{"reference":"u-2","phone":"+6591234567"}`, nil,
			miniapp.User{Reference: "u-2", Phone: "+6591234567"}},
		{"phone 15 digits", `{"reference":"u-3","phone":"+123456789012345"}`, nil,
			miniapp.User{Reference: "u-3", Phone: "+123456789012345"}},
		{"reference 100 code points", `{"reference":"` + strings.Repeat("é", 100) + `","email":"a@example.com"}`, nil,
			miniapp.User{Reference: strings.Repeat("é", 100), Email: "a@example.com"}},
		{"unknown keys and nulls ignored", `{"reference":"u-4","email":"a@example.com","phone":null,"custom_attributes":null,"user_data":null,"nickname":"x","extra":{"a":[1]}}`, nil,
			miniapp.User{Reference: "u-4", Email: "a@example.com"}},
		{"custom attributes compacted", `{"reference":"u-5","email":"a@example.com","custom_attributes": { "tier" : "gold" , "n": [1, 2] }}`, nil,
			miniapp.User{Reference: "u-5", Email: "a@example.com", CustomAttributes: json.RawMessage(`{"tier":"gold","n":[1,2]}`)}},
		{"no content type", `{"reference":"u-6","email":"a@example.com"}`, func(r *http.Request) { r.Header.Del("Content-Type") },
			miniapp.User{Reference: "u-6", Email: "a@example.com"}},
		{"content type with charset", `{"reference":"u-7","email":"a@example.com"}`, func(r *http.Request) { r.Header.Set("Content-Type", "application/json; charset=utf-8") },
			miniapp.User{Reference: "u-7", Email: "a@example.com"}},
		{"lower-case scheme word", `{"reference":"u-8","email":"a@example.com"}`, func(r *http.Request) { r.Header.Set("Authorization", strings.Replace(basicDemo, "Basic", "basic", 1)) },
			miniapp.User{Reference: "u-8", Email: "a@example.com"}},
		{"trailing slash", `{"reference":"u-9","email":"a@example.com"}`, func(r *http.Request) { r.URL.Path += "/" },
			miniapp.User{Reference: "u-9", Email: "a@example.com"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			r := authTokenRequest(c.body)
			if c.modify != nil {
				c.modify(r)
			}
			var resp contract.AuthTokenResponse
			decode(t, e.serve(r), http.StatusOK, &resp)
			if resp.ErrorCode != "" || resp.AuthToken == "" {
				t.Fatalf("answer %+v", resp)
			}
			users := e.users()
			if len(users) != 1 {
				t.Fatalf("%d users", len(users))
			}
			got := users[0]
			c.want.ID, c.want.ClientID, c.want.CreatedAt, c.want.UpdatedAt = got.ID, clientID, t0, t0
			if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", c.want) {
				t.Fatalf("stored %+v\nwant   %+v", got, c.want)
			}
		})
	}
}

func TestAuthTokenRequiredFields(t *testing.T) {
	e := newEnv(t)
	put(t, e, `{"required_fields":["first_name","custom_attributes"]}`, http.StatusOK)
	for _, body := range []string{
		`{"reference":"u-1","email":"a@example.com","custom_attributes":{"a":1}}`,
		`{"reference":"u-1","email":"a@example.com","first_name":"","custom_attributes":{"a":1}}`,
		`{"reference":"u-1","email":"a@example.com","first_name":"Ada"}`,
		`{"reference":"u-1","email":"a@example.com","first_name":"Ada","custom_attributes":{}}`,
		`{"reference":"u-1","email":"a@example.com","first_name":"Ada","custom_attributes":null}`,
	} {
		var resp contract.AuthTokenResponse
		decode(t, e.serve(authTokenRequest(body)), http.StatusOK, &resp)
		if resp.ErrorCode != contract.CodeInvalidUserData || resp.AuthToken != "" {
			t.Errorf("%s: answer %+v, want INVALID_USER_DATA", body, resp)
		}
	}
	if n := len(e.users()); n != 0 {
		t.Fatalf("%d users written by refused calls", n)
	}
	e.login(clientID, `{"reference":"u-1","email":"a@example.com","first_name":"Ada","custom_attributes":{"a":1}}`)
}

// TestConcurrentFirstLogins: 50 simultaneous first logins of one new reference make exactly
// one user, and exactly one of the sessions says it created the user (PROTOCOL §9.45).
func TestConcurrentFirstLogins(t *testing.T) {
	e := newEnv(t)
	const n = 50
	tokens := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			w := httptestServe(e, authTokenRequest(`{"reference":"u-race","email":"race@example.com"}`))
			var resp contract.AuthTokenResponse
			if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil || resp.AuthToken == "" {
				t.Errorf("login %d: %d %s", i, w.Code, w.Body)
				return
			}
			tokens[i] = resp.AuthToken
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	users := e.users()
	if len(users) != 1 {
		t.Fatalf("%d users, want 1", len(users))
	}
	created, sids := 0, map[string]bool{}
	for _, tok := range tokens {
		me := e.mustMe(tok)
		if me.ID != users[0].ID {
			t.Fatalf("token for %s, want %s", me.ID, users[0].ID)
		}
		if me.CreatedText() == "true" {
			created++
		}
		sids[claimsOf(t, tok)["sid"].(string)] = true
	}
	if created != 1 {
		t.Fatalf("%d tokens say created, want 1", created)
	}
	if len(sids) != n {
		t.Fatalf("%d distinct sessions, want %d", len(sids), n)
	}
}

// httptestServe is env.serve for goroutines: it reports through the recorder only.
func httptestServe(e *env, r *http.Request) *httptest.ResponseRecorder {
	r.RemoteAddr = loopback
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

func TestExistingUserUpdated(t *testing.T) {
	e := newEnv(t)
	first := e.login(clientID, `{"reference":"u-1","email":"old@example.com","first_name":"Ada","last_name":"Lee","custom_attributes":{"tier":"silver"}}`)
	e.clk.Advance(time.Minute)
	second := e.login(clientID, `{"reference":"u-1","phone":"+6591234567","first_name":"Adele","last_name":"","custom_attributes":{}}`)

	users := e.users()
	if len(users) != 1 {
		t.Fatalf("%d users, want 1", len(users))
	}
	want := miniapp.User{ID: users[0].ID, ClientID: clientID, Reference: "u-1", Email: "old@example.com",
		Phone: "+6591234567", FirstName: "Adele", LastName: "Lee", CustomAttributes: json.RawMessage(`{"tier":"silver"}`),
		CreatedAt: t0, UpdatedAt: t0.Add(time.Minute)}
	if fmt.Sprintf("%+v", users[0]) != fmt.Sprintf("%+v", want) {
		t.Fatalf("stored %+v\nwant   %+v", users[0], want)
	}
	if me := e.mustMe(first.AuthToken); me.CreatedText() != "true" || me.FirstName != "Adele" {
		t.Fatalf("first token: %+v, want created and current fields", me)
	}
	if me := e.mustMe(second.AuthToken); me.CreatedText() == "true" || me.ID != want.ID {
		t.Fatalf("second token: %+v, want created=false for %s", me, want.ID)
	}
	e.login(clientID, `{"reference":"u-1","email":"new@example.com","custom_attributes":{"tier":"gold"}}`)
	if u := e.users()[0]; u.Email != "new@example.com" || string(u.CustomAttributes) != `{"tier":"gold"}` {
		t.Fatalf("third login did not overwrite: %+v", u)
	}
}

func TestSameReferenceTwoClients(t *testing.T) {
	e := newEnv(t)
	a := e.login("352131", `{"reference":"u-1","email":"a@example.com"}`)
	b := e.login("777777", `{"reference":"u-1","email":"b@example.com"}`)
	ma, mb := e.mustMe(a.AuthToken), e.mustMe(b.AuthToken)
	if ma.ID == mb.ID || ma.CreatedText() != "true" || mb.CreatedText() != "true" || ma.ClientID != "352131" || mb.ClientID != "777777" || ma.Email != "a@example.com" || mb.Email != "b@example.com" {
		t.Fatalf("want two created users, got %+v and %+v", ma, mb)
	}
	if n := len(e.users()); n != 2 {
		t.Fatalf("%d users, want 2", n)
	}
}

func TestAuthTokenTTL(t *testing.T) {
	e := newEnv(t)
	e.h = e.build(func(c *miniapp.Config) { c.AuthTokenTTL = 90 * time.Second; c.RefreshTokenTTL = time.Hour })
	tok := e.login(clientID, `{"reference":"u-1","email":"a@example.com"}`)
	if exp := claimsOf(t, tok.AuthToken)["exp"]; exp != float64(t0.Add(90*time.Second).Unix()) {
		t.Fatalf("exp %v", exp)
	}
	e.clk.Advance(time.Hour)
	wantError(t, e.refresh(tok.RefreshToken), http.StatusUnauthorized, "invalid_grant")
}
