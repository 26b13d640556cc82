package sdkstub

// Connect Direct (PROTOCOL §7.3), the 12 steps: the host app answers the SDK's auth callback
// with tokens (setAuthTokens) that its own backend obtained from the platform's
// /api/v1/connect/, instead of an auth code.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// ModeDirect is the flow log's mode of a Direct flow.
const ModeDirect = "direct"

// DirectError is a refusal on the way to the tokens: the platform's envelope passed on by the
// host backend, or the host backend's own.
type DirectError struct {
	Status   int
	Envelope contract.ErrorEnvelope
}

func (e *DirectError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, e.Envelope.ErrorCode, e.Envelope.ErrorMessage)
}

// directTokens is the fake host app's Direct answer for a user: sign in when needed, then
// POST /boxo/direct/tokens {"app_id"} with the session (step 5), which makes the host backend
// call the platform (steps 6–9); flowID is passed on as X-Sim-Flow-Id. A *DirectError says
// where the host's backend or the platform refused.
func (h *hostApp) directTokens(ctx context.Context, username, password, appID, flowID string) (LoginPayload, error) {
	status, raw, err := h.userCall(ctx, username, password, "/boxo/direct/tokens", appID, flowID)
	if err != nil {
		return LoginPayload{}, err
	}
	if status != http.StatusOK {
		var env contract.ErrorEnvelope
		if json.Unmarshal(raw, &env) != nil || env.ErrorCode == "" {
			return LoginPayload{}, fmt.Errorf("host /boxo/direct/tokens answered %d without an error envelope", status)
		}
		return LoginPayload{}, &DirectError{Status: status, Envelope: env}
	}
	// The platform answers "token" (§7.3); the SDK reads "auth_token" too (§8).
	var p struct {
		LoginPayload
		AuthToken string `json:"auth_token"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return LoginPayload{}, fmt.Errorf("host /boxo/direct/tokens: %v", err)
	}
	if p.Token == "" {
		p.Token = p.AuthToken
	}
	return p.LoginPayload, nil
}

func quoteJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Direct step actors.
const (
	actorDirectAuth = "sdk → host app → host backend"
	actorSetTokens  = "host app → sdk → miniapp"
)

// ConnectDirect runs the 12 steps of Connect Direct for one user and miniapp (PROTOCOL §7.3).
// The fake host app answers the auth callback with tokens its backend obtained; tokens take
// priority over a code (§4.6), so o.AuthCode is not used. The Result's steps are numbered as
// §7.3's table: the platform's 6–9 read back from its flow log, the SDK's and host app's 1–5
// and 10–12. Errors are as for Connect.
func (s *SDK) ConnectDirect(ctx context.Context, o Options) (*Result, error) {
	o.fillDefaults()
	if !contract.ValidFlowID(o.FlowID) {
		return nil, fmt.Errorf("sdkstub: flow id %q: use 1–64 characters of letters, digits and _.:~@+=-", o.FlowID)
	}
	if s.cfg.HostURL == "" {
		return nil, errors.New("sdkstub: no HostURL configured: no host backend to ask for the tokens")
	}
	f := &flow{sdk: s, o: o, res: &Result{FlowID: o.FlowID, User: o.User, AppID: o.AppID}, started: time.Now()}
	return f.finish(ctx, f.runDirect(ctx), ModeDirect, 9)
}

// runDirect is the SDK's part of the 12 steps.
func (f *flow) runDirect(ctx context.Context) error {
	s := f.sdk
	var initData InitData
	b, closeBridge := f.openBridge(ctx, func(ctx context.Context, handler string, params json.RawMessage) (any, error) {
		if handler == HandlerLogin {
			p, err := f.loginDirect(ctx)
			if err != nil {
				return nil, err
			}
			s.storeTokens(f.o.User, f.o.AppID, session{LoginPayload: p, base: f.miniappBase()})
			return map[string]any{"payload": p}, nil
		}
		return f.handleBridge(ctx, handler, params, &initData)
	})
	defer closeBridge()

	// Step 1: the user opens the miniapp, as OAuth step 1.
	t, status, call, err := f.readSettings(ctx)
	if err != nil {
		return err
	}
	initData = InitData{AppID: f.o.AppID, ClientID: s.cfg.ClientID, Payload: "", Data: json.RawMessage("null")}
	if err := f.loadMiniapp(ctx, b, &initData, t, status, call); err != nil {
		return err
	}
	f.step(1, actorHost, call, status, t, "", "miniapp URL "+f.settings.Miniapp.URL)

	// Step 2: the miniapp decides it needs the user. With a saved token it tries that first
	// (PROTOCOL §3.3), as in the OAuth flow: accepted, it reads its user with it (11) and the
	// user continues (12) without a new Direct login.
	if f.trySavedToken(ctx, initData, 11, 0, 12) {
		return nil
	}
	// Step 3: it calls login. Steps 4–10 happen in the SDK's answer to the login call, then
	// the miniapp authorizes the user with its backend (11) and the user continues (12).
	token, err := f.loginCall(ctx, b, closeBridge, 10, actorSetTokens, "setAuthTokens → "+HandlerLogin+" answer {payload: {token, refresh_token}}")
	if err != nil {
		return err
	}
	return f.signedIn(ctx, token, 11, 0, 12)
}

// loginDirect is the SDK's answer to the login call in Direct: consent (4, as f.consent), then the auth
// callback that the host app answers with setAuthTokens after its backend's steps 5–9. Tokens
// take priority over a code (§4.6): Options.AuthCode is never asked for in Direct.
func (f *flow) loginDirect(ctx context.Context) (LoginPayload, error) {
	// Step 4: consent, as in the OAuth flow: the prompt with the miniapp's fields and the
	// Dashboard's consent links, or get_consent in its place with the prompt-skip switch on.
	if err := f.consent(ctx); err != nil {
		return LoginPayload{}, err
	}

	t := time.Now()
	call := "onAuth → POST /boxo/direct/tokens"
	cbctx, cancel := context.WithTimeout(ctx, f.sdk.cfg.CallbackTimeout)
	p, err := f.sdk.host.directTokens(cbctx, f.o.User, f.o.Password, f.o.AppID, f.o.FlowID)
	cancel()
	var de *DirectError
	switch {
	case errors.As(err, &de):
		// The host backend passed on the platform's envelope, or refused itself.
		step, party := de.Envelope.Step(), de.Envelope.Source()
		if party == "" {
			party = contract.PartyPlatform
		}
		if step == 0 {
			step = 9
		}
		code := "" // step 5 itself failed only when the host backend refused at it
		if party == contract.PartyHostapp && step == 5 {
			code = de.Envelope.ErrorCode
		}
		f.step(5, actorDirectAuth, call, de.Status, t, code, "")
		f.res.Err = f.fail(step, party, de.Status, de.Envelope.ErrorCode, de.Envelope.ErrorMessage)
		return LoginPayload{}, authError(401, de.Envelope.ErrorCode, de.Envelope.ErrorMessage)
	case err != nil:
		f.step(5, actorDirectAuth, call, 0, t, CodeNoAuthToken, err.Error())
		f.res.Err = f.fail(5, contract.PartyHostapp, 0, CodeNoAuthToken, err.Error())
		return LoginPayload{}, authError(401, CodeNoAuthToken)
	case p.Token != "":
		f.step(5, actorDirectAuth, call, http.StatusOK, t, "", "")
		return p, nil
	}
	f.step(5, actorDirectAuth, call, http.StatusOK, t, CodeNoAuthToken, "the host app set no token")
	f.res.Err = f.fail(5, contract.PartyHostapp, 0, CodeNoAuthToken, "the host app set no token")
	return LoginPayload{}, authError(401, CodeNoAuthToken)
}
