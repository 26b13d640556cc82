package platform_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/boxo-sim/boxo-sim/internal/browsertest"
	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/fault"
	"github.com/boxo-sim/boxo-sim/internal/stack"
	"github.com/boxo-sim/boxo-sim/internal/testkit"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

// The console in a real headless Chromium, against a real stack started in-process: flows run
// by the fake SDK must show up in the page, live, drawn step by step, with their exchanges
// masked; the fault tables and the clock must change when the page's controls are used.
//
// BOXO_SIM_SCREENSHOTS=dir keeps screenshots of the pages tested (the README's picture of the
// console is platform/console/console.png, taken this way).

// startConsoleStack starts the three parties on ephemeral ports, on the real clock.
func startConsoleStack(t *testing.T) *stack.Stack {
	t.Helper()
	st, err := stack.Start(t.Context(), stack.Config{
		HostAddr: "127.0.0.1:0", PlatformAddr: "127.0.0.1:0", MiniappAddr: "127.0.0.1:0",
		Ephemeral: true, SigningKey: testkit.SigningKey(), Logger: slog.New(slog.NewTextHandler(t.Output(), nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close stack: %v", err)
		}
	})
	return st
}

// runFlow runs one Connect flow with the fake SDK.
func runFlow(t *testing.T, st *stack.Stack, user string) (*sdkstub.Result, error) {
	t.Helper()
	sdk, err := st.SDK(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer sdk.CloseIdleConnections()
	res, err := sdk.Connect(t.Context(), sdkstub.Options{User: user})
	if res == nil {
		t.Fatalf("connect could not run: %v", err)
	}
	return res, err
}

// run runs chromedp actions and fails the test, with a screenshot, when one fails.
func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action) {
	t.Helper()
	if err := chromedp.Run(ctx, actions...); err != nil {
		shot(t, ctx, "failed")
		t.Fatalf("%s: %v", what, err)
	}
}

// waitFor waits until a JavaScript expression is true in the page.
func waitFor(expr string) chromedp.Action {
	return chromedp.Poll(expr, nil, chromedp.WithPollingTimeout(15*time.Second))
}

// newBrowser starts Chromium and copies the page's console errors and uncaught exceptions to
// the test log.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	ctx := browsertest.New(t)
	// Close the browser gracefully, before browsertest's cleanup kills it: a killed Chromium
	// may still be writing to its profile when the test's temporary directory is removed.
	t.Cleanup(func() { _ = chromedp.Cancel(ctx) })
	chromedp.ListenTarget(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			t.Logf("page exception: %s", ev.ExceptionDetails.Error())
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.APITypeError || ev.Type == runtime.APITypeWarning {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value))
				}
				t.Logf("page console %s: %s", ev.Type, strings.Join(args, " "))
			}
		}
	})
	return ctx
}

// shot saves a PNG of the whole page under $BOXO_SIM_SCREENSHOTS, when set.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("BOXO_SIM_SCREENSHOTS")
	if dir == "" {
		return
	}
	var png []byte
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)); err != nil { // 100: PNG, not JPEG
		t.Errorf("screenshot: %v", err)
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, t.Name()+"-"+name+".png"), png, 0o644); err != nil {
		t.Error(err)
	}
}

// pageText is everything the page shows as text.
func pageText(t *testing.T, ctx context.Context) string {
	t.Helper()
	var s string
	run(t, ctx, "read the page", chromedp.Evaluate(`document.body.innerText`, &s))
	return s
}

func flowSel(id string) string { return fmt.Sprintf(`#flows [data-flow-id=%q]`, id) }

func TestConsoleShowsFlowsLive(t *testing.T) {
	t.Parallel()
	st := startConsoleStack(t)
	ctx := newBrowser(t)

	first, err := runFlow(t, st, "alice")
	if err != nil {
		t.Fatalf("flow for alice: %v", err)
	}
	run(t, ctx, "open the console",
		chromedp.Navigate(st.PlatformURL+"/"),
		chromedp.WaitVisible(flowSel(first.FlowID), chromedp.ByQuery),
		chromedp.Evaluate(`window.notReloaded = true`, nil),
		waitFor(`document.querySelectorAll('#steps .step[data-outcome="ok"]').length === 16`),
	)
	var count, outcome string
	run(t, ctx, "read the flow header",
		chromedp.Text("#flow-step-count", &count, chromedp.ByQuery),
		chromedp.TextContent("#flow-outcome", &outcome, chromedp.ByQuery))
	if count != "16/16" || outcome != contract.OutcomeOK {
		t.Errorf("flow header says %q steps, outcome %q; want 16/16, ok", count, outcome)
	}

	// A new flow appears without reloading, and the diagram follows it.
	second, err := runFlow(t, st, "carol")
	if err != nil {
		t.Fatalf("flow for carol: %v", err)
	}
	run(t, ctx, "see the new flow arrive",
		chromedp.WaitVisible(flowSel(second.FlowID), chromedp.ByQuery),
		waitFor(fmt.Sprintf(`document.querySelector('#flow-head h2') && document.querySelector('#flow-head h2').textContent.startsWith(%q)`, second.FlowID)),
		waitFor(`document.querySelectorAll('#steps .step[data-outcome="ok"]').length === 16`),
		waitFor(`window.notReloaded === true`),
	)

	// Step 12's exchange carries the miniapp's tokens: masked, never in full.
	run(t, ctx, "open step 12",
		chromedp.Click("#step-12", chromedp.ByQuery),
		chromedp.WaitVisible(`#exchange-step[data-step="12"] pre.body`, chromedp.ByQuery))
	text := pageText(t, ctx)
	if !strings.Contains(text, "…[") {
		t.Errorf("step 12's exchange shows no masked value:\n%s", text)
	}
	for name, secret := range map[string]string{"token": second.Token, "refresh token": second.RefreshToken} {
		if secret == "" || strings.Contains(text, secret) {
			t.Errorf("the page shows the miniapp's %s in full (or the flow has none): %q", name, secret)
		}
	}
	// Step 6 carries the Dashboard's host credential and the auth code.
	run(t, ctx, "open step 6",
		chromedp.Click("#step-6", chromedp.ByQuery),
		chromedp.WaitVisible(`#exchange-step[data-step="6"] table.headers`, chromedp.ByQuery))
	text = pageText(t, ctx)
	credential := base64.StdEncoding.EncodeToString([]byte(demo.HostappClientID + ":" + demo.HostappSecret))
	if !strings.Contains(text, "Authorization") || !strings.Contains(text, demo.TokenPrefix+" "+credential[:4]+"…[") {
		t.Errorf("step 6 should show the Authorization header masked as %q:\n%s", demo.TokenPrefix+" "+credential[:4]+"…[", text)
	}
	if strings.Contains(text, credential) || strings.Contains(text, demo.HostappSecret) {
		t.Errorf("step 6 shows the host credential in full:\n%s", text)
	}
	shot(t, ctx, "ok")
}

func TestConsoleShowsFailedStep(t *testing.T) {
	t.Parallel()
	st := startConsoleStack(t)
	ctx := newBrowser(t)

	// The fault is set through the host app's own fault API, not the page.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, st.HostURL+"/_sim/faults",
		strings.NewReader(fmt.Sprintf(`{"step":7,"kind":"error_code","error_code":%q}`, contract.CodeInvalidAuthCode)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT host fault: status %d", resp.StatusCode)
	}

	run(t, ctx, "open the console", chromedp.Navigate(st.PlatformURL+"/"), chromedp.WaitVisible("#flows-empty", chromedp.ByQuery))
	res, err := runFlow(t, st, "bob")
	if err == nil {
		t.Fatalf("flow %s succeeded despite the fault at step 7", res.FlowID)
	}
	// Deep link to the flow: the page opens on it.
	run(t, ctx, "open the failed flow by its link",
		chromedp.Navigate(st.PlatformURL+"/?flow="+res.FlowID),
		chromedp.WaitVisible(`#step-7[data-outcome="failed"]`, chromedp.ByQuery),
		waitFor(`document.querySelectorAll('#steps .step[data-outcome="missing"]').length > 0`),
	)
	var code, banner string
	run(t, ctx, "read the failure",
		chromedp.Text("#step-7 .err", &code, chromedp.ByQuery),
		chromedp.Text("#flow-error", &banner, chromedp.ByQuery))
	if code != contract.CodeInvalidAuthCode {
		t.Errorf("step 7 shows code %q, want %s", code, contract.CodeInvalidAuthCode)
	}
	if !strings.Contains(banner, "step 7") || !strings.Contains(banner, "contract §3.8") || !strings.Contains(banner, contract.CodeInvalidAuthCode) {
		t.Errorf("the failure banner should name step 7, contract §3.8 and the code: %q", banner)
	}
	var missing string
	run(t, ctx, "read an unreached step", chromedp.Text("#step-9 .meta", &missing, chromedp.ByQuery))
	if missing != "not reached" {
		t.Errorf("step 9 after a failure at 7 says %q, want \"not reached\"", missing)
	}

	run(t, ctx, "open step 7",
		chromedp.Click("#step-7", chromedp.ByQuery),
		chromedp.WaitVisible(`#exchange-step[data-step="7"]`, chromedp.ByQuery))
	var exchange string
	run(t, ctx, "read step 7", chromedp.TextContent("#exchange-step", &exchange, chromedp.ByQuery))
	for _, want := range []string{contract.CodeInvalidAuthCode, "contract §3.8", "Response", `"error_code"`} {
		if !strings.Contains(exchange, want) {
			t.Errorf("step 7's exchange lacks %q:\n%s", want, exchange)
		}
	}
	// The page's fault table shows the fault and that it fired.
	run(t, ctx, "see the fault fire",
		waitFor(`(document.querySelector('#faults-hostapp .fault .counts') || {}).textContent === 'matched 1 · fired 1'`))
	shot(t, ctx, "failed-step-7")

}

// In relay mode the platform records the rules a real backend's answers broke on the step,
// and a flow can succeed with them; the relayed backend has no fault table.
func TestConsoleShowsRelayViolations(t *testing.T) {
	t.Parallel()
	// A miniapp backend that answers step 11 with the right JSON but no Content-Type: a
	// violation the platform records and reads past (a non-JSON Content-Type would fail the
	// flow with INVALID_RESPONSE_CONTENT_TYPE, contract §5.1).
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != demo.AuthTokenPath {
			http.NotFound(w, r)
			return
		}
		w.Header()["Content-Type"] = nil // no sniffing either
		_, _ = io.WriteString(w, `{"auth_token":"relayed-auth-token-0123456789abcdef","refresh_token":"relayed-refresh-0123456789abcdef"}`)
	}))
	t.Cleanup(backend.Close)
	st, err := stack.Start(t.Context(), stack.Config{
		HostAddr: "127.0.0.1:0", PlatformAddr: "127.0.0.1:0", Ephemeral: true, SigningKey: testkit.SigningKey(),
		MiniappURL: backend.URL, Relay: stack.Relay{MiniappSecret: demo.MiniappSecret},
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sdk, err := st.SDK(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer sdk.CloseIdleConnections()
	res, err := sdk.Connect(t.Context(), sdkstub.Options{AppID: st.AppID, SkipMe: true})
	if err != nil {
		t.Fatalf("relayed flow: %v", err)
	}

	ctx := newBrowser(t)
	var badge, listed, card, table string
	run(t, ctx, "open the relayed flow",
		chromedp.Navigate(st.PlatformURL+"/#flow="+res.FlowID),
		chromedp.WaitVisible("#flow-violations", chromedp.ByQuery),
		chromedp.Text("#step-11 .vio", &badge, chromedp.ByQuery),
		chromedp.Click("#step-11", chromedp.ByQuery),
		chromedp.WaitVisible("#exchange-violations", chromedp.ByQuery),
		chromedp.Text("#exchange-violations", &listed, chromedp.ByQuery),
		chromedp.Text(`[data-count-for="miniapp"]`, &card, chromedp.ByQuery),
		chromedp.Text("#faults-miniapp .fault-body", &table, chromedp.ByQuery))
	if badge != "⚠ 1" || !strings.Contains(listed, "contract §2.2") || !strings.Contains(listed, "no Content-Type") {
		t.Errorf("step 11's violation: badge %q, listed %q", badge, listed)
	}
	if card != "no fault table" || !strings.Contains(table, "no fault table") {
		t.Errorf("the relayed miniapp's card says %q and its table %q", card, table)
	}
	var outcome string
	run(t, ctx, "read the outcome", chromedp.TextContent("#flow-outcome", &outcome, chromedp.ByQuery))
	if outcome != contract.OutcomeOK {
		t.Errorf("a flow with violations only is %q, want ok", outcome)
	}
	shot(t, ctx, "violation")
}

// hostFaults reads the host app's fault table from the host app itself.
func hostFaults(t *testing.T, st *stack.Stack) []fault.Fault {
	t.Helper()
	resp, err := http.Get(st.HostURL + "/_sim/faults")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var l fault.List
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil {
		t.Fatal(err)
	}
	return l.Faults
}

func clockOffset(t *testing.T, st *stack.Stack) string {
	t.Helper()
	resp, err := http.Get(st.HostURL + "/_sim/clock") // the clock is shared: read it at another party
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var c stack.ClockState
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		t.Fatal(err)
	}
	return c.Offset
}

func TestConsoleChangesFaultsAndClock(t *testing.T) {
	t.Parallel()
	st := startConsoleStack(t)
	ctx := newBrowser(t)

	run(t, ctx, "open the console",
		chromedp.Navigate(st.PlatformURL+"/"),
		waitFor(`document.querySelector('#faults-hostapp .fault-body').textContent.includes('No faults')`))

	// Add a fault on the host app from the form.
	run(t, ctx, "add a fault",
		chromedp.SetValue("#fault-party", contract.PartyHostapp, chromedp.ByQuery),
		chromedp.SetValue("#fault-step", "7", chromedp.ByQuery),
		chromedp.SetValue("#fault-kind", fault.KindErrorCode, chromedp.ByQuery),
		chromedp.SetValue("#fault-value", contract.CodeInvalidAuthCode, chromedp.ByQuery),
		chromedp.SetValue("#fault-nth", "2", chromedp.ByQuery),
		chromedp.Click("#fault-add", chromedp.ByQuery),
		chromedp.WaitVisible(`#faults-hostapp .fault`, chromedp.ByQuery))
	got := hostFaults(t, st)
	if len(got) != 1 || got[0].Step != 7 || got[0].Kind != fault.KindErrorCode || got[0].ErrorCode != contract.CodeInvalidAuthCode || got[0].Nth != 2 {
		t.Fatalf("host fault table after adding from the console: %+v", got)
	}
	var card string
	run(t, ctx, "read the host card", chromedp.Text(`[data-count-for="hostapp"]`, &card, chromedp.ByQuery))
	if card != "1 fault active" {
		t.Errorf("host card says %q, want \"1 fault active\"", card)
	}

	// A fault the table refuses is explained in the page, and nothing is added.
	run(t, ctx, "add a bad fault",
		chromedp.SetValue("#fault-party", contract.PartyMiniapp, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector('#fault-party').dispatchEvent(new Event('change'))`, nil),
		chromedp.SetValue("#fault-step", "10", chromedp.ByQuery),
		chromedp.SetValue("#fault-kind", fault.KindReplayCode, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector('#fault-kind').dispatchEvent(new Event('change'))`, nil),
		chromedp.Click("#fault-add", chromedp.ByQuery),
		chromedp.WaitVisible("#fault-error", chromedp.ByQuery))
	var msg string
	run(t, ctx, "read the error", chromedp.Text("#fault-error", &msg, chromedp.ByQuery))
	if !strings.Contains(msg, "replay_code") {
		t.Errorf("the refusal should say what is wrong with replay_code at step 10: %q", msg)
	}
	if n := len(st.Faults(contract.PartyMiniapp).List()); n != 0 {
		t.Errorf("miniapp has %d faults after a refused add", n)
	}
	shot(t, ctx, "faults")

	// Clear the host's table from the page.
	run(t, ctx, "clear the host faults",
		chromedp.Click(`[data-clear="hostapp"]`, chromedp.ByQuery),
		waitFor(`document.querySelector('#faults-hostapp .fault-body').textContent.includes('No faults')`))
	if got := hostFaults(t, st); len(got) != 0 {
		t.Errorf("host fault table after Clear: %+v", got)
	}

	// The shared clock: advance by a button and by a typed duration, then reset.
	run(t, ctx, "advance the clock an hour",
		chromedp.Click(`[data-advance="1h"]`, chromedp.ByQuery),
		waitFor(`document.querySelector('#clock-offset').dataset.offset === '1h0m0s'`))
	if off := clockOffset(t, st); off != "1h0m0s" {
		t.Errorf("clock offset after +1h in the console: %s", off)
	}
	run(t, ctx, "advance the clock 11m",
		chromedp.SetValue("#clock-advance", "11m", chromedp.ByQuery),
		chromedp.Click(`#clock-form button[type="submit"]`, chromedp.ByQuery),
		waitFor(`document.querySelector('#clock-offset').dataset.offset === '1h11m0s'`))
	var text string
	run(t, ctx, "read the offset", chromedp.Text("#clock-offset", &text, chromedp.ByQuery))
	if text != "+1h 11m" {
		t.Errorf("the console shows the offset as %q, want +1h 11m", text)
	}
	if off := clockOffset(t, st); off != "1h11m0s" {
		t.Errorf("clock offset after +11m in the console: %s", off)
	}
	run(t, ctx, "reset the clock",
		chromedp.Click("#clock-reset", chromedp.ByQuery),
		waitFor(`document.querySelector('#clock-offset').textContent === 'real time'`))
	if off := clockOffset(t, st); off != "0s" {
		t.Errorf("clock offset after Reset in the console: %s", off)
	}
}

// A Direct flow is drawn with its own 12 steps (PROTOCOL §7.3): step 6 is the host backend's
// call to the platform, and step 8's request is found on step 7.
func TestConsoleShowsDirectFlow(t *testing.T) {
	t.Parallel()
	st := startConsoleStack(t)
	ctx := newBrowser(t)
	sdk, err := st.SDK(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer sdk.CloseIdleConnections()
	res, err := sdk.ConnectDirect(t.Context(), sdkstub.Options{User: "carol"})
	if err != nil {
		t.Fatalf("direct flow: %v", err)
	}
	run(t, ctx, "open the console",
		chromedp.Navigate(st.PlatformURL+"/"),
		chromedp.WaitVisible(flowSel(res.FlowID), chromedp.ByQuery),
		waitFor(`document.querySelectorAll('#steps .step[data-outcome="ok"]').length === 12`),
	)
	var count, mode string
	run(t, ctx, "read the flow header",
		chromedp.Text("#flow-step-count", &count, chromedp.ByQuery),
		chromedp.Text("#flow-mode", &mode, chromedp.ByQuery))
	if count != "12/12" || mode != "Connect Direct" {
		t.Errorf("flow header says %q steps, mode %q; want 12/12, Connect Direct", count, mode)
	}
	run(t, ctx, "open step 6",
		chromedp.Click("#step-6", chromedp.ByQuery),
		chromedp.WaitVisible(`#exchange-step[data-step="6"] pre.body`, chromedp.ByQuery))
	if text := pageText(t, ctx); !strings.Contains(text, "/api/v1/connect/") || !strings.Contains(text, "contract §7.3") {
		t.Errorf("step 6 should show the Direct call and cite §7.3:\n%s", text)
	}
	run(t, ctx, "open step 8",
		chromedp.Click("#step-8", chromedp.ByQuery),
		chromedp.WaitVisible(`#exchange-step[data-step="8"]`, chromedp.ByQuery))
	if text := pageText(t, ctx); !strings.Contains(text, "The request is on step 7.") {
		t.Errorf("step 8 should point to its request on step 7:\n%s", text)
	}
	shot(t, ctx, "direct")
}
