package platform

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// handleSettings is GET /api/v1/miniapps/{app_id}/settings/?client_id=..., step 1
// (PROTOCOL §3.2, §9.42): the miniapp's app_id, name and URL, plus its required fields for
// the consent prompt (§3.5). It does not check Connect: opening a miniapp needs none.
func (s *server) handleSettings() contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		appID, clientID := mux.Vars(r)["app_id"], r.URL.Query().Get("client_id")
		if strings.TrimSpace(clientID) == "" {
			return platformErr(contract.CodeInvalidRequest, 1, "client_id query parameter is required")
		}
		_, app, cerr := s.lookupPair(r.Context(), clientID, appID, 1, false)
		if cerr != nil {
			s.log.DebugContext(r.Context(), "settings failed", "flow_id", r.Header.Get(contract.HeaderFlowID), "error_code", cerr.Code)
			return cerr
		}
		var out contract.MiniappSettings
		out.Miniapp.AppID, out.Miniapp.Name, out.Miniapp.URL = app.AppID, app.Name, app.URL
		out.RequiredFields = app.RequiredFields
		out.ConsentLinks = app.ConsentLinks
		contract.WriteJSON(w, http.StatusOK, out)
		return nil
	}
}

// consentJSON is the answer of get_consent (PROTOCOL §7.4).
type consentJSON struct {
	ClientID      string   `json:"client_id"`
	AppID         string   `json:"app_id"`
	UserReference string   `json:"user_reference"`
	Consent       bool     `json:"consent"`
	GrantedAt     *string  `json:"granted_at"`
	Fields        []string `json:"fields"`
}

// handleGetConsent is GET /api/v1/accounts/consent/get_consent/ (PROTOCOL §7.4). Checks in
// order: the three parameters (INVALID_REQUEST; HOSTAPP_USER_ID_REQUIRED for the reference),
// the host app (HOSTAPP_NOT_FOUND), the caller's address against the host app's or the
// miniapp's allowlist (NOT_A_WHITELISTED_IP, §7.6; see callerAllowed), the signature when the
// host app signs (INVALID_SIGNATURE, SIGNATURE_VALIDATION_ERROR, §7.8: the caller is the host
// backend, which holds the secret), the miniapp (MINIAPP_NOT_FOUND) and the partnership
// (NO_INTEGRATION). Every refusal is a 400 envelope at step 4, where the SDK's prompt-skip
// switch asks.
func (s *server) handleGetConsent() contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		clientID, appID, ref := q.Get("client_id"), q.Get("app_id"), q.Get("user_reference")
		for _, p := range []struct{ name, v string }{{"client_id", clientID}, {"app_id", appID}, {"user_reference", ref}} {
			if strings.TrimSpace(p.v) == "" {
				if p.name == "user_reference" {
					e := contract.BoxoError(contract.CodeHostappUserIDRequired, []string{"consent lookup"}, "user_reference query parameter is required")
					e.Source, e.Step = contract.PartyPlatform, 4
					return e
				}
				return consentErr(contract.CodeInvalidRequest, p.name+" query parameter is required")
			}
		}
		host, err := s.store.GetHostApp(r.Context(), clientID)
		if errors.Is(err, ErrNotFound) {
			return consentErr(contract.CodeHostappNotFound, "no host app with client_id "+quote(clientID))
		} else if err != nil {
			return err
		}
		if ok, err := s.callerAllowed(r, host, appID); err != nil {
			return err
		} else if !ok {
			return consentErr(contract.CodeNotAWhitelistedIP, "the caller's address is in neither the host app's nor the miniapp's IP allowlist")
		}
		if e := s.verifySigned(r, nil, host, 4); e != nil {
			return e
		}
		if _, err := s.store.GetMiniapp(r.Context(), appID); errors.Is(err, ErrNotFound) {
			return consentErr(contract.CodeMiniappNotFound, "no miniapp with app_id "+quote(appID))
		} else if err != nil {
			return err
		}
		if _, err := s.store.GetPartnership(r.Context(), clientID, appID); errors.Is(err, ErrNotFound) {
			return consentErr(contract.CodeNoIntegration, "miniapp "+quote(appID)+" is not partnered with host app "+quote(clientID))
		} else if err != nil {
			return err
		}
		out := consentJSON{ClientID: clientID, AppID: appID, UserReference: ref, Fields: []string{}}
		c, err := s.store.GetConsent(r.Context(), clientID, appID, ref)
		switch {
		case err == nil:
			at := c.GrantedAt.UTC().Format(time.RFC3339)
			out.Consent, out.GrantedAt, out.Fields = true, &at, nonNil(c.Fields)
		case !errors.Is(err, ErrNotFound):
			return err
		}
		contract.WriteJSON(w, http.StatusOK, out)
		return nil
	}
}

func consentErr(code, msg string) *contract.Error {
	e := contract.BoxoError(code, nil, msg)
	// The SDK asks get_consent at step 4, in place of its prompt (contract §2.5, §7.4).
	e.Source, e.Step = contract.PartyPlatform, 4
	return e
}

// handleRevokeConsent is POST /_sim/consent/revoke {client_id, app_id, user_reference}
// (PROTOCOL §7.4): it deletes the record and answers {"revoked": true|false}, false when
// there was none.
func (s *server) handleRevokeConsent() contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var body struct {
			ClientID      string `json:"client_id"`
			AppID         string `json:"app_id"`
			UserReference string `json:"user_reference"`
		}
		if err := decodeStrict(w, r, &body); err != nil {
			return err
		}
		for _, p := range []struct{ name, v string }{{"client_id", body.ClientID}, {"app_id", body.AppID}, {"user_reference", body.UserReference}} {
			if p.v == "" {
				return invalidField(p.name, "is required")
			}
		}
		err := s.store.DeleteConsent(r.Context(), body.ClientID, body.AppID, body.UserReference)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		contract.WriteJSON(w, http.StatusOK, map[string]bool{"revoked": err == nil})
		return nil
	}
}
