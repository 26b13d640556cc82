// Package clock is the simulator's one clock. A stack's parties share one Clock, so a
// scenario that advances time moves every party at once (DESIGN.md "Time and randomness").
package clock

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"
)

// The clock's range: every instant the parties store, sign and print is representable
// inside it (Unix milliseconds, RFC 3339, JWT NumericDate), with room for lifetimes added
// to it. Set and Advance refuse to leave it.
var (
	Min = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	Max = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// ErrOutOfRange is returned by Set and Advance for a time outside [Min, Max].
var ErrOutOfRange = errors.New("out of the clock's range")

func rangeError(t time.Time) error {
	return fmt.Errorf("%s is %w: the clock can stand between %s and %s", t.Format(time.RFC3339), ErrOutOfRange,
		Min.Format(time.RFC3339), Max.Format(time.RFC3339))
}

func inRange(t time.Time) bool { return !t.Before(Min) && !t.After(Max) }

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

// Advance moves the clock forward by d (backwards when d is negative). It refuses, leaving
// the clock as it was, a move that would leave [Min, Max] (ErrOutOfRange).
func (c *Clock) Advance(d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fixed {
		next := c.t.Add(d)
		if !inRange(next) || (d > 0 && next.Before(c.t)) || (d < 0 && next.After(c.t)) {
			return fmt.Errorf("advancing by %s: %w", d, rangeError(next))
		}
		c.t = next
		return nil
	}
	off := c.offset + d
	if (d > 0 && off < c.offset) || (d < 0 && off > c.offset) { // the offset would overflow
		return fmt.Errorf("advancing by %s: %w", d, ErrOutOfRange)
	}
	if next := time.Now().UTC().Add(off); !inRange(next) {
		return fmt.Errorf("advancing by %s: %w", d, rangeError(next))
	}
	c.offset = off
	return nil
}

// Set moves the clock to t. It refuses, leaving the clock as it was, a t outside [Min, Max]
// (ErrOutOfRange).
func (c *Clock) Set(t time.Time) error {
	if !inRange(t) {
		return rangeError(t)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fixed {
		c.t = t.UTC()
		return nil
	}
	c.offset = time.Until(t)
	return nil
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
