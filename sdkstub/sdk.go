// Package sdkstub is the fake Boxo native SDK together with the miniapp frontend's part of
// Connect: it runs steps 1–5 and 12–16 of PROTOCOL §3 over real HTTP, with the JS bridge of
// §4 as an in-process JSON channel, and keeps the miniapp tokens per user and miniapp. It
// talks to the parties only over HTTP.
//
// One file per duty: sdk.go configures the SDK; flow.go runs Connect step by step; login.go
// answers the miniapp over the bridge (consent, auth callback, platform call); bridge.go is the
// bridge channel itself; tokens.go is the token store (refresh, forget, logout) and store.go
// keeps it on disk; http.go holds
// the HTTP calls to the platform and the miniapp; host.go plays the host app's auth callback;
// result.go is what a run reports and how it prints.
package sdkstub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/admin"
	"github.com/boxo-sim/boxo-sim/internal/demo"
)

// Config configures the SDK as the host app would (PROTOCOL §4.6 "configure").
type Config struct {
	PlatformURL string // the platform's base URL, e.g. http://127.0.0.1:8082
	HostURL     string // the host app's base URL (its authorization server), for the fake host app
	ClientID    string // the host app's id at the platform; "" means demo.ClientID
	// HostappClientID is the Boxo-facing OAuth client the fake host app asks for codes with
	// (PROTOCOL §6.10); "" means demo.HostappClientID.
	HostappClientID string
	// RedirectURI is that client's registered redirect URI; "" means HostURL + /boxo/callback.
	RedirectURI string
	// HTTPClient makes every call; nil means a client with keep-alive connections. The SDK
	// never follows redirects, so every hop is visible.
	HTTPClient *http.Client
	Logger     *slog.Logger
	// CallbackTimeout bounds the host app's auth callback; 0 means 30 s (PROTOCOL §9.36).
	CallbackTimeout time.Duration
	// AdminToken is sent to the platform's flow log (/_sim/flows), which callers beyond
	// loopback reach only with the stack's admin token (PROTOCOL §2.13); "" sends none.
	AdminToken string
	// TokenFile keeps the token store on disk (TokenFileName in a data directory): read at New,
	// rewritten on every change, readable by the owner only. "" keeps the tokens in memory.
	TokenFile string
	// SkipGrantedConsent is the prompt-skip switch (PROTOCOL §7.4), off by default: when on
	// and a flow has a user_reference, the SDK asks the platform's get_consent at step 4 and
	// skips the prompt when the user allowed the miniapp before.
	SkipGrantedConsent bool
}

// CloseIdleConnections closes the SDK's idle keep-alive connections, so servers shutting down
// need not wait for them.
func (s *SDK) CloseIdleConnections() { s.client.CloseIdleConnections() }

// SDK is the fake native SDK. It is safe for concurrent use; each Connect runs its own
// miniapp frontend and bridge.
type SDK struct {
	cfg    Config
	client *http.Client
	log    *slog.Logger
	host   *hostApp

	mu     sync.Mutex
	tokens map[tokenKey]session // PROTOCOL §7.1 "SDK side", §9.35
}

// New validates cfg and returns an SDK.
func New(cfg Config) (*SDK, error) {
	if cfg.PlatformURL == "" {
		return nil, errors.New("sdkstub: PlatformURL is required")
	}
	for name, u := range map[string]string{"PlatformURL": cfg.PlatformURL, "HostURL": cfg.HostURL} {
		if u == "" {
			continue
		}
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return nil, fmt.Errorf("sdkstub: %s %q is not an http(s) URL", name, u)
		}
	}
	cfg.PlatformURL = strings.TrimRight(cfg.PlatformURL, "/")
	cfg.HostURL = strings.TrimRight(cfg.HostURL, "/")
	if cfg.ClientID == "" {
		cfg.ClientID = demo.ClientID
	}
	if cfg.HostappClientID == "" {
		cfg.HostappClientID = demo.HostappClientID
	}
	if cfg.RedirectURI == "" && cfg.HostURL != "" {
		cfg.RedirectURI = cfg.HostURL + demo.BoxoCallbackPath
	}
	if cfg.CallbackTimeout == 0 {
		cfg.CallbackTimeout = 30 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base := cfg.HTTPClient
	if base == nil {
		base = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     90 * time.Second,
		}}
	}
	client := *base
	client.Jar = nil
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	transport := client.Transport
	if transport == nil {
		transport = http.DefaultTransport
	}
	client.Transport = admin.Transport(transport, cfg.AdminToken)
	s := &SDK{
		cfg: cfg, client: &client, log: log,
		host: &hostApp{
			baseURL: cfg.HostURL, clientID: cfg.HostappClientID, redirectURI: cfg.RedirectURI,
			transport: transport, users: map[string]*http.Client{},
		},
		tokens: map[tokenKey]session{},
	}
	if cfg.TokenFile != "" {
		if err := s.load(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Options say whose flow to run and how the user answers.
type Options struct {
	User     string // the host user's username; "" means demo.DefaultUser
	Password string // "" means the demo user's password
	AppID    string // the miniapp; "" means demo.AppID
	// Deny makes the user decline the consent prompt (step 4).
	Deny bool
	// UserReference is the host user id the SDK was configured with (PROTOCOL §3.6: sent as
	// user_reference when set).
	UserReference string
	// ConfirmText is the miniapp's consent text (PROTOCOL §3.4); "" means the JS SDK default.
	ConfirmText string
	// AuthCode replaces the fake host app's answer to the auth callback.
	AuthCode AuthCodeFunc
	// FlowID is the correlation id to use; "" means a fresh one.
	FlowID string
	// MeURL is where the miniapp frontend reads its user at steps 14–15 (PROTOCOL §3.15);
	// "" means /api/me at the miniapp URL's origin.
	MeURL string
	// SkipMe leaves out steps 14–15, for a real miniapp whose own frontend API is unknown.
	SkipMe bool
	// Payload, Data and SandboxMode are what the host app opens the miniapp with, handed to it
	// by GetInitData (PROTOCOL §3.2): the legacy auth payload (§7.10), free data (a JSON object;
	// empty means null) and the sandbox flag.
	Payload     string
	Data        json.RawMessage
	SandboxMode bool
	// LegacyLogin runs the legacy payload login (PROTOCOL §4.3 b, §7.10) in place of Connect:
	// the host app opens the miniapp with an auth payload (Payload, else a code the host app
	// mints), the SDK confirms with the user, and the miniapp frontend posts the payload to the
	// platform's /api/v1/partner/login/ and hands the SDK the token to save. The platform's
	// switch for it is the host app's legacy_login_enabled.
	LegacyLogin bool
	// TrySavedToken makes the miniapp try the token saved for the user and miniapp (handed to
	// it by GetInitData) at its backend first, and log in only when the backend refuses it
	// (PROTOCOL §3.3). Off, every Connect logs in anew, as benchmarks and scenarios expect.
	TrySavedToken bool
	// NoTrace skips reading the platform's steps 6–12 back from its flow log and posting the
	// SDK's own steps to it: for benchmarks.
	NoTrace bool
}

// HostAuthCode returns the fake host app's answer to the auth callback for a user: sign in
// when needed, then an authorization-code request with the Boxo-facing client. Tests wrap it
// to tamper with the code on its way to the platform.
func (s *SDK) HostAuthCode(user, password string) AuthCodeFunc {
	if password == "" {
		if u, ok := demo.FindUser(user); ok {
			password = u.Password
		}
	}
	return func(ctx context.Context) (string, error) { return s.host.authCode(ctx, user, password) }
}
