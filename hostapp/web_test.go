package hostapp_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/boxo-sim/boxo-sim/hostapp"
	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
)

var pageConfig = regexp.MustCompile(`(?s)<script type="application/json" id="boxo-config">(.*?)</script>`)

// homeConfig reads the page script's configuration from the signed-in home screen.
func (e *env) homeConfig(c *http.Cookie) map[string]any {
	e.t.Helper()
	rec := e.do(call{method: http.MethodGet, path: "/", cookie: c})
	m := pageConfig.FindStringSubmatch(rec.Body.String())
	if rec.Code != http.StatusOK || m == nil {
		e.t.Fatalf("home: %d %s", rec.Code, rec.Body)
	}
	var cfg map[string]any
	if err := json.Unmarshal([]byte(m[1]), &cfg); err != nil {
		e.t.Fatalf("page config %s: %v", m[1], err)
	}
	return cfg
}

// TestWebAuthCode: the home screen's endpoint mints a Boxo auth code for the signed-in user,
// and only for a same-origin JSON request carrying the session's CSRF token.
func TestWebAuthCode(t *testing.T) {
	e := newEnv(t)
	carol := e.signIn("carol", "carol-password")
	csrf, _ := e.homeConfig(carol)["csrf"].(string)
	if csrf == "" {
		t.Fatal("the home screen carries no CSRF token")
	}
	good := func() call {
		return call{method: http.MethodPost, path: "/web/auth-code", body: `{"app_id":"` + demo.AppID + `"}`, cookie: carol,
			header: map[string]string{"Content-Type": "application/json", "Origin": "http://example.com", "Sec-Fetch-Site": "same-origin", "X-CSRF-Token": csrf}}
	}
	refused := []struct {
		name   string
		change func(*call)
		status int
		code   string
	}{
		{"not signed in", func(c *call) { c.cookie = nil }, http.StatusUnauthorized, "not_signed_in"},
		{"no CSRF token", func(c *call) { delete(c.header, "X-CSRF-Token") }, http.StatusForbidden, "forbidden"},
		{"another session's token", func(c *call) {
			c.header["X-CSRF-Token"] = e.homeConfig(e.signIn("bob", "bob-password"))["csrf"].(string)
		}, http.StatusForbidden, "forbidden"},
		{"another origin", func(c *call) { c.header["Origin"] = "http://evil.example" }, http.StatusForbidden, "forbidden"},
		{"no origin", func(c *call) { delete(c.header, "Origin") }, http.StatusForbidden, "forbidden"},
		{"cross-site fetch", func(c *call) { c.header["Sec-Fetch-Site"] = "cross-site" }, http.StatusForbidden, "forbidden"},
		{"same-site fetch", func(c *call) { c.header["Sec-Fetch-Site"] = "same-site" }, http.StatusForbidden, "forbidden"},
		{"a fetch not from a page", func(c *call) { c.header["Sec-Fetch-Site"] = "none" }, http.StatusForbidden, "forbidden"},
		{"a form post", func(c *call) { c.header["Content-Type"] = "application/x-www-form-urlencoded" }, http.StatusUnsupportedMediaType, "invalid_request"},
		{"no app_id", func(c *call) { c.body = `{}` }, http.StatusBadRequest, "invalid_request"},
	}
	for _, tc := range refused {
		c := good()
		tc.change(&c)
		rec := e.do(c)
		if rec.Code != tc.status || !strings.Contains(rec.Body.String(), `"error":"`+tc.code+`"`) {
			t.Errorf("%s: %d %s, want %d %s", tc.name, rec.Code, rec.Body, tc.status, tc.code)
		}
	}

	rec := e.do(good())
	body := jsonBody(t, rec)
	code, _ := body["auth_code"].(string)
	if rec.Code != http.StatusOK || code == "" || body["expires_in"] != float64(600) || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("auth code: %d %s", rec.Code, rec.Body)
	}
	// It is a real Boxo code for carol: the platform's step 6 redeems it, once.
	m := e.connectCall(http.MethodPost, demo.AccessTokenPath, "Token "+contract.BasicCredential(demo.HostappClientID, demo.HostappSecret),
		`{"auth_code":"`+code+`"}`, map[string]string{contract.HeaderMiniappAppID: demo.AppID})
	if m["access_token"] == nil {
		t.Fatalf("redeem: %v", m)
	}
	user := e.connectCall(http.MethodGet, demo.UserDataPath, "Token "+m["access_token"].(string), "", nil)
	if ud, _ := user["user_data"].(map[string]any); ud == nil || ud["reference"] != "u-1003" {
		t.Errorf("user data: %v", user)
	}
}

// TestWebHome: the home screen lists the miniapps the platform partners with this host app,
// and lets the page reach the platform and frame only those miniapps.
func TestWebHome(t *testing.T) {
	platform := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "Bearer admin-token-1" {
			t.Errorf("%s: Authorization %q, want the admin token", r.URL.Path, got)
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/_sim/partnerships":
			_, _ = w.Write([]byte(`{"partnerships":[{"client_id":"352131","app_id":"app16973","connect_enabled":true},
				{"client_id":"352131","app_id":"off","connect_enabled":false},{"client_id":"other","app_id":"theirs","connect_enabled":true},
				{"client_id":"352131","app_id":"dir","connect_enabled":false,"direct_enabled":true}]}`))
		case "/_sim/miniapps":
			_, _ = w.Write([]byte(`{"miniapps":[{"app_id":"app16973","name":"Demo Miniapp","url":"http://localhost:8083/"},
				{"app_id":"off","name":"Off","url":"http://off.example/"},{"app_id":"theirs","name":"Theirs","url":"http://theirs.example/"},
				{"app_id":"dir","name":"Direct Only","url":"http://dir.example/"}]}`))
		default:
			t.Errorf("unexpected %s", r.URL.Path)
			http.NotFound(w, r)
		}
	}))
	defer platform.Close()
	e := newEnv(t, func(c *hostapp.Config) { c.Web = hostapp.Web{PlatformURL: platform.URL, AdminToken: "admin-token-1"} })
	if rec := e.do(call{method: http.MethodGet, path: "/"}); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `id="signin"`) || pageConfig.MatchString(rec.Body.String()) {
		t.Errorf("signed out: %d %s", rec.Code, rec.Body)
	}
	carol := e.signIn("carol", "carol-password")
	rec := e.do(call{method: http.MethodGet, path: "/", cookie: carol})
	page := rec.Body.String()
	if !strings.Contains(page, `data-app-id="app16973"`) || strings.Contains(page, `data-app-id="off"`) || strings.Contains(page, `data-app-id="theirs"`) {
		t.Errorf("miniapps listed: %s", page)
	}
	// Each partnership offers the flows it has on: Connect ("Open") and Connect Direct.
	if !strings.Contains(page, `class="open" data-app-id="app16973"`) || strings.Contains(page, `class="open-direct secondary" data-app-id="app16973"`) ||
		!strings.Contains(page, `class="open-direct secondary" data-app-id="dir"`) || strings.Contains(page, `class="open" data-app-id="dir"`) {
		t.Errorf("open buttons per flow: %s", page)
	}
	if rec.Header().Get("X-Content-Type-Options") != "nosniff" || rec.Header().Get("Referrer-Policy") != "no-referrer" || rec.Header().Get("X-Frame-Options") != "DENY" {
		t.Errorf("page headers %v", rec.Header())
	}
	csp := rec.Header().Get("Content-Security-Policy")
	for _, want := range []string{"connect-src 'self' " + platform.URL + ";", "frame-src http://localhost:8083 http://dir.example;", "script-src 'self';", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP lacks %q: %s", want, csp)
		}
	}
	if strings.Contains(page, `id="home-warning"`) {
		t.Errorf("warning on another site than the miniapp's: %s", page)
	}
	// Opened on the miniapp page's host, the page says the two now share cookies.
	rec = e.do(call{method: http.MethodGet, path: "/", cookie: carol, host: "localhost:8081"})
	if !strings.Contains(rec.Body.String(), `id="home-warning"`) || !strings.Contains(rec.Body.String(), "Open the host app at "+testBaseURL+"/ instead") {
		t.Errorf("no warning on the miniapp's host: %s", rec.Body)
	}
	cfg := e.homeConfig(carol)
	if cfg["platform_url"] != platform.URL || cfg["client_id"] != demo.ClientID || cfg["user_reference"] != "u-1003" {
		t.Errorf("page config %v", cfg)
	}
	platform.Close()
	if rec := e.do(call{method: http.MethodGet, path: "/", cookie: carol}); !strings.Contains(rec.Body.String(), "could not be listed") {
		t.Errorf("platform down: %s", rec.Body)
	}
}

// TestWebAssets: the vendored web SDK is served as the browser imports it, with its licence,
// and is the version the code says.
func TestWebAssets(t *testing.T) {
	e := newEnv(t)
	get := func(p string) *httptest.ResponseRecorder {
		return e.do(call{method: http.MethodGet, path: p})
	}
	want, err := os.ReadFile("web/vendor/web-sdk/dist/constants.js")
	if err != nil {
		t.Fatal(err)
	}
	// index.js imports './constants': the path without .js serves constants.js.
	if rec := get("/web/vendor/web-sdk/dist/constants"); rec.Code != http.StatusOK || rec.Body.String() != string(want) ||
		rec.Header().Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Errorf("constants: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	// './utils' is a directory: its index.js, by redirect so its own imports resolve.
	if rec := get("/web/vendor/web-sdk/dist/utils"); rec.Code != http.StatusFound || rec.Header().Get("Location") != "/web/vendor/web-sdk/dist/utils/index.js" {
		t.Errorf("utils: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if rec := get("/web/vendor/web-sdk/LICENSE"); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Permission is hereby granted") {
		t.Errorf("licence: %d", rec.Code)
	}
	for _, p := range []string{"/web/home.html", "/web/static/", "/web/vendor/nope.js", "/web/other"} {
		if rec := get(p); rec.Code != http.StatusNotFound {
			t.Errorf("%s: %d", p, rec.Code)
		}
	}
	var pkg struct{ Name, Version string }
	if err := json.Unmarshal(get("/web/vendor/web-sdk/package.json").Body.Bytes(), &pkg); err != nil || pkg.Name != "@appboxo/web-sdk" || pkg.Version != hostapp.WebSDKVersion {
		t.Errorf("vendored %s %s (%v), WebSDKVersion %s: run make vendor-sdks and update the constant together", pkg.Name, pkg.Version, err, hostapp.WebSDKVersion)
	}
}
