package main

import (
	"strings"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

// TestContractCommand: the contract ships in the binary; one section prints alone, the error
// codes of §5.1 with every code the parties emit.
func TestContractCommand(t *testing.T) {
	t.Parallel()
	out, errOut, code := runCmd(t, t.Context(), nil, "contract", "5.1")
	if code != 0 || !strings.HasPrefix(out, "### 5.1 Connect error codes\n") || strings.Contains(out, "### 5.2") {
		t.Fatalf("contract 5.1: exit %d, stderr %q\n%s", code, errOut, out)
	}
	for _, c := range contract.Codes {
		if !strings.Contains(out, "`"+c+"`") {
			t.Errorf("contract 5.1 lacks %s", c)
		}
	}
	if !strings.Contains(out, "https://docs.boxo.io/host-apps/ErrorCodes") && !strings.Contains(out, "[Boxo codes]") {
		t.Error("contract 5.1 names no source")
	}
	out, _, code = runCmd(t, t.Context(), nil, "contract")
	if code != 0 || !strings.Contains(out, "## 9. boxo-sim's choices") || !strings.Contains(out, "https://docs.boxo.io/miniapp/Connect") {
		t.Fatalf("contract: exit %d", code)
	}
	out, _, code = runCmd(t, t.Context(), nil, "contract", "--toc")
	if code != 0 || !strings.Contains(out, "\n  5.1 Connect error codes\n") {
		t.Fatalf("contract --toc: exit %d\n%s", code, out)
	}
	if _, errOut, code := runCmd(t, t.Context(), nil, "contract", "12.4"); code == 0 || !strings.Contains(errOut, `no section "12.4"`) {
		t.Fatalf("contract 12.4: exit %d, stderr %q", code, errOut)
	}
}

// TestConnectSaysCreatedUnknown: created is boxo-sim's own field; a miniapp backend that does
// not report it is printed as unknown, not as false.
func TestConnectSaysCreatedUnknown(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	printResult(&b, &sdkstub.Result{OK: true, AppID: "app1", User: "carol", FlowID: "flow_1", Me: &contract.Me{ID: "u-7"}}, nil)
	if !strings.Contains(b.String(), "miniapp user u-7, created: unknown)") {
		t.Errorf("connect printed %q", b.String())
	}
	b.Reset()
	printResult(&b, &sdkstub.Result{OK: true, AppID: "app1", User: "carol", FlowID: "flow_1", Me: &contract.Me{ID: "u-7", Created: new(false)}}, nil)
	if !strings.Contains(b.String(), "created: false)") {
		t.Errorf("connect printed %q", b.String())
	}
}
