package main

import (
	"strings"
	"testing"
)

// The golden signature of internal/signing's test, computed with openssl.
func TestSignPrintsTheHeaders(t *testing.T) {
	t.Parallel()
	stdout, stderr, code := runCmd(t, t.Context(), nil, "sign", "--signing-secret", "sign-secret-1", "--body", `{"reference":"u-42"}`,
		"--timestamp", "1893488400", "--nonce", "00112233445566778899aabbccddeeff", "http://127.0.0.1:8083/boxo/auth-token")
	if code != 0 || !strings.Contains(stdout, "X-Signature: zYzTvuwnUHxevNcqhDEAf8nUnOWKDhrriBfyhIpJuyE=\n") ||
		!strings.Contains(stdout, `1893488400.00112233445566778899aabbccddeeff.POST.http://127.0.0.1:8083/boxo/auth-token.{"reference":"u-42"}`) {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if strings.Contains(stdout, "sign-secret-1") {
		t.Errorf("sign printed the secret: %s", stdout)
	}
	for _, args := range [][]string{
		{"sign", "http://127.0.0.1:8083/x"},                                    // no secret
		{"sign", "--signing-secret", "s", "/boxo/auth-token"},                  // not a full URL
		{"sign", "--signing-secret", "s", "--timestamp", "soon", "http://h/x"}, // not Unix seconds
	} {
		if _, stderr, code := runCmd(t, t.Context(), nil, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2: %s", args, code, stderr)
		}
	}
}
