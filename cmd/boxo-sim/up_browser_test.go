package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// TestUpSaysWhereToOpenTheDemo: up tells a person where the demo and the console are, and
// the demo page answers there.
func TestUpSaysWhereToOpenTheDemo(t *testing.T) {
	t.Parallel()
	up := startUp(t, allPorts0...)
	out := up.out.String()
	for _, want := range []string{
		"In a browser:\n",
		"  demo      open " + up.urls["hostapp"] + "/ and sign in as carol / carol-password\n",
		"  console   " + up.urls["platform"] + "/\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("up's output lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "In a browser:") > strings.Index(out, "Serving.") {
		t.Errorf("the browser lines come after Serving:\n%s", out)
	}
	res, err := http.Get(up.urls["hostapp"] + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(b), `id="signin"`) {
		t.Errorf("the demo page: %d %s", res.StatusCode, b)
	}
}

// TestTracePrintsTheFlowNote: a flow the SDK never reported says so in trace.
func TestTracePrintsTheFlowNote(t *testing.T) {
	var b strings.Builder
	printFlow(&b, contract.Flow{ID: "flow_x", Outcome: contract.OutcomeOK, Note: "the SDK's steps were not reported"}, false)
	if !strings.Contains(b.String(), "\nNote: the SDK's steps were not reported\n") {
		t.Errorf("trace output:\n%s", b.String())
	}
}
