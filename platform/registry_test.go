package platform_test

import (
	"errors"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/platform"
)

func TestNewValidatesConfig(t *testing.T) {
	db := openDB(t)
	for _, cfg := range []platform.Config{
		{},
		{Store: db, BaseURL: "127.0.0.1:8082"},
		{Store: db, CallTimeout: -1},
	} {
		if _, err := platform.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	if _, err := platform.New(platform.Config{Store: db}); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

func TestHealthz(t *testing.T) {
	e := newEnv(t)
	rec := e.do(http.MethodGet, "/healthz", "", nil)
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != `{"party":"platform","status":"ok"}` {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
	if rec := e.do(http.MethodGet, "/nowhere", "", nil); rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "not_found") {
		t.Errorf("unknown route: %d %s", rec.Code, rec.Body)
	}
}

func TestRegistryGetMasksSecrets(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/_sim/hostapps", "/_sim/hostapps/" + demo.ClientID, "/_sim/miniapps", "/_sim/miniapps/" + demo.AppID,
		"/_sim/partnerships", "/_sim/partnerships/" + demo.ClientID + "/" + demo.AppID} {
		rec := e.do(http.MethodGet, p, "", nil)
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s: %d %s", p, rec.Code, rec.Body)
		}
		assertNoSecrets(t, p, rec.Body.String())
	}
	var h map[string]any
	decode(t, e.do(http.MethodGet, "/_sim/hostapps/"+demo.ClientID, "", nil), &h)
	want := map[string]any{
		"client_id": demo.ClientID, "name": demo.HostappName, "connect_enabled": true,
		"access_token_url": e.host.srv.URL + demo.AccessTokenPath, "user_data_url": e.host.srv.URL + demo.UserDataPath,
		"refresh_token_url": e.host.srv.URL + demo.RefreshTokenPath, "hostapp_client_id": demo.HostappClientID,
		"hostapp_secret_key": contract.Mask(demo.HostappSecret), "token_prefix": "Token", "user_data_method": "GET",
		"ip_allowlist": []any{"127.0.0.0/8", "::1/128"}, "legacy_login_enabled": false, "use_access_token": false, "signing_enabled": false, "signing_secret": "",
	}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("host app = %v\nwant %v", h, want)
	}
	var m map[string]any
	decode(t, e.do(http.MethodGet, "/_sim/miniapps/"+demo.AppID, "", nil), &m)
	wantM := map[string]any{
		"app_id": demo.AppID, "name": demo.MiniappName, "url": e.mini.srv.URL + "/", "auth_token_url": e.mini.srv.URL + demo.AuthTokenPath,
		"secret_key": contract.Mask(demo.MiniappSecret), "required_fields": []any{}, "ip_allowlist": []any{"127.0.0.0/8", "::1/128"},
		"consent_links":   []any{},
		"signing_enabled": false, "signing_secret": "",
	}
	if !reflect.DeepEqual(m, wantM) {
		t.Errorf("miniapp = %v\nwant %v", m, wantM)
	}
	var p map[string]any
	decode(t, e.do(http.MethodGet, "/_sim/partnerships", "", nil), &p)
	wantP := map[string]any{"partnerships": []any{map[string]any{"client_id": demo.ClientID, "app_id": demo.AppID, "connect_enabled": true, "direct_enabled": true}}}
	if !reflect.DeepEqual(p, wantP) {
		t.Errorf("partnerships = %v", p)
	}
	for _, p := range []string{"/_sim/hostapps/nope", "/_sim/miniapps/nope", "/_sim/partnerships/nope/" + demo.AppID} {
		if rec := e.do(http.MethodGet, p, "", nil); rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), `"error":"not_found"`) {
			t.Errorf("GET %s: %d %s", p, rec.Code, rec.Body)
		}
	}
}

// TestRegistryGetPlainSecrets: ?secrets=show shows the stored secrets (for export and
// editing), masked is the default, and another value is refused.
func TestRegistryGetPlainSecrets(t *testing.T) {
	e := newEnv(t)
	if rec := e.do(http.MethodPut, "/_sim/miniapps/"+demo.AppID, `{"signing_secret":"mini-signing-secret-1"}`, nil); rec.Code != http.StatusOK {
		t.Fatalf("PUT: %d %s", rec.Code, rec.Body)
	}
	for path, want := range map[string][]string{
		"/_sim/hostapps?secrets=show":                       {`"hostapp_secret_key":"` + demo.HostappSecret + `"`},
		"/_sim/hostapps/" + demo.ClientID + "?secrets=show": {`"hostapp_secret_key":"` + demo.HostappSecret + `"`},
		"/_sim/miniapps?secrets=show":                       {`"secret_key":"` + demo.MiniappSecret + `"`, `"signing_secret":"mini-signing-secret-1"`},
		"/_sim/miniapps/" + demo.AppID + "?secrets=show":    {`"secret_key":"` + demo.MiniappSecret + `"`, `"signing_secret":"mini-signing-secret-1"`},
		"/_sim/miniapps/" + demo.AppID + "?secrets=masked":  {`"secret_key":"` + contract.Mask(demo.MiniappSecret) + `"`, `"signing_secret":"mini…[21]"`},
	} {
		rec := e.do(http.MethodGet, path, "", nil)
		for _, w := range want {
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), w) {
				t.Errorf("GET %s: %d %s; want %s", path, rec.Code, rec.Body, w)
			}
		}
	}
	for _, path := range []string{"/_sim/hostapps?secrets=yes", "/_sim/miniapps/" + demo.AppID + "?secrets=PLAIN"} {
		if rec := e.do(http.MethodGet, path, "", nil); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "secrets: must be masked (the default) or show") {
			t.Errorf("GET %s: %d %s, want 400 naming secrets", path, rec.Code, rec.Body)
		}
	}
}

func TestHostAppPutValidation(t *testing.T) {
	tests := []struct {
		name, path, body, field string
	}{
		{"relative URL", "", `{"access_token_url":"/boxo/connect/access-token"}`, "access_token_url"},
		{"ftp URL", "", `{"user_data_url":"ftp://127.0.0.1/x"}`, "user_data_url"},
		{"not a URL", "", `{"refresh_token_url":"http://[::1"}`, "refresh_token_url"},
		{"URL without host", "", `{"access_token_url":"http:///path"}`, "access_token_url"},
		{"prefix with space", "", `{"token_prefix":"My Token"}`, "token_prefix"},
		{"empty prefix", "", `{"token_prefix":""}`, "token_prefix"},
		{"method PUT", "", `{"user_data_method":"PUT"}`, "user_data_method"},
		{"lower-case method", "", `{"user_data_method":"get"}`, "user_data_method"},
		{"bad CIDR", "", `{"ip_allowlist":["300.1.1.0/24"]}`, "ip_allowlist"},
		{"CIDR not a string", "", `{"ip_allowlist":[10]}`, "ip_allowlist"},
		{"empty name", "", `{"name":"  "}`, "name"},
		{"empty secret", "", `{"hostapp_secret_key":""}`, "hostapp_secret_key"},
		{"colon in hostapp_client_id", "", `{"hostapp_client_id":"a:b"}`, "hostapp_client_id"},
		{"bool as string", "", `{"connect_enabled":"yes"}`, "connect_enabled"},
		{"unknown key", "", `{"acess_token_url":"http://x/"}`, "acess_token_url"},
		{"client_id differs", "", `{"client_id":"other"}`, "client_id"},
		{"id too long", "/_sim/hostapps/" + strings.Repeat("1", 65), `{}`, "client_id"},
		{"id with space", "/_sim/hostapps/a%20b", `{}`, "client_id"},
		{"new without URLs", "/_sim/hostapps/new-host", `{"name":"New","hostapp_client_id":"c","hostapp_secret_key":"s"}`, "access_token_url"},
		{"new without secret", "/_sim/hostapps/new-host", `{"name":"New","access_token_url":"http://h/a","user_data_url":"http://h/u","hostapp_client_id":"c"}`, "hostapp_secret_key"},
	}
	e := newEnv(t)
	before := e.do(http.MethodGet, "/_sim/hostapps/"+demo.ClientID, "", nil).Body.String()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path == "" {
				path = "/_sim/hostapps/" + demo.ClientID
			}
			rec := e.do(http.MethodPut, path, tt.body, nil)
			var got struct {
				Error            string `json:"error"`
				ErrorDescription string `json:"error_description"`
			}
			decode(t, rec, &got)
			if rec.Code != http.StatusBadRequest || got.Error != "invalid_request" || !strings.HasPrefix(got.ErrorDescription, tt.field) {
				t.Errorf("%d %s, want invalid_request naming %s", rec.Code, rec.Body, tt.field)
			}
		})
	}
	if after := e.do(http.MethodGet, "/_sim/hostapps/"+demo.ClientID, "", nil).Body.String(); after != before {
		t.Errorf("a rejected PUT changed the record:\n%s\n%s", before, after)
	}
	for _, bad := range []struct{ ct, body string }{{"application/json", `{`}, {"text/plain", `{}`}, {"application/json", `[]`}} {
		rec := e.do(http.MethodPut, "/_sim/hostapps/"+demo.ClientID, bad.body, map[string]string{"Content-Type": bad.ct})
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s %s: %d", bad.ct, bad.body, rec.Code)
		}
	}
}

func TestHostAppPutMergeAndCreate(t *testing.T) {
	e := newEnv(t)
	rec := e.do(http.MethodPut, "/_sim/hostapps/"+demo.ClientID, `{"name":"Renamed","ip_allowlist":["10.0.0.0/8","192.0.2.7"]}`, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	h, err := e.db.GetHostApp(t.Context(), demo.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if h.Name != "Renamed" || h.HostappSecretKey != demo.HostappSecret || h.AccessTokenURL != e.host.srv.URL+demo.AccessTokenPath ||
		!reflect.DeepEqual(h.IPAllowlist, []string{"10.0.0.0/8", "192.0.2.7"}) || !h.ConnectEnabled {
		t.Errorf("merged = %+v", h)
	}
	assertNoSecrets(t, "PUT answer", rec.Body.String())

	rec = e.do(http.MethodPut, "/_sim/hostapps/new-host", `{"name":"New","access_token_url":"https://h.example/a",
		"user_data_url":"https://h.example/u","hostapp_client_id":"c1","hostapp_secret_key":"very-secret-value"}`, nil)
	if rec.Code != http.StatusCreated || strings.Contains(rec.Body.String(), "very-secret-value") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	n, _ := e.db.GetHostApp(t.Context(), "new-host")
	want := platform.HostApp{ClientID: "new-host", Name: "New", ConnectEnabled: true, AccessTokenURL: "https://h.example/a",
		UserDataURL: "https://h.example/u", HostappClientID: "c1", HostappSecretKey: "very-secret-value", TokenPrefix: "Token",
		UserDataMethod: "GET", IPAllowlist: []string{"127.0.0.0/8", "::1/128"}}
	if !reflect.DeepEqual(n, want) {
		t.Errorf("created = %+v", n)
	}
}

func TestMiniappPut(t *testing.T) {
	e := newEnv(t)
	tests := []struct{ name, path, body, field string }{
		{"unknown required field", "", `{"required_fields":["email","password"]}`, "required_fields"},
		{"required reference", "", `{"required_fields":["reference"]}`, "required_fields"},
		{"bad URL", "", `{"url":"miniapp.example"}`, "url"},
		{"bad auth token URL", "", `{"auth_token_url":"mailto:x@y"}`, "auth_token_url"},
		{"empty secret", "", `{"secret_key":""}`, "secret_key"},
		{"app_id differs", "", `{"app_id":"app1"}`, "app_id"},
		{"colon in app_id", "/_sim/miniapps/app:1", `{}`, "app_id"},
		{"new without secret", "/_sim/miniapps/app-new", `{"name":"N","url":"http://m/","auth_token_url":"http://m/t"}`, "secret_key"},
		{"bad CIDR", "", `{"ip_allowlist":["nope"]}`, "ip_allowlist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path == "" {
				path = "/_sim/miniapps/" + demo.AppID
			}
			rec := e.do(http.MethodPut, path, tt.body, nil)
			if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"error_description":"`+tt.field) {
				t.Errorf("%d %s, want 400 naming %s", rec.Code, rec.Body, tt.field)
			}
		})
	}
	rec := e.do(http.MethodPut, "/_sim/miniapps/"+demo.AppID, `{"required_fields":["phone","email","phone"]}`, nil)
	var m map[string]any
	decode(t, rec, &m)
	if rec.Code != http.StatusOK || !reflect.DeepEqual(m["required_fields"], []any{"phone", "email"}) || m["secret_key"] != contract.Mask(demo.MiniappSecret) {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
	// The settings endpoint shows the change at once.
	rec = e.do(http.MethodGet, "/api/v1/miniapps/"+demo.AppID+"/settings/?client_id="+demo.ClientID, "", nil)
	var s contract.MiniappSettings
	decode(t, rec, &s)
	if !reflect.DeepEqual(s.RequiredFields, []string{"phone", "email"}) {
		t.Errorf("settings = %s", rec.Body)
	}
	rec = e.do(http.MethodPut, "/_sim/miniapps/"+demo.AppID, `{"required_fields":[]}`, nil)
	decode(t, rec, &m)
	if !reflect.DeepEqual(m["required_fields"], []any{}) {
		t.Errorf("clearing required_fields: %s", rec.Body)
	}
}

func TestPartnershipPutAndDelete(t *testing.T) {
	e := newEnv(t)
	mustPut(t, e, "/_sim/miniapps/app2", `{"name":"Two","url":"http://m/","auth_token_url":"http://m/t","secret_key":"k"}`)
	for _, tt := range []struct{ path, body, field string }{
		{"/_sim/partnerships/nope/app2", `{}`, "client_id"},
		{"/_sim/partnerships/" + demo.ClientID + "/nope", `{}`, "app_id"},
		{"/_sim/partnerships/" + demo.ClientID + "/app2", `{"direct_enabled":1}`, "direct_enabled"},
		{"/_sim/partnerships/" + demo.ClientID + "/app2", `{"app_id":"app3"}`, "app_id"},
		{"/_sim/partnerships/" + demo.ClientID + "/app2", `{"sso":true}`, "sso"},
	} {
		rec := e.do(http.MethodPut, tt.path, tt.body, nil)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"error_description":"`+tt.field) {
			t.Errorf("PUT %s %s: %d %s", tt.path, tt.body, rec.Code, rec.Body)
		}
	}
	rec := e.do(http.MethodPut, "/_sim/partnerships/"+demo.ClientID+"/app2", `{"direct_enabled":true}`, nil)
	if rec.Code != http.StatusCreated || strings.TrimSpace(rec.Body.String()) != `{"client_id":"352131","app_id":"app2","connect_enabled":true,"direct_enabled":true}` {
		t.Errorf("create: %d %s", rec.Code, rec.Body)
	}
	rec = e.do(http.MethodPut, "/_sim/partnerships/"+demo.ClientID+"/app2", `{"connect_enabled":false}`, nil)
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != `{"client_id":"352131","app_id":"app2","connect_enabled":false,"direct_enabled":true}` {
		t.Errorf("merge: %d %s", rec.Code, rec.Body)
	}
	if rec := e.do(http.MethodDelete, "/_sim/partnerships/"+demo.ClientID+"/app2", "", nil); rec.Code != http.StatusOK {
		t.Errorf("delete: %d", rec.Code)
	}
	if rec := e.do(http.MethodDelete, "/_sim/partnerships/"+demo.ClientID+"/app2", "", nil); rec.Code != http.StatusNotFound {
		t.Errorf("delete again: %d", rec.Code)
	}
	// Deleting a miniapp takes its partnerships with it.
	if rec := e.do(http.MethodDelete, "/_sim/miniapps/"+demo.AppID, "", nil); rec.Code != http.StatusOK {
		t.Errorf("delete miniapp: %d %s", rec.Code, rec.Body)
	}
	if _, err := e.db.GetPartnership(t.Context(), demo.ClientID, demo.AppID); !errors.Is(err, platform.ErrNotFound) {
		t.Errorf("partnership survived its miniapp: %v", err)
	}
	if rec := e.do(http.MethodDelete, "/_sim/hostapps/"+demo.ClientID, "", nil); rec.Code != http.StatusOK {
		t.Errorf("delete host app: %d", rec.Code)
	}
	if rec := e.do(http.MethodDelete, "/_sim/hostapps/"+demo.ClientID, "", nil); rec.Code != http.StatusNotFound {
		t.Errorf("delete host app again: %d", rec.Code)
	}
	wantEnvelope(t, e.authorize("f"), contract.CodeHostappNotFound, contract.PartyPlatform, 5)
}

func TestSeedDemo(t *testing.T) {
	ctx := t.Context()
	db := openDB(t)
	if err := platform.SeedDemo(ctx, db, platform.Demo{HostURL: "http://127.0.0.1:9001", MiniappURL: "http://127.0.0.1:9003/"}); err != nil {
		t.Fatal(err)
	}
	h, _ := db.GetHostApp(ctx, demo.ClientID)
	want := platform.HostApp{ClientID: demo.ClientID, Name: demo.HostappName, ConnectEnabled: true,
		AccessTokenURL: "http://127.0.0.1:9001" + demo.AccessTokenPath, UserDataURL: "http://127.0.0.1:9001" + demo.UserDataPath,
		RefreshTokenURL: "http://127.0.0.1:9001" + demo.RefreshTokenPath, HostappClientID: demo.HostappClientID,
		HostappSecretKey: demo.HostappSecret, TokenPrefix: demo.TokenPrefix, UserDataMethod: "GET",
		IPAllowlist: contract.DefaultAllowlist}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("host app = %+v", h)
	}
	m, _ := db.GetMiniapp(ctx, demo.AppID)
	if m.URL != "http://127.0.0.1:9003/" || m.AuthTokenURL != "http://127.0.0.1:9003"+demo.AuthTokenPath || m.SecretKey != demo.MiniappSecret {
		t.Errorf("miniapp = %+v", m)
	}

	// Settings changed since persist; only the URLs move to the new ports.
	e := &env{t: t, db: db}
	hdl, err := platform.New(platform.Config{Store: db, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	e.h = hdl
	mustPut(t, e, "/_sim/miniapps/"+demo.AppID, `{"required_fields":["email"]}`)
	mustPut(t, e, "/_sim/hostapps/"+demo.ClientID, `{"token_prefix":"Bearer"}`)
	mustPut(t, e, "/_sim/partnerships/"+demo.ClientID+"/"+demo.AppID, `{"connect_enabled":false}`)
	if err := platform.SeedDemo(ctx, db, platform.Demo{HostURL: "http://127.0.0.1:9101"}); err != nil {
		t.Fatal(err)
	}
	h, _ = db.GetHostApp(ctx, demo.ClientID)
	m2, _ := db.GetMiniapp(ctx, demo.AppID)
	p, _ := db.GetPartnership(ctx, demo.ClientID, demo.AppID)
	if h.AccessTokenURL != "http://127.0.0.1:9101"+demo.AccessTokenPath || h.TokenPrefix != "Bearer" {
		t.Errorf("host app after reseed = %+v", h)
	}
	if m2.URL != m.URL || !reflect.DeepEqual(m2.RequiredFields, []string{"email"}) {
		t.Errorf("miniapp after reseed = %+v", m2)
	}
	if p.ConnectEnabled {
		t.Errorf("partnership setting lost: %+v", p)
	}

	// Seeding an empty store without URLs uses the default addresses.
	db2 := openDB(t)
	if err := platform.SeedDemo(ctx, db2, platform.Demo{}); err != nil {
		t.Fatal(err)
	}
	if h, _ := db2.GetHostApp(ctx, demo.ClientID); h.UserDataURL != "http://"+demo.HostAddr+demo.UserDataPath {
		t.Errorf("default host URL = %q", h.UserDataURL)
	}
}

func TestCheckCredentialUsesTheDashboardsRules(t *testing.T) {
	cases := []struct{ kind, v, want string }{
		{platform.CredHostappClientID, "a:b", "':'"},
		{platform.CredSecret, "", "must not be empty"},
		{platform.CredTokenPrefix, "two words", "single word"},
		{platform.CredAppID, "app/1", "must not contain"},
	}
	for _, tc := range cases {
		err := platform.CheckCredential(tc.kind, "the_field", tc.v)
		if err == nil || !strings.HasPrefix(err.Error(), "the_field: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %q: %v", tc.kind, tc.v, err)
		}
	}
	for kind, v := range map[string]string{platform.CredHostappClientID: "hostapp-client-1", platform.CredSecret: "s3cret", platform.CredTokenPrefix: "Token", platform.CredAppID: "app16973"} {
		if err := platform.CheckCredential(kind, "f", v); err != nil {
			t.Errorf("%s %q refused: %v", kind, v, err)
		}
	}
}
