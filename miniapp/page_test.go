package miniapp_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/boxo-sim/boxo-sim/miniapp"
)

// TestPageAssets: the page loads the vendored JS SDK, served with its licence, at the
// version the code says; other paths under /web/ are not files.
func TestPageAssets(t *testing.T) {
	e := newEnv(t)
	get := func(p string) *httptest.ResponseRecorder { return e.serve(httptest.NewRequest(http.MethodGet, p, nil)) }
	page := get("/")
	if csp := page.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	for _, p := range []string{"/web/vendor/js-sdk/dist/browser.min.js", "/web/static/miniapp.js"} {
		if !strings.Contains(page.Body.String(), `src="`+p+`"`) {
			t.Errorf("page does not load %s", p)
		}
		if rec := get(p); rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/javascript; charset=utf-8" {
			t.Errorf("%s: %d %q", p, rec.Code, rec.Header().Get("Content-Type"))
		}
	}
	if rec := get("/web/vendor/js-sdk/LICENSE"); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Apache License") {
		t.Errorf("licence: %d", rec.Code)
	}
	for _, p := range []string{"/web/index.html", "/web/static/", "/web/vendor/nope.js"} {
		if rec := get(p); rec.Code != http.StatusNotFound {
			t.Errorf("%s: %d", p, rec.Code)
		}
	}
	var pkg struct{ Name, Version string }
	if err := json.Unmarshal(get("/web/vendor/js-sdk/package.json").Body.Bytes(), &pkg); err != nil || pkg.Name != "@appboxo/js-sdk" || pkg.Version != miniapp.JSSDKVersion {
		t.Errorf("vendored %s %s (%v), JSSDKVersion %s: run make vendor-sdks and update the constant together", pkg.Name, pkg.Version, err, miniapp.JSSDKVersion)
	}
}
