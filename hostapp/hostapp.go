// Package hostapp is the simulated host app backend of Boxo Connect: its users, an OAuth2/OIDC
// authorization server (PROTOCOL §6) and the endpoints the platform calls (PROTOCOL §3.7–§3.10,
// §7.1). New returns its router; hostapp/sqlite stores its data.
package hostapp

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/cors"
	"github.com/boxo-sim/boxo-sim/internal/signing"
)

// Default lifetimes (PROTOCOL §6.4, §9.12, §9.31).
const (
	DefaultAuthCodeTTL       = 10 * time.Minute
	DefaultConnectAccessTTL  = 3600 * time.Second
	DefaultConnectRefreshTTL = 30 * 24 * time.Hour
	DefaultSessionTTL        = 12 * time.Hour
	DefaultIDTokenTTL        = 604800 * time.Second    // seven days (PROTOCOL §6.8)
	DefaultAccessTokenTTL    = 315360000 * time.Second // ten years (PROTOCOL §6.8)
	DefaultRefreshTokenTTL   = 30 * 24 * time.Hour
	// DefaultHTTPTimeout bounds the outbound calls of the demo client page (PROTOCOL §2.11).
	DefaultHTTPTimeout = 10 * time.Second
)

// SessionCookie is the name of the host's sign-in cookie (PROTOCOL §9.31).
const SessionCookie = "host_session"

// Config configures the host app. Zero values mean the defaults.
type Config struct {
	// BaseURL is our external URL and the issuer, e.g. http://127.0.0.1:8081. A trailing
	// slash is dropped.
	BaseURL string
	Store   Store
	Logger  *slog.Logger     // nil means discard; the caller adds "party", as for every party
	Now     func() time.Time // nil means time.Now

	AuthCodeTTL       time.Duration // 0 → 10 min (PROTOCOL §6.4)
	ConnectAccessTTL  time.Duration // 0 → 3600 s (PROTOCOL §6.10)
	ConnectRefreshTTL time.Duration // 0 → 30 days (PROTOCOL §9.12)
	SessionTTL        time.Duration // 0 → 12 h (PROTOCOL §9.31)

	// Lifetimes of the authorization server's tokens (PROTOCOL §6.8).
	IDTokenTTL      time.Duration // 0 → 604800 s
	AccessTokenTTL  time.Duration // 0 → 315360000 s
	RefreshTokenTTL time.Duration // 0 → 30 days

	// SigningKey signs the authorization server's JWTs (PROTOCOL §6.8). nil means: the key
	// kept in the store, generated (RSA 2048) and stored the first time one is needed.
	SigningKey *rsa.PrivateKey

	// HTTPClient makes the demo client page's call to our own token endpoint. nil means a
	// client with a 10 s timeout.
	HTTPClient *http.Client

	// CORS says which origins may call discovery, JWKS, token, userinfo and revocation from a
	// browser (PROTOCOL §2.12); nil allows any.
	CORS *cors.Policy

	// Web configures the demo web host app at "/" (web.go).
	Web Web
}

// server is what the handlers share: the resolved configuration and parsed templates.
type server struct {
	Config
	baseURL  *url.URL
	pages    *template.Template
	webPages *template.Template
	keys     *keyring
	// verifier checks the platform's signed calls and remembers their nonces (§7.8).
	verifier *signing.Verifier
}

// New validates cfg, fills in defaults and returns the host app's router.
func New(cfg Config) (http.Handler, error) {
	s, err := newServer(cfg)
	if err != nil {
		return nil, err
	}
	r := mux.NewRouter()
	r.NotFoundHandler = contract.NotFound()
	r.MethodNotAllowedHandler = contract.MethodNotAllowed()
	addRoutes(r, s)
	// CORS (PROTOCOL §2.12, §6.13) sits before the router, so a preflight never meets mux's
	// 405. The authorization endpoint and the pages are top-level navigations: no CORS.
	return s.CORS.Wrap(r, cors.Paths(corsPaths...), http.MethodGet, http.MethodPost), nil
}

// corsPaths are the endpoints a browser client on another origin calls with fetch.
var corsPaths = []string{"/.well-known/openid-configuration", "/auth/v1/jwks", "/auth/v1/token", "/auth/v1/userinfo", "/auth/v1/revoke"}

func newServer(cfg Config) (*server, error) {
	if cfg.Store == nil {
		return nil, errors.New("hostapp: Config.Store is nil")
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("hostapp: Config.BaseURL %q is not an absolute http(s) URL", cfg.BaseURL)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"AuthCodeTTL", &cfg.AuthCodeTTL, DefaultAuthCodeTTL},
		{"ConnectAccessTTL", &cfg.ConnectAccessTTL, DefaultConnectAccessTTL},
		{"ConnectRefreshTTL", &cfg.ConnectRefreshTTL, DefaultConnectRefreshTTL},
		{"SessionTTL", &cfg.SessionTTL, DefaultSessionTTL},
		{"IDTokenTTL", &cfg.IDTokenTTL, DefaultIDTokenTTL},
		{"AccessTokenTTL", &cfg.AccessTokenTTL, DefaultAccessTokenTTL},
		{"RefreshTokenTTL", &cfg.RefreshTokenTTL, DefaultRefreshTokenTTL},
	} {
		switch {
		case *d.v < 0:
			return nil, fmt.Errorf("hostapp: Config.%s is negative", d.name)
		case *d.v == 0:
			*d.v = d.def
		}
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	pages, err := parsePages()
	if err != nil {
		return nil, fmt.Errorf("hostapp: templates: %w", err)
	}
	webPages, err := parseWebPages()
	if err != nil {
		return nil, fmt.Errorf("hostapp: web templates: %w", err)
	}
	cfg.Web = cfg.Web.withDefaults()
	if err := checkKey(cfg.SigningKey); err != nil {
		return nil, fmt.Errorf("hostapp: %w", err)
	}
	keys := &keyring{store: cfg.Store, given: cfg.SigningKey, now: cfg.Now}
	return &server{Config: cfg, baseURL: u, pages: pages, webPages: webPages, keys: keys, verifier: &signing.Verifier{Now: cfg.Now}}, nil
}

// log returns the logger for a request, with flow_id when the request carries one.
func (s *server) log(r *http.Request) *slog.Logger {
	if id := r.Header.Get(contract.HeaderFlowID); id != "" {
		return s.Logger.With("flow_id", id)
	}
	return s.Logger
}
