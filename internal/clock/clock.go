// Package clock is the simulator's one clock. A stack's parties share one Clock, so a
// scenario that advances time moves every party at once (DESIGN.md "Time and randomness").
package clock

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"
)

// Clock is a settable clock. Its zero value is not usable; use New or NewFake.
type Clock struct {
	id     string // tells clocks apart, e.g. across the parties of separate processes
	mu     sync.Mutex
	fixed  bool          // true: time stands still except when moved
	t      time.Time     // the fixed instant, when fixed
	offset time.Duration // added to the real time, when not fixed
}

// New returns a clock that follows real time and can be moved forward.
func New() *Clock { return &Clock{id: newID()} }

// NewFake returns a clock that stands at t until it is advanced or set.
func NewFake(t time.Time) *Clock { return &Clock{id: newID(), fixed: true, t: t.UTC()} }

// ID identifies this clock: parties that report the same ID share it, so moving it once
// moves them all.
func (c *Clock) ID() string { return c.id }

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

// Now returns the clock's current time, in UTC.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fixed {
		return c.t
	}
	return time.Now().UTC().Add(c.offset)
}

// Advance moves the clock forward by d (backwards when d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fixed {
		c.t = c.t.Add(d)
		return
	}
	c.offset += d
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fixed {
		c.t = t.UTC()
		return
	}
	c.offset = time.Until(t)
}

// Reset makes the clock follow real time again, with no offset.
func (c *Clock) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fixed, c.offset = false, 0
}

// Offset reports how far the clock is from real time.
func (c *Clock) Offset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fixed {
		return time.Until(c.t)
	}
	return c.offset
}
