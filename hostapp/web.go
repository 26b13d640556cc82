package hostapp

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/webasset"
)

// The demo web host app (DESIGN.md "In the browser"): the super-app's home screen at "/",
// listing the miniapps the platform's Dashboard partners with this host app and mounting
// one with Boxo's real web SDK (@appboxo/web-sdk, vendored under web/vendor/web-sdk). Its
// page script (web/static/home.js) draws the consent prompt, gets a Boxo auth code for the
// signed-in user from POST /web/auth-code (Connect) or miniapp tokens from POST
// /web/direct-tokens (Connect Direct, for a partnership with Direct on) and reports the SDK's
// steps to the platform's flow log, as the fake SDK does for `connect`.

// WebSDKVersion is the vendored @appboxo/web-sdk; `make vendor-sdks` refreshes it.
const WebSDKVersion = "1.4.4"

//go:embed web/*.html web/static web/vendor
var webFS embed.FS

// Web configures the demo web host app at "/". The zero value still serves the page, which
// then says that no platform is configured.
type Web struct {
	// PlatformURL is the Boxo platform the web SDK calls ({PlatformURL}/api/v1) and whose
	// Dashboard lists the miniapps, e.g. http://127.0.0.1:8082.
	PlatformURL string
	// ClientID is this host app's client_id at the platform; "" means demo.ClientID.
	ClientID string
	// BoxoClientID is the Boxo-facing OAuth client (PROTOCOL §6.10) whose auth codes
	// POST /web/auth-code mints; "" means demo.HostappClientID.
	BoxoClientID string
	// AdminToken is the stack's admin token, sent to the platform's Dashboard routes under
	// /_sim/ (PROTOCOL §2.13) when listing the miniapps; "" sends none.
	AdminToken string
}

// webCSRFHeader carries the web endpoints' CSRF token (/web/auth-code, /web/direct-tokens).
const webCSRFHeader = "X-CSRF-Token"

// Error codes of the web endpoints (contract.Plain form).
const (
	webNotSignedIn = "not_signed_in"
	webForbidden   = "forbidden"
	webInvalid     = "invalid_request"
)

func (w Web) withDefaults() Web {
	w.PlatformURL = strings.TrimRight(w.PlatformURL, "/")
	if w.ClientID == "" {
		w.ClientID = demo.ClientID
	}
	if w.BoxoClientID == "" {
		w.BoxoClientID = demo.HostappClientID
	}
	return w
}

func parseWebPages() (*template.Template, error) { return template.ParseFS(webFS, "web/*.html") }

// addWebRoutes adds the demo web host app's routes.
func addWebRoutes(r *mux.Router, s *server) {
	r.Handle("/", handleWebHome(s, s.webPages)).Methods(http.MethodGet)
	r.Handle("/web/auth-code", contract.Plain(s.Logger)(handleWebAuthCode(s))).Methods(http.MethodPost)
	r.Handle("/web/direct-tokens", contract.Envelope(s.Logger)(handleDirectTokens(s, true))).Methods(http.MethodPost)
	r.PathPrefix("/web/").Handler(handleWebAssets()).Methods(http.MethodGet, http.MethodHead)
}

// webMiniapp is a miniapp on the home screen.
type webMiniapp struct {
	AppID          string   `json:"app_id"`
	Name           string   `json:"name"`
	URL            string   `json:"url"`
	RequiredFields []string `json:"required_fields"`
	// Connect and Direct say which flows the partnership has on: the home screen offers
	// "Open" for the first and "Open with Direct" for the second (PROTOCOL §1.3, §7.3).
	Connect bool `json:"connect"`
	Direct  bool `json:"direct"`
}

// webPageConfig is what the page script reads from the page (a JSON script element).
type webPageConfig struct {
	PlatformURL   string            `json:"platform_url"`
	ClientID      string            `json:"client_id"`
	User          string            `json:"user"`
	UserReference string            `json:"user_reference"`
	CSRF          string            `json:"csrf"`
	Miniapps      []webMiniapp      `json:"miniapps"`
	Codes         map[string]string `json:"codes"`
}

type webHomeData struct {
	Title, User, Name, PlatformURL, ConsoleURL, Error, Warning, WebSDKVersion string
	Miniapps                                                                  []webMiniapp
	Config                                                                    template.JS
}

// handleWebHome serves GET /: the sign-in link, or the home screen of the signed-in user.
func handleWebHome(s *server, tmpl *template.Template) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		web := s.Web
		d := webHomeData{Title: "Demo Super App", PlatformURL: web.PlatformURL, WebSDKVersion: WebSDKVersion}
		if web.PlatformURL != "" {
			d.ConsoleURL = web.PlatformURL + "/"
		}
		u, ok, err := s.currentUser(r)
		if err != nil {
			s.log(r).ErrorContext(r.Context(), "home: session", "err", err)
		}
		var frames []string
		if ok {
			d.User, d.Name = u.Username, strings.TrimSpace(u.FirstName+" "+u.LastName)
			if d.Name == "" {
				d.Name = u.Username
			}
			switch {
			case web.PlatformURL == "":
				d.Error = "No Boxo platform is configured for this host app, so it has no miniapps to open."
			default:
				d.Miniapps, err = s.partnerMiniapps(r.Context())
				if err != nil {
					s.log(r).WarnContext(r.Context(), "home: list miniapps", "err", err)
					d.Error = "The miniapps could not be listed from the platform's Dashboard at " + web.PlatformURL + ": " + err.Error()
				}
			}
			for _, m := range d.Miniapps {
				if o := originOf(m.URL); o != "" && !slices.Contains(frames, o) {
					frames = append(frames, o)
				}
				if u, err := url.Parse(m.URL); err == nil && d.Warning == "" && u.Hostname() == hostname(r.Host) {
					d.Warning = "This page is open at " + hostname(r.Host) + ", the host of " + m.Name +
						"'s page too, so the browser shares cookies between them, unlike production."
					if s.baseURL.Hostname() != u.Hostname() {
						d.Warning += " Open the host app at " + s.baseURL.String() + "/ instead."
					}
				}
			}
			cfg, err := json.Marshal(webPageConfig{
				PlatformURL: web.PlatformURL, ClientID: web.ClientID, User: u.Username, UserReference: u.Reference,
				CSRF: webCSRFToken(r), Miniapps: d.Miniapps,
				Codes: map[string]string{"user_denied": contract.BridgeUserDenied, "no_auth_code": contract.BridgeNoAuthCode, "no_auth_token": contract.BridgeNoAuthToken},
			})
			if err != nil {
				s.log(r).ErrorContext(r.Context(), "home: page config", "err", err)
			}
			d.Config = template.JS(cfg) // json.Marshal escapes <, > and &: safe in a script element
		}
		var buf bytes.Buffer
		if err := tmpl.ExecuteTemplate(&buf, "home.html", d); err != nil {
			s.log(r).ErrorContext(r.Context(), "render home", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		connect := "'self'"
		if o := originOf(web.PlatformURL); o != "" {
			connect += " " + o
		}
		frameSrc := "'none'"
		if len(frames) > 0 {
			frameSrc = strings.Join(frames, " ")
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src "+
			connect+"; frame-src "+frameSrc+"; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
		_, _ = buf.WriteTo(w)
	}
}

// webPartnership is a partnership as the platform's Dashboard lists it.
type webPartnership struct {
	ClientID       string `json:"client_id"`
	AppID          string `json:"app_id"`
	ConnectEnabled bool   `json:"connect_enabled"`
	DirectEnabled  bool   `json:"direct_enabled"`
}

// partnerMiniapps asks the platform's Dashboard (over HTTP, as every party talks) for the
// miniapps partnered with this host app with Connect or Direct enabled, in app_id order.
func (s *server) partnerMiniapps(ctx context.Context) ([]webMiniapp, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var ps struct {
		Partnerships []webPartnership `json:"partnerships"`
	}
	if err := s.getPlatformJSON(ctx, "/_sim/partnerships", &ps); err != nil {
		return nil, err
	}
	var ms struct {
		Miniapps []webMiniapp `json:"miniapps"`
	}
	if err := s.getPlatformJSON(ctx, "/_sim/miniapps", &ms); err != nil {
		return nil, err
	}
	out := []webMiniapp{}
	for _, m := range ms.Miniapps {
		i := slices.IndexFunc(ps.Partnerships, func(p webPartnership) bool {
			return p.ClientID == s.Web.ClientID && p.AppID == m.AppID
		})
		if i < 0 {
			continue
		}
		if p := ps.Partnerships[i]; p.ConnectEnabled || p.DirectEnabled {
			m.Connect, m.Direct = p.ConnectEnabled, p.DirectEnabled
			out = append(out, m)
		}
	}
	return out, nil
}

func (s *server) getPlatformJSON(ctx context.Context, p string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Web.PlatformURL+p, nil)
	if err != nil {
		return err
	}
	if s.Web.AdminToken != "" {
		req.Header.Set("Authorization", "Bearer "+s.Web.AdminToken)
	}
	res, err := s.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s answered %s", p, res.Status)
	}
	return json.NewDecoder(res.Body).Decode(v)
}

// hostname is the host of a Host header, without its port.
func hostname(hostport string) string {
	if u, err := url.Parse("http://" + hostport); err == nil {
		return u.Hostname()
	}
	return hostport
}

// originOf returns scheme://host[:port] of an absolute http(s) URL, or "".
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// webCSRFToken is the web endpoints' CSRF token: derived from the session cookie, so
// it is bound to the session and only a page that could read it from the home screen (this
// origin) knows it. "" without a session.
func webCSRFToken(r *http.Request) string {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return ""
	}
	return contract.Hash("web-auth-code-csrf:" + c.Value)
}

// handleWebAuthCode serves POST /web/auth-code, {"app_id": ...} → {"auth_code", "expires_in"}:
// a fresh Boxo auth code for the signed-in user (PROTOCOL §3.6 item 2), the web counterpart
// of the authorization request the fake SDK makes (§6.10). It is session-authenticated, so
// it is protected against cross-site requests in three independent ways: the request must be
// JSON (a cross-site form cannot send that without a CORS preflight, which this host never
// grants), come from this origin (Origin, and Sec-Fetch-Site when the browser sends it), and
// carry the session's CSRF token in X-CSRF-Token.
func handleWebAuthCode(s *server) contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, status, msg, err := s.checkPageCall(r, true, false)
		switch {
		case err != nil:
			return err
		case status == http.StatusUnsupportedMediaType:
			return &contract.Error{Code: webInvalid, Message: msg, Status: status}
		case status == http.StatusUnauthorized:
			return &contract.Error{Code: webNotSignedIn, Message: "sign in to the host app first", Status: status}
		case status != 0:
			return &contract.Error{Code: webForbidden, Message: msg, Status: status}
		}
		var body struct {
			AppID string `json:"app_id"`
		}
		if err := contract.DecodeJSON(w, r, &body, webInvalid); err != nil {
			return err
		}
		if body.AppID == "" || contract.Len(body.AppID) > 64 {
			return &contract.Error{Code: webInvalid, Message: "app_id: 1 to 64 characters are required"}
		}
		client, err := s.Store.GetClient(r.Context(), s.Web.BoxoClientID)
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("the Boxo-facing client %q does not exist", s.Web.BoxoClientID)
		} else if err != nil {
			return err
		}
		code, now := contract.RandomHex(20), s.Now()
		err = s.Store.CreateAuthCode(r.Context(), AuthCode{
			Hash: contract.Hash(code), Kind: CodeKindOAuth, ClientID: client.ID, UserID: u.ID,
			RedirectURI: s.baseURL.String() + demo.BoxoCallbackPath, Scopes: client.Scopes,
			IssuedAt: now, ExpiresAt: now.Add(s.AuthCodeTTL),
		})
		if err != nil {
			return fmt.Errorf("create auth code: %w", err)
		}
		s.log(r).DebugContext(r.Context(), "web auth code issued", "client_id", client.ID, "app_id", body.AppID, "user", u.Username, "code", contract.Secret(code))
		w.Header().Set("Cache-Control", "no-store")
		contract.WriteJSON(w, http.StatusOK, map[string]any{"auth_code": code, "expires_in": int(s.AuthCodeTTL / time.Second)})
		return nil
	}
}

// checkPageCall is the cross-site guard that /web/auth-code and userCall share (their comments
// say why). It returns the signed-in user, or else the status and message to refuse with: 415,
// 403, or 401 without a message, since each route words that one itself. noneOK lets
// Sec-Fetch-Site: none through, as userCall always has and /web/auth-code never has.
func (s *server) checkPageCall(r *http.Request, fromPage, noneOK bool) (u User, status int, msg string, err error) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return u, http.StatusUnsupportedMediaType, "Content-Type must be application/json", nil
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && (site != "none" || !noneOK) {
		return u, http.StatusForbidden, "cross-site request refused (Sec-Fetch-Site: " + site + ")", nil
	}
	if origin := r.Header.Get("Origin"); (origin != "" || fromPage) && origin != "http://"+r.Host && origin != "https://"+r.Host {
		return u, http.StatusForbidden, "the request must come from this host app's own pages (Origin " + quoteOrNone(origin) + ")", nil
	}
	u, ok, err := s.currentUser(r)
	if err != nil || !ok {
		return u, http.StatusUnauthorized, "", err
	}
	if fromPage && !contract.Equal(r.Header.Get(webCSRFHeader), webCSRFToken(r)) {
		return u, http.StatusForbidden, "missing or wrong " + webCSRFHeader + ": reload the home screen", nil
	}
	return u, 0, "", nil
}

func quoteOrNone(v string) string {
	if v == "" {
		return "absent"
	}
	return fmt.Sprintf("%q", v)
}

// handleWebAssets serves GET /web/static/... and /web/vendor/... from the embedded files.
// The web SDK's ES modules import their siblings without the .js suffix, as a bundler would
// resolve them; so does this handler: a path without a file tries path.js, then redirects
// to path/index.js.
func handleWebAssets() http.Handler {
	sub, err := fs.Sub(webFS, "web")
	if err != nil {
		panic(err) // the embedded tree always has web/
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(r.URL.Path, "/web/")
		if !strings.HasPrefix(p, "static/") && !strings.HasPrefix(p, "vendor/") || strings.Contains(p, "..") {
			contract.NotFound().ServeHTTP(w, r)
			return
		}
		for _, c := range []string{p, p + ".js"} {
			if b, err := fs.ReadFile(sub, c); err == nil {
				webasset.Serve(w, r, c, b)
				return
			}
		}
		// A directory: its index.js, by redirect, so that its own relative imports resolve
		// against the directory.
		if _, err := fs.Stat(sub, p+"/index.js"); err == nil {
			http.Redirect(w, r, r.URL.Path+"/index.js", http.StatusFound)
			return
		}
		contract.NotFound().ServeHTTP(w, r)
	})
}
