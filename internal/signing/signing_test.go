package signing_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/signing"
)

// The golden value was computed independently:
//
//	printf '%s' '1893488400.00112233445566778899aabbccddeeff.POST.http://127.0.0.1:8083/boxo/auth-token.{"reference":"u-42"}' |
//	  openssl dgst -sha256 -hmac 'sign-secret-1' -binary | base64
func TestSignatureGolden(t *testing.T) {
	const want = "zYzTvuwnUHxevNcqhDEAf8nUnOWKDhrriBfyhIpJuyE="
	h := signing.Sign("sign-secret-1", "post", "http://127.0.0.1:8083/boxo/auth-token", []byte(`{"reference":"u-42"}`),
		time.Unix(1893488400, 0), "00112233445566778899aabbccddeeff")
	if h.Signature != want || h.Timestamp != "1893488400" {
		t.Fatalf("Sign = %+v, want signature %s at 1893488400", h, want)
	}
	if n := signing.NewNonce(); len(n) != 32 {
		t.Fatalf("NewNonce = %q, want 32 hex digits", n)
	}
}

// receiver is a real server that verifies every request with one Verifier and answers the
// error code, or "ok".
func receiver(t *testing.T, secret string, now func() time.Time) *httptest.Server {
	t.Helper()
	v := &signing.Verifier{Now: now}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if e := v.Verify(r, body, secret); e != nil {
			io.WriteString(w, e.Code)
			return
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv
}

func send(t *testing.T, method, url string, body []byte, h signing.Headers, edit func(http.Header)) string {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	h.Apply(req.Header)
	if edit != nil {
		edit(req.Header)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

func TestVerify(t *testing.T) {
	now := time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	const secret = "sign-secret-1"
	srv := receiver(t, secret, clock)
	u := srv.URL + "/boxo/auth-token?x=1"
	body := []byte(`{"reference":"u-42"}`)

	good := signing.Sign(secret, http.MethodPost, u, body, now, "")
	if got := send(t, http.MethodPost, u, body, good, nil); got != "ok" {
		t.Fatalf("a good signature: %s", got)
	}
	if got := send(t, http.MethodPost, u, body, good, nil); got != contract.CodeSignatureValidationError {
		t.Errorf("the same nonce again: %s, want %s", got, contract.CodeSignatureValidationError)
	}
	get := signing.Sign(secret, http.MethodGet, srv.URL+"/user", nil, now, "")
	if got := send(t, http.MethodGet, srv.URL+"/user", nil, get, nil); got != "ok" {
		t.Errorf("a signed GET without a body: %s", got)
	}

	cases := []struct {
		name string
		h    signing.Headers
		body []byte
		edit func(http.Header)
		want string
	}{
		{"no signature", signing.Sign(secret, "POST", u, body, now, ""), body, func(h http.Header) { h.Del(signing.HeaderSignature) }, contract.CodeInvalidSignature},
		{"no timestamp", signing.Sign(secret, "POST", u, body, now, ""), body, func(h http.Header) { h.Del(signing.HeaderTimestamp) }, contract.CodeInvalidSignature},
		{"no nonce", signing.Sign(secret, "POST", u, body, now, ""), body, func(h http.Header) { h.Del(signing.HeaderNonce) }, contract.CodeInvalidSignature},
		{"wrong secret", signing.Sign("other", "POST", u, body, now, ""), body, nil, contract.CodeInvalidSignature},
		{"body changed", signing.Sign(secret, "POST", u, body, now, ""), []byte(`{"reference":"u-43"}`), nil, contract.CodeInvalidSignature},
		{"other URL", signing.Sign(secret, "POST", srv.URL+"/boxo/auth-token", body, now, ""), body, nil, contract.CodeInvalidSignature},
		{"other method", signing.Sign(secret, "PUT", u, body, now, ""), body, nil, contract.CodeInvalidSignature},
		{"timestamp changed", signing.Sign(secret, "POST", u, body, now, ""), body, func(h http.Header) { h.Set(signing.HeaderTimestamp, "1") }, contract.CodeInvalidSignature},
		{"stale", signing.Sign(secret, "POST", u, body, now.Add(-301*time.Second), ""), body, nil, contract.CodeSignatureValidationError},
		{"future", signing.Sign(secret, "POST", u, body, now.Add(301*time.Second), ""), body, nil, contract.CodeSignatureValidationError},
		{"at the edge", signing.Sign(secret, "POST", u, body, now.Add(-300*time.Second), ""), body, nil, "ok"},
	}
	for _, c := range cases {
		if got := send(t, http.MethodPost, u, c.body, c.h, c.edit); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}

	// A nonce leaves the replay window after ReplayWindow; a timestamp that is not a number
	// but signed is a validation error, not a wrong signature.
	mu.Lock()
	now = now.Add(signing.ReplayWindow)
	mu.Unlock()
	again := signing.Sign(secret, http.MethodPost, u, body, clock(), good.Nonce)
	if got := send(t, http.MethodPost, u, body, again, nil); got != "ok" {
		t.Errorf("a nonce after the replay window: %s", got)
	}
	odd := signing.Headers{Timestamp: "soon", Nonce: "n1",
		Signature: signing.Signature(secret, signing.Payload("soon", "n1", "POST", u, body))}
	if got := send(t, http.MethodPost, u, body, odd, nil); got != contract.CodeSignatureValidationError {
		t.Errorf("a signed timestamp that is not a number: %s", got)
	}
}
