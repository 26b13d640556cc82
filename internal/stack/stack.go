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
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/boxo-sim/boxo-sim/hostapp"
	hostsqlite "github.com/boxo-sim/boxo-sim/hostapp/sqlite"
	"github.com/boxo-sim/boxo-sim/internal/clock"
	"github.com/boxo-sim/boxo-sim/internal/cors"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/fault"
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
	// Ephemeral keeps the databases in a temporary directory removed by Close.
	Ephemeral bool
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
	// SigningKey is the host's RSA key; nil means the one stored in hostapp.db (made on first
	// start). Tests pass one key per test binary: RSA generation is slow.
	SigningKey *rsa.PrivateKey
	// HTTPClient is the platform's client for its outbound calls; nil means its own.
	HTTPClient *http.Client
	// CORS is the cors_origins setting shared by every party's browser-facing endpoints
	// (PROTOCOL §2.12); nil allows any origin.
	CORS *cors.Policy
}

// Relay is what the platform's Dashboard must know of a real backend (PROTOCOL §1.2, §7.7).
type Relay struct {
	HostappClientID, HostappSecret, TokenPrefix string // towards a real host backend
	MiniappAppID, MiniappSecret                 string // towards a real miniapp backend
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
	errc       chan error
	closeOnce  sync.Once
	closeErr   error
	stopWatch  context.CancelFunc
	faults     map[string]*fault.Table // per started party; see faults.go
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
		AppID: relayAppID(c)}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()

	switch {
	case c.Ephemeral:
		dir, err := os.MkdirTemp("", "boxo-sim-")
		if err != nil {
			return nil, fmt.Errorf("create temporary data directory: %w", err)
		}
		s.tmpDir, s.DataDir = dir, dir
	case c.DataDir != "":
		s.DataDir = c.DataDir
	default:
		s.DataDir = ".boxo-sim"
	}
	if err := os.MkdirAll(s.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", s.DataDir, err)
	}
	unlock, err := lockDataDir(s.DataDir)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, unlock)

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
		u := "http://" + ln.Addr().String()
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
		handlers[p] = s.withFaults(p, h, plog)
	}

	s.base, s.cancelBase = context.WithCancel(context.Background())
	s.servers = map[string]*http.Server{}
	for _, p := range only {
		srv := &http.Server{
			Handler:           handlers[p],
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(log.With("party", p).Handler(), slog.LevelDebug),
			BaseContext:       func(net.Listener) context.Context { return s.base },
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
	wctx, stop := context.WithCancel(context.Background())
	s.stopWatch = stop
	go func() {
		select {
		case <-ctx.Done():
			s.Close()
		case <-wctx.Done():
		}
	}()
	return s, nil
}

func (s *Stack) startHost(ctx context.Context, c Config, log *slog.Logger) (http.Handler, error) {
	db, err := hostsqlite.Open(ctx, filepath.Join(s.DataDir, "hostapp.db"))
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, db.Close)
	if err := hostapp.SeedDemo(ctx, db, s.HostURL); err != nil {
		return nil, fmt.Errorf("seed demo data: %w", err)
	}
	return hostapp.New(hostapp.Config{BaseURL: s.HostURL, Store: db, Logger: log, Now: s.Clock.Now, SigningKey: c.SigningKey, CORS: c.CORS})
}

func (s *Stack) startPlatform(ctx context.Context, c Config, log *slog.Logger) (http.Handler, error) {
	db, err := platsqlite.Open(ctx, filepath.Join(s.DataDir, "platform.db"))
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, db.Close)
	if err := platform.SeedDemo(ctx, db, platform.Demo{HostURL: s.HostURL, MiniappURL: s.demoMiniappURL(c)}); err != nil {
		return nil, fmt.Errorf("seed demo data: %w", err)
	}
	if err := s.configureRelay(ctx, db, c, log); err != nil {
		return nil, err
	}
	s.platformDone = make(chan struct{})
	peers := platform.Peers{
		Hostapp: platform.Peer{URL: s.HostURL, Relayed: s.Relayed(Hostapp)},
		Miniapp: platform.Peer{URL: s.MiniappURL, Relayed: s.Relayed(Miniapp)},
	}
	return platform.New(platform.Config{BaseURL: s.PlatformURL, Store: db, Logger: log, Now: s.Clock.Now, CallTimeout: c.CallTimeout, HTTPClient: c.HTTPClient, CORS: c.CORS,
		Peers: peers, Done: s.platformDone})
}

func (s *Stack) startMiniapp(ctx context.Context, c Config, log *slog.Logger) (http.Handler, error) {
	db, err := minisqlite.Open(ctx, filepath.Join(s.DataDir, "miniapp.db"))
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, db.Close)
	if err := miniapp.SeedDemo(ctx, db, demo.AppID, demo.MiniappSecret); err != nil {
		return nil, fmt.Errorf("seed demo data: %w", err)
	}
	return miniapp.New(miniapp.Config{BaseURL: s.MiniappURL, Store: db, Logger: log, Now: s.Clock.Now, CORS: c.CORS})
}

// SDK returns a fake SDK wired to this stack's platform and host app.
func (s *Stack) SDK(log *slog.Logger) (*sdkstub.SDK, error) {
	return sdkstub.New(sdkstub.Config{PlatformURL: s.PlatformURL, HostURL: s.HostURL, Logger: log})
}

// Err reports the first server failure; it is readable once a party stops serving on its own.
func (s *Stack) Err() <-chan error { return s.errc }

// Close shuts the parties down, waiting up to five seconds for requests in flight: first
// the platform, whose flows still need the host app and the miniapp, then those two. What is
// still running after that is cut off. Then it closes the databases and removes an ephemeral
// data directory. It is safe to call twice.
func (s *Stack) Close() error {
	s.closeOnce.Do(func() {
		if s.stopWatch != nil {
			s.stopWatch()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var errs []error
		for _, p := range []string{Platform, Hostapp, Miniapp} {
			srv, ok := s.servers[p]
			if !ok {
				continue
			}
			if err := srv.Shutdown(ctx); err != nil {
				// Out of time: end the requests still waiting and drop their connections, so
				// nothing runs on the databases closed below.
				s.cancelBase()
				srv.Close()
				errs = append(errs, fmt.Errorf("%s: shutdown: %w", p, err))
			}
		}
		if s.cancelBase != nil {
			s.cancelBase()
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

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
