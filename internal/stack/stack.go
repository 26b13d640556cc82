// Package stack starts the three simulated parties on their own listeners and databases. The
// CLI's up, the in-process connect, the scenario runner and every end-to-end test use its one
// Start, so tests exercise the production wiring.
package stack

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/boxo-sim/boxo-sim/hostapp"
	hostsqlite "github.com/boxo-sim/boxo-sim/hostapp/sqlite"
	"github.com/boxo-sim/boxo-sim/internal/admin"
	"github.com/boxo-sim/boxo-sim/internal/clock"
	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/cors"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/fault"
	"github.com/boxo-sim/boxo-sim/internal/seed"
	"github.com/boxo-sim/boxo-sim/internal/store"
	"github.com/boxo-sim/boxo-sim/internal/userdata"
	"github.com/boxo-sim/boxo-sim/miniapp"
	minisqlite "github.com/boxo-sim/boxo-sim/miniapp/sqlite"
	"github.com/boxo-sim/boxo-sim/platform"
	platsqlite "github.com/boxo-sim/boxo-sim/platform/sqlite"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

// Party names, as --only takes them.
const (
	Hostapp  = "hostapp"
	Platform = "platform"
	Miniapp  = "miniapp"
)

// Parties lists the party names in start order.
var Parties = []string{Hostapp, Platform, Miniapp}

// Config says which parties to start, where, and on what storage. Zero values are defaults.
type Config struct {
	// Listen addresses; "" means the defaults 127.0.0.1:8081/8082/8083, "127.0.0.1:0" an
	// ephemeral port.
	HostAddr, PlatformAddr, MiniappAddr string
	// Only names the parties to start; empty means all three.
	Only []string
	// DataDir holds hostapp.db, platform.db and miniapp.db; "" means ./.boxo-sim.
	DataDir string
	// Ephemeral keeps the databases in a temporary directory removed by Close: under $TMPDIR
	// when set, else on a memory file system (/dev/shm) when there is one with room, else in
	// the system's temporary directory.
	Ephemeral bool
	// Reset deletes the databases in DataDir before opening them (`up --reset`), once the
	// directory is locked, so the parties start with fresh demo data.
	Reset bool
	// Clock is shared by the parties; nil means a clock that follows real time.
	Clock *clock.Clock
	// Logger is the root logger; each party gets it with party=<name>. nil discards.
	Logger *slog.Logger
	// CallTimeout bounds the platform's calls to host and miniapp; 0 means 10 s.
	CallTimeout time.Duration
	// HostURL and MiniappURL locate parties not started here (a real backend, or a
	// separately started boxo-sim); the platform's demo registry entries then point there.
	// A party located at a URL is not started, and naming it in Only too is an error
	// (relay mode, relay.go).
	HostURL, MiniappURL string
	// PlatformURL locates the platform when it is not started here.
	PlatformURL string
	// Relay holds the Dashboard credentials the platform uses towards a backend at HostURL or
	// MiniappURL that is not started here; empty fields keep the demo values.
	Relay Relay
	// SigningKey is the host's RSA key; nil means the one stored in hostapp.db (made the first
	// time the host app signs something). Tests pass one key per test binary: RSA generation
	// is slow.
	SigningKey *rsa.PrivateKey
	// HTTPClient is the platform's client for its outbound calls; nil means its own.
	HTTPClient *http.Client
	// CORS is the cors_origins setting shared by every party's browser-facing endpoints
	// (PROTOCOL §2.12); nil allows any origin.
	CORS *cors.Policy
	// AdminToken is the stack's admin token: callers beyond loopback reach the simulator's own
	// routes only with it (PROTOCOL §2.13). "" means none: only loopback callers of a
	// loopback-bound party get in.
	AdminToken string
	// BodyTimeout bounds how long a request body may take to arrive; 0 means 10 s.
	BodyTimeout time.Duration
	// ShutdownGrace is how long Close waits for requests in flight before it ends them and
	// answers them in their endpoint's form; 0 means 5 s.
	ShutdownGrace time.Duration
	// FlowLogMaxFlows and FlowLogMaxAge bound the platform's flow log (see Sweep); 0 means
	// DefaultFlowLogMaxFlows and DefaultFlowLogMaxAge.
	FlowLogMaxFlows int
	FlowLogMaxAge   time.Duration
	// UserDataKey switches encrypted user_data on (PROTOCOL §7.2): the host app started here
	// encrypts the user data of the flows' miniapp with it, and the miniapp started here
	// decrypts with it. It is kept in their databases like any Dashboard setting, and
	// changed at run time through each party's /_sim/settings. "" leaves the stored settings
	// as they are. It must parse with userdata.ParseKey.
	UserDataKey string
	// Lifetimes are the host app's authorization-server lifetimes; zero fields are defaults.
	Lifetimes Lifetimes
	// TrustedProxies, when not nil, are stored as the trusted_proxies of every party started
	// here (PROTOCOL §7.6): X-Forwarded-For counts only behind them. nil leaves the stored
	// settings as they are; an empty list clears them.
	TrustedProxies []string
	// SeedFile is a seed file (internal/seed) applied once every party serves, before Start
	// returns: a malformed file fails Start before anything listens, a refused one after.
	SeedFile string
}

// Lifetimes are the host app's lifetimes of PROTOCOL §6.4, §6.8, §9.12 and §9.31. Zero means
// the default (hostapp.Default*); negative is an error.
type Lifetimes struct {
	AuthCode       time.Duration // auth code, 10 min
	ConnectAccess  time.Duration // Connect access token, 3600 s
	ConnectRefresh time.Duration // Connect refresh token, 30 days
	Session        time.Duration // sign-in session cookie, 12 h
	IDToken        time.Duration // OIDC ID token, 604800 s
	AccessToken    time.Duration // authorization-server access token, 315360000 s
	RefreshToken   time.Duration // authorization-server refresh token, 30 days
}

// Defaults of the Config durations.
const (
	DefaultBodyTimeout   = 10 * time.Second
	DefaultShutdownGrace = 5 * time.Second
	// The flow log keeps the newest 10,000 flows, none older than 7 days.
	DefaultFlowLogMaxFlows = 10000
	DefaultFlowLogMaxAge   = 7 * 24 * time.Hour
	// cutOffWait is how long Close gives handlers ended at the grace deadline to answer.
	cutOffWait = time.Second
)

// Relay is what the platform's Dashboard must know of a real backend (PROTOCOL §1.2, §7.7).
type Relay struct {
	HostappClientID, HostappSecret, TokenPrefix string // towards a real host backend
	MiniappAppID, MiniappSecret                 string // towards a real miniapp backend
	// HostappSigningSecret and MiniappSigningSecret switch request signing on (PROTOCOL
	// §7.8) in the Dashboard record of the relayed host app or miniapp: the platform signs
	// its calls to that backend with the secret and, for the host, requires the backend's
	// Direct and consent calls signed with it. "" switches signing off for a relayed backend.
	HostappSigningSecret, MiniappSigningSecret string
	// The real host backend's endpoints, for one whose paths differ from boxo-sim's: an
	// absolute URL, or a path ("/api/boxo/token") under HostURL. "" means HostURL plus the
	// default path. UserDataMethod is GET or POST; "" means GET (contract §3.9, §9.1).
	AccessTokenURL, UserDataURL, RefreshTokenURL, UserDataMethod string
	// AuthTokenURL is the real miniapp backend's Get Auth Token endpoint, the same way
	// under MiniappURL.
	AuthTokenURL string
	// RequiredFields, when not nil, are the fields the miniapp flows sign in to marks
	// required (contract §1.3); an empty non-nil slice clears them. nil keeps the Dashboard's.
	RequiredFields []string
}

// Stack is a running set of parties. Its URLs work as soon as Start returns.
type Stack struct {
	HostURL, PlatformURL, MiniappURL string
	Clock                            *clock.Clock
	DataDir                          string
	Started                          []string // the parties started here
	// AppID is the miniapp flows sign in to: Relay.MiniappAppID for a relayed miniapp that
	// has one, else the demo miniapp.
	AppID string

	log     *slog.Logger
	servers map[string]*http.Server
	// base is every request's parent context; Close cancels it when shutting down takes too
	// long, so handlers that wait on their request (a delay fault) end.
	base       context.Context
	cancelBase context.CancelFunc
	closers    []func() error
	tmpDir     string
	storeOpts  []store.Option // how the parties' databases are opened: store.Ephemeral in tmpDir
	errc       chan error
	closeOnce  sync.Once
	closeErr   error
	stopWatch  context.CancelFunc
	faults     map[string]*fault.Table // per started party; see faults.go
	lifetimes  fault.Lifetimes         // what expire faults move the clock past

	reqs       requests             // serve.go
	newConns   map[string]*newConns // per party: connections that have sent nothing yet
	outbound   *http.Client         // the platform's client, whose idle connections Close drops first
	grace      time.Duration
	stores     stores // sweep.go
	adminToken string
	maxFlows   int
	maxAge     time.Duration
	stopSweep  func() // stops the sweep and waits for it
	// platformDone ends the platform's long-lived answers (the console's event streams)
	// when its server shuts down.
	platformDone chan struct{}
}

// Start listens on every address first, so all URLs are known before any handler is built,
// then opens each party's database, seeds the demo data, and serves. The parties stop when ctx
// ends or Close is called.
func Start(ctx context.Context, c Config) (st *Stack, err error) {
	only, err := parseOnly(c.Only)
	if err != nil {
		return nil, err
	}
	if only, err = relayParties(only, c); err != nil { // relay.go
		return nil, err
	}
	if c.TrustedProxies != nil {
		list, err := contract.NormalizeAllowlist(c.TrustedProxies)
		if err != nil {
			return nil, fmt.Errorf("trusted proxies: %w", err)
		}
		c.TrustedProxies = list
	}
	if c.UserDataKey != "" {
		k, err := userdata.ParseKey(c.UserDataKey)
		if err != nil {
			return nil, fmt.Errorf("user data key: %w", err)
		}
		c.UserDataKey = k.Text()
	}
	var sd *seed.File
	if c.SeedFile != "" {
		if sd, err = seed.Load(c.SeedFile); err != nil {
			return nil, &seed.Error{File: c.SeedFile, Err: err}
		}
	}
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	clk := c.Clock
	if clk == nil {
		clk = clock.New()
	}
	s := &Stack{Clock: clk, log: log, errc: make(chan error, 3), Started: only,
		HostURL: strings.TrimRight(c.HostURL, "/"), MiniappURL: strings.TrimRight(c.MiniappURL, "/"), PlatformURL: strings.TrimRight(c.PlatformURL, "/"),
		AppID: relayAppID(c), grace: c.ShutdownGrace, newConns: map[string]*newConns{},
		lifetimes: fault.Lifetimes{AuthCode: c.Lifetimes.AuthCode, ConnectAccess: c.Lifetimes.ConnectAccess, ConnectRefresh: c.Lifetimes.ConnectRefresh}}
	s.reqs.running = map[*request]struct{}{}
	s.adminToken = c.AdminToken
	s.maxFlows, s.maxAge = c.FlowLogMaxFlows, c.FlowLogMaxAge
	if s.maxFlows <= 0 {
		s.maxFlows = DefaultFlowLogMaxFlows
	}
	if s.maxAge <= 0 {
		s.maxAge = DefaultFlowLogMaxAge
	}
	if s.grace <= 0 {
		s.grace = DefaultShutdownGrace
	}
	bodyTimeout := c.BodyTimeout
	if bodyTimeout <= 0 {
		bodyTimeout = DefaultBodyTimeout
	}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()

	switch {
	case c.Ephemeral:
		dir, err := os.MkdirTemp(ephemeralParent(os.Getenv), "boxo-sim-")
		if err != nil {
			return nil, fmt.Errorf("create temporary data directory: %w", err)
		}
		s.tmpDir, s.DataDir = dir, dir
		s.storeOpts = []store.Option{store.Ephemeral}
	case c.DataDir != "":
		s.DataDir = c.DataDir
	default:
		s.DataDir = ".boxo-sim"
	}
	if err := os.MkdirAll(s.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", s.DataDir, err)
	}
	unlock, err := lockDataDir(s.DataDir)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, unlock)
	secureDataDir(s.DataDir, log)
	if c.Reset {
		if err := RemoveDatabases(s.DataDir); err != nil {
			return nil, err
		}
		log.Info("deleted the databases for a fresh start (--reset)", "dir", s.DataDir)
	}

	addrs := map[string]string{Hostapp: or(c.HostAddr, demo.HostAddr), Platform: or(c.PlatformAddr, demo.PlatformAddr), Miniapp: or(c.MiniappAddr, demo.MiniappAddr)}
	listeners := map[string]net.Listener{}
	for _, p := range only {
		ln, err := net.Listen("tcp", addrs[p])
		if err != nil {
			hint := "check --bind and the port flags"
			for _, q := range only {
				if q != p && addrs[q] == addrs[p] && !strings.HasSuffix(addrs[p], ":0") {
					hint = "two parties cannot share one address: give them different ports"
				}
			}
			if hint == "check --bind and the port flags" && errors.Is(err, syscall.EADDRINUSE) {
				hint = "is another boxo-sim running? stop it, or choose another port with --" + p + "-port"
			}
			return nil, fmt.Errorf("%s: listen on %s: %w (%s)", p, addrs[p], err, hint)
		}
		s.closers = append(s.closers, func() error { ln.Close(); return nil })
		listeners[p] = ln
		u := "http://" + urlHost(ln.Addr())
		switch p {
		case Hostapp:
			s.HostURL = u
		case Platform:
			s.PlatformURL = u
		case Miniapp:
			s.MiniappURL = u
		}
	}

	handlers := map[string]http.Handler{}
	for _, p := range only {
		plog := log.With("party", p)
		var h http.Handler
		switch p {
		case Hostapp:
			h, err = s.startHost(ctx, c, plog)
		case Platform:
			h, err = s.startPlatform(ctx, c, plog)
		case Miniapp:
			h, err = s.startMiniapp(ctx, c, plog)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		guard := admin.NewGuard(c.AdminToken, listeners[p].Addr(), plog)
		handlers[p] = s.serveParty(p, s.withFaults(p, h, plog), guard, bodyTimeout)
	}

	s.base, s.cancelBase = context.WithCancel(context.Background())
	s.servers = map[string]*http.Server{}
	for _, p := range only {
		nc := &newConns{conns: map[net.Conn]struct{}{}}
		s.newConns[p] = nc
		srv := &http.Server{
			Handler:           handlers[p],
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(log.With("party", p).Handler(), slog.LevelDebug),
			BaseContext:       func(net.Listener) context.Context { return s.base },
			ConnState:         nc.track,
		}
		if p == Platform {
			var once sync.Once
			srv.RegisterOnShutdown(func() { once.Do(func() { close(s.platformDone) }) })
		}
		s.servers[p] = srv
		ln := listeners[p]
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.errc <- fmt.Errorf("%s: serve: %w", p, err)
			}
		}()
	}
	stopSweep, sweepDone := make(chan struct{}), make(chan struct{})
	go s.sweepLoop(stopSweep, sweepDone)
	s.stopSweep = func() { close(stopSweep); <-sweepDone }
	wctx, stop := context.WithCancel(context.Background())
	s.stopWatch = stop
	go func() {
		select {
		case <-ctx.Done():
			s.Close()
		case <-wctx.Done():
		}
	}()
	if sd != nil {
		if err := seed.Apply(ctx, s.SeedTarget(), sd); err != nil {
			return nil, &seed.Error{File: c.SeedFile, Err: err}
		}
		log.Info("applied the seed file", "file", c.SeedFile)
	}
	return s, nil
}

// SeedTarget is the stack's parties started here, as seed.Apply and seed.Export reach them.
func (s *Stack) SeedTarget() seed.Stack {
	t := seed.Stack{Client: &http.Client{Timeout: 30 * time.Second, Transport: admin.Transport(nil, s.adminToken)}, MiniappPageURL: SiteApart(s.MiniappURL)}
	for _, p := range s.Started {
		switch p {
		case Hostapp:
			t.HostURL = s.HostURL
		case Platform:
			t.PlatformURL = s.PlatformURL
		case Miniapp:
			t.MiniappURL = s.MiniappURL
		}
	}
	return t
}

func (s *Stack) startHost(ctx context.Context, c Config, log *slog.Logger) (http.Handler, error) {
	db, err := hostsqlite.Open(ctx, filepath.Join(s.DataDir, "hostapp.db"), s.storeOpts...)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, db.Close)
	s.stores.host = db
	if err := hostapp.SeedDemo(ctx, db, s.HostURL); err != nil {
		return nil, fmt.Errorf("seed demo data: %w", err)
	}
	if c.UserDataKey != "" || c.TrustedProxies != nil {
		st, err := db.GetSettings(ctx)
		if err != nil {
			return nil, fmt.Errorf("host settings: %w", err)
		}
		if c.UserDataKey != "" {
			keys := maps.Clone(st.UserDataKeys)
			if keys == nil {
				keys = map[string]string{}
			}
			keys[s.AppID] = c.UserDataKey
			st.UserDataKeys = keys
		}
		if c.TrustedProxies != nil {
			st.TrustedProxies = c.TrustedProxies
		}
		if err := db.PutSettings(ctx, st); err != nil {
			return nil, fmt.Errorf("host settings: %w", err)
		}
	}
	l := c.Lifetimes
	return hostapp.New(hostapp.Config{BaseURL: s.HostURL, Store: db, Logger: log, Now: s.Clock.Now, SigningKey: c.SigningKey, CORS: c.CORS,
		Web:         hostapp.Web{PlatformURL: s.PlatformURL, AdminToken: s.adminToken},
		AuthCodeTTL: l.AuthCode, ConnectAccessTTL: l.ConnectAccess, ConnectRefreshTTL: l.ConnectRefresh, SessionTTL: l.Session,
		IDTokenTTL: l.IDToken, AccessTokenTTL: l.AccessToken, RefreshTokenTTL: l.RefreshToken})
}

func (s *Stack) startPlatform(ctx context.Context, c Config, log *slog.Logger) (http.Handler, error) {
	db, err := platsqlite.Open(ctx, filepath.Join(s.DataDir, "platform.db"), s.storeOpts...)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, db.Close)
	s.stores.platform = db
	miniURL := s.demoMiniappURL(c)
	demoURLs := platform.Demo{HostURL: s.HostURL, MiniappURL: miniURL}
	if slices.Contains(s.Started, Miniapp) {
		demoURLs.MiniappPageURL = SiteApart(miniURL)
	}
	if err := platform.SeedDemo(ctx, db, demoURLs); err != nil {
		return nil, fmt.Errorf("seed demo data: %w", err)
	}
	if err := s.configureRelay(ctx, db, c, log); err != nil {
		return nil, err
	}
	if c.TrustedProxies != nil {
		if err := db.PutSettings(ctx, platform.Settings{TrustedProxies: c.TrustedProxies}); err != nil {
			return nil, fmt.Errorf("platform settings: %w", err)
		}
	}
	s.outbound = c.HTTPClient
	if s.outbound == nil {
		s.outbound = platform.NewHTTPClient()
	}
	s.platformDone = make(chan struct{})
	peers := platform.Peers{
		Hostapp: platform.Peer{URL: s.HostURL, Relayed: s.Relayed(Hostapp)},
		Miniapp: platform.Peer{URL: s.MiniappURL, Relayed: s.Relayed(Miniapp)},
	}
	return platform.New(platform.Config{BaseURL: s.PlatformURL, Store: db, Logger: log, Now: s.Clock.Now, CallTimeout: c.CallTimeout, HTTPClient: s.outbound, CORS: c.CORS,
		Peers: peers, Done: s.platformDone})
}

func (s *Stack) startMiniapp(ctx context.Context, c Config, log *slog.Logger) (http.Handler, error) {
	db, err := minisqlite.Open(ctx, filepath.Join(s.DataDir, "miniapp.db"), s.storeOpts...)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, db.Close)
	s.stores.miniapp = db
	if err := miniapp.SeedDemo(ctx, db, demo.AppID, demo.MiniappSecret); err != nil {
		return nil, fmt.Errorf("seed demo data: %w", err)
	}
	if c.UserDataKey != "" || c.TrustedProxies != nil {
		_, err := db.UpdateSettings(ctx, func(st miniapp.Settings) (miniapp.Settings, error) {
			if c.UserDataKey != "" {
				st.UserDataKey = c.UserDataKey
			}
			if c.TrustedProxies != nil {
				st.TrustedProxies = c.TrustedProxies
			}
			return st, nil
		})
		if err != nil {
			return nil, fmt.Errorf("miniapp settings: %w", err)
		}
	}
	return miniapp.New(miniapp.Config{BaseURL: s.MiniappURL, Store: db, Logger: log, Now: s.Clock.Now, CORS: c.CORS})
}

// SiteApart returns u with the host 127.0.0.1 replaced by localhost, and u itself otherwise.
// Browsers scope cookies by host, not port, so on 127.0.0.1 the host app's session cookie
// and the miniapp's cookies would share one jar; production runs them on different sites.
// The miniapp's page URL (the one the SDK loads) goes on localhost, another site than the host
// app's 127.0.0.1, so the miniapp never sees the host's cookies; the platform's calls to the
// miniapp backend keep 127.0.0.1.
func SiteApart(u string) string {
	rest, ok := strings.CutPrefix(u, "http://127.0.0.1:")
	if !ok {
		return u
	}
	return "http://localhost:" + rest
}

// SDK returns a fake SDK wired to this stack's platform and host app.
func (s *Stack) SDK(log *slog.Logger) (*sdkstub.SDK, error) {
	return sdkstub.New(sdkstub.Config{PlatformURL: s.PlatformURL, HostURL: s.HostURL, Logger: log, AdminToken: s.adminToken})
}

// Err reports the first server failure; it is readable once a party stops serving on its own.
func (s *Stack) Err() <-chan error { return s.errc }

// Close shuts the parties down. It drops the platform's idle outbound connections and the
// connections that have sent nothing yet, then waits for requests in flight — the platform
// first, whose flows still need the host app and the miniapp — up to the grace period
// (Config.ShutdownGrace). Requests still running then are ended: their handlers see their
// context cancelled, and one that returns without answering gets its endpoint's error form
// with 503 (writeUnavailable). Close closes the databases only after every handler has
// returned, and removes an ephemeral data directory. It is safe to call twice.
func (s *Stack) Close() error {
	s.closeOnce.Do(func() {
		if s.stopWatch != nil {
			s.stopWatch()
		}
		var errs []error
		if s.outbound != nil {
			s.outbound.CloseIdleConnections()
		}
		cut := time.AfterFunc(s.grace, s.cutOff)
		ctx, cancel := context.WithTimeout(context.Background(), s.grace+cutOffWait)
		defer cancel()
		for _, p := range []string{Platform, Hostapp, Miniapp} {
			srv, ok := s.servers[p]
			if !ok {
				continue
			}
			if s.outbound != nil {
				s.outbound.CloseIdleConnections() // opened by flows that finished meanwhile
			}
			done := make(chan error, 1)
			go func() { done <- srv.Shutdown(ctx) }()
			s.newConns[p].drain() // after Shutdown has closed the listener
			if err := <-done; err != nil {
				srv.Close()
				errs = append(errs, fmt.Errorf("%s: shutdown: %w", p, err))
			}
		}
		cut.Stop()
		if s.cancelBase != nil {
			s.cancelBase()
		}
		if s.stopSweep != nil {
			s.stopSweep()
		}
		if !s.reqs.wait(cutOffWait) {
			running := s.reqs.Running()
			s.log.Error("requests still running after shutdown; closing the databases under them", "requests", strings.Join(running, "; "))
			errs = append(errs, fmt.Errorf("%d requests still running at exit: %s", len(running), strings.Join(running, "; ")))
		}
		for i := len(s.closers) - 1; i >= 0; i-- {
			if err := s.closers[i](); err != nil {
				errs = append(errs, err)
			}
		}
		if s.tmpDir != "" {
			if err := os.RemoveAll(s.tmpDir); err != nil {
				errs = append(errs, err)
			}
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// cutOff ends the requests still running at the grace deadline: their contexts are
// cancelled, and those that return unanswered get a 503 in their endpoint's form.
func (s *Stack) cutOff() {
	if running := s.reqs.Running(); len(running) > 0 {
		s.log.Warn("grace period over: ending the requests still running", "grace", s.grace, "requests", strings.Join(running, "; "))
	}
	s.reqs.cutting.Store(true)
	if s.cancelBase != nil {
		s.cancelBase()
	}
}

// Abort stops serving at once, for a second Ctrl-C or SIGTERM during Close: every request
// still running is ended and its connection dropped. It returns what it cut off. Close
// (running or still to run) then finishes quickly; it still closes the databases only after
// the handlers have returned.
func (s *Stack) Abort() []string {
	running := s.reqs.Running()
	s.reqs.cutting.Store(true)
	if s.cancelBase != nil {
		s.cancelBase()
	}
	for _, srv := range s.servers {
		srv.Close()
	}
	return running
}

func parseOnly(only []string) ([]string, error) {
	if len(only) == 0 {
		return slices.Clone(Parties), nil
	}
	var out []string
	for _, o := range only {
		for _, p := range strings.Split(o, ",") {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			if !slices.Contains(Parties, p) {
				return nil, fmt.Errorf("unknown party %q: choose from %s", p, strings.Join(Parties, ", "))
			}
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no party to start: choose from %s", strings.Join(Parties, ", "))
	}
	// Start order is fixed, whatever order they were named in.
	slices.SortFunc(out, func(a, b string) int { return slices.Index(Parties, a) - slices.Index(Parties, b) })
	return out, nil
}

// urlHost is a listener's address as the parties' URLs name it: a party bound to every
// interface (0.0.0.0, ::) is named by 127.0.0.1, which reaches it from this machine, so the
// demo redirect URIs and the issuer work locally out of the box.
func urlHost(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok && ta.IP.IsUnspecified() {
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(ta.Port))
	}
	return a.String()
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
