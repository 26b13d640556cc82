package cors

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func serve(t *testing.T, p *Policy, method, path, origin string, extra ...string) *httptest.ResponseRecorder {
	t.Helper()
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			t.Errorf("a preflight reached the handler")
		}
		w.WriteHeader(http.StatusTeapot)
	})
	h := p.Wrap(next, Prefix("/api/"), http.MethodGet, http.MethodPost)
	r := httptest.NewRequest(method, path, nil)
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		r.Header.Set(extra[i], extra[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestPreflightAnyOrigin(t *testing.T) {
	w := serve(t, nil, http.MethodOptions, "/api/v1/authorize/", "http://localhost:5173",
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type")
	if w.Code != http.StatusNoContent {
		t.Fatalf("status %d, want 204", w.Code)
	}
	h := w.Header()
	for k, want := range map[string]string{
		"Access-Control-Allow-Origin":  "http://localhost:5173",
		"Access-Control-Allow-Methods": "GET, POST, OPTIONS",
		"Access-Control-Allow-Headers": "Content-Type, Authorization, X-Sim-Flow-Id",
		"Access-Control-Max-Age":       "600",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if h.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("credentials allowed")
	}
}

func TestActualRequestCarriesOriginAndExpose(t *testing.T) {
	w := serve(t, nil, http.MethodGet, "/api/me", "http://example.test:3000")
	if w.Code != http.StatusTeapot {
		t.Fatalf("status %d: the handler did not run", w.Code)
	}
	if got := w.Header().Get("Access-Control-Allow-Origin"); got != "http://example.test:3000" {
		t.Errorf("Allow-Origin = %q", got)
	}
	if got := w.Header().Get("Access-Control-Expose-Headers"); got != "X-Sim-Flow-Id" {
		t.Errorf("Expose-Headers = %q", got)
	}
}

func TestRestrictedPolicy(t *testing.T) {
	p, err := New([]string{"http://LOCALHOST:5173", "https://app.example"})
	if err != nil {
		t.Fatal(err)
	}
	if w := serve(t, p, http.MethodOptions, "/api/x", "http://evil.test", "Access-Control-Request-Method", "GET"); w.Code != http.StatusForbidden || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("refused preflight: status %d, Allow-Origin %q", w.Code, w.Header().Get("Access-Control-Allow-Origin"))
	}
	if w := serve(t, p, http.MethodGet, "/api/x", "http://evil.test"); w.Code != http.StatusTeapot || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("refused actual: status %d, Allow-Origin %q", w.Code, w.Header().Get("Access-Control-Allow-Origin"))
	}
	if w := serve(t, p, http.MethodGet, "/api/x", "http://localhost:5173"); w.Header().Get("Access-Control-Allow-Origin") != "http://localhost:5173" {
		t.Errorf("allowed origin not answered: %q", w.Header().Get("Access-Control-Allow-Origin"))
	}
	if w := serve(t, p, http.MethodGet, "/api/x", "null"); w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("the opaque origin passed a restricted policy")
	}
}

func TestOtherPathsUntouched(t *testing.T) {
	w := serve(t, nil, http.MethodGet, "/_sim/flows", "http://localhost:5173")
	if w.Header().Get("Access-Control-Allow-Origin") != "" || w.Header().Get("Vary") != "" {
		t.Errorf("CORS headers outside the wrapped paths: %v", w.Header())
	}
}

func TestNewRefusesNonOrigins(t *testing.T) {
	for _, bad := range []string{"localhost:5173", "http://h/path", "ftp://h", "http://u@h", "*,http://h"} {
		if _, err := Parse(bad); err == nil || !strings.Contains(err.Error(), "cors_origins") {
			t.Errorf("Parse(%q) = %v, want a cors_origins error", bad, err)
		}
	}
	p, err := Parse(" http://a.test , http://b.test:8080/ ")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.Origins(), " "); got != "http://a.test http://b.test:8080" {
		t.Errorf("origins %q", got)
	}
	if p, _ := Parse("*"); !p.AnyOrigin() {
		t.Errorf("* is not any origin")
	}
}
