package main

import (
	"strings"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

// TestPrintResultUnreachable: a connection that could not be made reads as such, not as an
// answer of the party.
func TestPrintResultUnreachable(t *testing.T) {
	t.Parallel()
	fe := &sdkstub.Error{Step: 1, Party: contract.PartyPlatform, Code: sdkstub.CodePlatformUnavailable,
		Message: "could not connect to http://127.0.0.1:9 (connection refused)", Unreachable: true}
	var b strings.Builder
	printResult(&b, &sdkstub.Result{FlowID: "flow_1"}, fe)
	if out := b.String(); !strings.Contains(out, "Flow flow_1 stopped at step 1: could not connect to http://127.0.0.1:9 (connection refused)\n") || strings.Contains(out, "answered") {
		t.Fatalf("printed:\n%s", out)
	}
}
