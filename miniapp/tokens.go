package miniapp

import (
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// authClaims are the claims of the miniapp's auth_token, a JWT signed HS256 with the key kept
// in the settings (PROTOCOL §7.1, §9.13): sub is the miniapp user id, ref the host reference,
// cid the host app's client_id, sid the session, and created whether the login that started
// the session created the user (false on every refreshed token).
type authClaims struct {
	jwt.RegisteredClaims
	Ref     string `json:"ref"`
	CID     string `json:"cid"`
	SID     string `json:"sid"`
	Created bool   `json:"created"`
}

// signAuthToken issues an auth_token for u in session sid, valid from now for AuthTokenTTL,
// issued by BaseURL to the settings' app_id.
func signAuthToken(c Config, set Settings, u User, sid string, created bool, now time.Time) (string, error) {
	claims := authClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    c.BaseURL,
			Subject:   u.ID,
			Audience:  jwt.ClaimStrings{set.AppID},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(c.AuthTokenTTL)),
		},
		Ref: u.Reference, CID: u.ClientID, SID: sid, Created: created,
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(set.SigningKey)
	if err != nil {
		return "", fmt.Errorf("sign auth token: %w", err)
	}
	return s, nil
}

// parseAuthToken verifies an auth_token: HS256 only, signed with the settings' key, issued by
// BaseURL for the settings' app_id, with an exp that has not passed on c.Now, and with sub and
// sid. Any failure is returned as an invalid_token error.
func parseAuthToken(c Config, set Settings, raw string) (*authClaims, error) {
	if raw == "" || len(raw) > contract.MaxTokenLen {
		return nil, invalidToken("the bearer token is missing or too long")
	}
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(c.BaseURL),
		jwt.WithAudience(set.AppID),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(c.Now),
	)
	var claims authClaims
	if _, err := p.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return set.SigningKey, nil }); err != nil {
		return nil, invalidToken("the auth_token is not valid: " + err.Error())
	}
	if claims.Subject == "" || claims.SID == "" {
		return nil, invalidToken("the auth_token lacks sub or sid")
	}
	return &claims, nil
}
