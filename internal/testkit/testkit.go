// Package testkit holds what the tests of several packages share: one RSA signing key per
// test binary, since generating one is slow (STYLE.md "Time and randomness"), and a buffer
// that several servers' loggers can write to at once. Test code only.
package testkit

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"sync"
)

// SigningKey returns the test binary's one RSA 2048 key, made on first use.
var SigningKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// Buffer is a bytes.Buffer safe for concurrent writers and readers.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
