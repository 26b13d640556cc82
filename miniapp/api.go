package miniapp

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// handleMe is steps 14–15 (PROTOCOL §3.15, §9.32): GET /api/me with Authorization: Bearer
// <auth_token> → 200 contract.Me, where created comes from the token; a bad, expired or
// logged-out token, or a user that is gone → 401 {"error": "invalid_token"} with
// WWW-Authenticate: Bearer error="invalid_token".
func handleMe(c Config) contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx, log := r.Context(), c.logger(r)
		claims, err := authenticate(c, r)
		if err != nil {
			return refuse(log, err)
		}
		u, err := c.Store.User(ctx, claims.Subject)
		if errors.Is(err, ErrNotFound) {
			return refuse(log, invalidToken("the token's user no longer exists"))
		}
		if err != nil {
			return fmt.Errorf("load user: %w", err)
		}
		contract.WriteJSON(w, http.StatusOK, contract.Me{
			ID: u.ID, Reference: u.Reference, ClientID: u.ClientID, Email: u.Email, Phone: u.Phone,
			FirstName: u.FirstName, LastName: u.LastName, CustomAttributes: u.CustomAttributes,
			Created: &claims.Created,
		})
		return nil
	}
}

// refreshRequest is the body of POST /api/auth/refresh (PROTOCOL §7.1).
type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// handleRefresh renews a session (PROTOCOL §7.1): POST /api/auth/refresh {"refresh_token"} →
// 200 {"auth_token", "refresh_token"}. The presented refresh token is spent (single use,
// atomically) and a new one is issued for the same session; the new auth_token says
// created=false. An unknown, spent, expired or logged-out refresh token → 401
// {"error": "invalid_grant"}; a malformed body → 400 {"error": "invalid_request"}.
func handleRefresh(c Config) contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx, log := r.Context(), c.logger(r)
		var req *refreshRequest
		if err := contract.DecodeJSON(w, r, &req, contract.OAuthInvalidRequest); err != nil {
			return refuse(log, err)
		}
		if req == nil || req.RefreshToken == "" {
			return refuse(log, contract.Errorf(contract.OAuthInvalidRequest, "refresh_token is missing"))
		}
		set, err := c.Store.Settings(ctx)
		if err != nil {
			return fmt.Errorf("load miniapp settings: %w", err)
		}
		now := c.Now()
		next := contract.RandomToken()
		sess, err := c.Store.RotateRefreshToken(ctx, contract.Hash(req.RefreshToken), now,
			RefreshToken{Hash: contract.Hash(next), CreatedAt: now, ExpiresAt: now.Add(c.RefreshTokenTTL)})
		if errors.Is(err, ErrNotFound) {
			return refuse(log, invalidGrant())
		}
		if err != nil {
			return fmt.Errorf("rotate refresh token: %w", err)
		}
		u, err := c.Store.User(ctx, sess.UserID)
		if errors.Is(err, ErrNotFound) {
			return refuse(log, invalidGrant())
		}
		if err != nil {
			return fmt.Errorf("load user: %w", err)
		}
		token, err := signAuthToken(c, set, u, sess.ID, false, now)
		if err != nil {
			return err
		}
		log.DebugContext(ctx, "session refreshed", "user_id", u.ID, "session_id", sess.ID,
			"auth_token", contract.Secret(token), "refresh_token", contract.Secret(next))
		contract.WriteJSON(w, http.StatusOK, contract.MiniappTokens{AuthToken: token, RefreshToken: next})
		return nil
	}
}

// handleLogout ends the session of the presented auth_token (PROTOCOL §7.5): POST
// /api/auth/logout with Authorization: Bearer <auth_token> → 200 {"result": true}. The
// session's refresh tokens are revoked and the token no longer works on /api/me. A bad
// token, or one whose session already ended → 401 {"error": "invalid_token"}.
func handleLogout(c Config) contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx, log := r.Context(), c.logger(r)
		claims, err := authenticate(c, r)
		if err != nil {
			return refuse(log, err)
		}
		err = c.Store.EndSession(ctx, claims.SID, c.Now())
		if errors.Is(err, ErrNotFound) {
			return refuse(log, invalidToken("the session has already ended"))
		}
		if err != nil {
			return fmt.Errorf("end session: %w", err)
		}
		log.DebugContext(ctx, "session ended", "user_id", claims.Subject, "session_id", claims.SID)
		contract.WriteJSON(w, http.StatusOK, map[string]bool{"result": true})
		return nil
	}
}

// authenticate checks the request's Bearer auth_token and that its session is still active
// and belongs to the token's user. Failures are invalid_token errors.
func authenticate(c Config, r *http.Request) (*authClaims, error) {
	raw, ok := contract.SchemeCredential(r.Header.Get("Authorization"), "Bearer")
	if !ok {
		return nil, invalidToken("Authorization: Bearer <auth_token> is missing")
	}
	set, err := c.Store.Settings(r.Context())
	if errors.Is(err, ErrNotFound) {
		return nil, invalidToken("the miniapp has no settings, so no token is valid")
	}
	if err != nil {
		return nil, fmt.Errorf("load miniapp settings: %w", err)
	}
	claims, err := parseAuthToken(c, set, raw)
	if err != nil {
		return nil, err
	}
	sess, err := c.Store.Session(r.Context(), claims.SID)
	if errors.Is(err, ErrNotFound) {
		return nil, invalidToken("the token's session does not exist")
	}
	if err != nil {
		return nil, fmt.Errorf("load session: %w", err)
	}
	if !sess.Active() || sess.UserID != claims.Subject {
		return nil, invalidToken("the token's session has ended")
	}
	return claims, nil
}

// invalidToken is RFC 6750's invalid_token: 401 with WWW-Authenticate (PROTOCOL §3.15).
func invalidToken(msg string) *contract.Error {
	return &contract.Error{Code: contract.OAuthInvalidToken, Message: msg, Status: http.StatusUnauthorized,
		Header: http.Header{"Www-Authenticate": {`Bearer error="invalid_token"`}}}
}

// invalidGrant is the refresh endpoint's 401 (PROTOCOL §7.1).
func invalidGrant() *contract.Error {
	return &contract.Error{Code: contract.OAuthInvalidGrant, Status: http.StatusUnauthorized,
		Message: "the refresh token is unknown, already used, expired or revoked"}
}

// refuse logs a deliberate refusal at Debug level (its message never holds a secret) and
// returns it for the route's error form to render.
func refuse(log *slog.Logger, err error) error {
	var ce *contract.Error
	if errors.As(err, &ce) {
		log.Debug("request refused", "code", ce.Code, "reason", ce.Message)
	}
	return err
}
