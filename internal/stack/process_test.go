package stack_test

import (
	"net/http"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/stack"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

// TestProcessStatsOnEveryParty: every party answers GET /_sim/process with the figures of the
// one process serving the three, and they grow as the process works.
func TestProcessStatsOnEveryParty(t *testing.T) {
	st, _ := startStack(t)
	var first stack.ProcessStats
	for i, p := range stack.Parties {
		got := decode[stack.ProcessStats](t, admin(t, http.MethodGet, partyURL(st, p)+"/_sim/process", nil))
		if !got.Measured || got.CPUSeconds <= 0 || got.MaxRSSBytes < 1<<20 || got.PID == 0 || got.Instance == "" {
			t.Fatalf("%s: %+v", p, got)
		}
		if i == 0 {
			first = got
		} else if got.Instance != first.Instance || got.PID != first.PID {
			t.Fatalf("%s answers process %s/%d, the %s %s/%d", p, got.Instance, got.PID, stack.Parties[0], first.Instance, first.PID)
		}
	}
	sdk, err := st.SDK(nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, err := sdk.Connect(t.Context(), sdkstub.Options{User: "carol", NoTrace: true}); err != nil {
			t.Fatal(err)
		}
	}
	if later := decode[stack.ProcessStats](t, admin(t, http.MethodGet, st.PlatformURL+"/_sim/process", nil)); later.CPUSeconds <= first.CPUSeconds {
		t.Fatalf("CPU time did not grow over five flows: %v then %v", first.CPUSeconds, later.CPUSeconds)
	}
}
