// Package sdkstub is the fake Boxo native SDK together with the miniapp frontend's part of
// Connect: it runs steps 1–5 and 12–16 of PROTOCOL §3 over real HTTP, with the JS bridge of
// §4 as an in-process JSON channel, and keeps the miniapp tokens per user and miniapp. It
// talks to the parties only over HTTP.
package sdkstub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/admin"
	"github.com/boxo-sim/boxo-sim/internal/contract"
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

type tokenKey struct{ user, appID string }

// session is a miniapp token pair the SDK keeps, with the miniapp backend it belongs to.
type session struct {
	LoginPayload
	base string
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
	return &SDK{
		cfg: cfg, client: &client, log: log,
		host: &hostApp{
			baseURL: cfg.HostURL, clientID: cfg.HostappClientID, redirectURI: cfg.RedirectURI,
			transport: transport, users: map[string]*http.Client{},
		},
		tokens: map[tokenKey]session{},
	}, nil
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
	// NoTrace skips reading the platform's steps 6–12 back from its flow log and posting the
	// SDK's own steps to it: for benchmarks.
	NoTrace bool
}

// Step is one of the 16 steps as the SDK saw it or read it from the platform's flow log.
type Step struct {
	Number     int           `json:"step"`
	Actor      string        `json:"actor"`
	Call       string        `json:"call"`
	Status     int           `json:"status,omitempty"`
	Duration   time.Duration `json:"-"`
	DurationMS float64       `json:"duration_ms"`
	OK         bool          `json:"ok"`
	ErrorCode  string        `json:"error_code,omitempty"`
	Note       string        `json:"note,omitempty"`
}

// Result is the outcome of one Connect flow.
type Result struct {
	FlowID string `json:"flow_id"`
	User   string `json:"user"` // the host user signed in; "" when the auth code came from Options.AuthCode
	// Reference is the host's user reference the miniapp got at step 10 (contract §3.11),
	// read from the platform's flow log; "" when the flow did not get that far.
	Reference string `json:"reference,omitempty"`
	AppID     string `json:"app_id"`
	OK        bool   `json:"ok"` // step 16 reached
	Steps     []Step `json:"steps"`
	// Token and RefreshToken are the miniapp's tokens from step 13; never printed in full.
	Token        string        `json:"-"`
	RefreshToken string        `json:"-"`
	Me           *contract.Me  `json:"me,omitempty"`
	Err          *Error        `json:"error,omitempty"`
	Duration     time.Duration `json:"-"`
	DurationMS   float64       `json:"duration_ms"`
}

// Error is a flow that stopped: at which step, reported by which party, with which code.
type Error struct {
	Step    int    `json:"step"`
	Party   string `json:"party"`
	Status  int    `json:"status,omitempty"`
	Code    string `json:"error_code"`
	Message string `json:"message,omitempty"`
}

func (e *Error) Error() string {
	s := fmt.Sprintf("step %d: %s reported %s", e.Step, e.Party, e.Code)
	if e.Message != "" && e.Message != e.Code {
		s += ": " + e.Message
	}
	return s
}

// Bridge-level codes the SDK itself reports (PROTOCOL §4.4).
const (
	CodeUserDenied          = contract.BridgeUserDenied
	CodeNoAuthCode          = contract.BridgeNoAuthCode
	CodePlatformUnavailable = contract.BridgePlatformUnavailable
	CodeNoAuthToken         = contract.BridgeNoAuthToken
	CodeMeFailed            = contract.BridgeMeFailed
)

// Actors as printed per step.
const (
	actorHost     = "host app → sdk → platform"
	actorMiniapp  = "miniapp"
	actorBridge   = "miniapp → sdk"
	actorConsent  = "sdk → user"
	actorAuth     = "sdk → host app → platform"
	actorHandBack = "sdk → miniapp"
	actorMe       = "miniapp frontend → miniapp backend"
	actorMeBack   = "miniapp backend → miniapp frontend"
	actorUser     = "user"
)

// Connect runs the 16 steps for one user and miniapp. It returns the Result (with every step
// reached) and, when the flow did not reach step 16, an *Error saying where it stopped; other
// errors mean the flow could not be run at all (bad options, cancelled context).
func (s *SDK) Connect(ctx context.Context, o Options) (*Result, error) {
	if o.User == "" {
		o.User = demo.DefaultUser
	}
	if o.Password == "" {
		if u, ok := demo.FindUser(o.User); ok {
			o.Password = u.Password
		}
	}
	if o.AppID == "" {
		o.AppID = demo.AppID
	}
	if o.FlowID == "" {
		o.FlowID = contract.NewFlowID()
	}
	if !contract.ValidFlowID(o.FlowID) {
		return nil, fmt.Errorf("sdkstub: flow id %q: use 1–64 characters of letters, digits and _.:~@+=-", o.FlowID)
	}
	user := o.User
	if o.AuthCode == nil {
		if s.cfg.HostURL == "" {
			return nil, errors.New("sdkstub: no HostURL configured and no AuthCode given: nothing can mint an auth code")
		}
		o.AuthCode = s.HostAuthCode(o.User, o.Password)
	} else {
		user = "" // the code's user is whoever the code source signed in; Reference says who
	}
	f := &flow{sdk: s, o: o, res: &Result{FlowID: o.FlowID, User: user, AppID: o.AppID}, started: time.Now()}
	err := f.run(ctx)
	f.res.Duration = time.Since(f.started)
	f.res.DurationMS = ms(f.res.Duration)
	if !o.NoTrace {
		f.trace(ctx)
	}
	if err != nil {
		var fe *Error
		if errors.As(err, &fe) {
			f.res.Err = fe
			return f.res, fe
		}
		return f.res, err
	}
	f.res.OK = true
	return f.res, nil
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

// Tokens returns the miniapp token pair the SDK holds for a user and miniapp.
func (s *SDK) Tokens(user, appID string) (LoginPayload, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.tokens[tokenKey{user, appID}]
	return p.LoginPayload, ok
}

func (s *SDK) storeTokens(user, appID string, p session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[tokenKey{user, appID}] = p
}

// flow is one run of Connect.
type flow struct {
	sdk      *SDK
	o        Options
	res      *Result
	started  time.Time
	settings contract.MiniappSettings
	sdkSteps []contract.FlowStep // what the SDK performed, posted to the platform's flow log
}

func (f *flow) step(n int, actor, call string, status int, began time.Time, code, note string) {
	d := time.Since(began)
	st := Step{Number: n, Actor: actor, Call: call, Status: status, Duration: d, DurationMS: ms(d), OK: code == "", ErrorCode: code, Note: note}
	f.res.Steps = append(f.res.Steps, st)
	outcome := contract.OutcomeOK
	if code != "" {
		outcome = contract.OutcomeFailed
	}
	f.sdkSteps = append(f.sdkSteps, contract.FlowStep{
		Step: n, Actor: actor, Call: call, Status: status, StartedAt: began.UTC(), DurationMS: st.DurationMS,
		Outcome: outcome, ErrorCode: code, Note: note,
	})
}

func (f *flow) fail(step int, party string, status int, code, msg string) *Error {
	return &Error{Step: step, Party: party, Status: status, Code: code, Message: msg}
}

func (f *flow) run(ctx context.Context) error {
	s := f.sdk
	b := newBridge()
	bctx, stop := context.WithCancel(ctx)
	// The SDK's side of the bridge writes to the flow's steps; it must be done before run
	// returns, or a cancelled flow would still be writing while Connect reads them.
	var served sync.WaitGroup
	defer func() { stop(); served.Wait() }()
	var initData InitData
	served.Add(1)
	go func() {
		defer served.Done()
		b.serve(bctx, func(ctx context.Context, handler string, params json.RawMessage) (any, error) {
			return f.handleBridge(ctx, handler, params, &initData)
		})
	}()

	// Step 1: the host app opens the miniapp; the SDK reads its settings; the miniapp loads
	// and asks for its init data.
	t := time.Now()
	status, err := f.getSettings(ctx)
	call := "GET /api/v1/miniapps/" + f.o.AppID + "/settings/"
	if err != nil {
		var fe *Error
		if errors.As(err, &fe) {
			f.step(1, actorHost, call, status, t, fe.Code, fe.Message)
		}
		return err
	}
	initData = InitData{AppID: f.o.AppID, ClientID: s.cfg.ClientID, Payload: "", Data: json.RawMessage("null")}
	if p, ok := s.Tokens(f.o.User, f.o.AppID); ok {
		initData.Token, initData.RefreshToken = p.Token, p.RefreshToken
	}
	if err := b.notify(ctx, HandlerInit); err != nil {
		return err
	}
	if _, err := b.call(ctx, HandlerGetInitData, nil); err != nil {
		f.step(1, actorHost, call, status, t, contract.CodeUnknownError, "GetInitData: "+err.Error())
		return f.fail(1, contract.PartySDK, 0, contract.CodeUnknownError, err.Error())
	}
	f.step(1, actorHost, call, status, t, "", "miniapp URL "+f.settings.Miniapp.URL)

	// Step 2: the miniapp decides it needs the user.
	t = time.Now()
	f.step(2, actorMiniapp, "needs the user's identity", 0, t, "", "")

	// Steps 3–13 happen inside the login call: the SDK's bridge handler runs consent (4), the
	// auth callback and the platform call (5–12) and answers with the tokens (13).
	t = time.Now()
	text := f.o.ConfirmText
	if text == "" {
		text = "This service is requesting access to your account details"
	}
	f.step(3, actorBridge, HandlerLogin, 0, t, "", "")
	data, err := b.call(ctx, HandlerLogin, map[string]any{"confirmModalText": text})
	t13 := time.Now()
	if err != nil {
		var be *BridgeError
		if errors.As(err, &be) && f.res.Err != nil {
			return f.res.Err // the handler recorded where it stopped
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			stop()
			served.Wait() // the handler may still be writing the flow's steps
			return ctxErr
		}
		return f.fail(13, contract.PartySDK, 0, contract.CodeUnknownError, err.Error())
	}
	var answer struct {
		Payload LoginPayload `json:"payload"`
	}
	if err := json.Unmarshal(data, &answer); err != nil || answer.Payload.Token == "" {
		// The JS SDK rejects with "No auth token received" (PROTOCOL §4.3 a.3).
		f.step(13, actorHandBack, HandlerLogin+" answer", 0, t13, CodeNoAuthToken, "No auth token received")
		return f.fail(13, contract.PartySDK, 0, CodeNoAuthToken, "No auth token received")
	}
	f.res.Token, f.res.RefreshToken = answer.Payload.Token, answer.Payload.RefreshToken
	f.step(13, actorHandBack, HandlerLogin+" answer {payload: {token, refresh_token}}", 0, t13, "", "")

	// Steps 14–15: the miniapp frontend reads the user from its backend.
	t = time.Now()
	if f.o.SkipMe {
		note := "not run: the miniapp's own frontend API is not known here"
		f.step(14, actorMe, "(miniapp's own API)", 0, t, "", note)
		f.step(15, actorMeBack, "(miniapp's own API)", 0, t, "", note)
	} else {
		meURL := f.o.MeURL
		if meURL == "" {
			meURL = f.miniappBase() + "/api/me"
		}
		call := "GET " + pathOf(meURL) + " (Bearer auth_token)"
		me, status, err := f.sdk.me(ctx, meURL, answer.Payload.Token, f.o.FlowID)
		if err != nil {
			f.step(14, actorMe, call, 0, t, CodeMeFailed, err.Error())
			return f.fail(14, contract.PartyMiniapp, status, CodeMeFailed, err.Error())
		}
		f.step(14, actorMe, call, 0, t, "", "")
		if status != http.StatusOK {
			msg := fmt.Sprintf("%s answered %d %s", pathOf(meURL), status, http.StatusText(status))
			f.step(15, actorMeBack, "user JSON", status, t, CodeMeFailed, msg)
			return f.fail(15, contract.PartyMiniapp, status, CodeMeFailed, msg)
		}
		f.res.Me = me
		f.step(15, actorMeBack, "user JSON", status, t, "", fmt.Sprintf("id %s, created %s", me.ID, me.CreatedText()))
	}

	// Step 16: the user continues, signed in.
	f.step(16, actorUser, "continues signed in", 0, time.Now(), "", "")
	return nil
}

// handleBridge is the SDK's side of the bridge for one miniapp session.
func (f *flow) handleBridge(ctx context.Context, handler string, _ json.RawMessage, init *InitData) (any, error) {
	switch handler {
	case HandlerInit:
		return noAnswer{}, nil
	case HandlerGetInitData:
		return init, nil
	case HandlerLogin:
		p, err := f.login(ctx)
		if err != nil {
			return nil, err
		}
		f.sdk.storeTokens(f.o.User, f.o.AppID, session{LoginPayload: p, base: f.miniappBase()})
		return map[string]any{"payload": p}, nil
	case HandlerLogout:
		return map[string]bool{"result": true}, nil
	}
	return nil, clientError(404, "UNSUPPORTED_EVENT", handler)
}

// login runs steps 4–12 for the bridge's AppBoxoWebAppLogin request.
func (f *flow) login(ctx context.Context) (LoginPayload, error) {
	// Step 4: consent, listing the miniapp's required fields or the default four (PROTOCOL §3.5).
	t := time.Now()
	fields := f.settings.RequiredFields
	if len(fields) == 0 {
		fields = []string{"email", "phone", "first_name", "last_name"}
	}
	if f.o.Deny {
		f.step(4, actorConsent, "consent prompt ("+strings.Join(fields, ", ")+")", 0, t, CodeUserDenied, "user declined")
		f.res.Err = f.fail(4, contract.PartySDK, 0, CodeUserDenied, "the user declined the consent prompt")
		return LoginPayload{}, authError(403, CodeUserDenied)
	}
	f.step(4, actorConsent, "consent prompt ("+strings.Join(fields, ", ")+")", 0, t, "", "allowed")

	// Step 5: the auth callback to the host app, then the platform call.
	t = time.Now()
	cbctx, cancel := context.WithTimeout(ctx, f.sdk.cfg.CallbackTimeout)
	code, err := f.o.AuthCode(cbctx)
	cancel()
	if err != nil || code == "" {
		msg := "the host app gave no auth code"
		if err != nil {
			msg = err.Error()
		}
		f.step(5, actorAuth, "onAuth → setAuthCode", 0, t, CodeNoAuthCode, msg)
		f.res.Err = f.fail(5, contract.PartyHostapp, 0, CodeNoAuthCode, msg)
		return LoginPayload{}, authError(401, CodeNoAuthCode)
	}
	tok, status, env, err := f.authorize(ctx, code)
	call := "onAuth → setAuthCode; POST /api/v1/authorize/"
	switch {
	case err != nil:
		f.step(5, actorAuth, call, status, t, CodePlatformUnavailable, err.Error())
		f.res.Err = f.fail(12, contract.PartyPlatform, status, CodePlatformUnavailable, err.Error())
		return LoginPayload{}, clientError(500, CodePlatformUnavailable, err.Error())
	case env != nil:
		f.step(5, actorAuth, call, 0, t, "", "")
		step, party := env.Step(), env.Source()
		if step == 0 {
			step = 12
		}
		if party == "" {
			party = contract.PartyPlatform
		}
		f.res.Err = f.fail(step, party, status, env.ErrorCode, env.Explained())
		return LoginPayload{}, authError(401, env.ErrorCode, env.ErrorMessage)
	}
	f.step(5, actorAuth, call, 0, t, "", "")
	return LoginPayload{Token: tok.Token, RefreshToken: tok.RefreshToken}, nil
}

func (f *flow) getSettings(ctx context.Context) (int, error) {
	q := url.Values{"client_id": {f.sdk.cfg.ClientID}}
	u := f.sdk.cfg.PlatformURL + "/api/v1/miniapps/" + url.PathEscape(f.o.AppID) + "/settings/?" + q.Encode()
	var env contract.ErrorEnvelope
	status, err := f.sdk.doJSON(ctx, http.MethodGet, u, nil, f.o.FlowID, nil, &f.settings, &env)
	if err != nil {
		return status, f.fail(1, contract.PartyPlatform, status, CodePlatformUnavailable, err.Error())
	}
	if status != http.StatusOK && env.ErrorCode == "" {
		return status, f.fail(1, contract.PartyPlatform, status, CodePlatformUnavailable, fmt.Sprintf(
			"%s answered %d without the platform's error envelope: is %s a Boxo platform?", pathOf(u), status, f.sdk.cfg.PlatformURL))
	}
	if status != http.StatusOK {
		return status, f.fail(1, contract.PartyPlatform, status, env.ErrorCode, env.Explained())
	}
	if f.settings.Miniapp.URL == "" {
		return status, f.fail(1, contract.PartyPlatform, status, CodePlatformUnavailable, "settings carry no miniapp URL")
	}
	return status, nil
}

// authorize is the SDK's POST /api/v1/authorize/ (PROTOCOL §3.6 item 4); the answer is step 12.
// The SDK accepts the token under "auth_token" or "token" (§3.13).
func (f *flow) authorize(ctx context.Context, code string) (contract.AuthorizeResponse, int, *contract.ErrorEnvelope, error) {
	body := contract.AuthorizeRequest{AuthCode: code, ClientID: f.sdk.cfg.ClientID, AppID: f.o.AppID, UserReference: f.o.UserReference}
	var ok struct {
		contract.AuthorizeResponse
		AuthToken string `json:"auth_token"`
	}
	var env contract.ErrorEnvelope
	status, err := f.sdk.doJSON(ctx, http.MethodPost, f.sdk.cfg.PlatformURL+"/api/v1/authorize/", nil, f.o.FlowID, body, &ok, &env)
	if err != nil {
		return contract.AuthorizeResponse{}, status, nil, err
	}
	if status != http.StatusOK {
		if env.ErrorCode == "" {
			return contract.AuthorizeResponse{}, status, nil, fmt.Errorf("platform answered %d without an error envelope", status)
		}
		return contract.AuthorizeResponse{}, status, &env, nil
	}
	if ok.AuthToken != "" {
		ok.Token = ok.AuthToken
	}
	return ok.AuthorizeResponse, status, nil, nil
}

// miniappBase is the origin of the miniapp URL: the frontend's own backend.
func (f *flow) miniappBase() string {
	u, err := url.Parse(f.settings.Miniapp.URL)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// trace completes the result with the platform's steps 6–12 from its flow log and posts the
// SDK's own steps there, so the log holds all 16 (DESIGN.md "Flow log").
func (f *flow) trace(ctx context.Context) {
	s := f.sdk
	body := map[string]any{"client_id": s.cfg.ClientID, "app_id": f.o.AppID, "steps": f.sdkSteps}
	if f.o.UserReference != "" {
		body["user_reference"] = f.o.UserReference
	}
	if _, err := s.doJSON(ctx, http.MethodPost, s.cfg.PlatformURL+"/_sim/flows/"+url.PathEscape(f.o.FlowID)+"/steps", nil, "", body, nil, nil); err != nil {
		s.log.DebugContext(ctx, "posting SDK steps to the flow log failed", "flow_id", f.o.FlowID, "err", err)
	}
	var fl contract.Flow
	status, err := s.doJSON(ctx, http.MethodGet, s.cfg.PlatformURL+"/_sim/flows/"+url.PathEscape(f.o.FlowID), nil, "", nil, &fl, nil)
	if err != nil || status != http.StatusOK {
		return
	}
	for _, st := range fl.Steps {
		if st.Step < 6 || st.Step > 12 {
			continue
		}
		if st.Step == 10 && st.Request != nil {
			f.res.Reference = referenceOf(st.Request.Body)
		}
		f.res.Steps = append(f.res.Steps, Step{
			Number: st.Step, Actor: st.Actor, Call: st.Call, Status: st.Status,
			Duration: time.Duration(st.DurationMS * float64(time.Millisecond)), DurationMS: st.DurationMS,
			OK: st.Outcome == contract.OutcomeOK, ErrorCode: st.ErrorCode, Note: st.Note,
		})
	}
	sortSteps(f.res.Steps)
}

// referenceOf is user_data.reference of a step-10 body (contract §3.11), "" when it has none
// (encrypted user data, §7.2).
func referenceOf(body json.RawMessage) string {
	var b struct {
		Reference string `json:"reference"`
		UserData  struct {
			Reference string `json:"reference"`
		} `json:"user_data"`
	}
	if json.Unmarshal(body, &b) != nil {
		return ""
	}
	return firstNonEmpty(b.UserData.Reference, b.Reference)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func sortSteps(steps []Step) {
	// Insertion sort, stable: the SDK's and the platform's steps interleave only at 5/6 and 12/13.
	for i := 1; i < len(steps); i++ {
		for j := i; j > 0 && steps[j-1].Number > steps[j].Number; j-- {
			steps[j-1], steps[j] = steps[j], steps[j-1]
		}
	}
}

// doJSON sends a JSON request and decodes a 200 answer into ok and any other into fail.
// An unreachable party or a body that is not JSON is an error.
func (s *SDK) doJSON(ctx context.Context, method, u string, header http.Header, flowID string, in, ok, fail any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return 0, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if flowID != "" {
		req.Header.Set(contract.HeaderFlowID, flowID)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, contract.MaxBodyBytes))
	if err != nil {
		return resp.StatusCode, err
	}
	dst := ok
	if resp.StatusCode != http.StatusOK {
		dst = fail
	}
	if dst == nil {
		return resp.StatusCode, nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return resp.StatusCode, fmt.Errorf("%s %s answered %d with a body that is not the expected JSON", method, u, resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// me is the miniapp frontend's GET /api/me (PROTOCOL §3.15) at meURL.
func (s *SDK) me(ctx context.Context, meURL, token, flowID string) (*contract.Me, int, error) {
	var me contract.Me
	h := http.Header{"Authorization": {"Bearer " + token}}
	status, err := s.doJSON(ctx, http.MethodGet, meURL, h, flowID, nil, &me, nil)
	if err != nil {
		return nil, status, err
	}
	if status != http.StatusOK {
		return nil, status, nil
	}
	return &me, status, nil
}

// WriteSteps prints steps as a table: number, actor, call, status, time and result, each
// line starting with indent.
func WriteSteps(w io.Writer, steps []Step, indent string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%sSTEP\tACTOR\tCALL\tSTATUS\tTIME\tRESULT\n", indent)
	for _, s := range steps {
		status := ""
		if s.Status != 0 {
			status = fmt.Sprint(s.Status)
		}
		result := "ok"
		if !s.OK {
			result = "FAILED " + s.ErrorCode
		}
		if s.Note != "" {
			result += " (" + s.Note + ")"
		}
		fmt.Fprintf(tw, "%s%d\t%s\t%s\t%s\t%s\t%s\n", indent, s.Number, s.Actor, s.Call, status, FormatMS(s.DurationMS), result)
	}
	return tw.Flush()
}

// FormatMS prints a duration in milliseconds for people: "-" for none, two decimals below
// 10 ms.
func FormatMS(ms float64) string {
	switch {
	case ms == 0:
		return "-"
	case ms < 10:
		return fmt.Sprintf("%.2fms", ms)
	default:
		return fmt.Sprintf("%.0fms", ms)
	}
}

// pathOf is the path of a URL, for step descriptions.
func pathOf(u string) string {
	if p, err := url.Parse(u); err == nil && p.Path != "" {
		return p.Path
	}
	return u
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Refresh renews a user's miniapp session with the stored refresh token, as the miniapp
// frontend does with its backend (PROTOCOL §7.1, miniapp side), and stores the rotated pair.
func (s *SDK) Refresh(ctx context.Context, user, appID string) (LoginPayload, error) {
	if appID == "" {
		appID = demo.AppID
	}
	s.mu.Lock()
	sess, ok := s.tokens[tokenKey{user, appID}]
	s.mu.Unlock()
	if !ok || sess.RefreshToken == "" {
		return LoginPayload{}, fmt.Errorf("sdkstub: no refresh token held for user %q and miniapp %q: run Connect first: %w", user, appID, ErrNoTokens)
	}
	var got contract.MiniappTokens
	var fail struct {
		Error string `json:"error"`
	}
	status, err := s.doJSON(ctx, http.MethodPost, sess.base+"/api/auth/refresh", nil, "", map[string]string{"refresh_token": sess.RefreshToken}, &got, &fail)
	if err != nil {
		return LoginPayload{}, fmt.Errorf("sdkstub: refresh: %w", err)
	}
	if status != http.StatusOK {
		return LoginPayload{}, &Error{Step: 14, Party: contract.PartyMiniapp, Status: status, Code: fail.Error, Message: "refresh refused"}
	}
	if got.AuthToken == "" {
		return LoginPayload{}, &Error{Step: 14, Party: contract.PartyMiniapp, Status: status, Code: CodeNoAuthToken, Message: "the refresh answer carries no auth_token"}
	}
	p := LoginPayload{Token: got.AuthToken, RefreshToken: got.RefreshToken}
	s.storeTokens(user, appID, session{LoginPayload: p, base: sess.base})
	return p, nil
}

// Me reads the user from the miniapp backend with the stored token (steps 14–15).
func (s *SDK) Me(ctx context.Context, user, appID string) (*contract.Me, int, error) {
	if appID == "" {
		appID = demo.AppID
	}
	s.mu.Lock()
	sess, ok := s.tokens[tokenKey{user, appID}]
	s.mu.Unlock()
	if !ok {
		return nil, 0, fmt.Errorf("sdkstub: no token held for user %q and miniapp %q: %w", user, appID, ErrNoTokens)
	}
	return s.me(ctx, sess.base+"/api/me", sess.Token, "")
}

// ErrNoTokens is wrapped by Refresh and Me when the SDK holds no tokens for the user and
// miniapp: none were issued, or logout or a consent revocation dropped them.
var ErrNoTokens = errors.New("no miniapp tokens held")

// Forget drops the tokens held for one user and miniapp, as the SDK does when the user's
// consent for that miniapp is revoked (PROTOCOL §7.4). It reports whether any were held.
func (s *SDK) Forget(user, appID string) bool {
	if appID == "" {
		appID = demo.AppID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.tokens[tokenKey{user, appID}]
	delete(s.tokens, tokenKey{user, appID})
	return ok
}

// Logout is the host app's SDK logout (PROTOCOL §7.5): every miniapp session of the user is
// ended at its backend (the miniapp frontend's POST /api/auth/logout), the stored token pairs
// are dropped and the host session is forgotten. All sessions are tried; the first failure is
// returned.
func (s *SDK) Logout(ctx context.Context, user string) error {
	s.mu.Lock()
	var ended []session
	for k, sess := range s.tokens {
		if k.user == user {
			ended = append(ended, sess)
			delete(s.tokens, k)
		}
	}
	s.mu.Unlock()
	s.host.signOut(user)
	var first error
	for _, sess := range ended {
		h := http.Header{"Authorization": {"Bearer " + sess.Token}}
		status, err := s.doJSON(ctx, http.MethodPost, sess.base+"/api/auth/logout", h, "", map[string]any{}, nil, nil)
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("sdkstub: miniapp logout answered %d", status)
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}
