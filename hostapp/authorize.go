package hostapp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// Response modes (PROTOCOL §6.2).
const (
	modeQuery    = "query"
	modeFragment = "fragment"
)

// authzRequest is a validated authorization request: client and redirect URI checked.
type authzRequest struct {
	client       Client
	redirectURI  string
	responseType string // normalised: "code", "token", "id_token", "id_token token" or "none"
	responseMode string // modeQuery or modeFragment
	state        string
	hasState     bool
	nonce        string

	// scope is the scope parameter as sent (the granted scopes are the client's, PROTOCOL
	// §6.2); hasScope says whether one was sent.
	scope    string
	hasScope bool
	// prompt holds the prompt values (OIDC Core §3.1.2.1), each at most once.
	prompt map[string]bool
	// maxAge is max_age in seconds, -1 when absent.
	maxAge int64
	// codeChallenge and codeChallengeMethod are the PKCE parameters (RFC 7636 §4.3), the
	// method defaulted to plain when a challenge came without one; "" without a challenge.
	codeChallenge, codeChallengeMethod string
}

// forcesSignIn reports whether the request asks for a new sign-in whatever the session:
// prompt=login, prompt=select_account (treated as login: one account per browser) or
// max_age=0 (OIDC Core §3.1.2.1: equivalent to prompt=login).
func (a authzRequest) forcesSignIn() bool {
	return a.prompt["login"] || a.prompt["select_account"] || a.maxAge == 0
}

// tooOld reports whether a sign-in at authTime is older than max_age allows at now.
func (a authzRequest) tooOld(authTime, now time.Time) bool {
	return a.maxAge >= 0 && now.Unix()-authTime.Unix() > a.maxAge
}

// authzError is an error of the authorization endpoint. Redirect is false for the errors
// that must never be redirected (unknown client, bad redirect URI, PROTOCOL §6.2 step 1).
type authzError struct {
	Code, Description string
	Redirect          bool
}

func (e *authzError) Error() string { return e.Code + ": " + e.Description }

// normaliseResponseType orders the words of a response_type so "token id_token" equals
// "id_token token"; ok is false for anything but the five values of PROTOCOL §6.3.
func normaliseResponseType(v string) (string, bool) {
	words := strings.Fields(v)
	sort.Strings(words)
	n := strings.Join(words, " ")
	switch n {
	case "code", "token", "id_token", "none", "id_token token":
		return n, true
	}
	return n, false
}

// defaultResponseMode is PROTOCOL §9.24: query for code and none, fragment for the others.
func defaultResponseMode(responseType string) string {
	switch responseType {
	case "token", "id_token", "id_token token":
		return modeFragment
	}
	return modeQuery
}

// redirectAllowed reports whether uri may receive the client's results (PROTOCOL §6.2,
// §9.23): exact string match with a registered URI, or, with RedirectMatchHost, the same
// scheme and host[:port] as one.
func redirectAllowed(c Client, uri string) bool {
	if slices.Contains(c.RedirectURIs, uri) {
		return true
	}
	if c.RedirectMatch != RedirectMatchHost {
		return false
	}
	u, err := url.Parse(uri)
	if err != nil || u.Fragment != "" || u.Host == "" {
		return false
	}
	for _, reg := range c.RedirectURIs {
		ru, err := url.Parse(reg)
		if err == nil && strings.EqualFold(ru.Scheme, u.Scheme) && strings.EqualFold(ru.Host, u.Host) {
			return true
		}
	}
	return false
}

// parseAuthz validates an authorization request in PROTOCOL §6.2's order, up to and
// including the checks on the request itself (steps 1–4). The request is returned as far
// as it was understood, so a redirectable error knows where and how to go.
func (s *server) parseAuthz(ctx context.Context, q url.Values) (authzRequest, error) {
	var a authzRequest
	for _, k := range []string{"client_id", "redirect_uri"} {
		if len(q[k]) > 1 {
			return a, &authzError{Code: contract.OAuthInvalidRequest, Description: k + " is repeated"}
		}
	}
	clientID := q.Get("client_id")
	if clientID == "" {
		return a, &authzError{Code: contract.OAuthInvalidRequest, Description: "client_id is missing"}
	}
	c, err := s.Store.GetClient(ctx, clientID)
	if errors.Is(err, ErrNotFound) {
		return a, &authzError{Code: contract.OAuthInvalidClient, Description: "unknown client_id"}
	}
	if err != nil {
		return a, err
	}
	a.client = c
	a.redirectURI = q.Get("redirect_uri")
	if a.redirectURI == "" {
		return a, &authzError{Code: contract.OAuthInvalidRequest, Description: "redirect_uri is missing"}
	}
	if !redirectAllowed(c, a.redirectURI) {
		return a, &authzError{Code: contract.OAuthInvalidRequest, Description: "redirect_uri is not registered for this client"}
	}

	// From here on, errors go back to the client (step 2).
	rt, rtOK := normaliseResponseType(q.Get("response_type"))
	a.responseType = rt
	a.responseMode = defaultResponseMode(rt)
	mode := q.Get("response_mode")
	modeOK := mode == "" || mode == modeQuery || mode == modeFragment
	if mode != "" && modeOK {
		a.responseMode = mode
	}
	a.state, a.hasState = q.Get("state"), q.Has("state")
	a.nonce = q.Get("nonce")
	redirect := func(code, desc string) error {
		return &authzError{Code: code, Description: desc, Redirect: true}
	}
	for k, vs := range q {
		if len(vs) > 1 {
			return a, redirect(contract.OAuthInvalidRequest, k+" is repeated")
		}
	}
	switch {
	case rt == "":
		return a, redirect(contract.OAuthInvalidRequest, "response_type is missing")
	case !rtOK:
		return a, redirect(contract.OAuthUnsupportedResponseType, fmt.Sprintf("response_type %q is not supported", q.Get("response_type")))
	case !modeOK:
		return a, redirect(contract.OAuthInvalidRequest, fmt.Sprintf("response_mode %q is not supported; use query or fragment", mode))
	case mode == modeQuery && defaultResponseMode(rt) == modeFragment:
		// OAuth 2.0 Multiple Response Type Encoding Practices §2.1, §3, §5: tokens never
		// travel in the query.
		a.responseMode = modeFragment
		return a, redirect(contract.OAuthInvalidRequest, fmt.Sprintf("response_mode query is not allowed with response_type %q", rt))
	case strings.Contains(rt, "id_token") && !slices.Contains(c.Scopes, "openid"):
		return a, redirect(contract.OAuthInvalidScope, "response_type id_token needs the openid scope, which this client lacks")
	// OIDC Core §6.1, §6.2: request objects are not supported (discovery says so), and
	// §3.1.2.6 gives each its own error. Dynamic registration is not either.
	case q.Has("request"):
		return a, redirect(oauthRequestNotSupported, "request objects (the request parameter) are not supported; send the parameters in the query")
	case q.Has("request_uri"):
		return a, redirect(oauthRequestURINotSupported, "request_uri is not supported; send the parameters in the query")
	case q.Has("registration"):
		return a, redirect(oauthRegistrationNotSupported, "the registration parameter is not supported")
	}
	a.scope, a.hasScope = q.Get("scope"), q.Has("scope")
	if a.prompt, err = parsePrompt(q.Get("prompt")); err != nil {
		return a, redirect(contract.OAuthInvalidRequest, err.Error())
	}
	a.maxAge = -1
	if q.Has("max_age") {
		v := q.Get("max_age")
		n, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil || n < 0 || strings.HasPrefix(v, "+") {
			return a, redirect(contract.OAuthInvalidRequest, fmt.Sprintf("max_age %q is not a number of seconds (0 or more)", v))
		}
		a.maxAge = n
	}
	// OIDC Core §3.2.2.1, §3.3.2.11: nonce is required whenever the authorization endpoint
	// returns an ID token.
	if strings.Contains(rt, "id_token") && a.nonce == "" {
		return a, redirect(contract.OAuthInvalidRequest, fmt.Sprintf("nonce is required with response_type %q", rt))
	}
	if err := a.parsePKCE(q); err != nil {
		return a, redirect(contract.OAuthInvalidRequest, err.Error())
	}
	return a, nil
}

// OpenID Connect authorization errors (OIDC Core §3.1.2.6) not in internal/contract.
const (
	oauthLoginRequired            = "login_required"
	oauthConsentRequired          = "consent_required"
	oauthRequestNotSupported      = "request_not_supported"
	oauthRequestURINotSupported   = "request_uri_not_supported"
	oauthRegistrationNotSupported = "registration_not_supported"
)

// promptValues are the prompt values this server implements (discovery lists them).
var promptValues = []string{"none", "login", "consent", "select_account"}

// parsePrompt reads a space-separated prompt (OIDC Core §3.1.2.1): known values only, and
// none alone.
func parsePrompt(v string) (map[string]bool, error) {
	p := map[string]bool{}
	for _, w := range strings.Fields(v) {
		if !slices.Contains(promptValues, w) {
			return nil, fmt.Errorf("prompt value %q is not supported; use none, login, consent or select_account", w)
		}
		p[w] = true
	}
	if p["none"] && len(p) > 1 {
		return nil, errors.New("prompt=none cannot be combined with another prompt value")
	}
	return p, nil
}

// parsePKCE reads code_challenge and code_challenge_method (RFC 7636 §4.3) and applies
// the client's require_pkce. Only the code response type binds a challenge; the others
// issue no code, but a malformed challenge is refused with any of them.
func (a *authzRequest) parsePKCE(q url.Values) error {
	cc, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case cc == "" && method != "":
		return errors.New("code_challenge_method was sent without code_challenge")
	case cc == "" && a.responseType == "code" && a.client.PKCERequired():
		return errors.New("this client must use PKCE: code_challenge is required (code_challenge_method S256)")
	case cc == "":
		return nil
	case method == "":
		method = PKCEPlain // RFC 7636 §4.3: plain when absent
	}
	switch method {
	case PKCES256:
		// BASE64URL(SHA256(verifier)) is always 43 characters of the base64url alphabet.
		if len(cc) != 43 || strings.IndexFunc(cc, func(r rune) bool { return !isBase64URL(r) }) >= 0 {
			return errors.New("code_challenge is not an S256 challenge (43 base64url characters, BASE64URL(SHA256(code_verifier)))")
		}
	case PKCEPlain:
		if !validVerifier(cc) {
			return errors.New("code_challenge must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1)")
		}
	default:
		return fmt.Errorf("code_challenge_method %q is not supported; use S256 or plain", method)
	}
	if a.responseType == "code" {
		a.codeChallenge, a.codeChallengeMethod = cc, method
	}
	return nil
}

// validVerifier reports whether v has the syntax of a code_verifier (RFC 7636 §4.1):
// 43 to 128 unreserved characters.
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, r := range v {
		if !isBase64URL(r) && r != '.' && r != '~' {
			return false
		}
	}
	return true
}

func isBase64URL(r rune) bool {
	return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_'
}

// handleAuthorize serves GET /auth/v1/authorize (PROTOCOL §6.2, §6.13): request checks,
// sign-in (forced anew by prompt=login, prompt=select_account or an exceeded max_age),
// consent (a page unless skipped or granted before, always with prompt=consent), then the
// redirect with the result. prompt=none never shows a page: what would need one is
// redirected to the client as login_required or consent_required.
func handleAuthorize(s *server) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		a, err := s.parseAuthz(r.Context(), q)
		if err != nil {
			s.authzFail(w, r, a, err)
			return
		}
		u, sess, ok, err := s.currentSession(r)
		if err != nil {
			s.authzFail(w, r, a, err)
			return
		}
		now := s.Now()
		if a.prompt["none"] {
			s.authorizeSilently(w, r, a, u, sess, ok)
			return
		}
		// Step 5: sign in first. A forced sign-in ends the session, so the sign-in cannot be
		// skipped by going back to the authorization request without signing in; the request
		// then comes back without what forced it, since the new sign-in satisfies it.
		if ok && (a.forcesSignIn() || a.tooOld(sess.CreatedAt, now)) {
			s.endSession(w, r)
			back := "/auth/v1/authorize?" + withoutReauth(q).Encode()
			http.Redirect(w, r, "/auth/v1/login?"+url.Values{"again": {"1"}, "return_to": {back}}.Encode(), http.StatusFound)
			return
		}
		if !ok {
			s.toLogin(w, r, "/auth/v1/authorize", withoutReauth(q))
			return
		}
		// Step 6: consent, unless the client skips it or the user granted its scopes before;
		// prompt=consent asks in any case.
		need, err := s.needsConsent(r.Context(), u, a.client)
		if err != nil {
			s.authzFail(w, r, a, err)
			return
		}
		if need || a.prompt["consent"] {
			s.consentPage(w, r, u, a.client, "/auth/v1/authorize", q)
			return
		}
		s.finishAuthz(w, r, a, u, sess.CreatedAt)
	}
}

// authorizeSilently answers prompt=none (OIDC Core §3.1.2.6): a code or tokens when the
// user is signed in recently enough and needs no consent page, else the error, redirected.
// interaction_required never arises: sign-in and consent are this server's only pages.
func (s *server) authorizeSilently(w http.ResponseWriter, r *http.Request, a authzRequest, u User, sess Session, signedIn bool) {
	fail := func(code, desc string) {
		s.authzFail(w, r, a, &authzError{Code: code, Description: desc, Redirect: true})
	}
	switch {
	case !signedIn:
		fail(oauthLoginRequired, "prompt=none: the user is not signed in")
		return
	case a.forcesSignIn() || a.tooOld(sess.CreatedAt, s.Now()): // with none, only max_age=0 forces
		fail(oauthLoginRequired, "prompt=none: the user signed in longer ago than max_age allows")
		return
	}
	need, err := s.needsConsent(r.Context(), u, a.client)
	if err != nil {
		s.authzFail(w, r, a, err)
		return
	}
	if need {
		fail(oauthConsentRequired, "prompt=none: the user has not authorized this client for its scopes")
		return
	}
	s.finishAuthz(w, r, a, u, sess.CreatedAt)
}

// withoutReauth returns the authorization request to come back to after a sign-in: the
// same parameters without prompt login and select_account and without max_age, which the
// fresh sign-in satisfies (and which would otherwise ask again at once).
func withoutReauth(q url.Values) url.Values {
	p := url.Values{}
	for k, vs := range q {
		p[k] = slices.Clone(vs)
	}
	p.Del("max_age")
	if p.Has("prompt") {
		var keep []string
		for _, v := range strings.Fields(p.Get("prompt")) {
			if v != "login" && v != "select_account" {
				keep = append(keep, v)
			}
		}
		if len(keep) == 0 {
			p.Del("prompt")
		} else {
			p.Set("prompt", strings.Join(keep, " "))
		}
	}
	return p
}

// handleAuthorizeDecision serves POST /auth/v1/authorize: the consent form's answer. The
// request is validated again from the form; csrf must match the session.
func handleAuthorizeDecision(s *server) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		params, decision, ok := s.readDecision(w, r)
		if !ok {
			return
		}
		a, err := s.parseAuthz(r.Context(), params)
		if err != nil {
			s.authzFail(w, r, a, err)
			return
		}
		u, sess, ok, err := s.currentSession(r)
		if err != nil {
			s.authzFail(w, r, a, err)
			return
		}
		if !ok {
			s.toLogin(w, r, "/auth/v1/authorize", withoutReauth(params))
			return
		}
		switch decision {
		case "allow":
			if err := s.grantConsent(r.Context(), u, a.client); err != nil {
				s.authzFail(w, r, a, err)
				return
			}
			s.finishAuthz(w, r, a, u, sess.CreatedAt)
		case "deny":
			s.authzFail(w, r, a, &authzError{Code: contract.OAuthAccessDenied, Description: "the user denied the request", Redirect: true})
		default:
			s.authzFail(w, r, a, &authzError{Code: contract.OAuthInvalidRequest, Description: "decision must be allow or deny", Redirect: true})
		}
	}
}

// finishAuthz issues the result (step 7) and redirects to the client. authTime is when u
// signed in (the session's start).
func (s *server) finishAuthz(w http.ResponseWriter, r *http.Request, a authzRequest, u User, authTime time.Time) {
	params, err := s.issueAuthz(r, a, u, authTime)
	if err != nil {
		s.authzFail(w, r, a, err)
		return
	}
	http.Redirect(w, r, resultURL(a, params), http.StatusFound)
}

// toLogin sends the browser to the sign-in page, to come back to path?params after.
// signedIn returns the signed-in user. Otherwise it answers the request itself, sending the
// browser to sign in (to come back to path with params) or, on a store failure, failing as
// onFail says, and reports false.
func (s *server) signedIn(w http.ResponseWriter, r *http.Request, onFail authzRequest, path string, params url.Values) (User, bool) {
	u, ok, err := s.currentUser(r)
	if err != nil {
		s.authzFail(w, r, onFail, err)
		return User{}, false
	}
	if !ok {
		s.toLogin(w, r, path, params)
		return User{}, false
	}
	return u, true
}

func (s *server) toLogin(w http.ResponseWriter, r *http.Request, path string, params url.Values) {
	back := path + "?" + params.Encode()
	http.Redirect(w, r, "/auth/v1/login?"+url.Values{"return_to": {back}}.Encode(), http.StatusFound)
}

// issueAuthz issues what the response type asks for (PROTOCOL §6.3) and returns the
// redirect parameters (state is added by resultURL).
func (s *server) issueAuthz(r *http.Request, a authzRequest, u User, authTime time.Time) (url.Values, error) {
	params := url.Values{}
	now := s.Now()
	scopes := a.client.Scopes
	switch a.responseType {
	case "none":
		return params, nil
	case "code":
		code := contract.RandomHex(20)
		err := s.Store.CreateAuthCode(r.Context(), AuthCode{
			Hash: contract.Hash(code), Kind: CodeKindOAuth, ClientID: a.client.ID, UserID: u.ID,
			RedirectURI: a.redirectURI, Nonce: a.nonce, Scopes: scopes,
			IssuedAt: now, ExpiresAt: now.Add(s.AuthCodeTTL), AuthTime: authTime,
			CodeChallenge: storedChallenge(a.codeChallenge, a.codeChallengeMethod), CodeChallengeMethod: a.codeChallengeMethod,
		})
		if err != nil {
			return nil, fmt.Errorf("create auth code: %w", err)
		}
		params.Set("code", code)
		s.log(r).DebugContext(r.Context(), "auth code issued", "client_id", a.client.ID, "user", u.Username, "code", contract.Secret(code))
		return params, nil
	}
	// Implicit: token, id_token, "id_token token".
	var access string
	if strings.Contains(a.responseType, "token") && a.responseType != "id_token" {
		var rec Token
		var err error
		access, rec, err = s.newAccessToken(r.Context(), a.client.ID, u, scopes, now)
		if err != nil {
			return nil, err
		}
		rec.GrantID = "implicit_" + contract.RandomHex(16)
		rec.AuthTime = authTime
		if err := s.Store.CreateTokens(r.Context(), []Token{rec}); err != nil {
			return nil, fmt.Errorf("store access token: %w", err)
		}
		params.Set("access_token", access)
		params.Set("expires_in", strconv.FormatInt(int64(s.AccessTokenTTL/time.Second), 10))
		// RFC 6749 §4.2.2: scope is required when the granted scope differs from the
		// requested one (here always the client's scopes, PROTOCOL §6.2).
		if !a.hasScope || !sameScopes(strings.Fields(a.scope), scopes) {
			params.Set("scope", strings.Join(scopes, " "))
		}
	}
	if strings.Contains(a.responseType, "id_token") {
		idt, err := s.newIDToken(r.Context(), a.client.ID, u, scopes, a.nonce, access, authTime, now)
		if err != nil {
			return nil, err
		}
		params.Set("id_token", idt)
		if access == "" {
			// PROTOCOL §8: for id_token alone, expires_in is the ID token's lifetime.
			params.Set("expires_in", strconv.FormatInt(int64(s.IDTokenTTL/time.Second), 10))
		}
	}
	params.Set("token_type", "Bearer")
	s.log(r).DebugContext(r.Context(), "implicit tokens issued", "client_id", a.client.ID, "response_type", a.responseType)
	return params, nil
}

// resultURL places params (and state, when it was sent) on the redirect URI per the
// response mode, keeping any query the redirect URI already has (PROTOCOL §6.2).
func resultURL(a authzRequest, params url.Values) string {
	if a.hasState {
		params.Set("state", a.state)
	}
	base, _, _ := strings.Cut(a.redirectURI, "#")
	enc := params.Encode()
	if a.responseMode == modeFragment {
		return base + "#" + enc
	}
	if enc == "" {
		return base
	}
	if strings.Contains(base, "?") {
		if strings.HasSuffix(base, "?") || strings.HasSuffix(base, "&") {
			return base + enc
		}
		return base + "&" + enc
	}
	return base + "?" + enc
}

// authzFail answers an authorization error: redirected to the client when the client and
// redirect URI were validated (PROTOCOL §6.2 step 2), else a 400 page or JSON (step 1).
func (s *server) authzFail(w http.ResponseWriter, r *http.Request, a authzRequest, err error) {
	var ae *authzError
	if !errors.As(err, &ae) {
		s.log(r).ErrorContext(r.Context(), "authorize failed", "err", err)
		ae = &authzError{Code: contract.OAuthServerError, Description: "unexpected failure", Redirect: a.redirectURI != "" && a.client.ID != ""}
	}
	s.log(r).DebugContext(r.Context(), "authorize error", "error", ae.Code, "description", ae.Description, "redirect", ae.Redirect)
	if ae.Redirect {
		params := url.Values{"error": {ae.Code}, "error_description": {ae.Description}}
		http.Redirect(w, r, resultURL(a, params), http.StatusFound)
		return
	}
	status := http.StatusBadRequest
	if ae.Code == contract.OAuthServerError {
		status = http.StatusInternalServerError
	}
	if wantsJSON(r) {
		contract.WriteJSON(w, status, map[string]string{"error": ae.Code, "error_description": ae.Description})
		return
	}
	s.page(w, r, status, "error", errorPage{Title: "Authorization error", Error: ae.Code, Description: ae.Description})
}

// errorPage is the data of the error template. Note replaces the default explanation (that
// the request was not sent back to an untrusted client).
type errorPage struct{ Title, Error, Description, Note string }

// wantsJSON reports whether the request's Accept header asks for JSON.
func wantsJSON(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		mt = strings.ToLower(strings.TrimSpace(mt))
		if mt == "application/json" || strings.HasSuffix(mt, "+json") {
			return true
		}
	}
	return false
}

// callbackPage is the data of the callback template.
type callbackPage struct{ Title, What, Note, Code, State, Error, Description string }

// handleBoxoCallback serves GET /boxo/callback, the Boxo client's redirect target: a page
// saying the code arrived (masked). The fake SDK reads the code from the Location header and
// never comes here.
func handleBoxoCallback(s *server) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		s.page(w, r, http.StatusOK, "callback", callbackPage{
			Title: "Boxo Connect callback", What: "An authorization code for the Boxo client",
			Note: "The host app hands it to the Boxo SDK (setAuthCode), which sends it to the platform.",
			Code: contract.Mask(q.Get("code")), State: q.Get("state"),
			Error: q.Get("error"), Description: q.Get("error_description"),
		})
	}
}
