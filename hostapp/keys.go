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
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// signer holds the authorization server's RSA key and its key id (PROTOCOL §6.8).
type signer struct {
	key *rsa.PrivateKey
	kid string
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
// it stores (a concurrent first start that stored one first wins; its key is used).
func loadSigner(ctx context.Context, st Store, key *rsa.PrivateKey, now time.Time) (*signer, error) {
	if key != nil {
		if key.N.BitLen() < 2048 {
			return nil, errors.New("signing key is shorter than 2048 bits")
		}
		kid, err := keyID(&key.PublicKey)
		return &signer{key: key, kid: kid}, err
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
			kid, err := keyID(&rk.PublicKey)
			return &signer{key: rk, kid: kid}, err
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
		kid, err := keyID(&rk.PublicKey)
		if err != nil {
			return nil, err
		}
		err = st.CreateSigningKey(ctx, SigningKey{ID: kid, DER: der, CreatedAt: now})
		if err == nil {
			return &signer{key: rk, kid: kid}, nil
		}
		if !errors.Is(err, ErrConflict) {
			return nil, err
		}
	}
	return nil, errors.New("could not store or load a signing key")
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
func handleJWKS(s *server) http.HandlerFunc {
	pub := s.signer.key.PublicKey
	set := map[string][]jwk{"keys": {{
		Kty: "RSA", Use: "sig", Alg: "RS256", Kid: s.signer.kid,
		N: base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		E: base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}}
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		contract.WriteJSON(w, http.StatusOK, set)
	}
}

// tokenHash is the OIDC at_hash of an access token: the left half of its SHA-256,
// base64url (OIDC Core §3.2.2.9 for RS256).
func tokenHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}
