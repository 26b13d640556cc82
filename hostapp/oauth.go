package hostapp

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
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
func (s *server) newAccessToken(ctx context.Context, clientID string, u User, scopes []string, now time.Time) (string, Token, error) {
	exp := now.Add(s.AccessTokenTTL)
	raw, err := s.keys.sign(ctx, jwt.MapClaims{
		"iss": s.BaseURL, "sub": u.ID, "aud": s.BaseURL, "iat": now.Unix(), "exp": exp.Unix(),
		"client_id": clientID, "scope": strings.Join(scopes, " "), "jti": contract.RandomHex(16),
	})
	if err != nil {
		return "", Token{}, fmt.Errorf("sign access token: %w", err)
	}
	return raw, Token{Hash: contract.Hash(raw), Kind: TokenAccess, API: APIOAuth, ClientID: clientID, UserID: u.ID,
		Scopes: scopes, IssuedAt: now, ExpiresAt: exp}, nil
}

// newIDToken signs an RS256 ID token for clientID: the user's claims for scopes, auth_time
// (when the user signed in; left out only for a grant stored before it was recorded), nonce
// when one was sent, at_hash when an access token goes with it.
func (s *server) newIDToken(ctx context.Context, clientID string, u User, scopes []string, nonce, accessToken string, authTime, now time.Time) (string, error) {
	claims := jwt.MapClaims{"iss": s.BaseURL, "sub": u.ID, "aud": clientID, "iat": now.Unix(), "exp": now.Add(s.IDTokenTTL).Unix()}
	if !authTime.IsZero() {
		claims["auth_time"] = authTime.Unix()
	}
	for k, v := range userClaims(u, scopes) {
		claims[k] = v
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	if accessToken != "" {
		claims["at_hash"] = tokenHash(accessToken)
	}
	raw, err := s.keys.sign(ctx, claims)
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

// tokenClient authenticates the client (RFC 6749 §2.3.1, PROTOCOL §6.13) by the one method
// it is registered for: client_secret_basic (id and secret form-encoded inside Basic),
// client_secret_post (client_id and client_secret in the form) or none (client_id alone,
// a public client). Any other presentation, or a wrong secret, is invalid_client.
func (s *server) tokenClient(r *http.Request, form url.Values) (Client, error) {
	var id, secret, method string
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
		if form.Has("client_secret") {
			return Client{}, oauthErr(contract.OAuthInvalidRequest, "use one client authentication method, not Basic and client_secret together")
		}
		if postID != "" && postID != id {
			return Client{}, oauthErr(contract.OAuthInvalidRequest, "client_id differs from the Basic credential")
		}
		method = AuthClientSecretBasic
	} else {
		id, secret = postID, postSecret
		switch {
		case id == "":
			return Client{}, invalidClient("client authentication is required (Basic, client_id and client_secret, or client_id alone for a public client)")
		case form.Has("client_secret"):
			method = AuthClientSecretPost
		default:
			method = AuthNone
		}
	}
	if method == AuthNone {
		c, err := s.Store.GetClient(r.Context(), id)
		switch {
		case errors.Is(err, ErrNotFound):
			return Client{}, invalidClient("unknown client")
		case err != nil:
			return Client{}, err
		case c.TokenAuthMethod() != AuthNone:
			return Client{}, invalidClient(fmt.Sprintf("client authentication is required: this client uses %s", c.TokenAuthMethod()))
		}
		return c, nil
	}
	c, ok, err := s.clientBySecret(r.Context(), id, secret)
	if err != nil || !ok {
		if err == nil {
			err = invalidClient("unknown client or wrong secret")
		}
		return Client{}, err
	}
	if c.TokenAuthMethod() != method {
		return Client{}, invalidClient(fmt.Sprintf("this client authenticates with %s, not %s", c.TokenAuthMethod(), method))
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
// token and, with openid, an ID token; their records share grantID and authTime (the
// sign-in behind the grant).
func (s *server) issueTokens(ctx context.Context, clientID string, u User, scopes []string, nonce, grantID string, authTime time.Time) (tokenResponse, []Token, error) {
	now := s.Now()
	access, rec, err := s.newAccessToken(ctx, clientID, u, scopes, now)
	if err != nil {
		return tokenResponse{}, nil, err
	}
	rec.GrantID, rec.AuthTime = grantID, authTime
	refresh := contract.RandomToken()
	recs := []Token{rec, {Hash: contract.Hash(refresh), Kind: TokenRefresh, API: APIOAuth, ClientID: clientID, UserID: u.ID,
		Scopes: scopes, GrantID: grantID, IssuedAt: now, ExpiresAt: now.Add(s.RefreshTokenTTL), AuthTime: authTime}}
	resp := tokenResponse{AccessToken: access, TokenType: "Bearer", ExpiresIn: int64(s.AccessTokenTTL / time.Second),
		RefreshToken: refresh, Scope: strings.Join(scopes, " ")}
	if slices.Contains(scopes, "openid") {
		if resp.IDToken, err = s.newIDToken(ctx, clientID, u, scopes, nonce, access, authTime, now); err != nil {
			return tokenResponse{}, nil, err
		}
	}
	return resp, recs, nil
}

// grantAuthorizationCode is RFC 6749 §4.1.3: the code must be known, issued to this client,
// unexpired and unused, and redirect_uri must equal the one of the authorization request
// (PROTOCOL §6.5). A replayed code revokes what it issued (§6.4). PKCE (RFC 7636 §4.6): a
// code issued with a code_challenge needs the matching code_verifier, and a code_verifier
// for a code issued without one is refused. A refused verifier does not spend the code, as
// a wrong redirect_uri does not.
func (s *server) grantAuthorizationCode(w http.ResponseWriter, r *http.Request, client Client, form url.Values) error {
	raw, redirectURI := form.Get("code"), form.Get("redirect_uri")
	verifier, hasVerifier := form.Get("code_verifier"), form.Has("code_verifier")
	switch {
	case raw == "":
		return oauthErr(contract.OAuthInvalidRequest, "code is missing")
	case redirectURI == "":
		return oauthErr(contract.OAuthInvalidRequest, "redirect_uri is missing")
	case hasVerifier && !validVerifier(verifier):
		return oauthErr(contract.OAuthInvalidRequest, "code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1)")
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
	case code.CodeChallenge == "" && hasVerifier:
		return invalid("code_verifier was sent, but the authorization request had no code_challenge")
	case code.CodeChallenge != "" && !hasVerifier:
		return invalid("code_verifier is required: the authorization request had a code_challenge")
	case code.CodeChallenge != "" && !contract.Equal(storedChallenge(challengeOf(verifier, code.CodeChallengeMethod), code.CodeChallengeMethod), code.CodeChallenge):
		return invalid("code_verifier does not match the code_challenge")
	}
	u, err := s.Store.GetUserByID(r.Context(), code.UserID)
	if errors.Is(err, ErrNotFound) {
		return invalid("the code's user no longer exists")
	}
	if err != nil {
		return err
	}
	resp, recs, err := s.issueTokens(r.Context(), client.ID, u, code.Scopes, code.Nonce, code.Hash, code.AuthTime)
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
	resp, recs, err := s.issueTokens(r.Context(), client.ID, u, old.Scopes, "", old.GrantID, old.AuthTime)
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

// challengeOf computes the code_challenge that verifier answers with method (RFC 7636 §4.2).
func challengeOf(verifier, method string) string {
	if method == PKCES256 {
		sum := sha256.Sum256([]byte(verifier))
		return base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return verifier
}

// storedChallenge is how a code keeps its challenge: an S256 challenge as sent (a hash of
// the verifier already), a plain one (the verifier itself) as its contract.Hash.
func storedChallenge(challenge, method string) string {
	if challenge == "" || method == PKCES256 {
		return challenge
	}
	return contract.Hash(challenge)
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
			// RFC 6750 §3.1: a request without credentials gets the challenge and no error code.
			w.Header().Set("WWW-Authenticate", `Bearer realm="userinfo"`)
			w.WriteHeader(http.StatusUnauthorized)
			return nil
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
			if _, err := s.keys.parse(r.Context(), raw, s.BaseURL, s.BaseURL, s.Now); err != nil {
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

// pkceMethods are the code_challenge_method values accepted (RFC 7636 §4.3).
var pkceMethods = []string{PKCES256, PKCEPlain}

// authMethodsInUse lists, in a fixed order, the token_endpoint_auth_method values some
// registered client uses; client_secret_basic, the default, when there is no client.
func authMethodsInUse(clients []Client) []string {
	var out []string
	for _, m := range []string{AuthClientSecretBasic, AuthClientSecretPost, AuthNone} {
		if slices.ContainsFunc(clients, func(c Client) bool { return c.TokenAuthMethod() == m }) {
			out = append(out, m)
		}
	}
	if out == nil {
		out = []string{AuthClientSecretBasic}
	}
	return out
}

// handleDiscovery serves GET /.well-known/openid-configuration (OpenID Connect Discovery
// 1.0 §3). It advertises exactly what the server does; in particular the client
// authentication methods are those some registered client uses, read per request.
func handleDiscovery(s *server) http.HandlerFunc {
	b := s.BaseURL
	base := map[string]any{
		"issuer":                                b,
		"authorization_endpoint":                b + "/auth/v1/authorize",
		"token_endpoint":                        b + "/auth/v1/token",
		"userinfo_endpoint":                     b + "/auth/v1/userinfo",
		"jwks_uri":                              b + "/auth/v1/jwks",
		"revocation_endpoint":                   b + "/auth/v1/revoke",
		"response_types_supported":              []string{"code", "token", "id_token", "id_token token", "none"},
		"response_modes_supported":              []string{modeQuery, modeFragment},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token", "implicit"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      pkceMethods,
		"prompt_values_supported":               promptValues,
		"scopes_supported":                      []string{"openid", "profile", "email", "phone"},
		"claims_supported": []string{"iss", "sub", "aud", "iat", "exp", "auth_time", "nonce", "at_hash", "name", "given_name",
			"family_name", "preferred_username", "locale", "zoneinfo", "email", "email_verified", "phone_number",
			"phone_number_verified"},
		"claims_parameter_supported":       false,
		"request_parameter_supported":      false,
		"request_uri_parameter_supported":  false,
		"require_request_uri_registration": false,
	}
	return func(w http.ResponseWriter, r *http.Request) {
		clients, err := s.Store.ListClients(r.Context())
		if err != nil {
			s.log(r).ErrorContext(r.Context(), "discovery: list clients", "err", err)
			contract.WriteOAuthError(w, &contract.Error{Code: contract.OAuthServerError, Message: "unexpected failure", Status: http.StatusInternalServerError})
			return
		}
		doc := maps.Clone(base)
		methods := authMethodsInUse(clients)
		doc["token_endpoint_auth_methods_supported"] = methods
		doc["revocation_endpoint_auth_methods_supported"] = methods
		contract.WriteJSON(w, http.StatusOK, doc)
	}
}
