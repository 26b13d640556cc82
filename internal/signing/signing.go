// Package signing is the simulator's request-signing profile (PROTOCOL §7.8), shared by every
// party that signs or verifies a call: HMAC-SHA256 over the payload template
// "{timestamp}.{nonce}.{request_method}.{url}.{payload}", where {url} is the full request URL
// and {payload} the raw body (empty for GET); the timestamp in Unix seconds; a 16-byte hex
// nonce; the signature in standard base64, sent under Boxo's default header map.
//
// A receiver refuses a request whose signature is missing or wrong with INVALID_SIGNATURE,
// and one whose signature is right but whose timestamp is more than MaxSkew from its clock,
// or whose nonce it saw within ReplayWindow, with SIGNATURE_VALIDATION_ERROR (§5.1).
package signing

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// Boxo's default header map (PROTOCOL §7.8).
const (
	HeaderSignature = "X-Signature"
	HeaderTimestamp = "X-Timestamp"
	HeaderNonce     = "X-Nonce"
	HeaderIdentity  = "X-Identity"
	HeaderClientID  = "X-Client-Id"
)

// The profile's windows (PROTOCOL §7.8).
const (
	// MaxSkew is how far a request's timestamp may be from the receiver's clock.
	MaxSkew = 300 * time.Second
	// ReplayWindow is how long a receiver remembers a nonce.
	ReplayWindow = 10 * time.Minute
	// maxNonceLen bounds a received nonce; the profile sends 32 hex digits.
	maxNonceLen = 128
	// maxRemembered bounds the nonces one Verifier keeps, so a flood cannot exhaust memory;
	// past it the oldest are forgotten first.
	maxRemembered = 100_000
)

// Headers are the signing headers of one request.
type Headers struct {
	Signature string
	Timestamp string
	Nonce     string
	// Identity and ClientID are sent when non-empty; the profile's payload does not cover
	// them. The simulator sends the signer's party name and the host app's client_id.
	Identity string
	ClientID string
}

// Apply sets h's signing headers.
func (s Headers) Apply(h http.Header) {
	h.Set(HeaderSignature, s.Signature)
	h.Set(HeaderTimestamp, s.Timestamp)
	h.Set(HeaderNonce, s.Nonce)
	if s.Identity != "" {
		h.Set(HeaderIdentity, s.Identity)
	}
	if s.ClientID != "" {
		h.Set(HeaderClientID, s.ClientID)
	}
}

// Payload is the profile's string to sign.
func Payload(timestamp, nonce, method, url string, body []byte) string {
	return timestamp + "." + nonce + "." + strings.ToUpper(method) + "." + url + "." + string(body)
}

// Signature is base64(HMAC-SHA256(secret, payload)), standard alphabet with padding.
func Signature(secret, payload string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(payload))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// NewNonce returns 16 random bytes as 32 hex digits.
func NewNonce() string { return contract.RandomHex(16) }

// Sign signs a request at instant now with a fresh nonce; nonce "" means a fresh one.
func Sign(secret, method, url string, body []byte, now time.Time, nonce string) Headers {
	if nonce == "" {
		nonce = NewNonce()
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	return Headers{Timestamp: ts, Nonce: nonce, Signature: Signature(secret, Payload(ts, nonce, method, url, body))}
}

// RequestURL is the full URL a receiver was called at, as the sender wrote it: the scheme
// (https when the connection is TLS), the Host header and the request target.
func RequestURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.RequestURI()
}

// Verifier checks signed requests and remembers their nonces. It is safe for concurrent use;
// one Verifier per receiving party, so a nonce is refused the second time that party sees it.
type Verifier struct {
	Now func() time.Time // nil means time.Now

	mu    sync.Mutex
	seen  map[string]time.Time // nonce → when first accepted
	order []string             // nonces in acceptance order, for pruning
}

// Verify checks the signing headers of r, whose body is body, against secret. It returns nil,
// or a *contract.Error with INVALID_SIGNATURE (a header missing, the signature wrong) or
// SIGNATURE_VALIDATION_ERROR (a timestamp that is not a number or is more than MaxSkew away,
// a nonce seen within ReplayWindow). The signature is compared in constant time; the nonce is
// remembered only when everything else holds.
func (v *Verifier) Verify(r *http.Request, body []byte, secret string) *contract.Error {
	sig, ts, nonce := r.Header.Get(HeaderSignature), r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderNonce)
	invalid := func(format string, args ...any) *contract.Error {
		return contract.Errorf(contract.CodeInvalidSignature, format, args...)
	}
	for _, h := range []struct{ name, v string }{{HeaderSignature, sig}, {HeaderTimestamp, ts}, {HeaderNonce, nonce}} {
		if h.v == "" {
			return invalid("the request carries no %s header (request signing is on)", h.name)
		}
	}
	if len(nonce) > maxNonceLen {
		return invalid("%s is longer than %d characters", HeaderNonce, maxNonceLen)
	}
	want := Signature(secret, Payload(ts, nonce, r.Method, RequestURL(r), body))
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return invalid("%s does not match the payload %s (contract §7.8)", HeaderSignature, "{timestamp}.{nonce}.{request_method}.{url}.{payload}")
	}
	now := v.now()
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return contract.Errorf(contract.CodeSignatureValidationError, "%s %q is not a Unix time in seconds", HeaderTimestamp, ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > MaxSkew || d < -MaxSkew {
		return contract.Errorf(contract.CodeSignatureValidationError, "%s is %s from the receiver's clock; at most %s is allowed", HeaderTimestamp, d.Round(time.Second).Abs(), MaxSkew)
	}
	if !v.remember(nonce, now) {
		return contract.Errorf(contract.CodeSignatureValidationError, "%s was already used within the last %s", HeaderNonce, ReplayWindow)
	}
	return nil
}

func (v *Verifier) now() time.Time {
	if v.Now == nil {
		return time.Now()
	}
	return v.Now()
}

// remember records nonce at now and reports whether it was new within ReplayWindow.
func (v *Verifier) remember(nonce string, now time.Time) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.seen == nil {
		v.seen = map[string]time.Time{}
	}
	// Forget what left the window (acceptance order is the clock's order, give or take a
	// clock moved back, which only keeps a nonce longer).
	for len(v.order) > 0 {
		at, ok := v.seen[v.order[0]]
		if ok && now.Sub(at) < ReplayWindow && len(v.order) < maxRemembered {
			break
		}
		delete(v.seen, v.order[0])
		v.order = v.order[1:]
	}
	if at, ok := v.seen[nonce]; ok && now.Sub(at) < ReplayWindow {
		return false
	}
	v.seen[nonce] = now
	v.order = append(v.order, nonce)
	return true
}

// VerifyRequest is a receiving party's check of a platform call (PROTOCOL §7.8): nothing when
// signing is off; MISSING_REQUEST_SIGNATURE_SETTINGS when it is on without a secret; else
// Verify over the body, which is read (at most contract.MaxBodyBytes) and put back for the
// handler.
func (v *Verifier) VerifyRequest(w http.ResponseWriter, r *http.Request, enabled bool, secret string) *contract.Error {
	if !enabled {
		return nil
	}
	if secret == "" {
		return contract.Errorf(contract.CodeMissingRequestSignatureSettings, "request signing is on but no signing secret is set (PUT /_sim/settings)")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, contract.MaxBodyBytes))
	if err != nil {
		return contract.Errorf(contract.CodeInvalidRequest, "request body is larger than %d bytes or unreadable", contract.MaxBodyBytes)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return v.Verify(r, body, secret)
}
