package miniapp_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/clock"
	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/miniapp"
)

type settingsJSON struct {
	AppID          string   `json:"app_id"`
	RequiredFields []string `json:"required_fields"`
	IPAllowlist    []string `json:"ip_allowlist"`
}

// put calls PUT /_sim/settings and wants the status.
func put(t *testing.T, e *env, body string, status int) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPut, "/_sim/settings", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	w := e.serve(r)
	if w.Code != status {
		t.Fatalf("PUT %s: %d %s, want %d", body, w.Code, w.Body, status)
	}
	return w
}

func getSettings(t *testing.T, e *env) (settingsJSON, string) {
	t.Helper()
	w := e.serve(httptest.NewRequest(http.MethodGet, "/_sim/settings", nil))
	var s settingsJSON
	decode(t, w, http.StatusOK, &s)
	return s, w.Body.String()
}

func TestSettingsGet(t *testing.T) {
	e := newEnv(t)
	s, raw := getSettings(t, e)
	want := settingsJSON{AppID: demo.AppID, RequiredFields: []string{}, IPAllowlist: contract.DefaultAllowlist}
	if fmt.Sprint(s) != fmt.Sprint(want) || !strings.Contains(raw, `"required_fields":[]`) {
		t.Fatalf("GET /_sim/settings = %s, want %+v", raw, want)
	}
	if strings.Contains(raw, "secret") || strings.Contains(raw, "signing") {
		t.Fatalf("settings show a secret: %s", raw)
	}
	if got := e.settings().SecretHash; got != contract.Hash(demo.MiniappSecret) {
		t.Fatalf("secret stored as %q, want its hash", got)
	}
	if n := len(e.settings().SigningKey); n != 32 {
		t.Fatalf("signing key of %d bytes", n)
	}
}

func TestSettingsPutMerges(t *testing.T) {
	e := newEnv(t)
	put(t, e, `{"required_fields":["email","email","first_name"]}`, http.StatusOK)
	s, _ := getSettings(t, e)
	if s.AppID != demo.AppID || !slices.Equal(s.RequiredFields, []string{"email", "first_name"}) || !slices.Equal(s.IPAllowlist, contract.DefaultAllowlist) {
		t.Fatalf("after PUT required_fields: %+v", s)
	}
	put(t, e, `{"required_fields":null,"ip_allowlist":[" 10.0.0.0/8 ","127.0.0.1"]}`, http.StatusOK)
	s, _ = getSettings(t, e)
	if !slices.Equal(s.RequiredFields, []string{"email", "first_name"}) || !slices.Equal(s.IPAllowlist, []string{"10.0.0.0/8", "127.0.0.1"}) {
		t.Fatalf("after PUT ip_allowlist: %+v", s)
	}
	put(t, e, `{"required_fields":[]}`, http.StatusOK)
	if s, _ = getSettings(t, e); len(s.RequiredFields) != 0 {
		t.Fatalf("required_fields not emptied: %+v", s)
	}

	// A new secret: the old Basic credential stops working, the new one works.
	tok := e.login(clientID, aliceBody)
	put(t, e, `{"secret_key":"rotated-secret"}`, http.StatusOK)
	var resp contract.AuthTokenResponse
	decode(t, e.serve(authTokenRequest(aliceBody)), http.StatusOK, &resp)
	if resp.ErrorCode != contract.CodeAccessDenied {
		t.Fatalf("old secret: %+v", resp)
	}
	r := authTokenRequest(aliceBody)
	r.Header.Set("Authorization", "Basic "+contract.BasicCredential(demo.AppID, "rotated-secret"))
	decode(t, e.serve(r), http.StatusOK, &resp)
	if resp.AuthToken == "" {
		t.Fatalf("new secret: %+v", resp)
	}

	// A new app_id: the old tokens' audience no longer matches.
	put(t, e, `{"app_id":"app85076"}`, http.StatusOK)
	wantInvalidToken(t, e.me(tok.AuthToken))
}

func TestSettingsIPAllowlist(t *testing.T) {
	e := newEnv(t)
	put(t, e, `{"ip_allowlist":["10.0.0.0/8"]}`, http.StatusOK)
	w := e.serve(authTokenRequest(aliceBody))
	var body map[string]string
	decode(t, w, http.StatusForbidden, &body)
	if body["error_code"] != contract.CodeNotAWhitelistedIP {
		t.Fatalf("loopback after allowlist change: %s", w.Body)
	}
	r := authTokenRequest(aliceBody)
	r.RemoteAddr = "10.1.2.3:999"
	e.serve(r)
	if n := len(e.users()); n != 1 {
		t.Fatalf("allowed address made %d users", n)
	}
	// IPv6 loopback is allowed by default.
	e2 := newEnv(t)
	r = authTokenRequest(aliceBody)
	r.RemoteAddr = "[::1]:4000"
	var resp contract.AuthTokenResponse
	decode(t, e2.serve(r), http.StatusOK, &resp)
	if resp.AuthToken == "" {
		t.Fatalf("::1 refused: %+v", resp)
	}
}

func TestSettingsPutRejects(t *testing.T) {
	e := newEnv(t)
	before, _ := getSettings(t, e)
	for _, body := range []string{
		``, `not json`, `null`, `[]`, `"x"`,
		`{"app_id":""}`, `{"app_id":"a:b"}`, `{"app_id":"a\nb"}`, `{"app_id":"` + strings.Repeat("a", 65) + `"}`, `{"app_id":7}`,
		`{"secret_key":""}`, `{"secret_key":["x"]}`,
		`{"required_fields":["reference"]}`, `{"required_fields":["Email"]}`, `{"required_fields":"email"}`, `{"required_fields":[null]}`,
		`{"ip_allowlist":["10.0.0.0/33"]}`, `{"ip_allowlist":["localhost"]}`, `{"ip_allowlist":[""]}`, `{"ip_allowlist":"127.0.0.1"}`,
		`{"ip_allowlist":["10.0.0.0/8,127.0.0.1"]}`,
		`{"app_id":"app1","required_field":["email"]}`,
		`{"required_fields":["email"],"ip_allowlist":["bad"]}`, // nothing of a refused PUT is applied
	} {
		r := httptest.NewRequest(http.MethodPut, "/_sim/settings", strings.NewReader(body))
		wantError(t, e.serve(r), http.StatusBadRequest, "invalid_request")
	}
	r := httptest.NewRequest(http.MethodPut, "/_sim/settings", strings.NewReader(`{}`))
	r.Header.Set("Content-Type", "text/plain")
	wantError(t, e.serve(r), http.StatusBadRequest, "invalid_request")
	if after, _ := getSettings(t, e); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("refused PUTs changed settings: %+v → %+v", before, after)
	}
	wantError(t, e.serve(httptest.NewRequest(http.MethodPost, "/_sim/settings", nil)), http.StatusMethodNotAllowed, "method_not_allowed")
}

// TestSettingsCreateByPut: without SeedDemo the miniapp has no settings; PUT creates them.
func TestSettingsCreateByPut(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "miniapp.db"))
	e := &env{t: t, db: db, clk: clock.NewFake(t0), logs: &lockedBuffer{}}
	e.h = e.build()
	wantError(t, e.serve(httptest.NewRequest(http.MethodGet, "/_sim/settings", nil)), http.StatusNotFound, "not_found")
	var resp map[string]string
	decode(t, e.serve(authTokenRequest(aliceBody)), http.StatusOK, &resp)
	if resp["error_code"] != contract.CodeUnknownError {
		t.Fatalf("unconfigured miniapp answered %v", resp)
	}
	wantInvalidToken(t, e.me("x.y.z"))

	put(t, e, `{"app_id":"app1"}`, http.StatusBadRequest)
	put(t, e, `{"app_id":"app1","secret_key":"s1","required_fields":["phone"]}`, http.StatusOK)
	s, _ := getSettings(t, e)
	if s.AppID != "app1" || !slices.Equal(s.RequiredFields, []string{"phone"}) || !slices.Equal(s.IPAllowlist, contract.DefaultAllowlist) {
		t.Fatalf("created settings %+v", s)
	}
	r := authTokenRequest(`{"reference":"u-1","phone":"+6591234567"}`)
	r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("app1:s1")))
	r.Header.Set(contract.HeaderMiniappAppID, "app1")
	var tok contract.AuthTokenResponse
	decode(t, e.serve(r), http.StatusOK, &tok)
	if me := e.mustMe(tok.AuthToken); me.Phone != "+6591234567" {
		t.Fatalf("me %+v", me)
	}
}

func TestSeedDemoIdempotent(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "miniapp.db"))
	ctx := context.Background()
	if err := miniapp.SeedDemo(ctx, db, "", ""); err != nil {
		t.Fatal(err)
	}
	s1, err := db.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s1.AppID != demo.AppID || s1.SecretHash != contract.Hash(demo.MiniappSecret) || len(s1.RequiredFields) != 0 ||
		!slices.Equal(s1.IPAllowlist, contract.DefaultAllowlist) || len(s1.SigningKey) != 32 {
		t.Fatalf("seeded %+v", s1)
	}
	if err := miniapp.SeedDemo(ctx, db, "other", "other-secret"); err != nil {
		t.Fatal(err)
	}
	s2, _ := db.Settings(ctx)
	if fmt.Sprint(s1) != fmt.Sprint(s2) {
		t.Fatalf("second seed changed settings: %+v → %+v", s1, s2)
	}
	if err := miniapp.SeedDemo(ctx, db, "bad:id", "x"); err == nil {
		t.Fatal("seed accepted an app_id with a colon")
	}
}

func TestUsersAdmin(t *testing.T) {
	e := newEnv(t)
	e.login(clientID, `{"reference":"u-1","email":"a@example.com","custom_attributes":{"k":"v"}}`)
	e.clk.Advance(time.Second)
	e.login("777777", `{"reference":"u-1","phone":"+6591234567","first_name":"B"}`)
	e.login(clientID, `{"reference":"u-2","email":"c@example.com"}`)

	list := func(query string) []map[string]any {
		t.Helper()
		var body struct {
			Users []map[string]any `json:"users"`
		}
		decode(t, e.serve(httptest.NewRequest(http.MethodGet, "/_sim/users"+query, nil)), http.StatusOK, &body)
		return body.Users
	}
	all := list("")
	if len(all) != 3 {
		t.Fatalf("%d users", len(all))
	}
	first := all[0]
	want := map[string]any{"client_id": clientID, "reference": "u-1", "email": "a@example.com",
		"custom_attributes": map[string]any{"k": "v"}, "created_at": "2030-01-01T09:00:00Z", "updated_at": "2030-01-01T09:00:00Z"}
	for k, v := range want {
		if fmt.Sprint(first[k]) != fmt.Sprint(v) {
			t.Errorf("%s = %v, want %v", k, first[k], v)
		}
	}
	if id, _ := first["id"].(string); id == "" {
		t.Errorf("no id: %v", first)
	}
	if _, ok := first["phone"]; ok {
		t.Errorf("absent phone shown: %v", first)
	}
	if got := list("?client_id=777777"); len(got) != 1 || got[0]["first_name"] != "B" {
		t.Fatalf("filter by client: %v", got)
	}
	if got := list("?reference=u-1"); len(got) != 2 {
		t.Fatalf("filter by reference: %v", got)
	}
	if got := list("?client_id=352131&reference=u-2"); len(got) != 1 || got[0]["email"] != "c@example.com" {
		t.Fatalf("filter by both: %v", got)
	}
	if w := e.serve(httptest.NewRequest(http.MethodGet, "/_sim/users?client_id=none", nil)); !strings.Contains(w.Body.String(), `"users":[]`) {
		t.Fatalf("empty list: %s", w.Body)
	}
}

func TestHealthzPageAndUnknownRoutes(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/healthz", "/healthz/"} {
		var body map[string]string
		decode(t, e.serve(httptest.NewRequest(http.MethodGet, p, nil)), http.StatusOK, &body)
		if len(body) != 2 || body["status"] != "ok" || body["party"] != "miniapp" {
			t.Fatalf("%s: %v", p, body)
		}
	}

	w := e.serve(httptest.NewRequest(http.MethodGet, "/", nil))
	page := w.Body.String()
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("page: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	for _, s := range []string{"<!DOCTYPE html>", "<title>" + demo.MiniappName + "</title>", "you sign in with the host app", `src="/web/vendor/js-sdk/dist/browser.min.js"`, "</html>"} {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	e.h = e.build(func(c *miniapp.Config) { c.Name = "Shop <&> Co" })
	if page := e.serve(httptest.NewRequest(http.MethodGet, "/", nil)).Body.String(); !strings.Contains(page, "<h1>Shop &lt;&amp;&gt; Co</h1>") {
		t.Errorf("name not escaped: %s", page)
	}
	if w := e.serve(httptest.NewRequest(http.MethodHead, "/", nil)); w.Code != http.StatusOK {
		t.Errorf("HEAD /: %d", w.Code)
	}

	wantError(t, e.serve(httptest.NewRequest(http.MethodGet, "/nope", nil)), http.StatusNotFound, "not_found")
	wantError(t, e.serve(httptest.NewRequest(http.MethodGet, "/boxo/auth-token", nil)), http.StatusMethodNotAllowed, "method_not_allowed")
	wantError(t, e.serve(httptest.NewRequest(http.MethodPost, "/api/me", nil)), http.StatusMethodNotAllowed, "method_not_allowed")
}

func TestNewValidatesConfig(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "miniapp.db"))
	for _, c := range []miniapp.Config{
		{BaseURL: baseURL},
		{Store: db},
		{Store: db, BaseURL: "127.0.0.1:8083"},
		{Store: db, BaseURL: "ftp://127.0.0.1"},
		{Store: db, BaseURL: baseURL, AuthTokenTTL: -time.Second},
		{Store: db, BaseURL: baseURL, RefreshTokenTTL: -time.Second},
	} {
		if _, err := miniapp.New(c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
	// A trailing slash is trimmed: the issuer is the bare URL.
	e := newEnv(t)
	e.h = e.build(func(c *miniapp.Config) { c.BaseURL = baseURL + "/" })
	if iss := claimsOf(t, e.login(clientID, aliceBody).AuthToken)["iss"]; iss != baseURL {
		t.Fatalf("iss %v", iss)
	}
}

// TestNoSecretsInLogs drives the full flow and its failures with Debug logging and wants no
// secret, credential or token in the output, and the flow id on request logs.
func TestNoSecretsInLogs(t *testing.T) {
	e := newEnv(t)
	tok := e.login(clientID, aliceBody)
	r := authTokenRequest(aliceBody)
	r.Header.Set(contract.HeaderFlowID, "flow_0123456789abcdef")
	r.Header.Set("Authorization", "Basic "+contract.BasicCredential(demo.AppID, "wrong-secret-value"))
	e.serve(r)
	var next contract.MiniappTokens
	decode(t, e.refresh(tok.RefreshToken), http.StatusOK, &next)
	e.refresh(tok.RefreshToken) // reuse
	e.mustMe(next.AuthToken)
	e.me(tok.AuthToken + "x")
	e.logout(next.AuthToken)
	put(t, e, `{"secret_key":"new-admin-secret"}`, http.StatusOK)

	logs := e.logs.String()
	if !strings.Contains(logs, "flow_id=flow_0123456789abcdef") || !strings.Contains(logs, "request refused") {
		t.Fatalf("expected debug lines missing:\n%s", logs)
	}
	base := strings.TrimPrefix(basicDemo, "Basic ")
	for _, secret := range []string{demo.MiniappSecret, base, "wrong-secret-value", "new-admin-secret",
		contract.BasicCredential(demo.AppID, "wrong-secret-value"),
		tok.AuthToken, tok.RefreshToken, next.AuthToken, next.RefreshToken,
		strings.Split(tok.AuthToken, ".")[2], strings.Split(next.AuthToken, ".")[2]} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains secret %q", contract.Mask(secret))
		}
	}
	key := e.settings().SigningKey
	for _, enc := range []string{string(key), base64.StdEncoding.EncodeToString(key), fmt.Sprintf("%x", key)} {
		if strings.Contains(logs, enc) {
			t.Error("log contains the signing key")
		}
	}
}

// FuzzAuthToken: whatever the body, the Get Auth Token endpoint answers 200 with exactly one
// of tokens or a known error code, never a 500, and writes a user only on success.
func FuzzAuthToken(f *testing.F) {
	for _, s := range []string{protocolBody, aliceBody, `{}`, `null`, `[]`, `{"reference":"`, `{"reference":"r","phone":"+1"}`,
		`{"reference":"r","email":"e","custom_attributes":{"a":{"b":[1,2,{"c":null}]}}}`, "\x00\xff", `{"reference":"\ud800","email":"x"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		e := newEnv(t)
		w := httptestServe(e, authTokenRequest(body))
		var resp map[string]any
		if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &resp) != nil {
			t.Fatalf("%q: %d %s", body, w.Code, w.Body)
		}
		code, _ := resp["error_code"].(string)
		ok := resp["auth_token"] != nil
		if ok == (code != "") || (code != "" && code != contract.CodeInvalidRequest && code != contract.CodeInvalidUserData) {
			t.Fatalf("%q: %s", body, w.Body)
		}
		if n := len(e.users()); (n == 1) != ok {
			t.Fatalf("%q: %d users after %s", body, n, w.Body)
		}
	})
}
