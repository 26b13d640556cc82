// Package miniapp is the simulated miniapp backend of Boxo Connect: the Get Auth Token
// endpoint the platform calls in step 10 (PROTOCOL §3.11, §3.12), the miniapp's users keyed by
// the host app's reference, its own session tokens (HS256 JWT auth_token plus an opaque,
// single-use refresh token, §7.1), the API its frontend calls in steps 14–15 (§3.15, §9.32),
// logout (§7.5), the frontend page, and simulator-only admin routes under /_sim/.
package miniapp

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/cors"
	"github.com/boxo-sim/boxo-sim/internal/demo"
)

// Default lifetimes (PROTOCOL §9.12).
const (
	DefaultAuthTokenTTL    = time.Hour
	DefaultRefreshTokenTTL = 30 * 24 * time.Hour
)

// Config is what New needs. Zero fields take their documented defaults.
type Config struct {
	// BaseURL is the miniapp's external URL without a trailing slash, e.g.
	// http://127.0.0.1:8083. It is the iss claim of every auth_token. Required.
	BaseURL string
	// Store keeps settings, users, sessions and refresh tokens. Required.
	Store Store
	// Logger receives the party's logs; nil discards them. The caller adds "party".
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// AuthTokenTTL is the auth_token lifetime; zero means DefaultAuthTokenTTL (3600 s).
	AuthTokenTTL time.Duration
	// RefreshTokenTTL is the refresh token lifetime; zero means DefaultRefreshTokenTTL
	// (30 days). Each rotation issues a token with a fresh lifetime.
	RefreshTokenTTL time.Duration
	// Name is the miniapp's display name on its frontend page; "" means demo.MiniappName.
	Name string
	// CORS says which origins may call /api/ from a browser (PROTOCOL §2.12); nil allows any.
	CORS *cors.Policy
}

// New validates cfg, fills in its defaults and returns the miniapp's router.
func New(cfg Config) (http.Handler, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	r := mux.NewRouter()
	r.NotFoundHandler = contract.NotFound()
	r.MethodNotAllowedHandler = contract.MethodNotAllowed()
	addRoutes(r, c)
	// CORS answers before the router, so a preflight never meets mux's 405 (PROTOCOL §2.12):
	// a miniapp frontend served from elsewhere (a team's dev server) calls these with a
	// Bearer token.
	return c.CORS.Wrap(r, corsPaths, http.MethodGet, http.MethodPost), nil
}

// corsPaths are the frontend API paths browsers may call from another origin, in both slash
// forms; the Get Auth Token endpoint, the page and /_sim/ are not among them.
var corsPaths = cors.Paths("/api/me", "/api/me/", "/api/auth/refresh", "/api/auth/refresh/", "/api/auth/logout", "/api/auth/logout/")

func (cfg Config) withDefaults() (Config, error) {
	if cfg.Store == nil {
		return cfg, errors.New("miniapp: Config.Store is required")
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	u, err := url.Parse(cfg.BaseURL)
	if cfg.BaseURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return cfg, fmt.Errorf("miniapp: Config.BaseURL must be an absolute http(s) URL, got %q", cfg.BaseURL)
	}
	if cfg.AuthTokenTTL < 0 || cfg.RefreshTokenTTL < 0 {
		return cfg, errors.New("miniapp: token lifetimes must not be negative")
	}
	if cfg.AuthTokenTTL == 0 {
		cfg.AuthTokenTTL = DefaultAuthTokenTTL
	}
	if cfg.RefreshTokenTTL == 0 {
		cfg.RefreshTokenTTL = DefaultRefreshTokenTTL
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Name == "" {
		cfg.Name = demo.MiniappName
	}
	return cfg, nil
}

// SeedDemo creates the miniapp's own settings when there are none (it is idempotent and
// leaves existing settings alone): app_id appID, secret_key secret (stored as its
// contract.Hash), no required fields of its own, the IP allowlist contract.DefaultAllowlist,
// and a fresh random 32-byte HS256 signing key that is kept from then on. Empty appID and
// secret mean demo.AppID and demo.MiniappSecret.
func SeedDemo(ctx context.Context, s Store, appID, secret string) error {
	if appID == "" {
		appID = demo.AppID
	}
	if secret == "" {
		secret = demo.MiniappSecret
	}
	if err := validAppID(appID); err != nil {
		return fmt.Errorf("miniapp: seed: %w", err)
	}
	err := s.CreateSettings(ctx, Settings{
		AppID:       appID,
		SecretHash:  contract.Hash(secret),
		IPAllowlist: append([]string(nil), contract.DefaultAllowlist...),
		SigningKey:  newSigningKey(),
	})
	if err != nil && !errors.Is(err, ErrConflict) {
		return fmt.Errorf("miniapp: seed settings: %w", err)
	}
	return nil
}

// newSigningKey returns 32 random bytes for HS256.
func newSigningKey() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k) // crypto/rand.Read never fails (Go 1.24+)
	return k
}

// logger returns the party's logger with the request's flow id, when it has one.
func (c Config) logger(r *http.Request) *slog.Logger {
	if id := r.Header.Get(contract.HeaderFlowID); id != "" {
		return c.Logger.With("flow_id", id)
	}
	return c.Logger
}
