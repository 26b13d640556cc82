package clock

import (
	"testing"
	"time"
)

func TestFakeAdvanceAndSet(t *testing.T) {
	start := time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)
	c := NewFake(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now = %v, want %v", got, start)
	}
	c.Advance(11 * time.Minute)
	if got, want := c.Now(), start.Add(11*time.Minute); !got.Equal(want) {
		t.Fatalf("after Advance: Now = %v, want %v", got, want)
	}
	c.Set(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("after Set: Now = %v, want %v", got, start)
	}
}

func TestRealAdvance(t *testing.T) {
	c := New()
	c.Advance(time.Hour)
	if d := c.Now().Sub(time.Now()); d < 59*time.Minute || d > 61*time.Minute {
		t.Fatalf("advanced real clock is %v ahead, want about 1h", d)
	}
}

func TestReset(t *testing.T) {
	c := NewFake(time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC))
	c.Reset()
	c2 := New()
	c2.Advance(time.Hour)
	c2.Reset()
	for _, clk := range []*Clock{c, c2} {
		if d := clk.Now().Sub(time.Now()); d > time.Second || d < -time.Second {
			t.Fatalf("after Reset the clock is %v from real time", d)
		}
		if clk.Offset() != 0 {
			t.Fatalf("after Reset the offset is %v", clk.Offset())
		}
	}
}

func TestIDTellsClocksApart(t *testing.T) {
	a, b := New(), NewFake(time.Now())
	if a.ID() == "" || a.ID() == b.ID() || a.ID() != a.ID() {
		t.Fatalf("ids %q and %q", a.ID(), b.ID())
	}
}
