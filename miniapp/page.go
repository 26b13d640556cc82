package miniapp

import (
	"bytes"
	"embed"
	"encoding/json"
	"html/template"
	"io/fs"
	"net/http"
	"strings"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/webasset"
)

// The demo miniapp frontend (DESIGN.md "In the browser"): the page the platform hands to the
// SDK as the miniapp URL (PROTOCOL §3.2). It runs Boxo's real JS SDK (@appboxo/js-sdk,
// vendored under web/vendor/js-sdk), logs in over the bridge, keeps the token as the JS SDK
// keeps it (the ab_token cookie, §4.5) and shows what GET /api/me says (steps 14–15).

// JSSDKVersion is the vendored @appboxo/js-sdk; `make vendor-sdks` refreshes it.
const JSSDKVersion = "1.9.0"

//go:embed web/*.html web/static web/vendor
var webFS embed.FS

var pageTmpl = template.Must(template.ParseFS(webFS, "web/*.html")) // embedded: fails in every test or never

// pageConfig is what the page script reads from the page.
type pageConfig struct {
	// Hosts names the host apps this miniapp knows by client_id, for its log-in button.
	Hosts map[string]string `json:"hosts"`
}

// handlePage serves the miniapp frontend page at GET /.
func handlePage(c Config) http.Handler {
	cfg, _ := json.Marshal(pageConfig{Hosts: map[string]string{demo.ClientID: demo.HostappName}})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		data := struct {
			Name, JSSDKVersion string
			Config             template.JS
		}{c.Name, JSSDKVersion, template.JS(cfg)}
		if err := pageTmpl.ExecuteTemplate(&buf, "index.html", data); err != nil {
			c.logger(r).ErrorContext(r.Context(), "render page", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		// Host apps embed this page in an iframe, so any page may frame it.
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'")
		_, _ = buf.WriteTo(w)
	})
}

// handleAssets serves GET /web/static/... and /web/vendor/... from the embedded files.
func handleAssets() http.Handler {
	sub, err := fs.Sub(webFS, "web")
	if err != nil {
		panic(err) // the embedded tree always has web/
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(r.URL.Path, "/web/")
		b, err := fs.ReadFile(sub, p)
		if err != nil || !strings.HasPrefix(p, "static/") && !strings.HasPrefix(p, "vendor/") || strings.Contains(p, "..") {
			contract.NotFound().ServeHTTP(w, r)
			return
		}
		webasset.Serve(w, r, p, b)
	})
}
