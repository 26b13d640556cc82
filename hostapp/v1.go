package hostapp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/gorilla/mux"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// The legacy v1 OAuth API (PROTOCOL §6.11, §6.12). An application is an ordinary client of
// the authorization server; its return_uri must be one of the client's redirect URIs. The
// v1 "nonce" is a one-time code (10 min, single use), unrelated to the OIDC nonce.

// parseV1 validates GET /v1/oauth/authorize's parameters. Every failure is shown at the
// server (never redirected), as for an unknown client in PROTOCOL §6.2 step 1.
func (s *server) parseV1(ctx context.Context, q url.Values) (authzRequest, error) {
	var a authzRequest
	for k, vs := range q {
		if len(vs) > 1 {
			return a, &authzError{Code: contract.OAuthInvalidRequest, Description: k + " is repeated"}
		}
	}
	appID, returnURI := q.Get("application_id"), q.Get("return_uri")
	switch {
	case appID == "":
		return a, &authzError{Code: contract.OAuthInvalidRequest, Description: "application_id is missing"}
	case returnURI == "":
		return a, &authzError{Code: contract.OAuthInvalidRequest, Description: "return_uri is missing"}
	}
	c, err := s.Store.GetClient(ctx, appID)
	if errors.Is(err, ErrNotFound) {
		return a, &authzError{Code: contract.OAuthInvalidClient, Description: "unknown application_id"}
	}
	if err != nil {
		return a, err
	}
	if !redirectAllowed(c, returnURI) {
		return a, &authzError{Code: contract.OAuthInvalidRequest, Description: "return_uri is not registered for this application"}
	}
	a.client, a.redirectURI, a.responseType, a.responseMode = c, returnURI, "v1", modeQuery
	return a, nil
}

// handleV1Authorize serves GET /v1/oauth/authorize?application_id&return_uri: sign-in,
// consent, then a redirect to return_uri with a nonce.
func handleV1Authorize(s *server) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		a, err := s.parseV1(r.Context(), q)
		if err != nil {
			s.authzFail(w, r, a, err)
			return
		}
		u, ok := s.signedIn(w, r, authzRequest{}, "/v1/oauth/authorize", q)
		if !ok {
			return
		}
		need, err := s.needsConsent(r.Context(), u, a.client)
		if err != nil {
			s.authzFail(w, r, authzRequest{}, err)
			return
		}
		if need {
			s.consentPage(w, r, u, a.client, "/v1/oauth/authorize", q)
			return
		}
		s.finishV1(w, r, a, u)
	}
}

// handleV1Decision serves POST /v1/oauth/authorize: the consent form's answer.
func handleV1Decision(s *server) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		params, decision, ok := s.readDecision(w, r)
		if !ok {
			return
		}
		a, err := s.parseV1(r.Context(), params)
		if err != nil {
			s.authzFail(w, r, a, err)
			return
		}
		u, ok := s.signedIn(w, r, authzRequest{}, "/v1/oauth/authorize", params)
		if !ok {
			return
		}
		switch decision {
		case "allow":
			if err := s.grantConsent(r.Context(), u, a.client); err != nil {
				s.authzFail(w, r, authzRequest{}, err)
				return
			}
			s.finishV1(w, r, a, u)
		case "deny":
			http.Redirect(w, r, resultURL(a, url.Values{"error": {contract.OAuthAccessDenied}}), http.StatusFound)
		default:
			s.authzFail(w, r, authzRequest{}, &authzError{Code: contract.OAuthInvalidRequest, Description: "decision must be allow or deny"})
		}
	}
}

// finishV1 issues the one-time nonce and redirects to return_uri with it.
func (s *server) finishV1(w http.ResponseWriter, r *http.Request, a authzRequest, u User) {
	nonce := contract.RandomHex(20)
	now := s.Now()
	err := s.Store.CreateAuthCode(r.Context(), AuthCode{Hash: contract.Hash(nonce), Kind: CodeKindV1, ClientID: a.client.ID,
		UserID: u.ID, RedirectURI: a.redirectURI, Scopes: a.client.Scopes, IssuedAt: now, ExpiresAt: now.Add(s.AuthCodeTTL)})
	if err != nil {
		s.authzFail(w, r, authzRequest{}, fmt.Errorf("create v1 nonce: %w", err))
		return
	}
	http.Redirect(w, r, resultURL(a, url.Values{"nonce": {nonce}}), http.StatusFound)
}

// v1TokenRequest is the body of POST /v1/oauth/access_token.
type v1TokenRequest struct {
	ApplicationID     string `json:"application_id"`
	ApplicationSecret string `json:"application_secret"`
	Nonce             string `json:"nonce"`
}

// v1TokenResponse is its 201 answer; expires_in is always null (tokens never expire).
type v1TokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   *int64 `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

// handleV1AccessToken serves POST /v1/oauth/access_token: application credentials and the
// nonce's single use → 201 {"access_token": 64 hex, "expires_in": null, "token_type":
// "Bearer"}. Errors use RFC 6749's JSON form (invalid_request, invalid_client 401,
// invalid_grant); a replayed nonce revokes the token it issued.
func handleV1AccessToken(s *server) contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		noStore(w)
		var body v1TokenRequest
		if err := contract.DecodeJSON(w, r, &body, contract.OAuthInvalidRequest); err != nil {
			return err
		}
		if body.ApplicationID == "" || body.ApplicationSecret == "" {
			return invalidClient("application_id and application_secret are required")
		}
		c, ok, err := s.clientBySecret(r.Context(), body.ApplicationID, body.ApplicationSecret)
		switch {
		case err != nil:
			return err
		case !ok:
			return invalidClient("unknown application or wrong secret")
		}
		if body.Nonce == "" {
			return oauthErr(contract.OAuthInvalidRequest, "nonce is missing")
		}
		invalid := func(msg string) error { return oauthErr(contract.OAuthInvalidGrant, "%s", msg) }
		hash := contract.Hash(body.Nonce)
		code, err := s.Store.GetAuthCode(r.Context(), hash)
		switch {
		case errors.Is(err, ErrNotFound):
			return invalid("unknown nonce")
		case err != nil:
			return err
		case code.Kind != CodeKindV1 || code.ClientID != c.ID:
			return invalid("the nonce was issued to another application")
		case !code.UsedAt.IsZero():
			s.revokeReplayed(r, code)
			return invalid("the nonce was already used; the token it issued is revoked")
		case !s.Now().Before(code.ExpiresAt):
			return invalid("the nonce has expired")
		}
		now := s.Now()
		token := contract.RandomHex(32)
		rec := Token{Hash: contract.Hash(token), Kind: TokenAccess, API: APIV1, ClientID: c.ID, UserID: code.UserID,
			Scopes: code.Scopes, GrantID: code.Hash, IssuedAt: now}
		switch err := s.Store.RedeemAuthCode(r.Context(), hash, now, []Token{rec}); {
		case errors.Is(err, ErrUsed):
			s.revokeReplayed(r, code)
			return invalid("the nonce was already used; the token it issued is revoked")
		case errors.Is(err, ErrNotFound):
			return invalid("unknown nonce")
		case err != nil:
			return err
		}
		contract.WriteJSON(w, http.StatusCreated, v1TokenResponse{AccessToken: token, TokenType: "Bearer"})
		return nil
	}
}

// handleV1Revoke serves DELETE /v1/oauth/{access_token} (PROTOCOL §6.12): revokes the token
// of any API (v1, authorization server, Connect) with the rest of its grant, so its refresh
// token too. 200 {} also for unknown tokens; possession of the token is the only credential.
func handleV1Revoke(s *server) contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		noStore(w)
		raw := mux.Vars(r)["access_token"]
		tok, err := s.Store.GetToken(r.Context(), contract.Hash(raw))
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return err
		default:
			if _, err := s.Store.RevokeGrant(r.Context(), tok.GrantID, s.Now()); err != nil {
				return err
			}
		}
		contract.WriteJSON(w, http.StatusOK, map[string]any{})
		return nil
	}
}
