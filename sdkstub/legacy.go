package sdkstub

// The legacy payload login (PROTOCOL §4.3 b, §7.10): the miniapp frontend's path when the
// host app opened it with an auth payload, for older SDKs.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

const actorLegacy = "miniapp frontend → platform"

// legacyLogin runs steps 3–13 of the legacy path and returns the miniapp token: the SDK's
// confirm box (consent, step 4), the miniapp frontend's POST /api/v1/partner/login/ (5, answered
// at 12 after the platform's steps 6–11) and AppBoxoWebAppSaveToken (13). The payload is never
// empty: Connect has the host app mint one when none was given.
func (f *flow) legacyLogin(ctx context.Context, b *bridge, payload string) (string, error) {
	t := time.Now()
	fields := f.settings.RequiredFields
	if len(fields) == 0 {
		fields = []string{"email", "phone", "first_name", "last_name"}
	}
	text := f.o.ConfirmText
	if text == "" {
		text = "This service is requesting access to your account details"
	}
	f.step(3, actorBridge, HandlerShowAuthConfirmBox+" (legacy login, contract §7.10)", 0, t, "", "")
	if _, err := b.call(ctx, HandlerShowAuthConfirmBox, map[string]any{"message": text, "requiredFields": fields}); err != nil {
		var be *BridgeError
		if errors.As(err, &be) && f.res.Err != nil {
			return "", f.res.Err // declined, or get_consent refused: recorded at step 4
		}
		return "", f.fail(4, contract.PartySDK, 0, contract.CodeUnknownError, err.Error())
	}

	t = time.Now()
	body := contract.LegacyLoginRequest{ClientID: f.sdk.cfg.ClientID, AppID: f.o.AppID, Payload: payload}
	var ok contract.LegacyLoginResponse
	var env contract.ErrorEnvelope
	call := "POST /api/v1/partner/login/ {client_id, app_id, payload}"
	status, err := f.sdk.doJSON(ctx, http.MethodPost, f.sdk.cfg.PlatformURL+"/api/v1/partner/login/", nil, f.o.FlowID, body, &ok, &env)
	switch {
	case err != nil:
		f.step(5, actorLegacy, call, status, t, CodePlatformUnavailable, err.Error())
		return "", f.failErr(12, contract.PartyPlatform, status, CodePlatformUnavailable, err)
	case status != http.StatusOK && env.ErrorCode == "":
		msg := fmt.Sprintf("platform answered %d without an error envelope", status)
		f.step(5, actorLegacy, call, status, t, CodePlatformUnavailable, msg)
		return "", f.fail(12, contract.PartyPlatform, status, CodePlatformUnavailable, msg)
	case status != http.StatusOK:
		f.step(5, actorLegacy, call, 0, t, "", "")
		step, party := env.Step(), env.Source()
		if step == 0 {
			step = 12
		}
		if party == "" {
			party = contract.PartyPlatform
		}
		return "", f.fail(step, party, status, env.ErrorCode, env.Explained())
	}
	f.step(5, actorLegacy, call, 0, t, "", "")

	t = time.Now()
	if ok.Token == "" {
		f.step(13, actorBridge, HandlerSaveToken, 0, t, CodeNoAuthToken, "Login failed: the answer carries no token")
		return "", f.fail(13, contract.PartySDK, 0, CodeNoAuthToken, "the legacy login answer carries no token")
	}
	if err := b.notifyWith(ctx, HandlerSaveToken, map[string]any{"token": ok.Token}); err != nil {
		return "", err
	}
	f.res.Token = ok.Token
	f.step(13, actorBridge, HandlerSaveToken+" {token}", 0, t, "", "the SDK saves the token")
	return ok.Token, nil
}
