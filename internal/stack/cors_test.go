package stack_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/cors"
	"github.com/boxo-sim/boxo-sim/internal/demo"
)

// corsCall sends one request as a browser page of origin would and returns the answer.
func corsCall(t *testing.T, method, u, origin string, header map[string]string, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", origin)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

func preflight(t *testing.T, u, origin, method, headers string) *http.Response {
	t.Helper()
	return corsCall(t, http.MethodOptions, u, origin, map[string]string{
		"Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers}, "")
}

// TestCORSAnyOrigin: with no cors_origins, every browser-facing endpoint of the platform and
// the miniapp answers preflights and actual requests for any origin, errors included, and
// /_sim/ never answers CORS (PROTOCOL §2.12).
func TestCORSAnyOrigin(t *testing.T) {
	st, _ := startStack(t)
	const origin = "http://localhost:5173"
	settings := st.PlatformURL + "/api/v1/miniapps/" + demo.AppID + "/settings/?client_id=" + demo.ClientID
	for _, p := range []struct{ u, method, headers string }{
		{settings, "GET", "content-type"},
		{st.PlatformURL + "/api/v1/authorize/", "POST", "content-type,x-sim-flow-id"},
		{st.PlatformURL + "/api/v1/authorize", "POST", "content-type"},
		{st.PlatformURL + "/api/v1/sim/flows/flow_x/steps/", "POST", "content-type"},
		{st.MiniappURL + "/api/me", "GET", "authorization"},
		{st.MiniappURL + "/api/auth/refresh", "POST", "content-type"},
		{st.MiniappURL + "/api/auth/logout", "POST", "authorization"},
	} {
		res := preflight(t, p.u, origin, p.method, p.headers)
		h := res.Header
		if res.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != origin ||
			!strings.Contains(h.Get("Access-Control-Allow-Methods"), p.method) || h.Get("Access-Control-Max-Age") == "" {
			t.Errorf("preflight %s %s: %d %v", p.method, p.u, res.StatusCode, h)
		}
		for _, want := range []string{"Content-Type", "Authorization", "X-Sim-Flow-Id"} {
			if !strings.Contains(h.Get("Access-Control-Allow-Headers"), want) {
				t.Errorf("preflight %s: Allow-Headers lacks %s: %q", p.u, want, h.Get("Access-Control-Allow-Headers"))
			}
		}
	}
	actual := []struct {
		name, method, u, body string
		header                map[string]string
		status                int
	}{
		{"settings", http.MethodGet, settings, "", map[string]string{"Content-Type": "application/json"}, http.StatusOK},
		{"authorize error envelope", http.MethodPost, st.PlatformURL + "/api/v1/authorize/", `{}`, map[string]string{"Content-Type": "application/json"}, http.StatusBadRequest},
		{"/api/me without a token", http.MethodGet, st.MiniappURL + "/api/me", "", nil, http.StatusUnauthorized},
	}
	for _, a := range actual {
		res := corsCall(t, a.method, a.u, origin, a.header, a.body)
		if res.StatusCode != a.status || res.Header.Get("Access-Control-Allow-Origin") != origin ||
			res.Header.Get("Access-Control-Allow-Credentials") != "" ||
			!strings.Contains(res.Header.Get("Access-Control-Expose-Headers"), contract.HeaderFlowID) {
			t.Errorf("%s: %d %v", a.name, res.StatusCode, res.Header)
		}
	}
	// Not for browsers of other origins: /_sim/, the Get Auth Token endpoint, the pages.
	for _, u := range []string{st.PlatformURL + "/_sim/flows", st.PlatformURL + "/_sim/flows/x/steps", st.MiniappURL + "/_sim/users",
		st.MiniappURL + "/boxo/auth-token", st.MiniappURL + "/", st.HostURL + "/web/auth-code"} {
		if res := preflight(t, u, origin, "POST", "content-type"); res.Header.Get("Access-Control-Allow-Origin") != "" || res.StatusCode == http.StatusNoContent {
			t.Errorf("preflight %s answered CORS: %d %v", u, res.StatusCode, res.Header)
		}
		if res := corsCall(t, http.MethodGet, u, origin, nil, ""); res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("GET %s answered CORS: %v", u, res.Header)
		}
	}
}

// TestCORSOrigins: cors_origins narrows who may call; a refused origin's preflight gets 403
// without CORS headers, and its actual requests are answered without them.
func TestCORSOrigins(t *testing.T) {
	p, err := cors.New([]string{"http://localhost:5173"})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := startStack(t, stackOpts{cors: p})
	for _, u := range []string{st.PlatformURL + "/api/v1/authorize/", st.MiniappURL + "/api/me"} {
		if res := preflight(t, u, "http://localhost:5173", "POST", "content-type"); res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" {
			t.Errorf("allowed origin at %s: %d %v", u, res.StatusCode, res.Header)
		}
		if res := preflight(t, u, "http://evil.example", "POST", "content-type"); res.StatusCode != http.StatusForbidden || res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("refused origin at %s: %d %v", u, res.StatusCode, res.Header)
		}
	}
	res := corsCall(t, http.MethodGet, st.PlatformURL+"/api/v1/miniapps/"+demo.AppID+"/settings/?client_id="+demo.ClientID, "http://evil.example", nil, "")
	if res.StatusCode != http.StatusOK || res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("refused origin's GET: %d %v", res.StatusCode, res.Header)
	}
	res = corsCall(t, http.MethodGet, st.MiniappURL+"/api/me", "http://evil.example", nil, "")
	if res.StatusCode != http.StatusUnauthorized || res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("refused origin's /api/me: %d %v", res.StatusCode, res.Header)
	}
}
