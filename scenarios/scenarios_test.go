package scenarios_test

import (
	"path/filepath"
	"testing"

	"github.com/boxo-sim/boxo-sim/scenarios"
)

// TestScenarios runs every file of the library as a parallel subtest, each on its own stack.
func TestScenarios(t *testing.T) {
	t.Parallel()
	scs, err := scenarios.Load("library")
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range scs {
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			r := scenarios.RunOne(t.Context(), sc, testOptions(t))
			if r.Status != scenarios.Passed {
				t.Fatalf("%s %s\n%s", r.Status, filepath.Base(r.File), r.Details())
			}
		})
	}
}
