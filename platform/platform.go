// Package platform is the simulated Boxo platform (PROTOCOL §1.1, DESIGN.md): the Dashboard
// registry of host apps, miniapps and partnerships, the endpoints the SDK calls (miniapp
// settings, authorize, consent), the calls to the host app and the miniapp that turn an auth
// code into a miniapp token (PROTOCOL §3.6–§3.13, §5), and the flow log.
//
// The platform talks to host apps and miniapps only over HTTP, at the URLs in its registry.
package platform

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/cors"
)

// DefaultCallTimeout is how long the platform waits for one host or miniapp answer
// (PROTOCOL §2.11).
const DefaultCallTimeout = 10 * time.Second

// Config is everything the platform needs. Zero values mean the defaults.
type Config struct {
	BaseURL string // our external URL, e.g. http://127.0.0.1:8082 (no trailing slash)
	Store   Store
	Logger  *slog.Logger     // nil means discard
	Now     func() time.Time // nil means time.Now
	// HTTPClient makes every outbound call (steps 6, 8, 10, refresh). nil means one client
	// per platform with keep-alive connections that does not follow redirects.
	HTTPClient *http.Client
	// CallTimeout bounds each outbound call, answer body included, through a context
	// deadline; 0 means DefaultCallTimeout.
	CallTimeout time.Duration
	// CORS says which origins may call /api/v1/ from a browser (PROTOCOL §2.12); nil allows
	// any.
	CORS *cors.Policy
	// Peers locate the host app and miniapp this platform works with, for GET /_sim/stack and
	// the console's fault tables (console_stack.go). The zero value means not known.
	Peers Peers
	// Done, when closed, ends long-lived answers (the console's flow event stream), so a
	// server shutting down is not held up by them; close it from http.Server.RegisterOnShutdown.
	// nil means they end only when their caller leaves.
	Done <-chan struct{}
}

// server holds the validated configuration the handlers share. It is read-only after New.
type server struct {
	baseURL string
	store   Store
	log     *slog.Logger
	now     func() time.Time
	client  *http.Client
	timeout time.Duration
	peers   Peers
	done    <-chan struct{}
	flows   *flowHub // tells the console's event streams which flows changed
}

// New validates cfg, fills in the defaults and returns the platform's router.
func New(cfg Config) (http.Handler, error) {
	if cfg.Store == nil {
		return nil, errors.New("platform: Config.Store is required")
	}
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, errors.New("platform: Config.BaseURL must be an absolute http(s) URL")
		}
	}
	if cfg.CallTimeout < 0 {
		return nil, errors.New("platform: Config.CallTimeout must not be negative")
	}
	if err := cfg.Peers.validate(); err != nil {
		return nil, err
	}
	hub := newFlowHub()
	s := &server{
		baseURL: strings.TrimRight(cfg.BaseURL, "/"),
		store:   notifyingStore{Store: cfg.Store, hub: hub},
		peers:   cfg.Peers.trimmed(),
		done:    cfg.Done,
		flows:   hub,
		log:     cfg.Logger,
		now:     cfg.Now,
		client:  cfg.HTTPClient,
		timeout: cfg.CallTimeout,
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.store = clockedStore{Store: s.store, now: s.now}
	if s.client == nil {
		s.client = NewHTTPClient()
	}
	if s.timeout == 0 {
		s.timeout = DefaultCallTimeout
	}
	r := mux.NewRouter()
	r.NotFoundHandler = contract.NotFound()
	r.MethodNotAllowedHandler = contract.MethodNotAllowed()
	addRoutes(r, s)
	// CORS answers before the router, so a preflight never meets mux's 405 (PROTOCOL §2.12);
	// /_sim/ is never covered.
	return cfg.CORS.Wrap(r, cors.Prefix("/api/v1/"), http.MethodGet, http.MethodPost), nil
}

// NewHTTPClient is the default outbound client: keep-alive connections reused across flows
// (DESIGN.md "Speed budget"), redirects not followed (a redirect is a non-200 answer,
// PROTOCOL §3.8), no overall timeout (each call carries its own deadline).
func NewHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 256
	tr.MaxIdleConnsPerHost = 64
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// clockedStore stamps every flow record with the platform's clock, which the flow log's
// retention counts from (FlowRecord.RecordedAt).
type clockedStore struct {
	Store
	now func() time.Time
}

func (c clockedStore) RecordFlow(ctx context.Context, rec FlowRecord) error {
	if rec.RecordedAt.IsZero() {
		rec.RecordedAt = c.now()
	}
	return c.Store.RecordFlow(ctx, rec)
}

func (c clockedStore) RecordSDKSteps(ctx context.Context, rec FlowRecord, check func(exists bool, steps []contract.FlowStep) error) error {
	if rec.RecordedAt.IsZero() {
		rec.RecordedAt = c.now()
	}
	return c.Store.RecordSDKSteps(ctx, rec, check)
}
