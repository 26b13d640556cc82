package hostapp_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/hostapp"
	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
)

func TestHealthz(t *testing.T) {
	e := newEnv(t)
	rec := e.do(call{method: http.MethodGet, path: "/healthz"})
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != `{"party":"hostapp","status":"ok"}` {
		t.Fatalf("healthz: %d %s", rec.Code, rec.Body)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	db := openTestDB(t)
	for _, tc := range []struct {
		name string
		cfg  hostapp.Config
	}{
		{"no store", hostapp.Config{BaseURL: testBaseURL}},
		{"no base URL", hostapp.Config{Store: db}},
		{"relative base URL", hostapp.Config{Store: db, BaseURL: "/host"}},
		{"ftp base URL", hostapp.Config{Store: db, BaseURL: "ftp://127.0.0.1"}},
		{"negative TTL", hostapp.Config{Store: db, BaseURL: testBaseURL, AuthCodeTTL: -time.Second}},
	} {
		if _, err := hostapp.New(tc.cfg); err == nil {
			t.Errorf("%s: New accepted %+v", tc.name, tc.cfg)
		}
	}
	if _, err := hostapp.New(hostapp.Config{Store: db, BaseURL: testBaseURL + "/"}); err != nil {
		t.Fatalf("minimal config: %v", err)
	}
}

func TestUnknownRouteAndMethod(t *testing.T) {
	e := newEnv(t)
	if rec := e.do(call{method: http.MethodGet, path: "/nope"}); rec.Code != http.StatusNotFound {
		t.Errorf("unknown path: %d", rec.Code)
	}
	if rec := e.do(call{method: http.MethodGet, path: demo.AccessTokenPath}); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET access-token: %d", rec.Code)
	}
}

func TestSignIn(t *testing.T) {
	e := newEnv(t)
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	post := func(v url.Values) *httpResult {
		rec := e.do(call{method: http.MethodPost, path: "/auth/v1/login", body: v.Encode(), header: form})
		return &httpResult{rec.Code, rec.Header(), rec.Body.String(), rec.Result().Cookies()}
	}

	t.Run("form", func(t *testing.T) {
		rec := e.do(call{method: http.MethodGet, path: "/auth/v1/login?return_to=%2Fauth%2Fv1%2Fauthorize%3Fclient_id%3Dx"})
		body := rec.Body.String()
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") ||
			!strings.Contains(body, `name="password"`) || !strings.Contains(body, `value="/auth/v1/authorize?client_id=x"`) {
			t.Fatalf("login form: %d %s", rec.Code, body)
		}
	})
	t.Run("success", func(t *testing.T) {
		res := post(url.Values{"username": {"carol"}, "password": {"carol-password"}, "return_to": {"/auth/v1/authorize?client_id=a&state=b"}})
		if res.status != http.StatusFound || res.header.Get("Location") != "/auth/v1/authorize?client_id=a&state=b" {
			t.Fatalf("status %d Location %q", res.status, res.header.Get("Location"))
		}
		var c *http.Cookie
		for _, k := range res.cookies {
			if k.Name == hostapp.SessionCookie {
				c = k
			}
		}
		if c == nil || len(c.Value) < 40 || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge != 12*3600 {
			t.Fatalf("session cookie %+v", c)
		}
		// The cookie signs the user in: authorize issues a code.
		e.codeFor(c)
	})
	for _, tc := range []struct {
		name     string
		returnTo string
		want     string
	}{
		{"default", "", "/"},
		{"absolute URL", "https://evil.example/x", "/"},
		{"scheme-relative", "//evil.example/x", "/"},
		{"backslash", "/\\evil.example", "/"},
		{"relative without slash", "evil", "/"},
		{"javascript", "javascript:alert(1)", "/"},
		{"path", "/demo?x=1", "/demo?x=1"},
	} {
		t.Run("return_to "+tc.name, func(t *testing.T) {
			res := post(url.Values{"username": {"alice"}, "password": {"alice-password"}, "return_to": {tc.returnTo}})
			if res.status != http.StatusFound || res.header.Get("Location") != tc.want {
				t.Fatalf("status %d Location %q, want %q", res.status, res.header.Get("Location"), tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name   string
		values url.Values
	}{
		{"wrong password", url.Values{"username": {"alice"}, "password": {"bob-password"}}},
		{"unknown user", url.Values{"username": {"mallory"}, "password": {"alice-password"}}},
		{"empty password", url.Values{"username": {"alice"}}},
		{"empty form", url.Values{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := post(tc.values)
			if res.status != http.StatusUnauthorized || !strings.Contains(res.body, "Wrong username or password") ||
				!strings.Contains(res.body, `name="password"`) || len(res.cookies) != 0 {
				t.Fatalf("status %d cookies %v body %s", res.status, res.cookies, res.body)
			}
		})
	}
	t.Run("user without password", func(t *testing.T) {
		e.do(call{method: http.MethodPut, path: "/_sim/users/nopw", body: `{"reference":"r"}`})
		if res := post(url.Values{"username": {"nopw"}, "password": {""}}); res.status != http.StatusUnauthorized {
			t.Fatalf("status %d", res.status)
		}
	})
	t.Run("JSON body", func(t *testing.T) {
		rec := e.do(call{method: http.MethodPost, path: "/auth/v1/login", body: `{"username":"alice"}`,
			header: map[string]string{"Content-Type": "application/json"}})
		if rec.Code != http.StatusBadRequest {
			t.Fatalf("status %d", rec.Code)
		}
	})
	t.Run("expired session", func(t *testing.T) {
		c := e.signIn("alice", "alice-password")
		e.clk.Advance(12 * time.Hour)
		rec := e.authorize(c, url.Values{"client_id": {demo.HostappClientID}, "response_type": {"code"}, "redirect_uri": {boxoCallback}}, nil)
		if loc := location(t, rec); loc.Path != "/auth/v1/login" {
			t.Fatalf("expired session redirected to %s", loc)
		}
	})
}

type httpResult struct {
	status  int
	header  http.Header
	body    string
	cookies []*http.Cookie
}

func TestSignOut(t *testing.T) {
	e := newEnv(t)
	c := e.signIn("alice", "alice-password")
	rec := e.do(call{method: http.MethodPost, path: "/auth/v1/logout", cookie: c})
	if loc := location(t, rec); loc.Path != "/" {
		t.Fatalf("logout redirected to %s", loc)
	}
	rec = e.authorize(c, url.Values{"client_id": {demo.HostappClientID}, "response_type": {"code"}, "redirect_uri": {boxoCallback}}, nil)
	if loc := location(t, rec); loc.Path != "/auth/v1/login" {
		t.Fatalf("old cookie still signed in: %s", loc)
	}
}

func TestAuthorizeNotSignedIn(t *testing.T) {
	e := newEnv(t)
	params := url.Values{"client_id": {demo.HostappClientID}, "response_type": {"code"}, "redirect_uri": {boxoCallback}, "state": {"s 1"}}
	rec := e.authorize(nil, params, nil)
	loc := location(t, rec)
	if loc.Path != "/auth/v1/login" {
		t.Fatalf("redirected to %s", loc)
	}
	returnTo := loc.Query().Get("return_to")
	if returnTo != "/auth/v1/authorize?"+params.Encode() {
		t.Fatalf("return_to = %q", returnTo)
	}
	// Signing in with that return_to comes back to the same request, which now issues a code.
	du, _ := demo.FindUser("alice")
	res := e.do(call{method: http.MethodPost, path: "/auth/v1/login",
		body:   url.Values{"username": {du.Username}, "password": {du.Password}, "return_to": {returnTo}}.Encode(),
		header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
	if res.Header().Get("Location") != returnTo {
		t.Fatalf("sign-in went to %q", res.Header().Get("Location"))
	}
}

func TestAuthorizeIssuesCode(t *testing.T) {
	e := newEnv(t)
	cookie := e.signIn("carol", "carol-password")
	rec := e.authorize(cookie, url.Values{"client_id": {demo.HostappClientID}, "response_type": {"code"},
		"redirect_uri": {boxoCallback}, "state": {"xyz/+ ="}, "nonce": {"n-1"}}, nil)
	loc := location(t, rec)
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != boxoCallback {
		t.Fatalf("redirected to %s", loc)
	}
	code := loc.Query().Get("code")
	if len(code) != 40 || strings.Trim(code, "0123456789abcdef") != "" {
		t.Fatalf("code %q is not 40 lowercase hex characters", code)
	}
	if loc.Query().Get("state") != "xyz/+ =" || loc.Fragment != "" {
		t.Fatalf("state not echoed exactly in the query: %s", loc)
	}
	stored, err := e.db.GetAuthCode(t.Context(), contract.Hash(code))
	if err != nil {
		t.Fatal(err)
	}
	if stored.ClientID != demo.HostappClientID || stored.RedirectURI != boxoCallback || stored.Nonce != "n-1" ||
		!stored.IssuedAt.Equal(testStart) || !stored.ExpiresAt.Equal(testStart.Add(10*time.Minute)) || stored.UserID == "" {
		t.Fatalf("stored code %+v", stored)
	}
	// Without state: no state parameter at all.
	rec = e.authorize(cookie, url.Values{"client_id": {demo.HostappClientID}, "response_type": {"code"}, "redirect_uri": {boxoCallback}}, nil)
	if loc := location(t, rec); loc.Query().Has("state") {
		t.Fatalf("state added though none was sent: %s", loc)
	}
	// The callback page shows the code masked.
	page := e.do(call{method: http.MethodGet, path: "/boxo/callback?code=" + code + "&state=s"})
	if page.Code != http.StatusOK || strings.Contains(page.Body.String(), code) || !strings.Contains(page.Body.String(), code[:4]) {
		t.Fatalf("callback page: %d %s", page.Code, page.Body)
	}
}

func TestAuthorizeKeepsRedirectQuery(t *testing.T) {
	e := newEnv(t)
	const uri = "https://app.example/auth?provider=boxc&x=a%2Fb"
	if _, err := e.db.PutClient(t.Context(), hostapp.Client{ID: "q-client", SecretHash: contract.Hash("s"),
		RedirectURIs: []string{uri}, SkipConsent: true, CreatedAt: testStart}); err != nil {
		t.Fatal(err)
	}
	cookie := e.signIn("alice", "alice-password")
	rec := e.authorize(cookie, url.Values{"client_id": {"q-client"}, "response_type": {"code"}, "redirect_uri": {uri}, "state": {"s"}}, nil)
	got := rec.Header().Get("Location")
	if !strings.HasPrefix(got, uri+"&") {
		t.Fatalf("Location %q does not keep the redirect URI's query", got)
	}
	q := location(t, rec).Query()
	if q.Get("provider") != "boxc" || q.Get("x") != "a/b" || q.Get("code") == "" || q.Get("state") != "s" {
		t.Fatalf("query %v", q)
	}
}

// PROTOCOL §6.2 step 1: no redirect for an unknown client or a bad redirect URI.
func TestAuthorizeErrorPage(t *testing.T) {
	e := newEnv(t)
	cookie := e.signIn("alice", "alice-password")
	for _, tc := range []struct {
		name   string
		params url.Values
		want   string
	}{
		{"no client_id", url.Values{"response_type": {"code"}, "redirect_uri": {boxoCallback}}, "invalid_request"},
		{"unknown client", url.Values{"client_id": {"nobody"}, "response_type": {"code"}, "redirect_uri": {boxoCallback}}, "invalid_client"},
		{"no redirect_uri", url.Values{"client_id": {demo.HostappClientID}, "response_type": {"code"}}, "invalid_request"},
		{"unregistered redirect_uri", url.Values{"client_id": {demo.HostappClientID}, "response_type": {"code"}, "redirect_uri": {"https://evil.example/cb"}}, "invalid_request"},
		{"redirect_uri with extra path", url.Values{"client_id": {demo.HostappClientID}, "response_type": {"code"}, "redirect_uri": {boxoCallback + "/x"}}, "invalid_request"},
		{"redirect_uri with extra query", url.Values{"client_id": {demo.HostappClientID}, "response_type": {"code"}, "redirect_uri": {boxoCallback + "?a=b"}}, "invalid_request"},
		{"redirect_uri of the same host", url.Values{"client_id": {demo.HostappClientID}, "response_type": {"code"}, "redirect_uri": {testBaseURL + "/other"}}, "invalid_request"},
		{"repeated client_id", url.Values{"client_id": {demo.HostappClientID, demo.HostappClientID}, "response_type": {"code"}, "redirect_uri": {boxoCallback}}, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, signedIn := range []*http.Cookie{cookie, nil} {
				rec := e.authorize(signedIn, tc.params, nil)
				if rec.Code != http.StatusBadRequest || rec.Header().Get("Location") != "" ||
					!strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") || !strings.Contains(rec.Body.String(), tc.want) {
					t.Fatalf("HTML: %d Location %q body %s", rec.Code, rec.Header().Get("Location"), rec.Body)
				}
			}
			rec := e.authorize(cookie, tc.params, map[string]string{"Accept": "application/json"})
			if rec.Code != http.StatusBadRequest || rec.Header().Get("Location") != "" {
				t.Fatalf("JSON: %d %s", rec.Code, rec.Body)
			}
			m := jsonBody(t, rec)
			if m["error"] != tc.want || m["error_description"] == "" {
				t.Fatalf("JSON body %v", m)
			}
		})
	}
}

// PROTOCOL §6.2 step 2: later errors go back to the validated redirect URI with state.
func TestAuthorizeRedirectedErrors(t *testing.T) {
	e := newEnv(t)
	if _, err := e.db.PutClient(t.Context(), hostapp.Client{ID: "no-openid", SecretHash: contract.Hash("s"),
		RedirectURIs: []string{"http://rp.example/cb"}, Scopes: []string{"profile"}, SkipConsent: true, CreatedAt: testStart}); err != nil {
		t.Fatal(err)
	}
	cookie := e.signIn("alice", "alice-password")
	base := func(extra url.Values) url.Values {
		v := url.Values{"client_id": {demo.HostappClientID}, "redirect_uri": {boxoCallback}, "state": {"st"}}
		for k, vs := range extra {
			v[k] = vs
		}
		return v
	}
	for _, tc := range []struct {
		name     string
		params   url.Values
		want     string
		fragment bool
	}{
		{"no response_type", base(nil), "invalid_request", false},
		{"unknown response_type", base(url.Values{"response_type": {"code token"}}), "unsupported_response_type", false},
		{"garbage response_type", base(url.Values{"response_type": {"magic"}}), "unsupported_response_type", false},
		{"bad response_mode", base(url.Values{"response_type": {"code"}, "response_mode": {"form_post"}}), "invalid_request", false},
		{"repeated state", base(url.Values{"response_type": {"code"}, "state": {"a", "b"}}), "invalid_request", false},
		{"repeated nonce, fragment mode", base(url.Values{"response_type": {"code"}, "response_mode": {"fragment"}, "nonce": {"a", "b"}}), "invalid_request", true},
		{"id_token without openid", url.Values{"client_id": {"no-openid"}, "redirect_uri": {"http://rp.example/cb"}, "state": {"st"}, "response_type": {"id_token"}}, "invalid_scope", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := e.authorize(cookie, tc.params, nil)
			loc := location(t, rec)
			params := loc.Query()
			if tc.fragment {
				var err error
				if params, err = url.ParseQuery(loc.EscapedFragment()); err != nil {
					t.Fatal(err)
				}
			}
			if params.Get("error") != tc.want || params.Get("error_description") == "" || params.Get("code") != "" {
				t.Fatalf("Location %s, want error=%s", loc, tc.want)
			}
			if tc.name != "repeated state" && params.Get("state") != "st" {
				t.Fatalf("state not echoed: %s", loc)
			}
		})
	}
	// Not signed in: the request is still checked first, so the error goes back at once.
	rec := e.authorize(nil, base(url.Values{"response_type": {"magic"}}), nil)
	if loc := location(t, rec); loc.Query().Get("error") != "unsupported_response_type" {
		t.Fatalf("not signed in: %s", loc)
	}
}

func TestHomePage(t *testing.T) {
	e := newEnv(t)
	if rec := e.do(call{method: http.MethodGet, path: "/"}); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `id="signin"`) {
		t.Fatalf("home: %d %s", rec.Code, rec.Body)
	}
	c := e.signIn("bob", "bob-password")
	if rec := e.do(call{method: http.MethodGet, path: "/", cookie: c}); !strings.Contains(rec.Body.String(), "bob") {
		t.Fatalf("home signed in: %s", rec.Body)
	}
}
