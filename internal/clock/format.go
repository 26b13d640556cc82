package clock

import (
	"strconv"
	"strings"
	"time"
)

// FormatDuration writes d for people: days, hours, minutes and seconds, leaving out the
// parts that are zero ("1126d 11h 48m 12s", "1h 11m", "-5m"). From a minute up, d is
// rounded to the second; below it, to the millisecond as Go writes it ("12.04s", "500ms").
// Configuration and the JSON APIs keep Go's own form (time.ParseDuration reads it); this
// one is for output only.
func FormatDuration(d time.Duration) string {
	if d < 0 {
		if d == time.Duration(-1<<63) { // -d would overflow
			d++
		}
		return "-" + FormatDuration(-d)
	}
	if r := d.Round(time.Millisecond); r < time.Minute {
		return r.String()
	}
	d = d.Round(time.Second)
	var parts []string
	for _, u := range []struct {
		unit   time.Duration
		suffix string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.unit; n > 0 {
			parts = append(parts, strconv.FormatInt(int64(n), 10)+u.suffix)
			d -= n * u.unit
		}
	}
	return strings.Join(parts, " ")
}
