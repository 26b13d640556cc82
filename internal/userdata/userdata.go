// Package userdata is the encryption of PROTOCOL §7.2 for the user data of steps 9–10: AES-256
// in CBC mode with PKCS#7 padding and a fresh random 16-byte IV per message, sent as base64 of
// IV || ciphertext. The host app encrypts with it, the miniapp decrypts with it, and the
// userdata command and the conformance checker use it, so every party agrees on one scheme.
package userdata

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the key length in bytes (AES-256).
const KeySize = 32

// Key is a 32-byte AES-256 key. It prints and logs masked; Text gives its exchange form.
type Key [KeySize]byte

// ErrKey is returned by ParseKey for text that is not a key.
var ErrKey = errors.New("the key must be 32 bytes written in base64 (44 characters with padding); " +
	"make one with: boxo-sim userdata key")

// ParseKey reads a key in its exchange form: URL-safe base64 with padding (PROTOCOL §7.2 item
// 1). The standard alphabet and unpadded text are accepted too, since teams copy keys between
// tools that differ in both.
func ParseKey(s string) (Key, error) {
	var k Key
	b, err := decodeBase64(strings.TrimSpace(s))
	if err != nil || len(b) != KeySize {
		return k, ErrKey
	}
	copy(k[:], b)
	return k, nil
}

// NewKey returns a fresh random key.
func NewKey() Key {
	var k Key
	_, _ = rand.Read(k[:]) // crypto/rand.Read never fails (Go 1.24+)
	return k
}

// Text is the key's exchange form: URL-safe base64 with padding, 44 characters.
func (k Key) Text() string { return base64.URLEncoding.EncodeToString(k[:]) }

// String masks the key: fmt never prints it in full.
func (k Key) String() string { return Mask(k.Text()) }

// Mask shows the first four characters of a key's text and its length, e.g. "u9Qd…[44]".
func Mask(text string) string {
	if len(text) < 12 {
		return fmt.Sprintf("…[%d]", len(text))
	}
	return fmt.Sprintf("%s…[%d]", text[:4], len(text))
}

// Encrypt encrypts plaintext (the UTF-8 JSON text of the user object) with a fresh random IV
// and returns base64 of IV || ciphertext in the standard alphabet with padding (PROTOCOL §7.2
// items 2–6 and the simulator's rule).
func Encrypt(k Key, plaintext []byte) string {
	var iv [aes.BlockSize]byte
	_, _ = rand.Read(iv[:])
	return EncryptWithIV(k, iv, plaintext)
}

// EncryptWithIV is Encrypt with a given IV. Only tests and the userdata command's --iv use it:
// an IV must never be reused with one key.
func EncryptWithIV(k Key, iv [aes.BlockSize]byte, plaintext []byte) string {
	block, _ := aes.NewCipher(k[:])                   // a 32-byte key is always valid
	n := aes.BlockSize - len(plaintext)%aes.BlockSize // PKCS#7: always 1–16 bytes
	buf := make([]byte, aes.BlockSize+len(plaintext)+n)
	copy(buf, iv[:])
	copy(buf[aes.BlockSize:], plaintext)
	for i := len(buf) - n; i < len(buf); i++ {
		buf[i] = byte(n)
	}
	cipher.NewCBCEncrypter(block, iv[:]).CryptBlocks(buf[aes.BlockSize:], buf[aes.BlockSize:])
	return base64.StdEncoding.EncodeToString(buf)
}

// EncryptBlocks encrypts padded, whose length must be a multiple of 16, as it is: no padding
// is added. It exists to build inputs with deliberately wrong padding, for testing that a
// decrypter refuses them (the conformance checker does); use Encrypt for real data.
func EncryptBlocks(k Key, iv [aes.BlockSize]byte, padded []byte) (string, error) {
	if len(padded)%aes.BlockSize != 0 {
		return "", fmt.Errorf("userdata: %d bytes are not whole blocks", len(padded))
	}
	block, _ := aes.NewCipher(k[:])
	buf := make([]byte, aes.BlockSize+len(padded))
	copy(buf, iv[:])
	cipher.NewCBCEncrypter(block, iv[:]).CryptBlocks(buf[aes.BlockSize:], padded)
	return base64.StdEncoding.EncodeToString(buf), nil
}

// Errors of Decrypt, one per rule of PROTOCOL §7.2; all of them mean INVALID_USER_DATA.
var (
	ErrBase64  = errors.New("not base64 (standard or URL-safe alphabet, with or without padding)")
	ErrShort   = errors.New("shorter than 32 bytes after base64 decoding: a 16-byte IV and at least one 16-byte block are needed")
	ErrLength  = errors.New("the ciphertext after the 16-byte IV is not a multiple of 16 bytes")
	ErrPadding = errors.New("invalid PKCS#7 padding after decryption: wrong key, or not encrypted as contract §7.2 says")
)

// Decrypt reverses Encrypt (contract §7.2 item 7): it accepts both base64 alphabets, with or
// without padding, and refuses input shorter than 32 bytes, a ciphertext that is not a
// multiple of 16 bytes, and padding that is not valid PKCS#7 (last byte 1–16, all padding
// bytes equal to it). A wrong key is nearly always caught as bad padding; the caller still
// has to check that the plaintext is the JSON it expects.
func Decrypt(k Key, text string) ([]byte, error) {
	raw, err := decodeBase64(strings.TrimSpace(text))
	if err != nil {
		return nil, ErrBase64
	}
	if len(raw) < 2*aes.BlockSize {
		return nil, ErrShort
	}
	if len(raw)%aes.BlockSize != 0 {
		return nil, ErrLength
	}
	block, _ := aes.NewCipher(k[:])
	iv, ct := raw[:aes.BlockSize], raw[aes.BlockSize:]
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(pt, ct)
	n := int(pt[len(pt)-1])
	if n < 1 || n > aes.BlockSize || !bytes.Equal(pt[len(pt)-n:], bytes.Repeat([]byte{byte(n)}, n)) {
		return nil, ErrPadding
	}
	return pt[:len(pt)-n], nil
}

// decodeBase64 decodes either alphabet, with or without padding. Text mixing the two
// alphabets ('+' or '/' together with '-' or '_') is refused.
func decodeBase64(s string) ([]byte, error) {
	if s == "" {
		return nil, ErrBase64
	}
	std, url := base64.RawStdEncoding, base64.RawURLEncoding
	if strings.HasSuffix(s, "=") {
		std, url = base64.StdEncoding, base64.URLEncoding
	}
	if strings.ContainsAny(s, "-_") {
		return url.Strict().DecodeString(s)
	}
	return std.Strict().DecodeString(s)
}
