package userdata_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/userdata"
)

// The test vector of PROTOCOL §7.2.
const (
	vectorKey       = "u9Qd9wV0Z6Ho9_TzCYyVW_WwBJwL7KvSl4k8fmfaLyE="
	vectorIV        = "000102030405060708090a0b0c0d0e0f"
	vectorPlaintext = `{"reference":"u-42","email":"user@example.com"}`
	vectorStd       = "AAECAwQFBgcICQoLDA0OD2i86XmGKp2dXGjLJmYwvzum4nyE4LSBhRmhGpnVRQVRqcZKtdklxDdAl/6UaEg1Dw=="
	vectorURL       = "AAECAwQFBgcICQoLDA0OD2i86XmGKp2dXGjLJmYwvzum4nyE4LSBhRmhGpnVRQVRqcZKtdklxDdAl_6UaEg1Dw=="
)

func vectorKeyAndIV(t *testing.T) (userdata.Key, [16]byte) {
	t.Helper()
	k, err := userdata.ParseKey(vectorKey)
	if err != nil {
		t.Fatal(err)
	}
	var iv [16]byte
	b, _ := hex.DecodeString(vectorIV)
	copy(iv[:], b)
	return k, iv
}

func TestVectorEncrypts(t *testing.T) {
	k, iv := vectorKeyAndIV(t)
	if len(vectorPlaintext) != 47 {
		t.Fatalf("plaintext is %d bytes, PROTOCOL says 47", len(vectorPlaintext))
	}
	if got := userdata.EncryptWithIV(k, iv, []byte(vectorPlaintext)); got != vectorStd {
		t.Errorf("EncryptWithIV = %s\nwant            %s", got, vectorStd)
	}
}

func TestVectorDecryptsInEveryBase64Form(t *testing.T) {
	k, _ := vectorKeyAndIV(t)
	for name, text := range map[string]string{
		"standard":          vectorStd,
		"url-safe":          vectorURL,
		"standard unpadded": strings.TrimRight(vectorStd, "="),
		"url-safe unpadded": strings.TrimRight(vectorURL, "="),
		"surrounding space": " " + vectorStd + "\n",
	} {
		got, err := userdata.Decrypt(k, text)
		if err != nil || string(got) != vectorPlaintext {
			t.Errorf("%s: Decrypt = %q, %v; want %q", name, got, err, vectorPlaintext)
		}
	}
}

func TestEncryptUsesAFreshIVAndRoundTrips(t *testing.T) {
	k := userdata.NewKey()
	pt := []byte(`{"reference":"alice","phone":"+6591234567"}`)
	a, b := userdata.Encrypt(k, pt), userdata.Encrypt(k, pt)
	if a == b {
		t.Fatal("two encryptions of one plaintext are equal: the IV is not fresh")
	}
	for _, c := range []string{a, b} {
		if _, err := base64.StdEncoding.Strict().DecodeString(c); err != nil {
			t.Errorf("output %q is not standard padded base64: %v", c, err)
		}
		got, err := userdata.Decrypt(k, c)
		if err != nil || !bytes.Equal(got, pt) {
			t.Errorf("round trip = %q, %v", got, err)
		}
	}
}

func TestPaddingIsAlwaysAdded(t *testing.T) {
	k, iv := vectorKeyAndIV(t)
	for n := 0; n <= 48; n++ {
		c := userdata.EncryptWithIV(k, iv, bytes.Repeat([]byte{'x'}, n))
		raw, _ := base64.StdEncoding.DecodeString(c)
		if want := 16 + (n/16+1)*16; len(raw) != want {
			t.Errorf("plaintext of %d bytes: output of %d bytes, want %d", n, len(raw), want)
		}
		if got, err := userdata.Decrypt(k, c); err != nil || len(got) != n {
			t.Errorf("plaintext of %d bytes: Decrypt = %d bytes, %v", n, len(got), err)
		}
	}
}

// encryptRaw encrypts already padded blocks, so a test can produce any padding.
func encryptRaw(t *testing.T, k userdata.Key, padded []byte) string {
	t.Helper()
	var iv [16]byte
	c, err := userdata.EncryptBlocks(k, iv, padded)
	if err != nil {
		t.Fatal(err)
	}
	// The same as EncryptWithIV's output without its last block: CBC blocks depend only on
	// earlier ones.
	full, _ := base64.StdEncoding.DecodeString(userdata.EncryptWithIV(k, iv, padded))
	if want := base64.StdEncoding.EncodeToString(full[:16+len(padded)]); c != want {
		t.Fatalf("EncryptBlocks = %s, want %s", c, want)
	}
	return c
}

func TestDecryptRefuses(t *testing.T) {
	k, _ := vectorKeyAndIV(t)
	raw, _ := base64.StdEncoding.DecodeString(vectorStd)
	other, _ := userdata.ParseKey("3q2-7wABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhs=")
	var iv [16]byte // fixed: a random IV would pass the padding check by chance about once in 256 runs
	block := bytes.Repeat([]byte{'a'}, 16)
	for _, c := range []struct {
		name, text string
		want       error
	}{
		{"empty", "", userdata.ErrBase64},
		{"not base64", "not base64 at all!", userdata.ErrBase64},
		{"mixed alphabets", strings.Replace(vectorURL, "A", "+", 1), userdata.ErrBase64},
		{"wrong padding count", vectorStd + "=", userdata.ErrBase64},
		{"IV only", base64.StdEncoding.EncodeToString(raw[:16]), userdata.ErrShort},
		{"31 bytes", base64.StdEncoding.EncodeToString(raw[:31]), userdata.ErrShort},
		{"not a multiple of 16", base64.StdEncoding.EncodeToString(raw[:len(raw)-1]), userdata.ErrLength},
		{"one byte more", base64.StdEncoding.EncodeToString(append(append([]byte{}, raw...), 0)), userdata.ErrLength},
		{"wrong key", userdata.EncryptWithIV(other, iv, []byte(vectorPlaintext)), userdata.ErrPadding},
		{"padding byte 0", encryptRaw(t, k, append(append([]byte{}, block[:15]...), 0)), userdata.ErrPadding},
		{"padding byte 17", encryptRaw(t, k, append(append([]byte{}, block[:15]...), 17)), userdata.ErrPadding},
		{"padding bytes differ", encryptRaw(t, k, append(append([]byte{}, block[:13]...), 2, 3, 3)), userdata.ErrPadding},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := userdata.Decrypt(k, c.text)
			if !errors.Is(err, c.want) {
				t.Errorf("Decrypt = %q, %v; want %v", got, err, c.want)
			}
		})
	}
	// A well-formed padding of 3 still decrypts, so the refusals above are about the padding.
	if got, err := userdata.Decrypt(k, encryptRaw(t, k, append(append([]byte{}, block[:13]...), 3, 3, 3))); err != nil || len(got) != 13 {
		t.Errorf("valid padding: Decrypt = %q, %v", got, err)
	}
}

func TestEncryptBlocksRefusesPartialBlocks(t *testing.T) {
	if _, err := userdata.EncryptBlocks(userdata.NewKey(), [16]byte{}, make([]byte, 17)); err == nil {
		t.Fatal("17 bytes encrypted")
	}
}

func TestParseKey(t *testing.T) {
	k, err := userdata.ParseKey(vectorKey)
	if err != nil {
		t.Fatal(err)
	}
	if k.Text() != vectorKey {
		t.Errorf("Text = %s, want %s", k.Text(), vectorKey)
	}
	std := base64.StdEncoding.EncodeToString(k[:])
	for _, s := range []string{std, strings.TrimRight(vectorKey, "=")} {
		if k2, err := userdata.ParseKey(s); err != nil || k2 != k {
			t.Errorf("ParseKey(%q) = %v, %v", s, k2, err)
		}
	}
	for _, s := range []string{"", "short", base64.URLEncoding.EncodeToString(make([]byte, 16)), base64.URLEncoding.EncodeToString(make([]byte, 33))} {
		if _, err := userdata.ParseKey(s); !errors.Is(err, userdata.ErrKey) {
			t.Errorf("ParseKey(%q) = %v, want ErrKey", s, err)
		}
	}
}

func TestKeyPrintsMasked(t *testing.T) {
	k, _ := vectorKeyAndIV(t)
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %s", k, k)} {
		if strings.Contains(s, vectorKey[:10]) || !strings.Contains(s, "u9Qd…[44]") {
			t.Errorf("key printed as %q", s)
		}
	}
}
