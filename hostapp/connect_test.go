package hostapp_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/hostapp"
	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
)

func TestConnectFlow(t *testing.T) {
	e := newEnv(t)
	access, refresh := e.tokens(e.boxoCode("carol"))
	if len(access) != 43 || len(refresh) != 43 || access == refresh {
		t.Fatalf("tokens are not two 43-character opaque tokens: %q %q", access, refresh)
	}
	m := e.userData(access)
	ud, ok := m["user_data"].(map[string]any)
	if !ok || m["error_code"] != nil {
		t.Fatalf("no user_data: %v", m)
	}
	want := map[string]any{
		"reference": "u-1003", "email": "carol@example.com", "phone": "+6598765432", "first_name": "Carol",
		"last_name": "Tan", "custom_attributes": map[string]any{"tier": "gold", "locale": "en-SG"},
	}
	if len(ud) != len(want) {
		t.Errorf("user_data = %v, want %v", ud, want)
	}
	for k, v := range want {
		if got, _ := json.Marshal(ud[k]); string(got) != mustJSON(v) {
			t.Errorf("user_data.%s = %s, want %s", k, got, mustJSON(v))
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestUserDataOmitsAbsentFields(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		user string
		want string
	}{
		{"alice", `{"user_data":{"reference":"u-1001","email":"alice@example.com"}}`},
		{"bob", `{"user_data":{"reference":"u-1002","phone":"+6591234567"}}`},
	} {
		access, _ := e.tokens(e.boxoCode(tc.user))
		rec := e.do(call{method: http.MethodGet, path: demo.UserDataPath,
			header: map[string]string{"Authorization": "Token " + access}})
		if got := strings.TrimSpace(rec.Body.String()); got != tc.want {
			t.Errorf("%s: body %s, want %s", tc.user, got, tc.want)
		}
	}
}

// The host sends what it holds; catching contract-breaking data is the platform's job.
func TestUserDataSentAsStored(t *testing.T) {
	e := newEnv(t)
	longRef := strings.Repeat("r", 101)
	rec := e.do(call{method: http.MethodPut, path: "/_sim/users/odd", remote: "10.9.9.9:1",
		body: `{"password":"pw-odd-1","reference":"` + longRef + `","phone":"12345","custom_attributes":{"a":[1,2]}}`})
	if rec.Code != http.StatusOK {
		t.Fatalf("PUT user: %d %s", rec.Code, rec.Body)
	}
	access, _ := e.tokens(e.codeFor(e.signIn("odd", "pw-odd-1")))
	got := e.userData(access)["user_data"]
	want := map[string]any{"reference": longRef, "phone": "12345", "custom_attributes": map[string]any{"a": []any{1.0, 2.0}}}
	if mustJSON(got) != mustJSON(want) {
		t.Fatalf("user_data = %s, want %s", mustJSON(got), mustJSON(want))
	}
}

func TestAccessTokenErrors(t *testing.T) {
	e := newEnv(t)
	otherAuth := "Token " + contract.BasicCredential("other-client", "other-secret")
	if _, err := e.db.PutClient(t.Context(), hostapp.Client{ID: "other-client", SecretHash: contract.Hash("other-secret"),
		RedirectURIs: []string{"http://other.example/cb"}, SkipConsent: true, CreatedAt: testStart}); err != nil {
		t.Fatal(err)
	}
	cookie := e.signIn("alice", "alice-password")
	body := func(code string) string { return `{"auth_code":"` + code + `"}` }
	big := `{"auth_code":"` + strings.Repeat("a", contract.MaxBodyBytes) + `"}`

	for _, tc := range []struct {
		name   string
		auth   string
		body   string
		header map[string]string
		want   string
	}{
		{"no Authorization", "", body(e.codeFor(cookie)), nil, contract.CodeAccessDenied},
		{"wrong prefix", "Bearer " + contract.BasicCredential(demo.HostappClientID, demo.HostappSecret), body(e.codeFor(cookie)), nil, contract.CodeAccessDenied},
		{"Basic scheme", "Basic " + contract.BasicCredential(demo.HostappClientID, demo.HostappSecret), body(e.codeFor(cookie)), nil, contract.CodeAccessDenied},
		{"prefix only", "Token", body(e.codeFor(cookie)), nil, contract.CodeAccessDenied},
		{"wrong secret", "Token " + contract.BasicCredential(demo.HostappClientID, "hostapp-secret-2"), body(e.codeFor(cookie)), nil, contract.CodeAccessDenied},
		{"unknown client", "Token " + contract.BasicCredential("nobody", demo.HostappSecret), body(e.codeFor(cookie)), nil, contract.CodeAccessDenied},
		{"not base64", "Token %%%", body(e.codeFor(cookie)), nil, contract.CodeAccessDenied},
		{"no colon", "Token aG9zdGFwcA==" /* base64("hostapp") */, body(e.codeFor(cookie)), nil, contract.CodeAccessDenied},
		{"raw secret without base64", "Token hostapp-client-1:hostapp-secret-1", body(e.codeFor(cookie)), nil, contract.CodeAccessDenied},
		{"bad JSON", boxoBasicAuth, `{"auth_code":`, nil, contract.CodeInvalidRequest},
		{"JSON array", boxoBasicAuth, `["x"]`, nil, contract.CodeInvalidRequest},
		{"auth_code not a string", boxoBasicAuth, `{"auth_code":42}`, nil, contract.CodeInvalidRequest},
		{"wrong content type", boxoBasicAuth, body(e.codeFor(cookie)), map[string]string{"Content-Type": "text/plain"}, contract.CodeInvalidRequest},
		{"form content type", boxoBasicAuth, "auth_code=x", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, contract.CodeInvalidRequest},
		{"empty body", boxoBasicAuth, "", nil, contract.CodeInvalidRequest},
		{"body over 1 MiB", boxoBasicAuth, big, nil, contract.CodeInvalidRequest},
		{"missing auth_code", boxoBasicAuth, `{}`, nil, contract.CodeInvalidAuthCode},
		{"empty auth_code", boxoBasicAuth, `{"auth_code":""}`, nil, contract.CodeInvalidAuthCode},
		{"unknown auth_code", boxoBasicAuth, body(contract.RandomHex(20)), nil, contract.CodeInvalidAuthCode},
		{"code of another client", otherAuth, body(e.codeFor(cookie)), nil, contract.CodeInvalidAuthCode},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, e.connectCall(http.MethodPost, demo.AccessTokenPath, tc.auth, tc.body, tc.header), tc.want)
		})
	}
}

// A failed check must not spend the code: after wrong credentials the right call works.
func TestAccessTokenFailureKeepsCode(t *testing.T) {
	e := newEnv(t)
	code := e.boxoCode("alice")
	wantCode(t, e.connectCall(http.MethodPost, demo.AccessTokenPath, "Token "+contract.BasicCredential(demo.HostappClientID, "nope"),
		`{"auth_code":"`+code+`"}`, nil), contract.CodeAccessDenied)
	e.tokens(code)
}

func TestAccessTokenPrefixCaseInsensitiveAndNoHostappHeader(t *testing.T) {
	e := newEnv(t)
	code := e.boxoCode("alice")
	m := e.connectCall(http.MethodPost, demo.AccessTokenPath+"/", "TOKEN "+contract.BasicCredential(demo.HostappClientID, demo.HostappSecret),
		`{"auth_code":"`+code+`"}`, map[string]string{contract.HeaderHostappClientID: "", contract.HeaderMiniappAppID: "", "Content-Type": ""})
	if m["access_token"] == nil || m["error_code"] != nil {
		t.Fatalf("want tokens without X-Hostapp-Client-ID, X-Miniapp-App-ID and Content-Type: %v", m)
	}
}

func TestAccessTokenExpiredCode(t *testing.T) {
	e := newEnv(t)
	code := e.boxoCode("alice")
	e.clk.Advance(10*time.Minute - time.Millisecond)
	fresh := e.boxoCode("alice")
	e.clk.Advance(time.Millisecond)
	wantCode(t, e.redeem(code), contract.CodeExpiredAuthCode) // only expired (contract §3.7)
	e.tokens(fresh)                                           // issued later, still valid
}

// barrierStore holds every GetAuthCode caller until n of them have read the code, so all
// concurrent redemptions pass the handler's checks and race on the store's gate.
// (GetToken likewise with tokens, for refresh). A nil barrier passes through.
type barrierStore struct {
	hostapp.Store
	codes, tokens *sync.WaitGroup
}

func (b barrierStore) GetAuthCode(ctx context.Context, hash string) (hostapp.AuthCode, error) {
	c, err := b.Store.GetAuthCode(ctx, hash)
	if b.codes != nil {
		b.codes.Done()
		b.codes.Wait()
	}
	return c, err
}

func (b barrierStore) GetToken(ctx context.Context, hash string) (hostapp.Token, error) {
	tok, err := b.Store.GetToken(ctx, hash)
	if b.tokens != nil {
		b.tokens.Done()
		b.tokens.Wait()
	}
	return tok, err
}

func TestAccessTokenConcurrentRedemption(t *testing.T) {
	const n = 20
	var barrier sync.WaitGroup
	barrier.Add(n)
	e := newEnv(t, func(c *hostapp.Config) { c.Store = barrierStore{Store: c.Store, codes: &barrier} })
	code := e.boxoCode("carol")
	results := make([]map[string]any, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			results[i] = e.redeem(code)
		})
	}
	close(start)
	wg.Wait()
	var winners []map[string]any
	for _, m := range results {
		switch {
		case m["access_token"] != nil && m["error_code"] == nil:
			winners = append(winners, m)
		case m["error_code"] != contract.CodeInvalidAuthCode:
			t.Errorf("loser got %v, want INVALID_AUTH_CODE", m)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d redemptions succeeded, want exactly 1", len(winners))
	}
	// The 19 replays revoked what the code issued (RFC 6749 §4.1.2), deterministically:
	// the winner's tokens were stored in the same transaction that spent the code.
	wantCode(t, e.userData(winners[0]["access_token"].(string)), contract.CodeInvalidAccessToken)
}

func TestCodeReplayRevokesIssuedTokens(t *testing.T) {
	e := newEnv(t)
	code := e.boxoCode("alice")
	access, refresh := e.tokens(code)
	// A refresh first: the rotated pair descends from the code and is revoked with it.
	m := e.refresh(refresh)
	access2 := m["access_token"].(string)
	wantCode(t, e.userData(access2), "")

	wantCode(t, e.redeem(code), contract.CodeInvalidAuthCode)
	wantCode(t, e.userData(access), contract.CodeInvalidAccessToken)
	wantCode(t, e.userData(access2), contract.CodeInvalidAccessToken)
	wantCode(t, e.refresh(m["refresh_token"].(string)), contract.CodeInvalidRefreshToken)

	// Another user's tokens are untouched.
	other, _ := e.tokens(e.boxoCode("bob"))
	wantCode(t, e.userData(other), "")
}

func TestUserDataErrors(t *testing.T) {
	e := newEnv(t)
	access, refresh := e.tokens(e.boxoCode("alice"))
	for _, tc := range []struct {
		name   string
		method string
		auth   string
		body   string
		header map[string]string
		want   string
	}{
		{"GET ok", http.MethodGet, "Token " + access, "", nil, ""},
		{"POST empty ok", http.MethodPost, "Token " + access, "", nil, ""},
		{"POST {} ok", http.MethodPost, "Token " + access, "{}", nil, ""},
		{"slash form ok", http.MethodGet, "Token " + access, "", map[string]string{}, ""},
		{"scheme case-insensitive", http.MethodGet, "token " + access, "", nil, ""},
		{"no X-Miniapp-App-ID ok", http.MethodGet, "Token " + access, "", map[string]string{contract.HeaderMiniappAppID: ""}, ""},
		{"other miniapp", http.MethodGet, "Token " + access, "", map[string]string{contract.HeaderMiniappAppID: "app99999"}, contract.CodeInvalidAccessToken},
		{"unknown token", http.MethodGet, "Token " + contract.RandomToken(), "", nil, contract.CodeInvalidAccessToken},
		{"refresh token as access token", http.MethodGet, "Token " + refresh, "", nil, contract.CodeInvalidAccessToken},
		{"no Authorization", http.MethodGet, "", "", nil, contract.CodeAccessDenied},
		{"wrong scheme", http.MethodGet, "Bearer " + access, "", nil, contract.CodeAccessDenied},
		{"POST bad JSON", http.MethodPost, "Token " + access, "{", nil, contract.CodeInvalidRequest},
		{"POST array", http.MethodPost, "Token " + access, "[]", nil, contract.CodeInvalidRequest},
		{"POST null", http.MethodPost, "Token " + access, "null", nil, contract.CodeInvalidRequest},
		{"POST wrong content type", http.MethodPost, "Token " + access, "{}", map[string]string{"Content-Type": "text/plain"}, contract.CodeInvalidRequest},
		{"POST over 1 MiB", http.MethodPost, "Token " + access, `{"x":"` + strings.Repeat("x", contract.MaxBodyBytes) + `"}`, nil, contract.CodeInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := demo.UserDataPath
			if strings.HasPrefix(tc.name, "slash") {
				path += "/"
			}
			m := e.connectCall(tc.method, path, tc.auth, tc.body, tc.header)
			wantCode(t, m, tc.want)
			if tc.want == "" && m["user_data"] == nil {
				t.Fatalf("no user_data: %v", m)
			}
		})
	}
}

func TestUserDataExpiredAndRevoked(t *testing.T) {
	e := newEnv(t)
	access, _ := e.tokens(e.boxoCode("alice"))
	e.clk.Advance(time.Hour - time.Millisecond)
	wantCode(t, e.userData(access), "")
	e.clk.Advance(time.Millisecond)
	wantCode(t, e.userData(access), contract.CodeExpiredAccessToken) // only expired (contract §3.9)

	access2, _ := e.tokens(e.boxoCode("alice"))
	tok, err := e.db.GetToken(t.Context(), contract.Hash(access2))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.RevokeGrant(t.Context(), tok.GrantID, e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	wantCode(t, e.userData(access2), contract.CodeInvalidAccessToken)
}

func TestUserDataDeletedUser(t *testing.T) {
	e := newEnv(t)
	access, _ := e.tokens(e.boxoCode("alice"))
	if rec := e.do(call{method: http.MethodDelete, path: "/_sim/users/alice"}); rec.Code != http.StatusOK {
		t.Fatalf("delete: %d %s", rec.Code, rec.Body)
	}
	wantCode(t, e.userData(access), contract.CodeHostappUserNotFound)
	// Re-creating the username makes a new user: the old token still finds no user.
	e.do(call{method: http.MethodPut, path: "/_sim/users/alice", body: `{"reference":"u-1001","email":"a@example.com"}`})
	wantCode(t, e.userData(access), contract.CodeHostappUserNotFound)
}

func TestRefreshRotation(t *testing.T) {
	e := newEnv(t)
	access, refresh := e.tokens(e.boxoCode("bob"))
	m := e.refresh(refresh)
	access2, refresh2 := m["access_token"].(string), m["refresh_token"].(string)
	if access2 == "" || refresh2 == "" || access2 == access || refresh2 == refresh {
		t.Fatalf("refresh did not rotate: %v", m)
	}
	if ud := e.userData(access2)["user_data"].(map[string]any); ud["reference"] != "u-1002" {
		t.Fatalf("new access token is for %v", ud)
	}
	// Bound like the old one: to the miniapp.
	wantCode(t, e.connectCall(http.MethodGet, demo.UserDataPath, "Token "+access2, "", map[string]string{contract.HeaderMiniappAppID: "app2"}),
		contract.CodeInvalidAccessToken)
	// The old refresh token is spent; the new one works once.
	wantCode(t, e.refresh(refresh), contract.CodeInvalidRefreshToken)
	m3 := e.refresh(refresh2)
	wantCode(t, m3, "")
	wantCode(t, e.refresh(refresh2), contract.CodeInvalidRefreshToken)
}

func TestRefreshErrors(t *testing.T) {
	e := newEnv(t)
	if _, err := e.db.PutClient(t.Context(), hostapp.Client{ID: "other-client", SecretHash: contract.Hash("other-secret"),
		RedirectURIs: []string{"http://other.example/cb"}, SkipConsent: true, CreatedAt: testStart}); err != nil {
		t.Fatal(err)
	}
	access, refresh := e.tokens(e.boxoCode("alice"))
	for _, tc := range []struct {
		name   string
		auth   string
		body   string
		header map[string]string
		want   string
	}{
		{"wrong secret", "Token " + contract.BasicCredential(demo.HostappClientID, "x"), `{"refresh_token":"` + refresh + `"}`, nil, contract.CodeAccessDenied},
		{"wrong prefix", "Bearer " + contract.BasicCredential(demo.HostappClientID, demo.HostappSecret), `{"refresh_token":"` + refresh + `"}`, nil, contract.CodeAccessDenied},
		{"other client", "Token " + contract.BasicCredential("other-client", "other-secret"), `{"refresh_token":"` + refresh + `"}`, nil, contract.CodeInvalidRefreshToken},
		{"other miniapp", boxoBasicAuth, `{"refresh_token":"` + refresh + `"}`, map[string]string{contract.HeaderMiniappAppID: "app2"}, contract.CodeInvalidRefreshToken},
		{"access token as refresh token", boxoBasicAuth, `{"refresh_token":"` + access + `"}`, nil, contract.CodeInvalidRefreshToken},
		{"unknown", boxoBasicAuth, `{"refresh_token":"` + contract.RandomToken() + `"}`, nil, contract.CodeInvalidRefreshToken},
		{"missing", boxoBasicAuth, `{}`, nil, contract.CodeInvalidRefreshToken},
		{"bad JSON", boxoBasicAuth, `{"refresh_token"`, nil, contract.CodeInvalidRequest},
		{"wrong type", boxoBasicAuth, `{"refresh_token":1}`, nil, contract.CodeInvalidRequest},
		{"empty body", boxoBasicAuth, ``, nil, contract.CodeInvalidRequest},
		{"wrong content type", boxoBasicAuth, `{"refresh_token":"` + refresh + `"}`, map[string]string{"Content-Type": "text/json"}, contract.CodeInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, e.connectCall(http.MethodPost, demo.RefreshTokenPath, tc.auth, tc.body, tc.header), tc.want)
		})
	}
	// None of the failures spent the token.
	wantCode(t, e.refresh(refresh), "")
}

func TestRefreshExpired(t *testing.T) {
	e := newEnv(t)
	_, refresh := e.tokens(e.boxoCode("alice"))
	e.clk.Advance(30 * 24 * time.Hour)
	wantCode(t, e.refresh(refresh), contract.CodeInvalidRefreshToken)
}

func TestRefreshConcurrent(t *testing.T) {
	const n = 10
	var barrier sync.WaitGroup
	barrier.Add(n)
	e := newEnv(t, func(c *hostapp.Config) { c.Store = barrierStore{Store: c.Store, tokens: &barrier} })
	_, refresh := e.tokens(e.boxoCode("alice"))
	var mu sync.Mutex
	ok := 0
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			m := e.refresh(refresh)
			if m["access_token"] != nil {
				mu.Lock()
				ok++
				mu.Unlock()
			} else if m["error_code"] != contract.CodeInvalidRefreshToken {
				t.Errorf("got %v", m)
			}
		})
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("%d concurrent refreshes succeeded, want 1", ok)
	}
}

func TestIPFilter(t *testing.T) {
	e := newEnv(t)
	access, refresh := e.tokens(e.boxoCode("alice"))
	calls := []call{
		{method: http.MethodPost, path: demo.AccessTokenPath, body: `{"auth_code":"x"}`, header: map[string]string{"Authorization": boxoBasicAuth}},
		{method: http.MethodGet, path: demo.UserDataPath, header: map[string]string{"Authorization": "Token " + access}},
		{method: http.MethodPost, path: demo.UserDataPath, header: map[string]string{"Authorization": "Token " + access}},
		{method: http.MethodPost, path: demo.RefreshTokenPath, body: `{"refresh_token":"` + refresh + `"}`, header: map[string]string{"Authorization": boxoBasicAuth}},
	}
	for _, remote := range []string{foreignAddr, "[2001:db8::1]:443", "10.0.0.1:80", "garbage"} {
		for _, c := range calls {
			c.remote = remote
			rec := e.do(c)
			if rec.Code != http.StatusForbidden || strings.TrimSpace(rec.Body.String()) != `{"error_code":"NOT_A_WHITELISTED_IP"}` {
				t.Errorf("%s %s from %s: %d %s, want 403 NOT_A_WHITELISTED_IP", c.method, c.path, remote, rec.Code, rec.Body)
			}
		}
	}
	// IPv6 loopback is allowed by default.
	c := calls[1]
	c.remote = "[::1]:5000"
	if rec := e.do(c); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "user_data") {
		t.Fatalf("from ::1: %d %s", rec.Code, rec.Body)
	}
	// The admin API is not filtered; a PUT takes effect on the next request.
	rec := e.do(call{method: http.MethodPut, path: "/_sim/settings", remote: foreignAddr, body: `{"ip_allowlist":["192.0.2.0/24"]}`})
	if rec.Code != http.StatusOK {
		t.Fatalf("PUT settings: %d %s", rec.Code, rec.Body)
	}
	c.remote = foreignAddr
	if rec := e.do(c); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "user_data") {
		t.Fatalf("after allowlisting: %d %s", rec.Code, rec.Body)
	}
	c.remote = loopbackAddr
	if rec := e.do(c); rec.Code != http.StatusForbidden {
		t.Fatalf("loopback after it left the list: %d %s", rec.Code, rec.Body)
	}
}

func TestTokenPrefixSetting(t *testing.T) {
	e := newEnv(t)
	code := e.boxoCode("alice")
	if rec := e.do(call{method: http.MethodPut, path: "/_sim/settings", body: `{"token_prefix":"Bearer"}`}); rec.Code != http.StatusOK {
		t.Fatalf("PUT settings: %d %s", rec.Code, rec.Body)
	}
	wantCode(t, e.redeem(code), contract.CodeAccessDenied)
	m := e.connectCall(http.MethodPost, demo.AccessTokenPath, "Bearer "+contract.BasicCredential(demo.HostappClientID, demo.HostappSecret),
		`{"auth_code":"`+code+`"}`, nil)
	access := m["access_token"].(string)
	wantCode(t, e.userData(access), contract.CodeAccessDenied)
	wantCode(t, e.connectCall(http.MethodGet, demo.UserDataPath, "bearer "+access, "", nil), "")
}

// The log never holds a full code, token, secret, password or session id, even at Debug.
func TestLogsHoldNoSecrets(t *testing.T) {
	var buf syncBuffer
	e := newEnv(t, withLogger(io.MultiWriter(&buf, t.Output())))
	cookie := e.signIn("carol", "carol-password")
	code := e.codeFor(cookie)
	access, refresh := e.tokens(code)
	e.userData(access)
	m := e.refresh(refresh)
	e.redeem(code) // replay: logged
	e.connectCall(http.MethodPost, demo.AccessTokenPath, "Token "+contract.BasicCredential(demo.HostappClientID, "wrong-secret-value"),
		`{"auth_code":"`+code+`"}`, nil)
	e.do(call{method: http.MethodPost, path: "/auth/v1/login", body: "username=carol&password=not-carols-password",
		header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
	logs := buf.String()
	if !strings.Contains(logs, "level=DEBUG") {
		t.Fatal("nothing was logged at debug level; the test would prove nothing")
	}
	for _, secret := range []string{code, access, refresh, m["access_token"].(string), m["refresh_token"].(string),
		demo.HostappSecret, "wrong-secret-value", "carol-password", "not-carols-password", cookie.Value,
		contract.BasicCredential(demo.HostappClientID, demo.HostappSecret)} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains secret %q", contract.Mask(secret))
		}
	}
}

// TestRevokeUserTokens: POST /_sim/users/{username}/revoke-tokens revokes the user's access
// and refresh tokens and no one else's, so the platform's next step 8 and refresh are refused.
func TestRevokeUserTokens(t *testing.T) {
	e := newEnv(t)
	access, refresh := e.tokens(e.boxoCode("alice"))
	bobAccess, _ := e.tokens(e.boxoCode("bob"))
	rec := e.do(call{method: http.MethodPost, path: "/_sim/users/alice/revoke-tokens", body: `{}`})
	if rec.Code != http.StatusOK {
		t.Fatalf("revoke-tokens: %d %s", rec.Code, rec.Body)
	}
	if got := jsonBody(t, rec)["revoked"]; got != float64(2) {
		t.Fatalf("revoked = %v, want 2 (the access and the refresh token)", got)
	}
	wantCode(t, e.userData(access), contract.CodeInvalidAccessToken)
	wantCode(t, e.refresh(refresh), contract.CodeInvalidRefreshToken)
	wantCode(t, e.userData(bobAccess), "")
	if got := jsonBody(t, e.do(call{method: http.MethodPost, path: "/_sim/users/alice/revoke-tokens", body: `{}`}))["revoked"]; got != float64(0) {
		t.Fatalf("second revoke-tokens revoked %v, want 0", got)
	}
	if rec := e.do(call{method: http.MethodPost, path: "/_sim/users/nobody/revoke-tokens", body: `{}`}); rec.Code != http.StatusNotFound {
		t.Fatalf("unknown user: %d %s", rec.Code, rec.Body)
	}
}
