package hostapp

import (
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	h1, err := hashPassword("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := hashPassword("s3cret")
	if h1 == h2 || strings.Contains(h1, "s3cret") {
		t.Fatalf("hashes not salted or contain the password: %q %q", h1, h2)
	}
	if !checkPassword(h1, "s3cret") || !checkPassword(h2, "s3cret") {
		t.Fatal("right password rejected")
	}
	for _, tc := range []struct{ stored, pw string }{
		{h1, "s3creT"}, {h1, ""}, {"", "s3cret"}, {"plain", "plain"}, {dummyPasswordHash, ""},
		{strings.Replace(h1, "$4096$", "$0$", 1), "s3cret"}, {strings.Replace(h1, "pbkdf2-sha256", "md5", 1), "s3cret"},
		{h1[:len(h1)-4] + "AAAA", "s3cret"}, {h1 + "$x", "s3cret"},
	} {
		if checkPassword(tc.stored, tc.pw) {
			t.Errorf("checkPassword(%q, %q) = true", tc.stored, tc.pw)
		}
	}
}
