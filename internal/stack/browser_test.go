package stack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/boxo-sim/boxo-sim/hostapp"
	"github.com/boxo-sim/boxo-sim/internal/browsertest"
	"github.com/boxo-sim/boxo-sim/internal/clock"
	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/fault"
	"github.com/boxo-sim/boxo-sim/internal/stack"
)

// The browser tests drive the demo pages in a real headless Chromium: the host app's home
// screen with Boxo's web SDK, the miniapp page with Boxo's JS SDK, against the real stack.

// browserDemo is one browser on one stack.
type browserDemo struct {
	t   *testing.T
	st  *stack.Stack
	clk *clock.Clock
	ctx context.Context
	// consentLinks is the text and targets of the last consent prompt's links.
	consentLinks string
}

func startBrowserDemo(t *testing.T) *browserDemo {
	t.Helper()
	st, clk := startStack(t)
	ctx := browsertest.New(t, browsertest.InProcessFrames...)
	// The pages' console and uncaught errors go to the test log, to read a failure by.
	chromedp.ListenTarget(ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			var args []string
			for _, a := range e.Args {
				args = append(args, string(a.Value))
			}
			t.Logf("console.%s: %s", e.Type, strings.Join(args, " "))
		case *runtime.EventExceptionThrown:
			t.Logf("page error: %s", e.ExceptionDetails.Error())
		case *cdplog.EventEntryAdded:
			t.Logf("browser %s: %s %s", e.Entry.Level, e.Entry.Text, e.Entry.URL)
		}
	})
	if err := chromedp.Run(ctx, cdplog.Enable()); err != nil {
		t.Fatal(err)
	}
	return &browserDemo{t: t, st: st, clk: clk, ctx: ctx}
}

func (d *browserDemo) run(what string, actions ...chromedp.Action) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(d.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		shot := d.t.TempDir() + "/failure.png"
		if dir := os.Getenv("BOXO_SIM_FAILURE_SHOTS"); dir != "" {
			shot = dir + "/" + d.t.Name() + ".png"
		}
		browsertest.Screenshot(d.t, d.ctx, shot)
		d.t.Fatalf("%s: %v (screenshot %s)", what, err, shot)
	}
}

// signIn opens the host app's home screen and signs in with the sign-in form.
func (d *browserDemo) signIn(user, password string) {
	d.t.Helper()
	d.run("sign in",
		chromedp.Navigate(d.st.HostURL+"/"),
		chromedp.Click("#signin", chromedp.ByQuery),
		chromedp.WaitVisible("#username", chromedp.ByQuery),
		chromedp.SendKeys("#username", user, chromedp.ByQuery),
		chromedp.SendKeys("#password", password, chromedp.ByQuery),
		chromedp.Submit("#password", chromedp.ByQuery),
		chromedp.WaitVisible("button.open", chromedp.ByQuery),
		chromedp.WaitReady(`body[data-ready="1"]`, chromedp.ByQuery),
	)
}

// openMiniapp opens the demo miniapp and returns its iframe once its page has started; a
// page without a session offers to log in with the host app.
func (d *browserDemo) openMiniapp() *cdp.Node {
	d.t.Helper()
	return d.openMiniappWith("button.open")
}

// openMiniappWith is openMiniapp with the home screen's button of class button (button.open
// for Connect, button.open-direct for Connect Direct).
func (d *browserDemo) openMiniappWith(button string) *cdp.Node {
	d.t.Helper()
	var frames []*cdp.Node
	d.run("open the miniapp",
		chromedp.Click(button+`[data-app-id="`+demo.AppID+`"]`, chromedp.ByQuery),
		// Once the miniapp page talks over the bridge, the frame holds its document (and
		// not the blank one it starts with).
		chromedp.WaitReady(`iframe#miniapp[data-bridge="1"]`, chromedp.ByQuery),
		chromedp.Nodes("iframe#miniapp", &frames, chromedp.ByQuery),
	)
	var label string
	d.run("miniapp page ready",
		chromedp.WaitReady(`body[data-ready="1"]`, chromedp.ByQuery, chromedp.FromNode(frames[0])),
		chromedp.TextContent("#login", &label, chromedp.ByQuery, chromedp.FromNode(frames[0])),
	)
	if label != "Log in with "+demo.HostappName {
		d.t.Errorf("log-in button says %q", label)
	}
	return frames[0]
}

// login presses the miniapp's log-in button and answers the host's consent prompt.
func (d *browserDemo) login(frame *cdp.Node, allow bool) {
	d.t.Helper()
	var fields string
	d.run("log in",
		chromedp.Click("#login", chromedp.ByQuery, chromedp.FromNode(frame)),
		chromedp.WaitVisible("#consent", chromedp.ByQuery),
		chromedp.Text("#consent-fields", &fields, chromedp.ByQuery),
		chromedp.Evaluate(`[...document.querySelectorAll('#consent-links:not([hidden]) a')].map((a) => a.textContent + " " + a.href).join("; ")`, &d.consentLinks),
	)
	for _, f := range []string{"email", "phone", "first_name", "last_name"} {
		if !strings.Contains(fields, f) {
			d.t.Errorf("consent prompt lacks %s: %q", f, fields)
		}
	}
	button := "#consent-deny"
	if allow {
		button = "#consent-allow"
	}
	d.run("answer consent", chromedp.Click(button, chromedp.ByQuery), chromedp.WaitNotVisible("#consent", chromedp.ByQuery))
}

// frameText waits until sel in the miniapp's frame is visible and returns its text.
func (d *browserDemo) frameText(frame *cdp.Node, sel string) string {
	d.t.Helper()
	var s string
	d.run("read "+sel+" in the miniapp", chromedp.WaitVisible(sel, chromedp.ByQuery, chromedp.FromNode(frame)),
		chromedp.Text(sel, &s, chromedp.ByQuery, chromedp.FromNode(frame)))
	return s
}

// reportedFlow waits until the host page has had the flow log take its report, and returns
// that flow from the platform.
func (d *browserDemo) reportedFlow(n int) contract.Flow {
	d.t.Helper()
	var id string
	d.run("flow reported", chromedp.WaitReady(fmt.Sprintf(`body[data-reported="%d"]`, n), chromedp.ByQuery),
		chromedp.AttributeValue("body", "data-flow-id", &id, nil, chromedp.ByQuery))
	var f contract.Flow
	getJSON(d.t, d.st.PlatformURL+"/_sim/flows/"+id, &f)
	return f
}

// console opens the platform's console on flow id in a second tab, waits until every
// JavaScript expression in conds is true there, and returns the page's text.
func (d *browserDemo) console(id string, conds ...string) string {
	d.t.Helper()
	tab, cancel := chromedp.NewContext(d.ctx)
	defer cancel()
	actions := []chromedp.Action{chromedp.Navigate(d.st.PlatformURL + "/#flow=" + url.QueryEscape(id))}
	for _, c := range conds {
		actions = append(actions, chromedp.Poll(c, nil, chromedp.WithPollingTimeout(15*time.Second)))
	}
	var text string
	actions = append(actions, chromedp.Text("body", &text, chromedp.ByQuery))
	if err := chromedp.Run(tab, actions...); err != nil {
		browsertest.Screenshot(d.t, tab, d.t.TempDir()+"/console.png")
		d.t.Fatalf("console on flow %s: %v", id, err)
	}
	return text
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, res.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v in %s", u, err, b)
	}
}

// TestBrowserDemo is the whole demo as a person does it: sign in as carol, open the demo
// miniapp, log in, allow consent; the miniapp shows Carol, created; the flow log holds all 16
// steps; the miniapp never sees the host's cookie; signing out of the host app signs the
// miniapp out too.
func TestBrowserDemo(t *testing.T) {
	d := startBrowserDemo(t)
	logouts := watchLogouts(d.ctx)
	// The Dashboard's consent links appear on the prompt (PROTOCOL §3.5).
	admin(t, http.MethodPut, d.st.PlatformURL+"/_sim/miniapps/"+demo.AppID, map[string]any{
		"consent_links": []map[string]string{{"title": "Terms", "url": "https://example.com/terms"}}})
	d.signIn("carol", "carol-password")
	frame := d.openMiniapp()
	d.login(frame, true)
	if d.consentLinks != "Terms https://example.com/terms" {
		t.Errorf("consent prompt links: %q", d.consentLinks)
	}

	if got := d.frameText(frame, "#user-name"); got != "Carol Tan" {
		t.Errorf("miniapp shows %q, want Carol Tan", got)
	}
	if got := d.frameText(frame, "#created"); got != "true" {
		t.Errorf("created: %q, want true", got)
	}
	f := d.reportedFlow(16)
	seen := map[int]bool{}
	for _, s := range f.Steps {
		seen[s.Step] = true
		if s.Outcome != contract.OutcomeOK {
			t.Errorf("step %d %s: %s %s", s.Step, s.Call, s.Outcome, s.ErrorCode)
		}
	}
	if len(seen) != 16 || f.Outcome != contract.OutcomeOK || f.Note != "" || f.UserReference != "u-1003" {
		t.Errorf("flow %s: outcome %s, steps %v, note %q, user %q", f.ID, f.Outcome, seen, f.Note, f.UserReference)
	}
	if path := os.Getenv("BOXO_SIM_DEMO_SCREENSHOT"); path != "" {
		browsertest.Screenshot(t, d.ctx, path)
	}
	// The console draws the same flow with its 16 steps ok; the home screen links to it.
	var link string
	d.run("console link", chromedp.AttributeValue("#console-link", "href", &link, nil, chromedp.ByQuery))
	if link != d.st.PlatformURL+"/#flow="+f.ID {
		t.Errorf("console link %q", link)
	}
	d.console(f.ID,
		fmt.Sprintf(`document.querySelector('#flow-head h2') && document.querySelector('#flow-head h2').textContent.startsWith(%q)`, f.ID),
		`document.querySelectorAll('#steps .step[data-outcome="ok"]').length === 16`,
		`document.querySelector('#flow-step-count').textContent === "16/16"`,
		`document.querySelector('#flow-outcome').textContent === "ok"`)

	// Same-site realism: the miniapp's page is on another site than the host app, so the
	// browser never sends it the host's session cookie.
	var pageURL string
	d.run("miniapp URL", chromedp.AttributeValue("iframe#miniapp", "src", &pageURL, nil, chromedp.ByQuery))
	cookieNames := func(u string) []string {
		var names []string
		d.run("cookies", chromedp.ActionFunc(func(ctx context.Context) error {
			cs, err := network.GetCookies().WithURLs([]string{u}).Do(ctx)
			for _, c := range cs {
				names = append(names, c.Name)
			}
			return err
		}))
		return names
	}
	if names := cookieNames(d.st.HostURL + "/"); !containsString(names, hostapp.SessionCookie) {
		t.Fatalf("the host app has no session cookie: %v", names)
	}
	if names := cookieNames(pageURL); containsString(names, hostapp.SessionCookie) {
		t.Errorf("the miniapp page at %s would get the host's cookie: %v", pageURL, names)
	}

	// The miniapp keeps its token as the JS SDK does (ab_token): opened again two hours
	// later, it finds the token expired and renews it with its refresh token.
	d.clk.Advance(2 * time.Hour)
	frame = d.openMiniapp()
	if got := d.frameText(frame, "#created"); got != "false" {
		t.Errorf("after a refresh, created: %q, want false", got)
	}
	if got := d.frameText(frame, "#user-name"); got != "Carol Tan" {
		t.Errorf("after a refresh the miniapp shows %q", got)
	}

	// Host sign-out logs the SDK out: the miniapp ends its session.
	d.run("sign out", chromedp.Click("#signout button", chromedp.ByQuery), chromedp.WaitVisible("#signin", chromedp.ByQuery))
	token, status := logouts.last()
	if status != http.StatusOK || token == "" {
		t.Fatalf("the miniapp's logout: status %d", status)
	}
	req, _ := http.NewRequest(http.MethodGet, d.st.MiniappURL+"/api/me", nil)
	req.Header.Set("Authorization", token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("the miniapp token still works after the host's sign-out: %d", res.StatusCode)
	}
}

// TestBrowserConsentDenied: the miniapp shows the refusal and no miniapp user exists.
func TestBrowserConsentDenied(t *testing.T) {
	d := startBrowserDemo(t)
	d.signIn("carol", "carol-password")
	frame := d.openMiniapp()
	d.login(frame, false)
	if got := d.frameText(frame, "#error"); !strings.Contains(got, "did not allow") || !strings.Contains(got, contract.BridgeUserDenied) {
		t.Errorf("miniapp shows %q", got)
	}
	if users := miniappUsers(t, d.st); len(users) != 0 {
		t.Errorf("miniapp users after a refusal: %v", users)
	}
	f := d.reportedFlow(4)
	if f.Outcome != contract.OutcomeFailed || f.ErrorCode != contract.BridgeUserDenied || len(stepNumbers(f)) != 4 {
		t.Errorf("flow %s: %s %s, steps %v", f.ID, f.Outcome, f.ErrorCode, stepNumbers(f))
	}
}

// TestBrowserFaultAtStep7: the host backend refuses the code; the miniapp shows the failure
// and the flow log has the failed step with its code.
func TestBrowserFaultAtStep7(t *testing.T) {
	d := startBrowserDemo(t)
	if _, err := d.st.Faults(stack.Hostapp).Add(fault.Fault{Step: 7, Kind: fault.KindErrorCode, ErrorCode: contract.CodeInvalidAuthCode}); err != nil {
		t.Fatal(err)
	}
	d.signIn("carol", "carol-password")
	frame := d.openMiniapp()
	d.login(frame, true)
	if got := d.frameText(frame, "#error"); !strings.Contains(got, "Log in failed") || !strings.Contains(got, "Authentication failed") {
		t.Errorf("miniapp shows %q", got)
	}
	var hostStatus string
	d.run("host status", chromedp.Text("#host-status", &hostStatus, chromedp.ByQuery))
	if !strings.Contains(hostStatus, contract.CodeInvalidAuthCode) || !strings.Contains(hostStatus, "step 7") {
		t.Errorf("host app shows %q", hostStatus)
	}
	f := d.reportedFlow(13)
	if f.Outcome != contract.OutcomeFailed || f.ErrorCode != contract.CodeInvalidAuthCode {
		t.Errorf("flow %s: %s %s", f.ID, f.Outcome, f.ErrorCode)
	}
	for _, s := range f.Steps {
		if s.Step == 7 && (s.Outcome != contract.OutcomeFailed || s.ErrorCode != contract.CodeInvalidAuthCode) {
			t.Errorf("step 7: %s %s", s.Outcome, s.ErrorCode)
		}
	}
	if users := miniappUsers(t, d.st); len(users) != 0 {
		t.Errorf("miniapp users after a failed login: %v", users)
	}
	// The console shows the failed step with its code.
	d.console(f.ID,
		fmt.Sprintf(`document.querySelector('#flow-head h2') && document.querySelector('#flow-head h2').textContent.startsWith(%q)`, f.ID),
		`document.querySelector('#flow-outcome').textContent === "failed"`,
		fmt.Sprintf(`(s => s && s.textContent.includes(%q))(document.querySelector('#steps .step[data-step="7"][data-outcome="failed"] .err'))`, contract.CodeInvalidAuthCode))
}

func stepNumbers(f contract.Flow) []int {
	var out []int
	for _, s := range f.Steps {
		out = append(out, s.Step)
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// logoutWatch records the miniapp's calls to its logout endpoint, as the browser sends them.
type logoutWatch struct {
	mu     sync.Mutex
	auth   map[network.RequestID]string
	token  string
	status int
}

func watchLogouts(ctx context.Context) *logoutWatch {
	w := &logoutWatch{auth: map[network.RequestID]string{}}
	chromedp.ListenTarget(ctx, func(ev any) {
		w.mu.Lock()
		defer w.mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			if strings.HasSuffix(e.Request.URL, "/api/auth/logout") {
				if v, ok := e.Request.Headers["Authorization"].(string); ok {
					w.auth[e.RequestID] = v
				}
			}
		case *network.EventResponseReceived:
			if v, ok := w.auth[e.RequestID]; ok {
				w.token, w.status = v, int(e.Response.Status)
			}
		}
	})
	_ = chromedp.Run(ctx, network.Enable())
	return w
}

func (w *logoutWatch) last() (string, int) {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		w.mu.Lock()
		token, status := w.token, w.status
		w.mu.Unlock()
		if status != 0 {
			return token, status
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "", 0
}

// teamPage is a team's own web host app on another origin: it loads the vendored web SDK
// from its own server, points baseUrl at the platform, and stands in for the miniapp with a
// same-origin frame, so the test sees the SDK's login answer.
const teamPage = `<!doctype html><title>team host app</title><iframe id="f"></iframe><pre id="out"></pre>
<script type="module">
import { AppboxoWebSDK } from "/sdk/dist/index.js";
const q = new URLSearchParams(location.search);
const out = document.getElementById("out");
const done = (v) => { out.textContent = JSON.stringify(v); const d = document.createElement("p"); d.id = "done"; d.textContent = "done"; document.body.append(d); };
const sdk = new AppboxoWebSDK({ clientId: q.get("client_id"), appId: q.get("app_id"), baseUrl: q.get("base"), userId: "u-1003",
  onGetAuthCode: async () => q.get("code") });
try {
  const url = await sdk.getMiniappUrl();
  const frame = document.getElementById("f");
  sdk.setIframe(frame);
  sdk.initialize();
  frame.contentWindow.addEventListener("message", (ev) => done({ url, answer: ev.data }));
  window.postMessage({ type: "appboxo-js-sdk", handler: "AppBoxoWebAppLogin", params: { request_id: 1 } }, "*");
} catch (e) {
  done({ error: e.message });
}
</script>`

// TestBrowserWebSDKFromAnotherOrigin: a page on another origin uses the real web SDK with
// baseUrl set to the platform and completes the settings and authorize calls, with no proxy
// in between; the platform closes the flow at step 12, since this page reports nothing.
func TestBrowserWebSDKFromAnotherOrigin(t *testing.T) {
	st, _ := startStack(t)
	code, err := newSDK(t, st).HostAuthCode("carol", "")(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	vendored := http.Dir("../../hostapp/web/vendor/web-sdk")
	team := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = io.WriteString(w, teamPage)
			return
		}
		p := strings.TrimPrefix(r.URL.Path, "/sdk")
		if !strings.HasSuffix(p, ".js") { // extensionless imports, as a bundler resolves them
			if f, err := vendored.Open(p + ".js"); err == nil {
				f.Close()
				p += ".js"
			} else {
				http.Redirect(w, r, r.URL.Path+"/index.js", http.StatusFound)
				return
			}
		}
		w.Header().Set("Content-Type", "text/javascript")
		r.URL.Path = p
		http.FileServer(vendored).ServeHTTP(w, r)
	}))
	defer team.Close()

	ctx := browsertest.New(t)
	q := url.Values{"client_id": {demo.ClientID}, "app_id": {demo.AppID}, "base": {st.PlatformURL + "/api/v1"}, "code": {code}}
	var out string
	if err := chromedp.Run(ctx, chromedp.Navigate(team.URL+"/?"+q.Encode()), chromedp.WaitVisible("#done", chromedp.ByQuery),
		chromedp.Text("#out", &out, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	var got struct {
		URL    string `json:"url"`
		Error  string `json:"error"`
		Answer struct {
			Type string `json:"type"`
			Data struct {
				Payload struct {
					Token string `json:"token"`
				} `json:"payload"`
			} `json:"data"`
		} `json:"answer"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.Error != "" {
		t.Fatalf("page: %s (%v)", out, err)
	}
	if !strings.HasSuffix(got.URL, "/") || got.Answer.Type != "appboxo-host-response" || got.Answer.Data.Payload.Token == "" {
		t.Fatalf("page saw %s", out)
	}
	var f contract.Flow
	getJSON(t, st.PlatformURL+"/_sim/flows/latest", &f)
	if f.Outcome != contract.OutcomeOK || !strings.Contains(f.Note, "not reported") || len(stepNumbers(f)) != 7 {
		t.Errorf("flow %s: %s, note %q, steps %v", f.ID, f.Outcome, f.Note, stepNumbers(f))
	}
	// The console says why steps 1–5 and 13–16 are missing.
	var note string
	if err := chromedp.Run(ctx, chromedp.Navigate(st.PlatformURL+"/#flow="+url.QueryEscape(f.ID)),
		chromedp.WaitVisible("#flow-note", chromedp.ByQuery), chromedp.Text("#flow-note", &note, chromedp.ByQuery)); err != nil {
		t.Fatalf("console: %v", err)
	}
	if note != f.Note {
		t.Errorf("console note %q, want the flow log's %q", note, f.Note)
	}
}
