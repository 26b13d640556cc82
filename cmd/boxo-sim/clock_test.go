package main

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/stack"
)

func getClock(t *testing.T, base string) stack.ClockState {
	t.Helper()
	resp, err := http.Get(base + "/_sim/clock")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s stack.ClockState
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// aheadBy reports how far a party's clock is ahead of real time, to the second.
func aheadBy(t *testing.T, base string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(getClock(t, base).Offset)
	if err != nil {
		t.Fatal(err)
	}
	return d.Round(time.Second)
}

// TestClockAdvanceMovesEachClockOnce runs two `up` processes, one with the host app and the
// platform (one clock) and one with the miniapp (its own clock): `clock advance 11m` must
// move both clocks by 11m, the shared one once.
func TestClockAdvanceMovesEachClockOnce(t *testing.T) {
	t.Parallel()
	a := runUpForFaults(t, "--only", "hostapp,platform")
	b := runUpForFaults(t, "--only", "miniapp")
	urls := map[string]string{"hostapp": a["hostapp"], "platform": a["platform"], "miniapp": b["miniapp"]}
	flags := urlFlags(urls)

	if getClock(t, urls["hostapp"]).ClockID != getClock(t, urls["platform"]).ClockID {
		t.Fatal("the parties of one up report different clock ids")
	}
	if getClock(t, urls["hostapp"]).ClockID == getClock(t, urls["miniapp"]).ClockID {
		t.Fatal("two up processes report the same clock id")
	}

	out := mustRun(t, append([]string{"clock", "advance", "11m"}, flags...)...)
	if !strings.Contains(out, "Advanced by 11m (2 clocks).") {
		t.Errorf("clock advance printed:\n%s", out)
	}
	for p, u := range urls {
		if d := aheadBy(t, u); d != 11*time.Minute {
			t.Errorf("%s is %v ahead of real time, want 11m (moved exactly once)", p, d)
		}
	}

	out = mustRun(t, append([]string{"clock", "advance", "1h", "--party", "miniapp"}, flags...)...)
	if !strings.Contains(out, "(1 clock)") || strings.Contains(out, "hostapp") {
		t.Errorf("clock advance --party miniapp printed:\n%s", out)
	}
	if d := aheadBy(t, urls["miniapp"]); d != 71*time.Minute {
		t.Errorf("miniapp is %v ahead, want 1h11m", d)
	}
	if d := aheadBy(t, urls["hostapp"]); d != 11*time.Minute {
		t.Errorf("hostapp moved with --party miniapp: %v ahead", d)
	}

	set := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	out = mustRun(t, append([]string{"clock", "set", set.Format(time.RFC3339)}, flags...)...)
	if !strings.Contains(out, "Set to "+set.Format(time.RFC3339)) || strings.Count(out, set.Format("2006-01-02T15:04")) < 3 {
		t.Errorf("clock set printed:\n%s", out)
	}
	for p, u := range urls {
		if d := aheadBy(t, u); d < 47*time.Hour || d > 49*time.Hour {
			t.Errorf("%s is %v ahead after set, want about 48h", p, d)
		}
	}

	out = mustRun(t, append([]string{"clock", "show"}, flags...)...)
	for _, p := range []string{"hostapp", "platform", "miniapp"} {
		if !strings.Contains(out, p+" ") {
			t.Errorf("clock show lacks %s:\n%s", p, out)
		}
	}
	if n := len(regexp.MustCompile(`  (1d 23h 59m \d+s|2d)  `).FindAllString(out, -1)); n != 3 {
		t.Errorf("clock show does not print the 48h offsets in days:\n%s", out)
	}
	var shown clockReport
	if err := json.Unmarshal([]byte(mustRun(t, append([]string{"clock", "show", "--json"}, flags...)...)), &shown); err != nil {
		t.Fatalf("clock show --json: %v", err)
	}
	if len(shown.Clocks) != 3 || shown.Moved != nil || shown.Clocks[2].Party != "miniapp" || shown.Clocks[2].ClockID != getClock(t, urls["miniapp"]).ClockID {
		t.Errorf("clock show --json = %+v", shown)
	}
	var moved clockReport
	if err := json.Unmarshal([]byte(mustRun(t, append([]string{"clock", "advance", "--json", "1m"}, flags...)...)), &moved); err != nil {
		t.Fatalf("clock advance --json: %v", err)
	}
	if moved.Moved == nil || *moved.Moved != 2 || len(moved.Clocks) != 3 {
		t.Errorf("clock advance --json = %+v", moved)
	}

	// Back to real time, then negative durations, with flags before or after them.
	for _, reset := range [][]string{{"clock", "reset"}, {"clock", "set", "now"}} {
		out = mustRun(t, append(reset, flags...)...)
		if !strings.Contains(out, "Reset to real time (2 clocks).") {
			t.Errorf("%s printed:\n%s", strings.Join(reset, " "), out)
		}
		for p, u := range urls {
			if d := aheadBy(t, u); d != 0 {
				t.Errorf("%s is %v ahead after %s, want 0", p, d, strings.Join(reset, " "))
			}
		}
		mustRun(t, append([]string{"clock", "advance", "3h"}, flags...)...)
	}
	mustRun(t, append([]string{"clock", "reset"}, flags...)...)
	out = mustRun(t, append([]string{"clock", "advance", "-5m"}, flags...)...)
	if !strings.Contains(out, "Advanced by -5m (2 clocks).") {
		t.Errorf("clock advance -5m printed:\n%s", out)
	}
	mustRun(t, append([]string{"clock", "advance", "--party", "miniapp", "-1h30m"}, flags...)...)
	mustRun(t, append(append([]string{"clock", "advance"}, flags...), "--", "-10m")...)
	if d := aheadBy(t, urls["hostapp"]); d != -15*time.Minute {
		t.Errorf("hostapp is %v ahead, want -15m", d)
	}
	if d := aheadBy(t, urls["miniapp"]); d != -(time.Hour + 45*time.Minute) {
		t.Errorf("miniapp is %v ahead, want -1h45m", d)
	}
}
