package clock_test

import (
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/clock"
)

func TestFormatDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{500 * time.Millisecond, "500ms"},
		{12040 * time.Millisecond, "12.04s"},
		{59*time.Second + 999400*time.Microsecond, "59.999s"},
		{time.Minute - 100*time.Microsecond, "1m"},
		{time.Minute, "1m"},
		{time.Hour, "1h"},
		{time.Hour + 11*time.Minute, "1h 11m"},
		{24*time.Hour + 5*time.Second, "1d 5s"},
		{27035*time.Hour + 48*time.Minute + 12040*time.Millisecond, "1126d 11h 48m 12s"},
		{-5 * time.Minute, "-5m"},
		{-(2*24*time.Hour + 3*time.Hour), "-2d 3h"},
		{90*time.Second + 600*time.Millisecond, "1m 31s"},
	} {
		if got := clock.FormatDuration(tc.d); got != tc.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
	// The extremes do not overflow.
	for _, d := range []time.Duration{1<<63 - 1, -1 << 63} {
		if got := clock.FormatDuration(d); got == "" {
			t.Errorf("FormatDuration(%d) is empty", d)
		}
	}
}
