package hostapp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // the key id format of PROTOCOL §6.8, not a security use
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// signer holds the authorization server's RSA key and its key id (PROTOCOL §6.8).
type signer struct {
	key  *rsa.PrivateKey
	kid  string
	jwks map[string][]jwk // the public key as GET /auth/v1/jwks answers it
}

// keyring is the authorization server's signing key, loaded from the store or made the first
// time something needs it: an RS256 signature or the JWKS. Making an RSA key takes a good
// part of a second, and the Connect flow (PROTOCOL §3) signs nothing with it, so a host app
// that only serves Connect starts without one.
type keyring struct {
	store Store
	given *rsa.PrivateKey // Config.SigningKey; nil means the stored one, or a new one
	now   func() time.Time

	mu sync.Mutex // held while the key is loaded or made, so it is made once
	s  *signer
}

// signer returns the key, loading or making it on first use. A failure is not kept: the
// next call tries again.
func (k *keyring) signer(ctx context.Context) (*signer, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.s != nil {
		return k.s, nil
	}
	// One caller going away must not fail the others waiting for the same key.
	s, err := loadSigner(context.WithoutCancel(ctx), k.store, k.given, k.now())
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	k.s = s
	return s, nil
}

// sign returns the RS256 JWT of claims with typ JWT and our kid.
func (k *keyring) sign(ctx context.Context, claims jwt.MapClaims) (string, error) {
	s, err := k.signer(ctx)
	if err != nil {
		return "", err
	}
	return s.sign(claims)
}

// parse verifies an RS256 JWT of ours (see signer.parse).
func (k *keyring) parse(ctx context.Context, raw, issuer, audience string, now func() time.Time) (jwt.MapClaims, error) {
	s, err := k.signer(ctx)
	if err != nil {
		return nil, err
	}
	return s.parse(raw, issuer, audience, now)
}

// checkKey refuses a configured key too short for RS256 (RFC 7518 §3.3).
func checkKey(key *rsa.PrivateKey) error {
	if key != nil && key.N.BitLen() < 2048 {
		return errors.New("signing key is shorter than 2048 bits")
	}
	return nil
}

// keyID is the lowercase hex SHA-1 of the DER (PKIX SubjectPublicKeyInfo) public key.
func keyID(pub *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	sum := sha1.Sum(der) //nolint:gosec // see import
	return hex.EncodeToString(sum[:]), nil
}

// loadSigner returns the configured key, else the stored one, else a new RSA 2048 key that
// it stores (of two processes making one at once, the first to store it wins; its key is used).
func loadSigner(ctx context.Context, st Store, key *rsa.PrivateKey, now time.Time) (*signer, error) {
	if key != nil {
		return newSigner(key) // newServer has checked it
	}
	for attempt := 0; attempt < 2; attempt++ {
		k, err := st.GetSigningKey(ctx)
		if err == nil {
			parsed, err := x509.ParsePKCS8PrivateKey(k.DER)
			if err != nil {
				return nil, fmt.Errorf("stored signing key %s: %w", k.ID, err)
			}
			rk, ok := parsed.(*rsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("stored signing key %s is not an RSA key", k.ID)
			}
			return newSigner(rk)
		}
		if !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		rk, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(rk)
		if err != nil {
			return nil, err
		}
		sg, err := newSigner(rk)
		if err != nil {
			return nil, err
		}
		err = st.CreateSigningKey(ctx, SigningKey{ID: sg.kid, DER: der, CreatedAt: now})
		if err == nil {
			return sg, nil
		}
		if !errors.Is(err, ErrConflict) {
			return nil, err
		}
	}
	return nil, errors.New("could not store or load a signing key")
}

// newSigner returns the signer of key, with its key id and JWKS.
func newSigner(key *rsa.PrivateKey) (*signer, error) {
	kid, err := keyID(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	pub := key.PublicKey
	return &signer{key: key, kid: kid, jwks: map[string][]jwk{"keys": {{
		Kty: "RSA", Use: "sig", Alg: "RS256", Kid: kid,
		N: base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		E: base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}}}, nil
}

// sign returns the RS256 JWT of claims with typ JWT and our kid.
func (k *signer) sign(claims jwt.MapClaims) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = k.kid
	return t.SignedString(k.key)
}

// parse verifies an RS256 JWT of ours (signature, kid, issuer, audience, expiry at now).
func (k *signer) parse(raw, issuer, audience string, now func() time.Time) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(issuer), jwt.WithAudience(audience),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithTimeFunc(now)).
		ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
			if kid, _ := t.Header["kid"].(string); kid != k.kid {
				return nil, errors.New("unknown kid")
			}
			return &k.key.PublicKey, nil
		})
	return claims, err
}

// jwk is one RFC 7517 public key.
type jwk struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// handleJWKS serves GET /auth/v1/jwks: the public key for RS256 verification.
func handleJWKS(s *server) contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		sg, err := s.keys.signer(r.Context())
		if err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		contract.WriteJSON(w, http.StatusOK, sg.jwks)
		return nil
	}
}

// tokenHash is the OIDC at_hash of an access token: the left half of its SHA-256,
// base64url (OIDC Core §3.2.2.9 for RS256).
func tokenHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}
