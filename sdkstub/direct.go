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
	"github.com/boxo-sim/boxo-sim/internal/demo"
)

// ModeDirect is the flow log's mode of a Direct flow.
const ModeDirect = "direct"

// AuthTokensFunc is the host app's answer to the auth callback in Direct: the miniapp's
// tokens, as setAuthTokens(token, refreshToken) hands them to the SDK (PROTOCOL §4.6). An
// empty token means the host app set none. A *DirectError says where the host's backend or
// the platform refused.
type AuthTokensFunc func(ctx context.Context) (LoginPayload, error)

// DirectError is a refusal on the way to the tokens: the platform's envelope passed on by the
// host backend, or the host backend's own.
type DirectError struct {
	Status   int
	Envelope contract.ErrorEnvelope
}

func (e *DirectError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, e.Envelope.ErrorCode, e.Envelope.ErrorMessage)
}

// HostDirectTokens returns the fake host app's Direct answer for a user: sign in when needed,
// then POST /boxo/direct/tokens {"app_id"} with the session (step 5), which makes the host
// backend call the platform (steps 6–9); flowID is passed on as X-Sim-Flow-Id.
func (s *SDK) HostDirectTokens(user, password, appID, flowID string) AuthTokensFunc {
	if password == "" {
		if u, ok := demo.FindUser(user); ok {
			password = u.Password
		}
	}
	return func(ctx context.Context) (LoginPayload, error) {
		return s.host.directTokens(ctx, user, password, appID, flowID)
	}
}

// directTokens is the fake host app's call to its own backend for the miniapp's tokens.
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
// The host app answers the auth callback with tokens, or by default with the fake host app's
// HostDirectTokens; tokens take priority over a code (§4.6), so o.AuthCode is not used. The Result's steps are numbered as §7.3's table: the
// platform's 6–9 read back from its flow log, the SDK's and host app's 1–5 and 10–12. Errors
// are as for Connect.
func (s *SDK) ConnectDirect(ctx context.Context, o Options, tokens AuthTokensFunc) (*Result, error) {
	o.fillDefaults()
	if !contract.ValidFlowID(o.FlowID) {
		return nil, fmt.Errorf("sdkstub: flow id %q: use 1–64 characters of letters, digits and _.:~@+=-", o.FlowID)
	}
	if tokens == nil {
		if s.cfg.HostURL == "" {
			return nil, errors.New("sdkstub: no HostURL configured and no AuthTokens given: nothing can set tokens")
		}
		tokens = s.HostDirectTokens(o.User, o.Password, o.AppID, o.FlowID)
	}
	f := &flow{sdk: s, o: o, res: &Result{FlowID: o.FlowID, User: o.User, AppID: o.AppID}, started: time.Now()}
	return f.finish(ctx, f.runDirect(ctx, tokens), ModeDirect, 9)
}

// runDirect is the SDK's part of the 12 steps.
func (f *flow) runDirect(ctx context.Context, tokens AuthTokensFunc) error {
	s := f.sdk
	var initData InitData
	b, closeBridge := f.openBridge(ctx, func(ctx context.Context, handler string, params json.RawMessage) (any, error) {
		if handler == HandlerLogin {
			p, err := f.loginDirect(ctx, tokens)
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
	// Step 3: it calls login. Steps 4–10 happen in the SDK's answer to the login call.
	text := f.o.ConfirmText
	if text == "" {
		text = "This service is requesting access to your account details"
	}
	f.step(3, actorBridge, HandlerLogin, 0, time.Now(), "", "")
	data, err := b.call(ctx, HandlerLogin, map[string]any{"confirmModalText": text})
	t10 := time.Now()
	if err != nil {
		var be *BridgeError
		if errors.As(err, &be) && f.res.Err != nil {
			return f.res.Err
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			closeBridge()
			return ctxErr
		}
		return f.fail(10, contract.PartySDK, 0, contract.CodeUnknownError, err.Error())
	}
	var answer struct {
		Payload LoginPayload `json:"payload"`
	}
	if err := json.Unmarshal(data, &answer); err != nil || answer.Payload.Token == "" {
		f.step(10, actorSetTokens, HandlerLogin+" answer", 0, t10, CodeNoAuthToken, "No auth token received")
		return f.fail(10, contract.PartySDK, 0, CodeNoAuthToken, "No auth token received")
	}
	f.res.Token, f.res.RefreshToken = answer.Payload.Token, answer.Payload.RefreshToken
	f.step(10, actorSetTokens, "setAuthTokens → "+HandlerLogin+" answer {payload: {token, refresh_token}}", 0, t10, "", "")

	// Step 11: the miniapp authorizes the user with its backend.
	t = time.Now()
	if f.o.SkipMe {
		f.skip(11, actorMe, "(miniapp's own API)", t, "the miniapp's own frontend API is not known here")
	} else {
		meURL := f.o.MeURL
		if meURL == "" {
			meURL = f.miniappBase() + "/api/me"
		}
		call := "GET " + pathOf(meURL) + " (Bearer token)"
		me, status, err := s.me(ctx, meURL, answer.Payload.Token, f.o.FlowID)
		switch {
		case err != nil:
			f.step(11, actorMe, call, 0, t, CodeMeFailed, err.Error())
			return f.failErr(11, contract.PartyMiniapp, status, CodeMeFailed, err)
		case status != http.StatusOK:
			msg := fmt.Sprintf("%s answered %d %s", pathOf(meURL), status, http.StatusText(status))
			f.step(11, actorMe, call, status, t, CodeMeFailed, msg)
			return f.fail(11, contract.PartyMiniapp, status, CodeMeFailed, msg)
		}
		f.res.Me = me
		f.step(11, actorMe, call, status, t, "", fmt.Sprintf("id %s, created %s", me.ID, me.CreatedText()))
	}

	// Step 12: the user continues, signed in.
	f.step(12, actorUser, "continues signed in", 0, time.Now(), "", "")
	return nil
}

// loginDirect is the SDK's answer to the login call in Direct: consent (4, as f.consent), then the auth
// callback that the host app answers with setAuthTokens after its backend's steps 5–9. Tokens
// take priority over a code (§4.6): Options.AuthCode is never asked for in Direct.
func (f *flow) loginDirect(ctx context.Context, tokens AuthTokensFunc) (LoginPayload, error) {
	// Step 4: consent, as in the OAuth flow: the prompt with the miniapp's fields and the
	// Dashboard's consent links, or get_consent in its place with the prompt-skip switch on.
	if err := f.consent(ctx); err != nil {
		return LoginPayload{}, err
	}

	t := time.Now()
	call := "onAuth → POST /boxo/direct/tokens"
	cbctx, cancel := context.WithTimeout(ctx, f.sdk.cfg.CallbackTimeout)
	p, err := tokens(cbctx)
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
		f.step(5, actorDirectAuth, call, de.Status, t, "", "")
		if party == contract.PartyHostapp && step == 5 {
			f.sdkSteps[len(f.sdkSteps)-1].Outcome = contract.OutcomeFailed
			f.sdkSteps[len(f.sdkSteps)-1].ErrorCode = de.Envelope.ErrorCode
			f.res.Steps[len(f.res.Steps)-1].OK, f.res.Steps[len(f.res.Steps)-1].ErrorCode = false, de.Envelope.ErrorCode
		}
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
