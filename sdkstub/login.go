package sdkstub

// The SDK's answers to the miniapp over the bridge: init data, logout, the login request that
// runs consent (step 4), the auth callback and the platform call (steps 5–12), and the legacy
// path's confirm box and saved token (PROTOCOL §4.5).

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// handleBridge is the SDK's side of the bridge for one miniapp session.
func (f *flow) handleBridge(ctx context.Context, handler string, params json.RawMessage, init *InitData) (any, error) {
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
	case HandlerShowAuthConfirmBox:
		if err := f.consent(ctx); err != nil {
			return nil, err
		}
		return map[string]bool{"result": true}, nil
	case HandlerSaveToken:
		var p struct {
			Token string `json:"token"`
		}
		if err := json.Unmarshal(params, &p); err != nil || p.Token == "" {
			return nil, clientError(400, "INVALID_PARAMS", "AppBoxoWebAppSaveToken needs {token}")
		}
		f.sdk.storeTokens(f.o.User, f.o.AppID, session{LoginPayload: LoginPayload{Token: p.Token}, base: f.miniappBase()})
		return noAnswer{}, nil
	}
	return nil, clientError(404, "UNSUPPORTED_EVENT", handler)
}

// login runs steps 4–12 for the bridge's AppBoxoWebAppLogin request.
func (f *flow) login(ctx context.Context) (LoginPayload, error) {
	if err := f.consent(ctx); err != nil {
		return LoginPayload{}, err
	}
	return f.authorizeWithCode(ctx)
}

// consent is step 4: the prompt, or get_consent in its place when the prompt-skip switch is
// on. A nil error means the user allowed.
func (f *flow) consent(ctx context.Context) error {
	// Step 4: consent, listing the miniapp's required fields or the default four (PROTOCOL §3.5).
	t := time.Now()
	fields := f.settings.RequiredFields
	if len(fields) == 0 {
		fields = []string{"email", "phone", "first_name", "last_name"}
	}
	prompt := "consent prompt (" + strings.Join(fields, ", ") + ")"
	if links := f.settings.ConsentLinks; len(links) > 0 {
		var ls []string
		for _, l := range links {
			ls = append(ls, l.Title+" <"+l.URL+">")
		}
		prompt += "; links: " + strings.Join(ls, ", ")
	}
	// Consent memory (PROTOCOL §7.4): with the switch on and a user_reference, the SDK asks
	// the platform, through the host app's backend (getConsent), whether the user allowed
	// this miniapp before, and skips the prompt if so.
	if f.sdk.cfg.SkipGrantedConsent && f.o.UserReference != "" {
		c, status, env, err := f.getConsent(ctx)
		call := "POST " + consentLookupPath + " → GET /api/v1/accounts/consent/get_consent/"
		switch {
		case err != nil:
			f.step(4, actorRecall, call, status, t, contract.CodeUnexpectedResponseError, err.Error())
			f.res.Err = f.failErr(4, contract.PartyHostapp, status, contract.CodeUnexpectedResponseError, err)
			return clientError(500, contract.CodeUnexpectedResponseError, err.Error())
		case env != nil:
			step, party := env.Step(), env.Source()
			if step == 0 {
				step = 4
			}
			if party == "" {
				party = contract.PartyPlatform
			}
			f.step(4, actorRecall, call, status, t, env.ErrorCode, env.ErrorMessage)
			f.res.Err = f.fail(step, party, status, env.ErrorCode, env.Explained())
			return authError(401, env.ErrorCode, env.ErrorMessage)
		case c.Consent:
			at := ""
			if c.GrantedAt != nil {
				at = " at " + *c.GrantedAt
			}
			f.step(4, actorRecall, call, status, t, "", "consent granted"+at+": prompt skipped")
			f.res.ConsentSkipped = true
			return nil
		}
		f.step(4, actorRecall, call, status, t, "", "no consent recorded: the prompt is shown")
		t = time.Now()
	}
	if f.o.Deny {
		f.step(4, actorConsent, prompt, 0, t, CodeUserDenied, "user declined")
		f.res.Err = f.fail(4, contract.PartySDK, 0, CodeUserDenied, "the user declined the consent prompt")
		return authError(403, CodeUserDenied)
	}
	f.step(4, actorConsent, prompt, 0, t, "", "allowed")
	return nil
}

// authorizeWithCode runs step 5: the auth callback to the host app, then the platform call,
// whose answer is step 12.
func (f *flow) authorizeWithCode(ctx context.Context) (LoginPayload, error) {
	t := time.Now()
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
		f.res.Err = f.failErr(12, contract.PartyPlatform, status, CodePlatformUnavailable, err)
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
