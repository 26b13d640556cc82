package hostapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/userdata"
)

// The endpoints the platform calls (PROTOCOL §3.7–§3.10, §7.1). They answer HTTP 200 for
// every outcome with {"error_code"} on failure (contract.Always200), except the IP filter's
// 403 (§7.6).

// connectHandler is a Connect endpoint that gets the settings read for this request.
type connectHandler func(w http.ResponseWriter, r *http.Request, st Settings) error

// settings returns the stored host settings, or the defaults when none are stored. They are
// read per request (one small row), so a PUT takes effect on the next request.
func (s *server) settings(ctx context.Context) (Settings, error) {
	st, err := s.Store.GetSettings(ctx)
	if errors.Is(err, ErrNotFound) {
		return defaultSettings(), nil
	}
	if err != nil {
		return Settings{}, fmt.Errorf("settings: %w", err)
	}
	return st, nil
}

// connect reads the settings, applies the IP filter on the caller's address (the peer
// address, or X-Forwarded-For behind a trusted proxy, PROTOCOL §7.6) and runs h.
func (s *server) connect(h connectHandler) contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		st, err := s.settings(r.Context())
		if err != nil {
			return err
		}
		f, err := contract.ParseIPFilter(st.IPAllowlist)
		if err != nil {
			return fmt.Errorf("stored ip_allowlist: %w", err)
		}
		proxies, err := contract.ParseIPFilter(st.TrustedProxies)
		if err != nil {
			return fmt.Errorf("stored trusted_proxies: %w", err)
		}
		if addr := contract.ClientAddr(r, proxies); !f.Allows(addr) {
			s.log(r).DebugContext(r.Context(), "connect call refused by IP filter", "remote_addr", r.RemoteAddr, "client_addr", addr)
			return &contract.Error{Code: contract.CodeNotAWhitelistedIP, Message: "caller address not in the allowlist", Status: http.StatusForbidden}
		}
		return h(w, r, st)
	}
}

// connectClient checks the client credential of PROTOCOL §3.7 check 1:
// "Authorization: <prefix> base64(client_id:secret)", scheme word compared
// case-insensitively, secret compared in constant time → else ACCESS_DENIED.
func (s *server) connectClient(r *http.Request, st Settings) (Client, error) {
	fail := func(msg string) error { return contract.Errorf(contract.CodeAccessDenied, "%s", msg) }
	cred, ok := contract.SchemeCredential(r.Header.Get("Authorization"), st.TokenPrefix)
	if !ok {
		return Client{}, fail("Authorization must be \"" + st.TokenPrefix + " base64(client_id:secret)\"")
	}
	id, secret, ok := contract.DecodeBasic(cred)
	if !ok {
		return Client{}, fail("the credential is not base64(client_id:secret)")
	}
	c, ok, err := s.clientBySecret(r.Context(), id, secret)
	if err != nil || !ok {
		if err == nil {
			err = fail("unknown client or wrong secret")
		}
		return Client{}, err
	}
	return c, nil
}

// clientBySecret finds a client and checks its secret, in constant time and at the same cost
// for an unknown client as for a known one. ok is false for an unknown client or a wrong
// secret alike; err is a store failure. Every client authentication of the host app (Connect,
// the token endpoint, the v1 API) goes through it.
func (s *server) clientBySecret(ctx context.Context, id, secret string) (c Client, ok bool, err error) {
	c, err = s.Store.GetClient(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		contract.Equal(contract.Hash(secret), dummySecretHash) // same cost as a known client
		return Client{}, false, nil
	case err != nil:
		return Client{}, false, err
	}
	if !contract.Equal(contract.Hash(secret), c.SecretHash) {
		return Client{}, false, nil
	}
	return c, true, nil
}

// dummySecretHash (the SHA-256 of "") is compared against for unknown clients.
const dummySecretHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// newConnectPair returns a fresh Connect access and refresh token and their records
// (PROTOCOL §6.10: opaque, 3600 s and 30 days by default).
func (s *server) newConnectPair(clientID, userID, appID, grantID string, scopes []string) (access, refresh string, recs []Token) {
	now := s.Now()
	access, refresh = contract.RandomToken(), contract.RandomToken()
	base := Token{API: APIConnect, ClientID: clientID, UserID: userID, AppID: appID, Scopes: scopes, GrantID: grantID, IssuedAt: now}
	a, rf := base, base
	a.Hash, a.Kind, a.ExpiresAt = contract.Hash(access), TokenAccess, now.Add(s.ConnectAccessTTL)
	rf.Hash, rf.Kind, rf.ExpiresAt = contract.Hash(refresh), TokenRefresh, now.Add(s.ConnectRefreshTTL)
	return access, refresh, []Token{a, rf}
}

// handleAccessToken serves POST /boxo/connect/access-token (steps 6–7, PROTOCOL §3.7,
// §3.8, §6.10): credential, body, then the code's single use.
func handleAccessToken(s *server) connectHandler {
	return func(w http.ResponseWriter, r *http.Request, st Settings) error {
		client, err := s.connectClient(r, st)
		if err != nil {
			return err
		}
		var body contract.AccessTokenRequest
		if err := contract.DecodeJSON(w, r, &body, contract.CodeInvalidRequest); err != nil {
			return err
		}
		invalid := func(msg string) error { return contract.Errorf(contract.CodeInvalidAuthCode, "%s", msg) }
		if body.AuthCode == "" {
			return invalid("auth_code is missing")
		}
		code, refused, err := s.findCode(r, body.AuthCode, client.ID)
		if err != nil {
			return err
		}
		if refused == codeExpired {
			return contract.Errorf(contract.CodeExpiredAuthCode, "%s", refused)
		}
		if refused != "" {
			return invalid(refused)
		}
		// A code bound to a PKCE challenge is redeemed only with its verifier (RFC 7636 §4.6),
		// which this call has no field for.
		if code.CodeChallenge != "" {
			return invalid("the code was issued with a PKCE code_challenge; redeem it at the token endpoint with its code_verifier")
		}
		appID := r.Header.Get(contract.HeaderMiniappAppID)
		access, refresh, recs := s.newConnectPair(client.ID, code.UserID, appID, code.Hash, code.Scopes)
		if refused, err := s.redeemCode(r, code, recs); err != nil || refused != "" {
			if err != nil {
				return err
			}
			return invalid(refused)
		}
		s.log(r).DebugContext(r.Context(), "connect tokens issued", "client_id", client.ID, "app_id", appID,
			"access_token", contract.Secret(access))
		contract.WriteJSON(w, http.StatusOK, contract.TokenPair{AccessToken: access, RefreshToken: refresh})
		return nil
	}
}

// findCode looks a code up for redemption by clientID and applies the rules that the token
// endpoint and the Connect adapter share (PROTOCOL §6.4): known, issued to this client,
// unused — a replay revokes what the code issued (RFC 6749 §4.1.2) — and unexpired. A
// refused code comes back with the reason; err is a store failure.
func (s *server) findCode(r *http.Request, raw, clientID string) (code AuthCode, refused string, err error) {
	code, err = s.Store.GetAuthCode(r.Context(), contract.Hash(raw))
	switch {
	case errors.Is(err, ErrNotFound):
		return code, "unknown code", nil
	case err != nil:
		return code, "", err
	case code.Kind != CodeKindOAuth || code.ClientID != clientID:
		return code, "the code was issued to another client", nil
	case !code.UsedAt.IsZero():
		s.revokeReplayed(r, code)
		return code, "the code was already used; the tokens it issued are revoked", nil
	case !s.Now().Before(code.ExpiresAt):
		return code, codeExpired, nil
	}
	return code, "", nil
}

// codeExpired is findCode's reason for a code that is only expired: EXPIRED_AUTH_CODE at the
// Connect adapter (contract §3.7), invalid_grant at the token endpoint.
const codeExpired = "the code has expired"

// redeemCode spends a code found by findCode and stores the tokens it issues, in one
// transaction: the single-use gate. A code spent meanwhile by a concurrent redemption is
// refused as a replay.
func (s *server) redeemCode(r *http.Request, code AuthCode, recs []Token) (refused string, err error) {
	switch err := s.Store.RedeemAuthCode(r.Context(), code.Hash, s.Now(), recs); {
	case errors.Is(err, ErrUsed):
		s.revokeReplayed(r, code)
		return "the code was already used; the tokens it issued are revoked", nil
	case errors.Is(err, ErrNotFound):
		return "unknown code", nil
	case err != nil:
		return "", err
	}
	return "", nil
}

// revokeReplayed revokes what a code issued when it is presented again (RFC 6749 §4.1.2,
// PROTOCOL §6.4). The error answer does not depend on it, so a store failure is only logged.
func (s *server) revokeReplayed(r *http.Request, code AuthCode) {
	// The revocation must happen even when the replaying caller has hung up already.
	n, err := s.Store.RevokeGrant(context.WithoutCancel(r.Context()), code.Hash, s.Now())
	if err != nil {
		s.log(r).ErrorContext(r.Context(), "revoke replayed code's tokens", "err", err)
		return
	}
	s.log(r).WarnContext(r.Context(), "auth code replayed; its tokens are revoked", "client_id", code.ClientID, "revoked", n)
}

// handleUserData serves GET and POST /boxo/connect/user-data (steps 8–9, PROTOCOL §3.9,
// §3.10). The user's data is sent as stored: the host does not validate it.
func handleUserData(s *server) connectHandler {
	return func(w http.ResponseWriter, r *http.Request, st Settings) error {
		cred, ok := contract.SchemeCredential(r.Header.Get("Authorization"), st.TokenPrefix)
		if !ok {
			return contract.Errorf(contract.CodeAccessDenied, "Authorization must be %q", st.TokenPrefix+" <access_token>")
		}
		if r.Method == http.MethodPost {
			if err := emptyOrObject(w, r); err != nil {
				return err
			}
		}
		invalid := func(msg string) error { return contract.Errorf(contract.CodeInvalidAccessToken, "%s", msg) }
		tok, err := s.Store.GetToken(r.Context(), contract.Hash(cred))
		switch {
		case errors.Is(err, ErrNotFound):
			return invalid("unknown access token")
		case err != nil:
			return err
		case tok.Kind != TokenAccess || tok.API != APIConnect:
			return invalid("not a Connect access token")
		case tok.RevokedAt.IsZero() && tok.UsedAt.IsZero() && !tok.ExpiresAt.IsZero() && !s.Now().Before(tok.ExpiresAt):
			return contract.Errorf(contract.CodeExpiredAccessToken, "access token expired")
		case !tok.Active(s.Now()):
			return invalid("access token revoked")
		}
		if appID := r.Header.Get(contract.HeaderMiniappAppID); appID != "" && tok.AppID != "" && appID != tok.AppID {
			return invalid("access token was issued for another miniapp")
		}
		u, err := s.Store.GetUserByID(r.Context(), tok.UserID)
		if errors.Is(err, ErrNotFound) {
			return contract.Errorf(contract.CodeHostappUserNotFound, "the token's user no longer exists")
		}
		if err != nil {
			return err
		}
		data, err := json.Marshal(userData(u))
		if err != nil {
			return err
		}
		if data, err = encryptFor(st, tok.AppID, data); err != nil {
			return err
		}
		contract.WriteJSON(w, http.StatusOK, contract.UserDataResponse{UserData: data})
		return nil
	}
}

// encryptFor returns the user data as step 9 sends it to the miniapp appID: the JSON object
// itself, or, when the settings switch encryption on for that miniapp, the JSON string of its
// encryption with the miniapp's key (PROTOCOL §7.2). The miniapp is the one the access token
// was issued for, which handleUserData has matched against X-Miniapp-App-ID.
func encryptFor(st Settings, appID string, data []byte) (json.RawMessage, error) {
	text, on := st.UserDataKeys[appID]
	if !on || appID == "" {
		return data, nil
	}
	key, err := userdata.ParseKey(text)
	if err != nil {
		return nil, fmt.Errorf("stored encrypted_user_data key for %s: %w", appID, err)
	}
	return json.Marshal(userdata.Encrypt(key, data))
}

// userData is the Connect profile of u (PROTOCOL §3.10): absent fields omitted.
func userData(u User) contract.UserData {
	d := contract.UserData{Reference: u.Reference, Email: u.Email, Phone: u.Phone, FirstName: u.FirstName, LastName: u.LastName}
	if u.CustomAttributes != "" {
		d.CustomAttributes = json.RawMessage(u.CustomAttributes)
	}
	return d
}

// emptyOrObject accepts a POST body that is empty or one JSON object (PROTOCOL §3.9), with
// a JSON content type or none → else INVALID_REQUEST.
func emptyOrObject(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, contract.MaxBodyBytes))
	if err != nil {
		return contract.Errorf(contract.CodeInvalidRequest, "request body is larger than %d bytes or unreadable", contract.MaxBodyBytes)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	var obj map[string]json.RawMessage
	if err := contract.DecodeJSON(w, r, &obj, contract.CodeInvalidRequest); err != nil {
		return err
	}
	if obj == nil {
		return contract.Errorf(contract.CodeInvalidRequest, "request body must be empty or a JSON object")
	}
	return nil
}

// handleRefreshToken serves POST /boxo/connect/refresh-token (PROTOCOL §7.1): the client
// credential as for the access token, then the refresh token's single use; the new access
// token is bound like the old one.
func handleRefreshToken(s *server) connectHandler {
	return func(w http.ResponseWriter, r *http.Request, st Settings) error {
		client, err := s.connectClient(r, st)
		if err != nil {
			return err
		}
		var body contract.RefreshTokenRequest
		if err := contract.DecodeJSON(w, r, &body, contract.CodeInvalidRequest); err != nil {
			return err
		}
		invalid := func(msg string) error { return contract.Errorf(contract.CodeInvalidRefreshToken, "%s", msg) }
		if body.RefreshToken == "" {
			return invalid("refresh_token is missing")
		}
		hash := contract.Hash(body.RefreshToken)
		old, err := s.Store.GetToken(r.Context(), hash)
		switch {
		case errors.Is(err, ErrNotFound):
			return invalid("unknown refresh token")
		case err != nil:
			return err
		case old.Kind != TokenRefresh || old.API != APIConnect:
			return invalid("not a Connect refresh token")
		case old.ClientID != client.ID:
			return invalid("refresh token was issued to another client")
		case !old.Active(s.Now()):
			return invalid("refresh token expired, revoked or already used")
		}
		if appID := r.Header.Get(contract.HeaderMiniappAppID); appID != "" && old.AppID != "" && appID != old.AppID {
			return invalid("refresh token was issued for another miniapp")
		}
		access, refresh, recs := s.newConnectPair(client.ID, old.UserID, old.AppID, old.GrantID, old.Scopes)
		switch err := s.Store.RotateRefreshToken(r.Context(), hash, s.Now(), recs); {
		case errors.Is(err, ErrUsed), errors.Is(err, ErrNotFound):
			return invalid("refresh token expired, revoked or already used")
		case err != nil:
			return err
		}
		s.log(r).DebugContext(r.Context(), "connect tokens refreshed", "client_id", client.ID, "access_token", contract.Secret(access))
		contract.WriteJSON(w, http.StatusOK, contract.TokenPair{AccessToken: access, RefreshToken: refresh})
		return nil
	}
}
