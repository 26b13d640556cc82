package sqlite

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/platform"
)

// TestNewFlowOutcomeAgreesWithTheStoredRule records random sets of steps two ways: as a new
// flow in one record (its outcome computed from the steps in hand) and onto a flow that
// already exists (its outcome recomputed by the database from the stored steps). Both must
// give the same outcome and error code.
func TestNewFlowOutcomeAgreesWithTheStoredRule(t *testing.T) {
	db := openTestDB(t)
	rng := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)
	codes := []string{"A", "B", "C", "D"}
	for i := range 400 {
		mode := []string{platform.ModeConnect, platform.ModeDirect}[rng.IntN(2)]
		var steps []contract.FlowStep
		for range rng.IntN(6) {
			st := contract.FlowStep{Step: 1 + rng.IntN(16), Outcome: contract.OutcomeOK,
				StartedAt: t0.Add(time.Duration(rng.IntN(4)) * 700 * time.Microsecond), Actor: "a", Call: "c"}
			if rng.IntN(3) == 0 {
				st.Outcome, st.ErrorCode = contract.OutcomeFailed, codes[rng.IntN(len(codes))]
			}
			steps = append(steps, st)
		}
		fresh := platform.FlowRecord{FlowID: fmt.Sprintf("fresh-%d", i), Mode: mode, StartedAt: t0, Steps: steps}
		if err := db.RecordFlow(t.Context(), fresh); err != nil {
			t.Fatal(err)
		}
		again := platform.FlowRecord{FlowID: fmt.Sprintf("again-%d", i), Mode: mode, StartedAt: t0}
		if err := db.RecordFlow(t.Context(), again); err != nil {
			t.Fatal(err)
		}
		again.Steps = steps
		if err := db.RecordFlow(t.Context(), again); err != nil {
			t.Fatal(err)
		}
		a, err := db.GetFlow(t.Context(), fresh.FlowID)
		if err != nil {
			t.Fatal(err)
		}
		b, err := db.GetFlow(t.Context(), again.FlowID)
		if err != nil {
			t.Fatal(err)
		}
		if a.Outcome != b.Outcome || a.ErrorCode != b.ErrorCode {
			t.Fatalf("%s flow with steps %+v: new flow %s/%q, existing flow %s/%q", mode, steps, a.Outcome, a.ErrorCode, b.Outcome, b.ErrorCode)
		}
	}
}
