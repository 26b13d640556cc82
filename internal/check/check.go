// Package check is the conformance checker of GitHub issue 5: it plays the Boxo platform
// against someone's real miniapp backend or host-app backend and reports, check by check,
// where the backend breaks the contract (internal/docs/contract.md). A plan is a named, versioned
// list of checks (MiniappPlanName, HostappPlanName); each check has a stable id, the rule it
// checks and, in the report, a status with the evidence: the requests sent and the answers
// got, with secrets and tokens masked.
//
// The checker's HTTP client never follows redirects and bounds every call (10 s by
// default, PROTOCOL §2.11), answer body included.
package check

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// DefaultTimeout bounds every call of a check run: the platform's wait (PROTOCOL §2.11).
const DefaultTimeout = 10 * time.Second

// Status is a check's verdict.
type Status string

// Verdicts. INFO is a conformant answer worth knowing about (a choice the contract leaves
// to the backend); WARN is a deviation from a recommendation, or a rule the checker could
// not observe from outside; SKIP is a check that could not run: not asked for (a flag is
// missing), or blocked by an earlier check it depends on (which carries the FAIL). Only
// FAIL fails a run, unless WARNs are made to (--warn-as-failure).
const (
	Pass Status = "PASS"
	Info Status = "INFO"
	Warn Status = "WARN"
	Fail Status = "FAIL"
	Skip Status = "SKIP"
)

// Check is one entry of a plan.
type Check struct {
	ID    string `json:"id"`    // stable within the plan, e.g. "same-user"
	Title string `json:"title"` // what the backend must do
	Rule  string `json:"rule"`  // where the contract says so, e.g. "contract §3.12" (boxo-sim contract 3.12)
}

// Result is a check's outcome with its evidence.
type Result struct {
	Check
	Status     Status     `json:"status"`
	Message    string     `json:"message"`
	Evidence   []Exchange `json:"evidence,omitempty"`
	DurationMS float64    `json:"duration_ms"`
}

// Exchange is one HTTP call as evidence: what was sent and what came back, masked as the
// flow log masks (contract.MaskHeaders, contract.MaskJSON).
type Exchange struct {
	Label      string             `json:"label,omitempty"` // why the call was made
	Method     string             `json:"method"`
	URL        string             `json:"url"`
	Request    contract.Exchange  `json:"request"`
	Status     int                `json:"status,omitempty"`
	Response   *contract.Exchange `json:"response,omitempty"`
	Error      string             `json:"error,omitempty"` // no answer: timeout, refused, …
	DurationMS float64            `json:"duration_ms"`
}

// Summary counts the verdicts of a report.
type Summary struct {
	Pass int `json:"pass"`
	Info int `json:"info,omitempty"`
	Warn int `json:"warn"`
	Fail int `json:"fail"`
	Skip int `json:"skip"`
}

// Report is the outcome of one run of a plan.
type Report struct {
	Plan   string `json:"plan"`   // e.g. "miniapp-v1"
	Target string `json:"target"` // what was checked
	// Hint, when set, is the one thing to fix first, e.g. the credentials the backend refused.
	Hint       string    `json:"hint,omitempty"`
	Settings   []string  `json:"settings,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	DurationMS float64   `json:"duration_ms"`
	Results    []Result  `json:"results"`
	// SetupErrors are what kept checks from running that is not the backend's doing: the
	// auth code source failed, the backend could not be reached (connection, TLS). The
	// checks they kept from running are SKIP; a report with setup errors is not a verdict
	// on the backend (exit status 2 at the command line).
	SetupErrors []string `json:"setup_errors,omitempty"`
	Summary     Summary  `json:"summary"`
}

// Failed reports whether any check failed.
func (r *Report) Failed() bool { return r.Summary.Fail > 0 }

// FailedStrictly reports whether any check failed or warned (--warn-as-failure).
func (r *Report) FailedStrictly() bool { return r.Summary.Fail > 0 || r.Summary.Warn > 0 }

// Result returns the result of the check with that id.
func (r *Report) Result(id string) (Result, bool) {
	for _, res := range r.Results {
		if res.ID == id {
			return res, true
		}
	}
	return Result{}, false
}

// AuthCodeFunc returns a fresh auth code from the host app under test (PROTOCOL §3.6):
// only the host's own system can mint one.
type AuthCodeFunc func(ctx context.Context) (string, error)

// run is the state of one run of a plan.
type run interface {
	// unreachable says why the backend cannot be checked at all, "" while it can.
	unreachable() string
}

// step is a check of a plan with the code that runs it.
type step[R run] struct {
	Check
	run func(r R, ctx context.Context) verdict
}

// needs says, per check id, which checks it depends on: when one of them FAILs or is
// skipped, the check is skipped as "blocked by <check>: <reason>", with the reason of the
// check at the root of the chain.
type needs map[string][]string

// verdict is what a check's code decides; the runner adds the check and the evidence.
// diagnosis, for a FAIL, is the one thing to fix, said once for every check it blocks.
type verdict struct {
	status    Status
	message   string
	evidence  []*call // nil entries are ignored
	diagnosis string
	// usable marks a FAIL about what an answer said, not about the call working: the checks
	// that need this one can still run (a user_data that breaks §3.10 still came back).
	usable bool
}

func pass(msg string, ev ...*call) verdict { return verdict{status: Pass, message: msg, evidence: ev} }
func info(msg string, ev ...*call) verdict { return verdict{status: Info, message: msg, evidence: ev} }
func warn(msg string, ev ...*call) verdict { return verdict{status: Warn, message: msg, evidence: ev} }
func fail(msg string, ev ...*call) verdict { return verdict{status: Fail, message: msg, evidence: ev} }
func skip(msg string) verdict              { return verdict{status: Skip, message: msg} }

// blockage is why a check that others need did not succeed: the check at the root and its
// reason.
type blockage struct{ root, reason string }

// runPlan runs the steps in order and assembles the report. Once the backend proves
// unreachable, the remaining steps are skipped: their verdicts would all be that. A step
// whose needs did not succeed is skipped as blocked, and the report's hint says why once.
func runPlan[R run](ctx context.Context, plan, target string, settings []string, steps []step[R], deps needs, r R) *Report {
	rep := &Report{Plan: plan, Target: target, Settings: settings, StartedAt: time.Now().UTC(), Results: []Result{}}
	t0 := time.Now()
	blocked := map[string]blockage{} // check id → why the checks needing it cannot run
	hints := map[string]int{}        // root check → how many checks it blocked
	var roots []string
	for _, s := range steps {
		t := time.Now()
		var v verdict
		var by *blockage
		for _, n := range deps[s.ID] {
			if b, ok := blocked[n]; ok {
				by = &b
				break
			}
		}
		switch {
		case r.unreachable() != "":
			v = skip(r.unreachable())
			if len(rep.SetupErrors) == 0 {
				rep.SetupErrors = append(rep.SetupErrors, "setup error: "+strings.TrimPrefix(r.unreachable(), "not run: "))
			}
		case by != nil:
			v = skip("blocked by " + by.root + ": " + by.reason)
			blocked[s.ID] = *by
			if hints[by.root] == 0 {
				roots = append(roots, by.root)
			}
			hints[by.root]++
		default:
			v = s.run(r, ctx)
			if why := r.unreachable(); v.status == Fail && why != "" {
				// No answer at all (connection refused, TLS, unknown host): a setup error,
				// not something the backend answered.
				v = skip("setup error: " + strings.TrimPrefix(why, "not run: "))
				if len(rep.SetupErrors) == 0 {
					rep.SetupErrors = append(rep.SetupErrors, v.message)
				}
			}
			switch v.status {
			case Fail:
				if v.usable {
					break
				}
				reason := v.diagnosis
				if reason == "" {
					reason = v.message
				}
				blocked[s.ID] = blockage{root: s.ID, reason: reason}
			case Skip:
				blocked[s.ID] = blockage{root: s.ID, reason: v.message}
			}
		}
		res := Result{Check: s.Check, Status: v.status, Message: v.message, DurationMS: ms(time.Since(t))}
		for _, c := range v.evidence {
			if c != nil {
				res.Evidence = append(res.Evidence, c.x)
			}
		}
		switch v.status {
		case Pass:
			rep.Summary.Pass++
		case Info:
			rep.Summary.Info++
		case Warn:
			rep.Summary.Warn++
		case Fail:
			rep.Summary.Fail++
		case Skip:
			rep.Summary.Skip++
		}
		rep.Results = append(rep.Results, res)
	}
	for _, root := range roots {
		b := blocked[root]
		h := fmt.Sprintf("%s: %s (%d dependent checks skipped)", root, b.reason, hints[root])
		if rep.Hint != "" {
			rep.Hint += "; "
		}
		rep.Hint += h
	}
	rep.DurationMS = ms(time.Since(t0))
	return rep
}

func checksOf[R run](steps []step[R]) []Check {
	out := make([]Check, len(steps))
	for i, s := range steps {
		out[i] = s.Check
	}
	return out
}

// call is one HTTP call: the masked evidence and the raw answer the checks judge.
type call struct {
	x        Exchange
	endpoint string // which contract endpoint: "auth-token", "access-token", "user-data", "me"
	status   int
	header   http.Header
	body     []byte
	err      error
	timedOut bool
	elapsed  time.Duration
}

// answered reports whether an answer came back.
func (c *call) answered() bool { return c.err == nil }

// caller makes the calls of one run and keeps them for the checks that judge every answer.
type caller struct {
	client  *http.Client
	timeout time.Duration

	mu  sync.Mutex
	all []*call
}

func newCaller(base *http.Client, timeout time.Duration, conns int) *caller {
	var client http.Client
	if base != nil {
		client = *base
	} else {
		client.Transport = &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost: conns,
			IdleConnTimeout:     30 * time.Second,
		}
	}
	client.Jar = nil
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &caller{client: &client, timeout: timeout}
}

// request is what a check sends.
type request struct {
	label    string
	endpoint string
	method   string
	url      string
	header   http.Header
	body     []byte // nil: no body
}

// do sends the request within the run's timeout and reads at most MaxBodyBytes+1 of the
// answer. Header names are set as given (not canonicalized), as the platform sends them.
func (c *caller) do(ctx context.Context, rq request) *call {
	cl := &call{endpoint: rq.endpoint, x: Exchange{Label: rq.label, Method: rq.method, URL: rq.url,
		Request: contract.Exchange{Headers: contract.MaskHeaders(rq.header)}}}
	if len(rq.body) > 0 {
		if j, ok := contract.MaskJSON(rq.body); ok && bytes.HasPrefix(bytes.TrimSpace(rq.body), []byte("{")) {
			cl.x.Request.Body = j
		} else {
			cl.x.Request.Text = maskText(rq.body)
		}
	}
	c.mu.Lock()
	c.all = append(c.all, cl)
	c.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var rd io.Reader
	if rq.body != nil {
		rd = bytes.NewReader(rq.body)
	}
	req, err := http.NewRequestWithContext(ctx, rq.method, rq.url, rd)
	if err != nil {
		cl.err, cl.x.Error = err, err.Error()
		return cl
	}
	req.Header = rq.header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	t0 := time.Now()
	resp, err := c.client.Do(req)
	if err == nil {
		cl.status, cl.header = resp.StatusCode, resp.Header
		cl.body, err = io.ReadAll(io.LimitReader(resp.Body, contract.MaxBodyBytes+1))
		resp.Body.Close()
	}
	cl.elapsed = time.Since(t0)
	cl.x.DurationMS = ms(cl.elapsed)
	if err != nil {
		var ne net.Error
		cl.timedOut = errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
		cl.err = err
		switch {
		case cl.timedOut:
			cl.x.Error = fmt.Sprintf("no complete answer within %v", c.timeout)
		case contract.TLSProblem(err) != "":
			cl.x.Error = contract.TLSProblem(err)
		default:
			cl.x.Error = contract.AsConnectError(err).Error()
		}
		if errors.Is(ctx.Err(), context.Canceled) {
			cl.x.Error = "canceled"
		}
		return cl
	}
	cl.x.Status = cl.status
	cl.x.Response = &contract.Exchange{Headers: contract.MaskHeaders(cl.header)}
	if j, ok := contract.MaskJSON(cl.body); ok && len(j) <= 64<<10 {
		cl.x.Response.Body = j
	} else if len(cl.body) > 0 {
		cl.x.Response.Text = maskText(cl.body)
	}
	return cl
}

// unreachable says why the backend cannot be checked: no call has been answered and one
// failed without an answer (refused, unknown host, …; a timeout is a verdict of its own).
func (c *caller) unreachable() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var failed *call
	for _, cl := range c.all {
		switch {
		case cl.answered() && cl.status != 0:
			return ""
		case cl.err != nil && !cl.timedOut && failed == nil:
			failed = cl
		}
	}
	if failed == nil {
		return ""
	}
	var ce *contract.ConnectError
	if errors.As(contract.AsConnectError(failed.err), &ce) {
		return "not run: " + ce.Error()
	}
	return "not run: the backend did not answer (" + failed.x.Error + ")"
}

// calls returns every call made so far to the named endpoints.
func (c *caller) calls(endpoints ...string) []*call {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*call
	for _, cl := range c.all {
		for _, e := range endpoints {
			if cl.endpoint == e {
				out = append(out, cl)
			}
		}
	}
	return out
}

// tokenish matches runs that look like a token, a code or a secret.
var tokenish = regexp.MustCompile(`[A-Za-z0-9_\-.~+/=]{24,}`)

// maskText keeps the first 200 bytes of a body that is not JSON, as valid UTF-8, with
// anything token-looking masked.
func maskText(b []byte) string {
	if len(b) > 200 {
		b = b[:200]
	}
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	return tokenish.ReplaceAllStringFunc(s, contract.Mask)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// ---- judging answers ----

// answer is an "always 200" answer (PROTOCOL §2.3) taken apart: the token field, the
// error_code, and what is wrong with its shape.
type answer struct {
	obj      map[string]json.RawMessage // nil when the body is not a JSON object
	token    string                     // auth_token, access_token; user_data for the user-data call (raw JSON)
	refresh  string
	code     string
	problems []string // rule breaks of the shape, each "contract §x: …"
}

// hasToken says whether the answer carries its success value.
func (a answer) hasToken() bool { return a.token != "" }

// parseAnswer takes an answer apart. tokenKey is auth_token, access_token or user_data.
func parseAnswer(c *call, tokenKey, section string) answer {
	var a answer
	if !c.answered() {
		return a
	}
	t := bytes.TrimSpace(c.body)
	if len(t) == 0 || t[0] != '{' || json.Unmarshal(t, &a.obj) != nil {
		a.obj = nil
		a.problems = append(a.problems, "contract §2.2: the answer is not a JSON object")
		return a
	}
	str := func(key string) (string, bool) {
		raw, ok := a.obj[key]
		if !ok || string(raw) == "null" {
			return "", true
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			a.problems = append(a.problems, fmt.Sprintf("contract %s: %s is %s, not a string", section, key, jsonKind(raw)))
			return "", false
		}
		return s, true
	}
	a.code, _ = str("error_code")
	if tokenKey == "user_data" {
		if raw, ok := a.obj["user_data"]; ok && string(raw) != "null" {
			a.token = string(raw)
		}
	} else {
		a.token, _ = str(tokenKey)
		a.refresh, _ = str("refresh_token")
		for _, f := range []struct{ name, v string }{{tokenKey, a.token}, {"refresh_token", a.refresh}} {
			if n := contract.Len(f.v); n > contract.MaxTokenLen {
				a.problems = append(a.problems, fmt.Sprintf("contract %s: %s is %d characters; String(%d) allows no more", section, f.name, n, contract.MaxTokenLen))
			}
		}
	}
	switch {
	case a.code != "" && a.token != "":
		a.problems = append(a.problems, fmt.Sprintf("contract §2.3: the answer carries both %s and error_code (§9.9: the platform treats it as the error)", tokenKey))
	case a.code == "" && a.token == "":
		a.problems = append(a.problems, fmt.Sprintf("contract %s: the answer has neither %s nor error_code", section, tokenKey))
	}
	return a
}

func jsonKind(raw json.RawMessage) string {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return "empty"
	}
	switch t[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// describe says in a few words what an answer was, for messages.
func describe(c *call, a answer, tokenKey string) string {
	switch {
	case !c.answered():
		return c.x.Error
	case a.obj == nil:
		return fmt.Sprintf("HTTP %d with a body that is not a JSON object", c.status)
	case a.code != "" && a.token != "":
		return fmt.Sprintf("HTTP %d with both %s and error_code %s", c.status, tokenKey, a.code)
	case a.code != "":
		return fmt.Sprintf("HTTP %d error_code %s", c.status, a.code)
	case a.token != "":
		return fmt.Sprintf("HTTP %d with %s", c.status, tokenKey)
	}
	return fmt.Sprintf("HTTP %d without %s or error_code", c.status, tokenKey)
}

// refused judges a request the backend must refuse: an answer with error_code and without
// the success value. want lists the codes the contract names for the case (none when it
// names none); judgeCode says how another code is taken: a code of Boxo's list is never
// called wrong. ok is false when the verdict is already a FAIL.
func refused(c *call, a answer, tokenKey string, want ...string) (v verdict, ok bool) {
	switch {
	case !c.answered():
		return fail("no answer: "+c.x.Error, c), false
	case a.token != "":
		return fail(fmt.Sprintf("accepted it: answered %s", describe(c, a, tokenKey)), c), false
	case a.code == "":
		return fail(fmt.Sprintf("answered %s; an error_code was expected", describe(c, a, tokenKey)), c), false
	}
	status, msg := judgeCode(a.code, want)
	return verdict{status: status, message: msg, evidence: []*call{c}}, true
}

// ---- checks that judge every answer of a run ----

func checkAlways200(c *caller, endpoints ...string) verdict {
	var bad []*call
	n := 0
	unrouted := 0
	for _, cl := range c.calls(endpoints...) {
		if !cl.answered() {
			continue
		}
		if noRoute(cl) {
			unrouted++
			continue
		}
		n++
		if cl.status != http.StatusOK {
			bad = append(bad, cl)
		}
	}
	if len(bad) > 0 {
		return fail(fmt.Sprintf("%d of %d answers were not HTTP 200 (first: %d %s); the platform reports any other status as an error of its own%s",
			len(bad), n, bad[0].status, http.StatusText(bad[0].status), notCounted(unrouted)), firstN(bad, 5)...)
	}
	if n == 0 {
		return skip("no answer came back" + notCounted(unrouted))
	}
	return pass(fmt.Sprintf("all %d answers were HTTP 200%s", n, notCounted(unrouted)))
}

func checkContentType(c *call) string {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return ""
	}
	ct := c.header.Get("Content-Type")
	if ct == "" {
		return "no Content-Type"
	}
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		return fmt.Sprintf("Content-Type %q", ct)
	}
	return ""
}

func checkJSONContentType(c *caller, endpoints ...string) verdict {
	var bad []*call
	var first string
	n := 0
	unrouted := 0
	for _, cl := range c.calls(endpoints...) {
		if !cl.answered() || len(bytes.TrimSpace(cl.body)) == 0 {
			continue
		}
		if noRoute(cl) {
			unrouted++
			continue
		}
		n++
		if p := checkContentType(cl); p != "" {
			if first == "" {
				first = p
			}
			bad = append(bad, cl)
		}
	}
	if len(bad) > 0 {
		return fail(fmt.Sprintf("%d of %d answers lacked Content-Type application/json (first: %s)%s", len(bad), n, first, notCounted(unrouted)), firstN(bad, 5)...)
	}
	if n == 0 {
		return skip("no answer with a body came back" + notCounted(unrouted))
	}
	return pass(fmt.Sprintf("all %d answers had Content-Type application/json%s", n, notCounted(unrouted)))
}

// checkShapes applies parse to every answer of the endpoints and fails on any shape problem.
func checkShapes(c *caller, parse map[string]func(*call) answer) verdict {
	var bad []*call
	var problems []string
	n, unrouted := 0, 0
	endpoints := make([]string, 0, len(parse))
	for e := range parse {
		endpoints = append(endpoints, e)
	}
	slices.Sort(endpoints)
	for _, endpoint := range endpoints {
		p := parse[endpoint]
		for _, cl := range c.calls(endpoint) {
			if !cl.answered() {
				continue
			}
			if noRoute(cl) {
				unrouted++
				continue
			}
			n++
			if a := p(cl); len(a.problems) > 0 {
				bad = append(bad, cl)
				for _, pr := range a.problems {
					if !contains(problems, pr) {
						problems = append(problems, pr)
					}
				}
			}
		}
	}
	if len(bad) > 0 {
		return fail(fmt.Sprintf("%d of %d answers broke the answer's shape: %s%s", len(bad), n, strings.Join(problems, "; "), notCounted(unrouted)), firstN(bad, 5)...)
	}
	if n == 0 {
		return skip("no answer came back" + notCounted(unrouted))
	}
	return pass(fmt.Sprintf("all %d answers were a JSON object with a token of at most %d characters, or error_code%s", n, contract.MaxTokenLen, notCounted(unrouted)))
}

// noRoute reports whether an answer says the URL has no endpoint there (404) or none for the
// method (405): the call reached no endpoint of the contract, so the form checks do not
// count it; the check that made the call says what to fix.
func noRoute(cl *call) bool {
	return cl.status == http.StatusNotFound || cl.status == http.StatusMethodNotAllowed
}

// notCounted says how many answers the form checks left out as noRoute.
func notCounted(n int) string {
	switch n {
	case 0:
		return ""
	case 1:
		return " (1 answer from no route at the URL, HTTP 404 or 405, not counted)"
	}
	return fmt.Sprintf(" (%d answers from no route at the URL, HTTP 404 or 405, not counted)", n)
}

func checkWithin(c *caller, timeout time.Duration) verdict {
	var slow []*call
	var slowest time.Duration
	n := 0
	for _, cl := range c.calls("auth-token", "access-token", "user-data", "me") {
		if !cl.answered() && !cl.timedOut {
			continue // no answer for another reason: not a matter of time
		}
		n++
		if cl.timedOut {
			slow = append(slow, cl)
		}
		slowest = max(slowest, cl.elapsed)
	}
	if len(slow) > 0 {
		return fail(fmt.Sprintf("%d of %d calls got no complete answer within %v", len(slow), n, timeout), firstN(slow, 5)...)
	}
	if n == 0 {
		return skip("no call was made")
	}
	return pass(fmt.Sprintf("all %d calls answered within %v; the slowest took %v", n, timeout, slowest.Round(time.Microsecond)))
}

func firstN(cs []*call, n int) []*call {
	if len(cs) > n {
		return cs[:n]
	}
	return cs
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// checkURL checks an absolute http(s) URL given for a flag.
func checkURL(name, v string) error {
	if v == "" {
		return fmt.Errorf("%s is required", name)
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s %q is not an absolute http(s) URL", name, v)
	}
	return nil
}

// setExact sets a header under the exact spelling of PROTOCOL §2.6.
func setExact(h http.Header, name, value string) { h[name] = []string{value} }
