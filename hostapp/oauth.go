package hostapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// ---- tokens and claims (PROTOCOL §6.8)

// newAccessToken signs an RS256 access token for u and returns it with its record (the
// caller sets GrantID). aud is our base URL, the resource server.
func (s *server) newAccessToken(clientID string, u User, scopes []string, now time.Time) (string, Token, error) {
	exp := now.Add(s.AccessTokenTTL)
	raw, err := s.signer.sign(jwt.MapClaims{
		"iss": s.BaseURL, "sub": u.ID, "aud": s.BaseURL, "iat": now.Unix(), "exp": exp.Unix(),
		"client_id": clientID, "scope": strings.Join(scopes, " "), "jti": contract.RandomHex(16),
	})
	if err != nil {
		return "", Token{}, fmt.Errorf("sign access token: %w", err)
	}
	return raw, Token{Hash: contract.Hash(raw), Kind: TokenAccess, API: APIOAuth, ClientID: clientID, UserID: u.ID,
		Scopes: scopes, IssuedAt: now, ExpiresAt: exp}, nil
}

// newIDToken signs an RS256 ID token for clientID: the user's claims for scopes, nonce when
// one was sent, at_hash when an access token goes with it.
func (s *server) newIDToken(clientID string, u User, scopes []string, nonce, accessToken string, now time.Time) (string, error) {
	claims := jwt.MapClaims{"iss": s.BaseURL, "sub": u.ID, "aud": clientID, "iat": now.Unix(), "exp": now.Add(s.IDTokenTTL).Unix()}
	for k, v := range userClaims(u, scopes) {
		claims[k] = v
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	if accessToken != "" {
		claims["at_hash"] = tokenHash(accessToken)
	}
	raw, err := s.signer.sign(claims)
	if err != nil {
		return "", fmt.Errorf("sign ID token: %w", err)
	}
	return raw, nil
}

// userClaims are the OIDC standard claims of u that scopes allow; empty values are left out.
// locale and zoneinfo come from custom_attributes when they hold strings by those names.
func userClaims(u User, scopes []string) map[string]any {
	c := map[string]any{}
	set := func(k, v string) {
		if v != "" {
			c[k] = v
		}
	}
	if slices.Contains(scopes, "profile") {
		set("name", strings.TrimSpace(u.FirstName+" "+u.LastName))
		set("given_name", u.FirstName)
		set("family_name", u.LastName)
		set("preferred_username", u.Username)
		var attrs map[string]any
		if u.CustomAttributes != "" && json.Unmarshal([]byte(u.CustomAttributes), &attrs) == nil {
			for _, k := range []string{"locale", "zoneinfo"} {
				if v, ok := attrs[k].(string); ok {
					set(k, v)
				}
			}
		}
	}
	if slices.Contains(scopes, "email") && u.Email != "" {
		c["email"], c["email_verified"] = u.Email, true
	}
	if slices.Contains(scopes, "phone") && u.Phone != "" {
		c["phone_number"], c["phone_number_verified"] = u.Phone, true
	}
	return c
}

// ---- token endpoint (PROTOCOL §6.5, §6.6)

func oauthErr(code, format string, args ...any) error {
	return &contract.Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// invalidClient is RFC 6749 §5.2's invalid_client: 401 with a Basic challenge.
func invalidClient(msg string) error {
	return &contract.Error{Code: contract.OAuthInvalidClient, Message: msg, Status: http.StatusUnauthorized,
		Header: http.Header{"Www-Authenticate": {`Basic realm="token"`}}}
}

// readForm parses an application/x-www-form-urlencoded body (at most 1 MiB) and rejects
// repeated parameters (RFC 6749 §3.2) → invalid_request.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, oauthErr(contract.OAuthInvalidRequest, "Content-Type must be application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(w, r.Body, contract.MaxBodyBytes)
	if err := r.ParseForm(); err != nil {
		return nil, oauthErr(contract.OAuthInvalidRequest, "the form body could not be read (at most %d bytes)", contract.MaxBodyBytes)
	}
	for k, vs := range r.PostForm {
		if len(vs) > 1 {
			return nil, oauthErr(contract.OAuthInvalidRequest, "parameter %s is repeated", k)
		}
	}
	return r.PostForm, nil
}

// clientForm reads the form body of a client's request (token, revocation) and
// authenticates the client.
func (s *server) clientForm(w http.ResponseWriter, r *http.Request) (url.Values, Client, error) {
	form, err := readForm(w, r)
	if err != nil {
		return nil, Client{}, err
	}
	client, err := s.tokenClient(r, form)
	return form, client, err
}

// tokenClient authenticates the client (RFC 6749 §2.3.1): client_secret_basic (id and
// secret form-encoded inside Basic) or client_secret_post, not both.
func (s *server) tokenClient(r *http.Request, form url.Values) (Client, error) {
	var id, secret string
	postID, postSecret := form.Get("client_id"), form.Get("client_secret")
	if h := r.Header.Get("Authorization"); h != "" {
		cred, ok := contract.SchemeCredential(h, "Basic")
		if !ok {
			return Client{}, invalidClient("Authorization must be Basic base64(client_id:client_secret)")
		}
		u, p, ok := contract.DecodeBasic(cred)
		if !ok {
			return Client{}, invalidClient("the Basic credential is not base64(client_id:client_secret)")
		}
		var err1, err2 error
		id, err1 = url.QueryUnescape(u)
		secret, err2 = url.QueryUnescape(p)
		if err1 != nil || err2 != nil {
			return Client{}, invalidClient("the Basic credential is not form-encoded")
		}
		if postSecret != "" {
			return Client{}, oauthErr(contract.OAuthInvalidRequest, "use one client authentication method, not Basic and client_secret together")
		}
		if postID != "" && postID != id {
			return Client{}, oauthErr(contract.OAuthInvalidRequest, "client_id differs from the Basic credential")
		}
	} else {
		id, secret = postID, postSecret
		if id == "" || secret == "" {
			return Client{}, invalidClient("client authentication is required (Basic or client_id and client_secret)")
		}
	}
	c, ok, err := s.clientBySecret(r.Context(), id, secret)
	if err != nil || !ok {
		if err == nil {
			err = invalidClient("unknown client or wrong secret")
		}
		return Client{}, err
	}
	return c, nil
}

// tokenResponse is RFC 6749 §5.1's success body (PROTOCOL §6.5).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
}

// noStore sets RFC 6749 §5.1's caching headers.
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}

// handleToken serves POST /auth/v1/token: form body, client authentication, then the grant.
func handleToken(s *server) contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		noStore(w)
		form, client, err := s.clientForm(w, r)
		if err != nil {
			return err
		}
		switch gt := form.Get("grant_type"); gt {
		case "":
			return oauthErr(contract.OAuthInvalidRequest, "grant_type is missing")
		case "authorization_code":
			return s.grantAuthorizationCode(w, r, client, form)
		case "refresh_token":
			return s.grantRefreshToken(w, r, client, form)
		default:
			return oauthErr(contract.OAuthUnsupportedGrantType, "grant_type %q is not supported", gt)
		}
	}
}

// issueTokens makes the token response for u: a signed access token, an opaque refresh
// token and, with openid, an ID token; their records share grantID.
func (s *server) issueTokens(clientID string, u User, scopes []string, nonce, grantID string) (tokenResponse, []Token, error) {
	now := s.Now()
	access, rec, err := s.newAccessToken(clientID, u, scopes, now)
	if err != nil {
		return tokenResponse{}, nil, err
	}
	rec.GrantID = grantID
	refresh := contract.RandomToken()
	recs := []Token{rec, {Hash: contract.Hash(refresh), Kind: TokenRefresh, API: APIOAuth, ClientID: clientID, UserID: u.ID,
		Scopes: scopes, GrantID: grantID, IssuedAt: now, ExpiresAt: now.Add(s.RefreshTokenTTL)}}
	resp := tokenResponse{AccessToken: access, TokenType: "Bearer", ExpiresIn: int64(s.AccessTokenTTL / time.Second),
		RefreshToken: refresh, Scope: strings.Join(scopes, " ")}
	if slices.Contains(scopes, "openid") {
		if resp.IDToken, err = s.newIDToken(clientID, u, scopes, nonce, access, now); err != nil {
			return tokenResponse{}, nil, err
		}
	}
	return resp, recs, nil
}

// grantAuthorizationCode is RFC 6749 §4.1.3: the code must be known, issued to this client,
// unexpired and unused, and redirect_uri must equal the one of the authorization request
// (PROTOCOL §6.5). A replayed code revokes what it issued (§6.4).
func (s *server) grantAuthorizationCode(w http.ResponseWriter, r *http.Request, client Client, form url.Values) error {
	raw, redirectURI := form.Get("code"), form.Get("redirect_uri")
	switch {
	case raw == "":
		return oauthErr(contract.OAuthInvalidRequest, "code is missing")
	case redirectURI == "":
		return oauthErr(contract.OAuthInvalidRequest, "redirect_uri is missing")
	}
	invalid := func(msg string) error { return oauthErr(contract.OAuthInvalidGrant, "%s", msg) }
	code, refused, err := s.findCode(r, raw, client.ID)
	switch {
	case err != nil:
		return err
	case refused != "":
		return invalid(refused)
	case code.RedirectURI != redirectURI:
		return invalid("redirect_uri differs from the authorization request")
	}
	u, err := s.Store.GetUserByID(r.Context(), code.UserID)
	if errors.Is(err, ErrNotFound) {
		return invalid("the code's user no longer exists")
	}
	if err != nil {
		return err
	}
	resp, recs, err := s.issueTokens(client.ID, u, code.Scopes, code.Nonce, code.Hash)
	if err != nil {
		return err
	}
	if refused, err := s.redeemCode(r, code, recs); err != nil || refused != "" {
		if err != nil {
			return err
		}
		return invalid(refused)
	}
	s.log(r).DebugContext(r.Context(), "token issued", "grant_type", "authorization_code", "client_id", client.ID)
	contract.WriteJSON(w, http.StatusOK, resp)
	return nil
}

// grantRefreshToken is RFC 6749 §6 with rotation: the old refresh token is spent, the new
// pair keeps the grant. A scope parameter is ignored (PROTOCOL §6.2: scopes are the client's).
func (s *server) grantRefreshToken(w http.ResponseWriter, r *http.Request, client Client, form url.Values) error {
	raw := form.Get("refresh_token")
	if raw == "" {
		return oauthErr(contract.OAuthInvalidRequest, "refresh_token is missing")
	}
	invalid := func(msg string) error { return oauthErr(contract.OAuthInvalidGrant, "%s", msg) }
	hash := contract.Hash(raw)
	old, err := s.Store.GetToken(r.Context(), hash)
	switch {
	case errors.Is(err, ErrNotFound):
		return invalid("unknown refresh token")
	case err != nil:
		return err
	case old.Kind != TokenRefresh || old.API != APIOAuth || old.ClientID != client.ID:
		return invalid("the refresh token was issued to another client")
	case !old.Active(s.Now()):
		return invalid("the refresh token has expired, was revoked or was already used")
	}
	u, err := s.Store.GetUserByID(r.Context(), old.UserID)
	if errors.Is(err, ErrNotFound) {
		return invalid("the token's user no longer exists")
	}
	if err != nil {
		return err
	}
	resp, recs, err := s.issueTokens(client.ID, u, old.Scopes, "", old.GrantID)
	if err != nil {
		return err
	}
	switch err := s.Store.RotateRefreshToken(r.Context(), hash, s.Now(), recs); {
	case errors.Is(err, ErrUsed), errors.Is(err, ErrNotFound):
		return invalid("the refresh token has expired, was revoked or was already used")
	case err != nil:
		return err
	}
	s.log(r).DebugContext(r.Context(), "token issued", "grant_type", "refresh_token", "client_id", client.ID)
	contract.WriteJSON(w, http.StatusOK, resp)
	return nil
}

// ---- userinfo (OIDC Core §5.3)

// invalidToken is RFC 6750 §3.1's invalid_token: 401 with a Bearer challenge.
func invalidToken(msg string) error {
	return &contract.Error{Code: contract.OAuthInvalidToken, Message: msg, Status: http.StatusUnauthorized,
		Header: http.Header{"Www-Authenticate": {fmt.Sprintf(`Bearer realm="userinfo", error="invalid_token", error_description=%q`, msg)}}}
}

// handleUserinfo serves GET and POST /auth/v1/userinfo with a Bearer access token of the
// authorization server (or of the legacy v1 API): known, unrevoked, unexpired, with openid.
func handleUserinfo(s *server) contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		noStore(w)
		raw, ok := contract.SchemeCredential(r.Header.Get("Authorization"), "Bearer")
		if !ok {
			return invalidToken("a Bearer access token is required")
		}
		tok, err := s.Store.GetToken(r.Context(), contract.Hash(raw))
		switch {
		case errors.Is(err, ErrNotFound):
			return invalidToken("unknown access token")
		case err != nil:
			return err
		case tok.Kind != TokenAccess || (tok.API != APIOAuth && tok.API != APIV1):
			return invalidToken("not an access token of this authorization server")
		case !tok.Active(s.Now()):
			return invalidToken("the access token has expired or was revoked")
		}
		if tok.API == APIOAuth {
			if _, err := s.signer.parse(raw, s.BaseURL, s.BaseURL, s.Now); err != nil {
				return invalidToken("the access token does not verify")
			}
		}
		if !slices.Contains(tok.Scopes, "openid") {
			return &contract.Error{Code: "insufficient_scope", Message: "the token lacks the openid scope", Status: http.StatusForbidden,
				Header: http.Header{"Www-Authenticate": {`Bearer realm="userinfo", error="insufficient_scope", scope="openid"`}}}
		}
		u, err := s.Store.GetUserByID(r.Context(), tok.UserID)
		if errors.Is(err, ErrNotFound) {
			return invalidToken("the token's user no longer exists")
		}
		if err != nil {
			return err
		}
		claims := userClaims(u, tok.Scopes)
		claims["sub"] = u.ID
		contract.WriteJSON(w, http.StatusOK, claims)
		return nil
	}
}

// ---- revocation (RFC 7009, PROTOCOL §6.12)

// handleRevoke serves POST /auth/v1/revoke: an authenticated client revokes one of its
// tokens and, with it, the rest of its grant (access and refresh). Unknown tokens: 200.
func handleRevoke(s *server) contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		noStore(w)
		form, client, err := s.clientForm(w, r)
		if err != nil {
			return err
		}
		raw := form.Get("token")
		if raw == "" {
			return oauthErr(contract.OAuthInvalidRequest, "token is missing")
		}
		tok, err := s.Store.GetToken(r.Context(), contract.Hash(raw))
		switch {
		case errors.Is(err, ErrNotFound):
			w.WriteHeader(http.StatusOK)
			return nil
		case err != nil:
			return err
		case tok.ClientID != client.ID:
			return oauthErr(contract.OAuthUnauthorizedClient, "the token was issued to another client")
		}
		if _, err := s.Store.RevokeGrant(r.Context(), tok.GrantID, s.Now()); err != nil {
			return err
		}
		w.WriteHeader(http.StatusOK)
		return nil
	}
}

// ---- discovery

// handleDiscovery serves GET /.well-known/openid-configuration.
func handleDiscovery(s *server) http.HandlerFunc {
	b := s.BaseURL
	doc := map[string]any{
		"issuer":                                     b,
		"authorization_endpoint":                     b + "/auth/v1/authorize",
		"token_endpoint":                             b + "/auth/v1/token",
		"userinfo_endpoint":                          b + "/auth/v1/userinfo",
		"jwks_uri":                                   b + "/auth/v1/jwks",
		"revocation_endpoint":                        b + "/auth/v1/revoke",
		"response_types_supported":                   []string{"code", "token", "id_token", "id_token token", "none"},
		"response_modes_supported":                   []string{modeQuery, modeFragment},
		"grant_types_supported":                      []string{"authorization_code", "refresh_token", "implicit"},
		"subject_types_supported":                    []string{"public"},
		"id_token_signing_alg_values_supported":      []string{"RS256"},
		"token_endpoint_auth_methods_supported":      []string{"client_secret_basic", "client_secret_post"},
		"revocation_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"scopes_supported":                           []string{"openid", "profile", "email", "phone"},
		"claims_supported": []string{"iss", "sub", "aud", "iat", "exp", "nonce", "at_hash", "name", "given_name",
			"family_name", "preferred_username", "locale", "zoneinfo", "email", "email_verified", "phone_number",
			"phone_number_verified"},
	}
	return func(w http.ResponseWriter, r *http.Request) {
		contract.WriteJSON(w, http.StatusOK, doc)
	}
}
