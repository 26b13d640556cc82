package platform_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
)

const consentPath = "/api/v1/accounts/consent/get_consent/?client_id=352131&app_id=app16973&user_reference=u"

// consentFrom calls get_consent from remote with optional X-Forwarded-For and returns the
// error code, "" on success.
func consentFrom(t *testing.T, e *env, path, remote, xff string) string {
	t.Helper()
	req := httptestRequest(t, path, remote)
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	rec := serve(e, req)
	if rec.Code == http.StatusOK {
		return ""
	}
	return envelope(t, rec).ErrorCode
}

// The platform accepts a consent call from an address in the host app's or the miniapp's
// allowlist (PROTOCOL §7.6), and from no other.
func TestConsentMiniappAllowlist(t *testing.T) {
	e := newEnv(t)
	mustPut(t, e, "/_sim/hostapps/"+demo.ClientID, `{"ip_allowlist":["192.0.2.0/24"]}`)
	mustPut(t, e, "/_sim/miniapps/"+demo.AppID, `{"ip_allowlist":["198.51.100.0/24"]}`)
	for _, c := range []struct {
		name, path, remote, want string
	}{
		{"host's address", consentPath, "192.0.2.1:1", ""},
		{"miniapp's address", consentPath, "198.51.100.9:1", ""},
		{"neither", consentPath, "203.0.113.1:1", contract.CodeNotAWhitelistedIP},
		{"loopback, listed by neither", consentPath, "127.0.0.1:1", contract.CodeNotAWhitelistedIP},
		{"unknown miniapp from outside: no hint that it is unknown", strings.Replace(consentPath, "app16973", "app-x", 1), "198.51.100.9:1", contract.CodeNotAWhitelistedIP},
	} {
		if got := consentFrom(t, e, c.path, c.remote, ""); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// X-Forwarded-For counts only behind a trusted proxy (PROTOCOL §7.6).
func TestPlatformTrustedProxies(t *testing.T) {
	e := newEnv(t)
	rec := e.do(http.MethodGet, "/_sim/settings", "", nil)
	if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != `{"trusted_proxies":[]}` {
		t.Fatalf("default settings: %d %s", rec.Code, rec.Body)
	}
	mustPut(t, e, "/_sim/hostapps/"+demo.ClientID, `{"ip_allowlist":["192.0.2.0/24"]}`)
	mustPut(t, e, "/_sim/miniapps/"+demo.AppID, `{"ip_allowlist":["192.0.2.0/24"]}`)
	if got := consentFrom(t, e, consentPath, "10.1.1.1:1", "192.0.2.5"); got != contract.CodeNotAWhitelistedIP {
		t.Fatalf("no trusted proxies: X-Forwarded-For believed (%q)", got)
	}
	for _, bad := range []string{`{"trusted_proxies":["10.0.0.0/33"]}`, `{"trusted_proxies":"10.0.0.0/8"}`, `{"trusted":[]}`} {
		if rec := e.do(http.MethodPut, "/_sim/settings", bad, nil); rec.Code != http.StatusBadRequest {
			t.Errorf("PUT %s: %d %s", bad, rec.Code, rec.Body)
		}
	}
	mustPut(t, e, "/_sim/settings", `{"trusted_proxies":["10.0.0.0/8"]}`)
	if rec := e.do(http.MethodGet, "/_sim/settings", "", nil); strings.TrimSpace(rec.Body.String()) != `{"trusted_proxies":["10.0.0.0/8"]}` {
		t.Fatalf("settings: %s", rec.Body)
	}
	for _, c := range []struct{ name, remote, xff, want string }{
		{"through the proxy from the host", "10.1.1.1:1", "192.0.2.5", ""},
		{"through the proxy from elsewhere", "10.1.1.1:1", "203.0.113.1", contract.CodeNotAWhitelistedIP},
		{"spoofed entry left of the real client", "10.1.1.1:1", "192.0.2.5, 203.0.113.1", contract.CodeNotAWhitelistedIP},
		{"not through the proxy", "203.0.113.1:1", "192.0.2.5", contract.CodeNotAWhitelistedIP},
		{"garbage", "10.1.1.1:1", "localhost", contract.CodeNotAWhitelistedIP},
	} {
		if got := consentFrom(t, e, consentPath, c.remote, c.xff); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// "Use access token" (PROTOCOL §1.3, §7.9) is a Dashboard field of the host app; when on,
// the flow log says at step 7 that the access token would also serve Boxo Payments.
func TestUseAccessToken(t *testing.T) {
	e := newEnv(t)
	e.happy()
	rec := e.do(http.MethodGet, "/_sim/hostapps/"+demo.ClientID, "", nil)
	if !strings.Contains(rec.Body.String(), `"use_access_token":false`) {
		t.Fatalf("default: %s", rec.Body)
	}
	if rec := e.do(http.MethodPut, "/_sim/hostapps/"+demo.ClientID, `{"use_access_token":"yes"}`, nil); rec.Code != http.StatusBadRequest {
		t.Fatalf("PUT a string: %d %s", rec.Code, rec.Body)
	}
	note := func(flowID string) string {
		if rec := e.authorize(flowID); rec.Code != http.StatusOK {
			t.Fatalf("authorize: %d %s", rec.Code, rec.Body)
		}
		f, _ := e.flow(flowID)
		s7 := stepsOf(f, 7)
		if len(s7) != 1 {
			t.Fatalf("step 7: %+v", f.Steps)
		}
		return s7[0].Note
	}
	if n := note("flow_off"); strings.Contains(n, "use access token") {
		t.Fatalf("off: note %q", n)
	}
	mustPut(t, e, "/_sim/hostapps/"+demo.ClientID, `{"use_access_token":true}`)
	if rec := e.do(http.MethodGet, "/_sim/hostapps/"+demo.ClientID, "", nil); !strings.Contains(rec.Body.String(), `"use_access_token":true`) {
		t.Fatalf("after PUT: %s", rec.Body)
	}
	if n := note("flow_on"); !strings.Contains(n, `"use access token" is on`) {
		t.Fatalf("on: note %q", n)
	}
}

// PUT /_sim/storage {"read_only": true} makes the platform's writes fail and its reads work;
// a body without read_only is refused, and false writes again.
func TestStorageSwitch(t *testing.T) {
	e := newEnv(t)
	if rec := e.do(http.MethodGet, "/_sim/storage", "", nil); strings.TrimSpace(rec.Body.String()) != `{"read_only":false}` {
		t.Fatalf("default: %d %s", rec.Code, rec.Body)
	}
	for _, bad := range []string{`{}`, `{"read_only":"yes"}`, `{"readonly":true}`} {
		if rec := e.do(http.MethodPut, "/_sim/storage", bad, nil); rec.Code != http.StatusBadRequest {
			t.Errorf("PUT %s: %d %s", bad, rec.Code, rec.Body)
		}
	}
	mustPut(t, e, "/_sim/storage", `{"read_only":true}`)
	if rec := e.do(http.MethodGet, "/_sim/hostapps/"+demo.ClientID, "", nil); rec.Code != http.StatusOK {
		t.Fatalf("read while read-only: %d %s", rec.Code, rec.Body)
	}
	if rec := e.do(http.MethodPut, "/_sim/hostapps/"+demo.ClientID, `{"name":"x"}`, nil); rec.Code != http.StatusInternalServerError {
		t.Fatalf("write while read-only: %d %s", rec.Code, rec.Body)
	}
	mustPut(t, e, "/_sim/storage", `{"read_only":false}`)
	mustPut(t, e, "/_sim/hostapps/"+demo.ClientID, `{"name":"x"}`)
}
