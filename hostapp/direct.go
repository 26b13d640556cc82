package hostapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

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
// or the platform's 400 envelope unchanged. Its own failures use the envelope too, with
// source "hostapp" and step 5: 401 when no user is signed in, 403 for a cross-site request,
// 502 UNEXPECTED_RESPONSE_ERROR when the platform cannot be reached or answers something else.
//
// The endpoint is authenticated by the session cookie, so it refuses what a cross-site page
// could send: a body that is not JSON (a form needs no preflight; JSON does, which this host
// never grants), Sec-Fetch-Site other than same-origin or none, and an Origin that is not its own.
//
// fromPage is the demo web host app's POST /web/direct-tokens, the Direct counterpart of
// /web/auth-code and as strict: a browser always sends Origin there, so one must be present
// and this host's own, and the request must carry the session's CSRF token (X-CSRF-Token).
func handleDirectTokens(s *server, fromPage bool) contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		fail := func(status int, code, format string, args ...any) error {
			return &contract.Error{Code: code, Message: fmt.Sprintf(format, args...), Status: status, Source: contract.PartyHostapp, Step: 5}
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			return fail(http.StatusUnsupportedMediaType, contract.CodeInvalidRequest, "Content-Type must be application/json")
		}
		if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
			return fail(http.StatusForbidden, contract.CodeAccessDenied, "cross-site request refused (Sec-Fetch-Site: %s)", site)
		}
		if origin := r.Header.Get("Origin"); (origin != "" || fromPage) && origin != "http://"+r.Host && origin != "https://"+r.Host {
			return fail(http.StatusForbidden, contract.CodeAccessDenied, "the request must come from this host app's own pages (Origin %s)", quoteOrNone(origin))
		}
		u, ok, err := s.currentUser(r)
		if err != nil {
			return err
		}
		if !ok {
			return fail(http.StatusUnauthorized, contract.CodeAccessDenied, "no user is signed in to the host app: sign in at /auth/v1/login first")
		}
		if fromPage && !contract.Equal(r.Header.Get(webCSRFHeader), webCSRFToken(r)) {
			return fail(http.StatusForbidden, contract.CodeAccessDenied, "missing or wrong %s: reload the home screen", webCSRFHeader)
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
		req, err := json.Marshal(map[string]any{"client_id": s.Web.ClientID, "app_id": body.AppID, "user_data": userData(u)})
		if err != nil {
			return err
		}
		status, answer, err := s.postConnect(r, req, st)
		if id := r.Header.Get(contract.HeaderFlowID); contract.ValidFlowID(id) {
			w.Header()[contract.HeaderFlowID] = []string{id}
		}
		if err != nil {
			return fail(http.StatusBadGateway, contract.CodeUnexpectedResponseError, "the platform's /api/v1/connect/: %v", err)
		}
		s.log(r).DebugContext(r.Context(), "direct connect", "user", u.Username, "app_id", body.AppID, "status", status)
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(answer)
		return nil
	}
}

// postConnect makes step 6: POST {platform}/api/v1/connect/ with the flow id of the request
// (PROTOCOL §2.10), signed when signing is on. It returns the platform's status and JSON
// body when the answer is 200 or a 400 envelope; anything else is an error.
func (s *server) postConnect(r *http.Request, body []byte, st Settings) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(r.Context(), DefaultHTTPTimeout)
	defer cancel()
	u := s.Web.PlatformURL + "/api/v1/connect/"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if id := r.Header.Get(contract.HeaderFlowID); contract.ValidFlowID(id) {
		req.Header[contract.HeaderFlowID] = []string{id}
	}
	if st.SigningEnabled {
		h := signing.Sign(st.SigningSecret, http.MethodPost, u, body, s.Now(), "")
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
