package stack_test

import (
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/boxo-sim/boxo-sim/internal/browsertest"
	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
)

// TestBrowserDirect is Connect Direct in the demo as a person does it (PROTOCOL §7.3): carol
// opens the demo miniapp "with Direct", logs in and allows; the host page gets the miniapp's
// tokens from its own backend (which calls the platform's /api/v1/connect/) and hands them to
// Boxo's web SDK with setAuthTokens; the miniapp shows Carol, and the flow log holds the 12
// Direct steps under mode direct. With Direct then switched off for the partnership, the
// miniapp shows the platform's refusal and the flow log has it.
func TestBrowserDirect(t *testing.T) {
	d := startBrowserDemo(t)
	d.signIn("carol", "carol-password")
	frame := d.openMiniappWith("button.open-direct")
	d.login(frame, true)
	if got := d.frameText(frame, "#user-name"); got != "Carol Tan" {
		t.Errorf("miniapp shows %q, want Carol Tan", got)
	}
	if got := d.frameText(frame, "#created"); got != "true" {
		t.Errorf("created: %q, want true", got)
	}
	f := d.reportedFlow(12)
	if f.Mode != "direct" || f.Outcome != contract.OutcomeOK || f.Note != "" || f.UserReference != "u-1003" ||
		!slices.Equal(stepNumbers(f), []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}) {
		t.Errorf("flow %s: mode %s, outcome %s, steps %v, note %q, user %q", f.ID, f.Mode, f.Outcome, stepNumbers(f), f.Note, f.UserReference)
	}
	for _, s := range f.Steps {
		if s.Outcome != contract.OutcomeOK {
			t.Errorf("step %d %s: %s %s", s.Step, s.Call, s.Outcome, s.ErrorCode)
		}
		if s.Step == 5 && !strings.Contains(s.Call, "/web/direct-tokens") || s.Step == 10 && !strings.Contains(s.Call, "setAuthTokens") {
			t.Errorf("step %d: %q", s.Step, s.Call)
		}
		if s.Step == 6 && !strings.Contains(s.Call, "/api/v1/connect/") {
			t.Errorf("step 6 is not the host backend's /api/v1/connect/: %q", s.Call)
		}
	}
	var status string
	d.run("host status", chromedp.Poll(`document.querySelector('#host-status').textContent.includes('12 steps')`, nil),
		chromedp.Text("#host-status", &status, chromedp.ByQuery))
	if !strings.Contains(status, "all 12 steps done") {
		t.Errorf("host page status %q", status)
	}
	if path := os.Getenv("BOXO_SIM_DIRECT_SCREENSHOT"); path != "" {
		browsertest.Screenshot(t, d.ctx, path)
	}

	// Direct switched off for the partnership: the platform refuses at step 6, the host
	// backend passes its envelope to the page, and the web SDK fails the miniapp's login.
	admin(t, http.MethodPut, d.st.PlatformURL+"/_sim/partnerships/"+demo.ClientID+"/"+demo.AppID, map[string]any{"direct_enabled": false})
	d.run("miniapp logs out", chromedp.Click("#logout", chromedp.ByQuery, chromedp.FromNode(frame)),
		chromedp.WaitVisible("#login", chromedp.ByQuery, chromedp.FromNode(frame)))
	d.login(frame, true)
	if got := d.frameText(frame, "#error"); !strings.Contains(got, contract.CodeFeatureDisabledInIntegration) {
		t.Errorf("miniapp shows %q, want the platform's %s", got, contract.CodeFeatureDisabledInIntegration)
	}
	f = d.reportedFlow(10)
	if f.Mode != "direct" || f.Outcome != contract.OutcomeFailed || f.ErrorCode != contract.CodeFeatureDisabledInIntegration {
		t.Errorf("refused flow %s: mode %s, outcome %s %s, steps %v", f.ID, f.Mode, f.Outcome, f.ErrorCode, stepNumbers(f))
	}

	// Declined at the prompt: nothing reaches the platform, and the page's report alone makes
	// the flow, a Direct one.
	d.login(frame, false)
	if got := d.frameText(frame, "#error"); !strings.Contains(got, contract.BridgeUserDenied) {
		t.Errorf("miniapp shows %q after a refusal", got)
	}
	f = d.reportedFlow(4)
	if f.Mode != "direct" || f.ErrorCode != contract.BridgeUserDenied || !slices.Equal(stepNumbers(f), []int{1, 2, 3, 4}) {
		t.Errorf("declined flow %s: mode %s, %s, steps %v", f.ID, f.Mode, f.ErrorCode, stepNumbers(f))
	}
}
