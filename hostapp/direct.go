package hostapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/signing"
)

// verifySignature checks the signing headers of a platform call when signing is on
// (PROTOCOL §7.8): INVALID_SIGNATURE for a missing or wrong signature,
// SIGNATURE_VALIDATION_ERROR for a stale timestamp or a replayed nonce,
// MISSING_REQUEST_SIGNATURE_SETTINGS when signing is on without a secret. The body is read
// and put back for the handler.
func (s *server) verifySignature(w http.ResponseWriter, r *http.Request, st Settings) error {
	if e := s.verifier.VerifyRequest(w, r, st.SigningEnabled, st.SigningSecret); e != nil {
		s.log(r).DebugContext(r.Context(), "platform call refused: signature", "error_code", e.Code, "reason", e.Message)
		return e
	}
	return nil
}

// handleDirectTokens serves POST /boxo/direct/tokens {"app_id"}, step 5 of Connect Direct
// (PROTOCOL §7.3): the host app asks its own backend for miniapp tokens for its signed-in
// user. The backend sends the user's data to the platform's /api/v1/connect/ (step 6, signed
// when signing is on) and answers with the platform's answer: 200 {"token", "refresh_token"}
// or the platform's 400 envelope unchanged. Its own failures are as userCall says, at step 5.
//
// fromPage is the demo web host app's POST /web/direct-tokens, the Direct counterpart of
// /web/auth-code and as strict (see userCall).
func handleDirectTokens(s *server, fromPage bool) contract.HandlerFunc {
	return s.userCall(5, fromPage, func(r *http.Request, u User, appID string, st Settings) (int, []byte, error) {
		req, err := json.Marshal(map[string]any{"client_id": s.Web.ClientID, "app_id": appID, "user_data": userData(u)})
		if err != nil {
			return 0, nil, err
		}
		status, answer, err := s.callPlatform(r, http.MethodPost, "/api/v1/connect/", req, st)
		if err == nil {
			s.log(r).DebugContext(r.Context(), "direct connect", "user", u.Username, "app_id", appID, "status", status)
		}
		return status, answer, err
	})
}

// handleConsentLookup serves POST /boxo/consent {"app_id"}: the host app asks its own backend
// whether its signed-in user allowed the miniapp before, for the SDK's prompt-skip switch
// (PROTOCOL §7.4). The platform's get_consent is a server-to-server call under the host app's
// IP allowlist and request signing, so the backend makes it: GET
// /api/v1/accounts/consent/get_consent/ with its client_id, the app_id and the signed-in
// user's reference, signed when signing is on, and answers the platform's answer unchanged
// (200 consent JSON or its 400 envelope). Its own failures are as userCall says, at step 4.
func handleConsentLookup(s *server) contract.HandlerFunc {
	return s.userCall(4, false, func(r *http.Request, u User, appID string, st Settings) (int, []byte, error) {
		q := url.Values{"client_id": {s.Web.ClientID}, "app_id": {appID}, "user_reference": {u.Reference}}
		return s.callPlatform(r, http.MethodGet, "/api/v1/accounts/consent/get_consent/?"+q.Encode(), nil, st)
	})
}

// userCall is a call the host app makes to its own backend for its signed-in user, which the
// backend answers by calling the platform (call) and passing the platform's answer on:
// Connect Direct's tokens, the consent lookup. The body is {"app_id"}. The backend's own
// failures are envelopes with source "hostapp" and the given step: 401 when no user is signed
// in, 403 for a cross-site request, 415 or 400 for a bad body, 502 UNEXPECTED_RESPONSE_ERROR
// when the platform cannot be reached or answers something else,
// MISSING_REQUEST_SIGNATURE_SETTINGS when signing is on without a secret.
//
// The call is authenticated by the session cookie, so it refuses what a cross-site page
// could send: a body that is not JSON (a form needs no preflight; JSON does, which this host
// never grants), Sec-Fetch-Site other than same-origin or none, and an Origin that is not its
// own. fromPage is a route for the demo home screen, as strict as /web/auth-code but for
// Sec-Fetch-Site: none (checkPageCall): a browser always sends Origin there, so one must be
// present and this host's own, and the request must carry the session's CSRF token.
func (s *server) userCall(step int, fromPage bool, call func(r *http.Request, u User, appID string, st Settings) (int, []byte, error)) contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		fail := func(status int, code, format string, args ...any) error {
			return &contract.Error{Code: code, Message: fmt.Sprintf(format, args...), Status: status, Source: contract.PartyHostapp, Step: step}
		}
		u, status, msg, err := s.checkPageCall(r, fromPage, true)
		switch {
		case err != nil:
			return err
		case status == http.StatusUnsupportedMediaType:
			return fail(status, contract.CodeInvalidRequest, "%s", msg)
		case status == http.StatusUnauthorized:
			return fail(status, contract.CodeAccessDenied, "no user is signed in to the host app: sign in at /auth/v1/login first")
		case status != 0:
			return fail(status, contract.CodeAccessDenied, "%s", msg)
		}
		var body contract.DirectTokensRequest
		if err := contract.DecodeJSON(w, r, &body, contract.CodeInvalidRequest); err != nil {
			return fail(http.StatusBadRequest, contract.CodeInvalidRequest, "%v", err)
		}
		if err := contract.CheckID(body.AppID); err != nil {
			return fail(http.StatusBadRequest, contract.CodeInvalidRequest, "app_id: %v", err)
		}
		if s.Web.PlatformURL == "" {
			return fail(http.StatusBadGateway, contract.CodeUnexpectedResponseError, "no platform is configured for this host app")
		}
		st, err := s.settings(r.Context())
		if err != nil {
			return err
		}
		if st.SigningEnabled && st.SigningSecret == "" {
			return fail(http.StatusBadGateway, contract.CodeMissingRequestSignatureSettings, "request signing is on but no signing secret is set (PUT /_sim/settings)")
		}
		status, answer, err := call(r, u, body.AppID, st)
		if id := r.Header.Get(contract.HeaderFlowID); contract.ValidFlowID(id) {
			w.Header()[contract.HeaderFlowID] = []string{id}
		}
		if err != nil {
			return fail(http.StatusBadGateway, contract.CodeUnexpectedResponseError, "the platform's %v", err)
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(answer)
		return nil
	}
}

// callPlatform makes the backend's call to the platform at path (with its query): body is
// sent as JSON (nil sends none), the flow id of r passed on (PROTOCOL §2.10), signed with the
// host's secret when signing is on (§7.8). It returns the platform's status and JSON body
// when the answer is 200 or a 400 envelope; anything else is an error.
func (s *server) callPlatform(r *http.Request, method, path string, body []byte, st Settings) (status int, answer []byte, err error) {
	defer func() {
		if err != nil {
			p, _, _ := strings.Cut(path, "?")
			err = fmt.Errorf("%s %s: %w", method, p, err)
		}
	}()
	ctx, cancel := context.WithTimeout(r.Context(), DefaultHTTPTimeout)
	defer cancel()
	u := s.Web.PlatformURL + path
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if id := r.Header.Get(contract.HeaderFlowID); contract.ValidFlowID(id) {
		req.Header[contract.HeaderFlowID] = []string{id}
	}
	if st.SigningEnabled {
		h := signing.Sign(st.SigningSecret, method, u, body, s.Now(), "")
		h.Identity, h.ClientID = s.Web.ClientID, s.Web.ClientID
		h.Apply(req.Header)
	}
	res, err := s.HTTPClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, contract.MaxBodyBytes))
	if err != nil {
		return 0, nil, err
	}
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusBadRequest {
		return 0, nil, fmt.Errorf("answered HTTP %d", res.StatusCode)
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return 0, nil, errors.New("answered a body that is not a JSON object")
	}
	return res.StatusCode, b, nil
}
