package hostapp_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/boxo-sim/boxo-sim/hostapp"
	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
)

func TestSeedDemoIdempotent(t *testing.T) {
	e := newEnv(t) // seeded once with testBaseURL
	ctx := t.Context()
	// Changes made since survive a second seed.
	if err := e.db.PutSettings(ctx, hostapp.Settings{TokenPrefix: "Bearer", IPAllowlist: []string{"10.0.0.0/8"}}); err != nil {
		t.Fatal(err)
	}
	e.do(call{method: http.MethodPut, path: "/_sim/users/alice", body: `{"reference":"changed"}`})
	for range 2 {
		if err := hostapp.SeedDemo(ctx, e.db, testBaseURL); err != nil {
			t.Fatal(err)
		}
	}
	if err := hostapp.SeedDemo(ctx, e.db, "http://127.0.0.1:9999/"); err != nil {
		t.Fatal(err)
	}
	users, err := e.db.ListUsers(ctx)
	if err != nil || len(users) != len(demo.Users) {
		t.Fatalf("users %v %v", users, err)
	}
	if u, _ := e.db.GetUser(ctx, "alice"); u.Reference != "changed" {
		t.Fatalf("seed overwrote alice: %+v", u)
	}
	st, err := e.db.GetSettings(ctx)
	if err != nil || st.TokenPrefix != "Bearer" {
		t.Fatalf("seed overwrote settings: %+v %v", st, err)
	}
	c, err := e.db.GetClient(ctx, demo.HostappClientID)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{boxoCallback, "http://127.0.0.1:9999" + demo.BoxoCallbackPath}
	if !slices.Equal(c.RedirectURIs, want) || !c.SkipConsent || c.SecretHash != contract.Hash(demo.HostappSecret) {
		t.Fatalf("client %+v", c)
	}
	// Passwords are stored hashed and salted.
	carol, _ := e.db.GetUser(ctx, "carol")
	bob, _ := e.db.GetUser(ctx, "bob")
	if !strings.HasPrefix(carol.PasswordHash, "pbkdf2-sha256$") || strings.Contains(carol.PasswordHash, "carol-password") {
		t.Fatalf("password hash %q", carol.PasswordHash)
	}
	if carol.CustomAttributes != `{"tier":"gold","locale":"en-SG"}` || bob.Phone != "+6591234567" {
		t.Fatalf("seeded users %+v %+v", carol, bob)
	}
}

func TestUsersAdmin(t *testing.T) {
	e := newEnv(t)
	list := jsonBody(t, e.do(call{method: http.MethodGet, path: "/_sim/users"}))
	users := list["users"].([]any)
	if len(users) != 3 {
		t.Fatalf("users %v", users)
	}
	raw := e.do(call{method: http.MethodGet, path: "/_sim/users"}).Body.String()
	if strings.Contains(raw, "pbkdf2") || strings.Contains(raw, "password_hash") {
		t.Fatalf("list shows password hashes: %s", raw)
	}

	// Contract-breaking data is accepted on purpose.
	long := strings.Repeat("x", 101)
	rec := e.do(call{method: http.MethodPut, path: "/_sim/users/dave",
		body: `{"password":"dave-pw","reference":"` + long + `","phone":"not-e164","first_name":"Dave","custom_attributes":{"k":1}}`})
	if rec.Code != http.StatusOK {
		t.Fatalf("PUT: %d %s", rec.Code, rec.Body)
	}
	got := jsonBody(t, rec)
	if got["username"] != "dave" || got["reference"] != long || got["phone"] != "not-e164" || got["email"] != nil ||
		got["has_password"] != true || got["password"] != nil || got["id"] == "" {
		t.Fatalf("PUT answer %v", got)
	}
	id := got["id"]
	// Replace: fields replaced, password and id kept.
	rec = e.do(call{method: http.MethodPut, path: "/_sim/users/dave", body: `{"reference":"u-dave","email":"d@example.com"}`})
	got = jsonBody(t, rec)
	if got["id"] != id || got["reference"] != "u-dave" || got["first_name"] != nil || got["custom_attributes"] != nil || got["has_password"] != true {
		t.Fatalf("replace answer %v", got)
	}
	e.signIn("dave", "dave-pw")
	if g := jsonBody(t, e.do(call{method: http.MethodGet, path: "/_sim/users/dave"})); g["email"] != "d@example.com" {
		t.Fatalf("GET %v", g)
	}

	for _, tc := range []struct {
		name, path, body string
		status           int
	}{
		{"custom_attributes array", "/_sim/users/eve", `{"reference":"r","custom_attributes":[1]}`, 400},
		{"custom_attributes string", "/_sim/users/eve", `{"reference":"r","custom_attributes":"x"}`, 400},
		{"wrong type", "/_sim/users/eve", `{"reference":5}`, 400},
		{"unknown key", "/_sim/users/eve", `{"reference":"r","firstname":"E"}`, 400},
		{"bad JSON", "/_sim/users/eve", `{"reference":`, 400},
		{"not an object", "/_sim/users/eve", `["r"]`, 400},
		{"empty password", "/_sim/users/eve", `{"reference":"r","password":""}`, 400},
		{"empty body", "/_sim/users/eve", ``, 400},
		{"over 1 MiB", "/_sim/users/eve", `{"reference":"` + strings.Repeat("r", contract.MaxBodyBytes) + `"}`, 400},
		{"too long username", "/_sim/users/" + strings.Repeat("u", 101), `{"reference":"r"}`, 400},
		{"null custom_attributes", "/_sim/users/eve", `{"reference":"r","custom_attributes":null}`, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := e.do(call{method: http.MethodPut, path: tc.path, body: tc.body})
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if m := jsonBody(t, rec); tc.status == 400 && (m["error"] != "invalid_request" || m["error_description"] == "") {
				t.Fatalf("body %v", m)
			}
		})
	}
	if rec := e.do(call{method: http.MethodGet, path: "/_sim/users/eve-unknown"}); rec.Code != http.StatusNotFound {
		t.Fatalf("GET unknown: %d", rec.Code)
	}
	if rec := e.do(call{method: http.MethodDelete, path: "/_sim/users/dave"}); rec.Code != http.StatusOK {
		t.Fatalf("DELETE: %d %s", rec.Code, rec.Body)
	}
	if rec := e.do(call{method: http.MethodDelete, path: "/_sim/users/dave"}); rec.Code != http.StatusNotFound {
		t.Fatalf("DELETE again: %d", rec.Code)
	}
}

func TestSettingsAdmin(t *testing.T) {
	e := newEnv(t)
	get := func() string {
		return strings.TrimSpace(e.do(call{method: http.MethodGet, path: "/_sim/settings"}).Body.String())
	}
	if got := get(); got != `{"token_prefix":"Token","ip_allowlist":["127.0.0.0/8","::1/128"],"encrypted_user_data":{},"trusted_proxies":[],"lifetimes":{"auth_code":600,"connect_access_token":3600,"connect_refresh_token":2592000,"session":43200,"id_token":604800,"access_token":315360000,"refresh_token":2592000}}` {
		t.Fatalf("default settings %s", got)
	}
	rec := e.do(call{method: http.MethodPut, path: "/_sim/settings", body: `{"token_prefix":"Bearer"}`})
	if rec.Code != http.StatusOK || get() != `{"token_prefix":"Bearer","ip_allowlist":["127.0.0.0/8","::1/128"],"encrypted_user_data":{},"trusted_proxies":[],"lifetimes":{"auth_code":600,"connect_access_token":3600,"connect_refresh_token":2592000,"session":43200,"id_token":604800,"access_token":315360000,"refresh_token":2592000}}` {
		t.Fatalf("merge prefix: %d %s", rec.Code, get())
	}
	rec = e.do(call{method: http.MethodPut, path: "/_sim/settings", body: `{"ip_allowlist":["10.0.0.0/8","192.0.2.7"],"encrypted_user_data":{},"trusted_proxies":[],"lifetimes":{"auth_code":600,"connect_access_token":3600,"connect_refresh_token":2592000,"session":43200,"id_token":604800,"access_token":315360000,"refresh_token":2592000}}`})
	if rec.Code != http.StatusOK || get() != `{"token_prefix":"Bearer","ip_allowlist":["10.0.0.0/8","192.0.2.7"],"encrypted_user_data":{},"trusted_proxies":[],"lifetimes":{"auth_code":600,"connect_access_token":3600,"connect_refresh_token":2592000,"session":43200,"id_token":604800,"access_token":315360000,"refresh_token":2592000}}` {
		t.Fatalf("merge allowlist: %d %s", rec.Code, get())
	}
	for _, body := range []string{
		`{"token_prefix":"Two words"}`, `{"token_prefix":""}`, `{"token_prefix":"a:b"}`, `{"token_prefix":7}`,
		`{"ip_allowlist":["10.0.0.0/33"]}`, `{"ip_allowlist":["host.example"]}`, `{"ip_allowlist":"10.0.0.0/8"}`,
		`{"prefix":"Token"}`, `not json`, ``,
	} {
		rec := e.do(call{method: http.MethodPut, path: "/_sim/settings", body: body})
		if rec.Code != http.StatusBadRequest || jsonBody(t, rec)["error"] != "invalid_request" {
			t.Errorf("PUT %s: %d %s", body, rec.Code, rec.Body)
		}
	}
	if got := get(); got != `{"token_prefix":"Bearer","ip_allowlist":["10.0.0.0/8","192.0.2.7"],"encrypted_user_data":{},"trusted_proxies":[],"lifetimes":{"auth_code":600,"connect_access_token":3600,"connect_refresh_token":2592000,"session":43200,"id_token":604800,"access_token":315360000,"refresh_token":2592000}}` {
		t.Fatalf("a rejected PUT changed the settings: %s", got)
	}
}

func TestClientsAdmin(t *testing.T) {
	e := newEnv(t)
	rec := e.do(call{method: http.MethodGet, path: "/_sim/clients"})
	body := rec.Body.String()
	if strings.Contains(body, demo.HostappSecret) || strings.Contains(body, contract.Hash(demo.HostappSecret)) ||
		strings.Contains(body, `"secret"`) || strings.Contains(body, "secret_hash") {
		t.Fatalf("clients list shows a secret: %s", body)
	}
	clients := jsonBody(t, rec)["clients"].([]any)
	var boxo map[string]any
	for _, c := range clients {
		if m := c.(map[string]any); m["client_id"] == demo.HostappClientID {
			boxo = m
		}
	}
	if boxo == nil || boxo["skip_consent"] != true || mustJSON(boxo["redirect_uris"]) != mustJSON([]string{boxoCallback}) {
		t.Fatalf("Boxo client %v", boxo)
	}
}
