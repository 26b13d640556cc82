package platform

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
	"strings"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// flowRun collects the platform's steps of one authorize; they are written in one
// transaction when the request ends (DESIGN.md "Flow log").
type flowRun struct {
	id    string
	steps []contract.FlowStep
}

// add appends a step and returns its index, so the step can be finished later.
func (f *flowRun) add(st contract.FlowStep) int {
	f.steps = append(f.steps, st)
	return len(f.steps) - 1
}

// violate records on step i a contract rule its answer broke (PROTOCOL §x.y: what).
func (f *flowRun) violate(i int, section, format string, args ...any) {
	f.steps[i].Violations = append(f.steps[i].Violations, "contract "+section+": "+fmt.Sprintf(format, args...))
}

// fail marks step i failed with e's code and message.
func (f *flowRun) fail(i int, e *contract.Error) {
	f.steps[i].Outcome = contract.OutcomeFailed
	f.steps[i].ErrorCode = e.Code
	f.steps[i].Note = joinNote(f.steps[i].Note, e.Explanation())
}

func joinNote(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "" || strings.Contains(a, b):
		return a
	}
	return a + "; " + b
}

// outcall is one outbound call of the platform (steps 6, 8, 10 and the host refresh).
type outcall struct {
	step     int    // the request's step; the answer is recorded as step+1
	toward   string // "hostapp" or "miniapp"
	method   string
	url      string
	header   http.Header
	body     []byte // nil: no body
	note     string // added to both steps, e.g. "refresh-and-retry"
	failCode string // the code of no usable answer: UNEXPECTED_RESPONSE_ERROR
	// signWith is the HMAC secret to sign the call with (PROTOCOL §7.8); "" sends it unsigned.
	signWith string
}

// answer is what came back, after the transport-level checks of PROTOCOL §3.8 and §3.12.
type answer struct {
	status  int
	header  http.Header
	body    []byte
	problem string // non-empty: no usable answer (timeout, unreachable, non-200, too large)
	index   int    // the answer's step in the flowRun
	run     *flowRun
}

// violate records a contract rule the answer broke on the answer's step.
func (a answer) violate(section, format string, args ...any) {
	a.run.violate(a.index, section, format, args...)
}

// do makes the call with the configured timeout and records the request step (outcome ok:
// the platform sent it) and the answer step (outcome ok until the caller says otherwise,
// failed with failCode when there was no usable answer).
func (s *server) do(ctx context.Context, f *flowRun, c outcall) answer {
	path := "/"
	if u, err := url.Parse(c.url); err == nil && u.Path != "" {
		path = u.Path
	}
	if c.signWith != "" {
		if c.header == nil {
			c.header = http.Header{}
		}
		s.signOutcall(&c)
	}
	reqStep := contract.FlowStep{
		Step: c.step, Actor: contract.PartyPlatform + " → " + c.toward, Call: c.method + " " + path,
		StartedAt: s.now(), Outcome: contract.OutcomeOK, Note: c.note,
		Request: &contract.Exchange{Headers: contract.MaskHeaders(c.header), Body: maskedBody(c.body)},
	}
	t0 := time.Now()
	status, respHeader, body, problem, timedOut := s.roundTrip(ctx, c)
	reqStep.DurationMS = float64(time.Since(t0).Microseconds()) / 1000
	f.add(reqStep)

	ansStep := contract.FlowStep{
		Step: c.step + 1, Actor: c.toward + " → " + contract.PartyPlatform, Call: c.method + " " + path + " response",
		Status: status, StartedAt: s.now(), Outcome: contract.OutcomeOK, Note: c.note,
	}
	if status != 0 {
		ansStep.Response = &contract.Exchange{Headers: contract.MaskHeaders(respHeader)}
		if j, ok := contract.MaskJSON(body); ok && len(j) <= maxLoggedJSON {
			ansStep.Response.Body = j
		} else if len(body) > 0 {
			ansStep.Response.Text = maskText(body)
		}
	}
	a := answer{status: status, header: respHeader, body: body, problem: problem, run: f}
	a.index = f.add(ansStep)
	if problem != "" {
		f.fail(a.index, &contract.Error{Code: c.failCode, Message: problem})
	}
	transportViolations(a, c.toward, respHeader, timedOut, s.timeout)
	return a
}

// transportViolations records the rules of PROTOCOL §2 an answer broke before its body is
// read: the wait (§2.11), the status (§2.3) and the content type (§2.2).
func transportViolations(a answer, toward string, h http.Header, timedOut bool, timeout time.Duration) {
	if timedOut {
		a.violate("§2.11", "%s gave no answer within %v", toward, timeout)
		return
	}
	if a.status == 0 {
		return // no answer at all: unreachable, which is not a rule of the contract
	}
	if a.status != http.StatusOK {
		a.violate("§2.3", "%s answered HTTP %d; this endpoint answers 200 for every outcome", toward, a.status)
	}
	if len(a.body) > 0 {
		ct := h.Get("Content-Type")
		mt, _, err := mime.ParseMediaType(ct)
		switch {
		case ct == "":
			a.violate("§2.2", "the answer has no Content-Type; JSON bodies carry application/json")
		case err != nil || mt != "application/json":
			a.violate("§2.2", "the answer's Content-Type is %q; JSON bodies carry application/json", ct)
		}
	}
}

// roundTrip sends the request and reads at most MaxBodyBytes of the answer, all within the
// call timeout. problem describes why there is no usable answer; timedOut says the call
// timeout ran out.
func (s *server) roundTrip(ctx context.Context, c outcall) (status int, header http.Header, body []byte, problem string, timedOut bool) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var rd io.Reader
	if c.body != nil {
		rd = bytes.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, c.url, rd)
	if err != nil {
		return 0, nil, nil, fmt.Sprintf("cannot call %s: %v", c.toward, err), false
	}
	req.Header = c.header
	resp, err := s.client.Do(req)
	if err != nil {
		problem, timedOut = transportProblem(c.toward, s.timeout, err)
		return 0, nil, nil, problem, timedOut
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, contract.MaxBodyBytes+1))
	switch {
	case err != nil:
		problem, timedOut = transportProblem(c.toward, s.timeout, err)
		return resp.StatusCode, resp.Header, body, problem, timedOut
	case len(body) > contract.MaxBodyBytes:
		return resp.StatusCode, resp.Header, body[:512], fmt.Sprintf("%s answer is larger than %d bytes", c.toward, contract.MaxBodyBytes), false
	case resp.StatusCode != http.StatusOK:
		return resp.StatusCode, resp.Header, body, statusProblem(c, resp.StatusCode, resp.Header, body), false
	}
	return resp.StatusCode, resp.Header, body, "", false
}

// statusProblem describes a non-200 answer for the flow log and the SDK: the status, the
// body's error_code when it has one, and the likely cause where the status tells it.
func statusProblem(c outcall, status int, h http.Header, body []byte) string {
	msg := fmt.Sprintf("%s answered HTTP %d", c.toward, status)
	var e struct {
		ErrorCode string `json:"error_code"`
	}
	if json.Unmarshal(bytes.TrimSpace(body), &e) == nil && e.ErrorCode != "" {
		msg += " with error_code " + e.ErrorCode
	}
	msg += "; the contract wants 200 for every outcome"
	if cause := likelyCause(c, status, h, body); cause != "" {
		msg += " (" + cause + ")"
	}
	return msg
}

// likelyCause names what a status usually means for a Connect endpoint.
func likelyCause(c outcall, status int, h http.Header, body []byte) string {
	switch status {
	case http.StatusNotFound:
		return "no route at " + c.url + ": check the endpoint's path (boxo-sim up --access-token-url, --user-data-url, --refresh-token-url, --auth-token-url)"
	case http.StatusMethodNotAllowed:
		cause := c.url + " does not take " + c.method
		if allow := h.Get("Allow"); allow != "" {
			cause += " (it allows " + allow + ")"
		}
		if c.step == 8 {
			cause += ": use the other user data method (boxo-sim up --user-data-method GET or POST)"
		}
		return cause
	case http.StatusUnauthorized, http.StatusForbidden:
		return "the backend refused the credentials: check --hostapp-client-id, --hostapp-secret and --token-prefix (or --miniapp-secret)"
	}
	if looksHTML(h, body) {
		return "the answer is an HTML page: probably not the API endpoint"
	}
	return ""
}

// looksHTML reports whether an answer is an HTML page rather than an API's JSON.
func looksHTML(h http.Header, body []byte) bool {
	if mt, _, err := mime.ParseMediaType(h.Get("Content-Type")); err == nil && mt == "text/html" {
		return true
	}
	t := bytes.ToLower(bytes.TrimSpace(body))
	return bytes.HasPrefix(t, []byte("<!doctype html")) || bytes.HasPrefix(t, []byte("<html"))
}

func transportProblem(toward string, timeout time.Duration, err error) (problem string, timedOut bool) {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return fmt.Sprintf("%s did not answer within %v", toward, timeout), true
	}
	if cause := contract.TLSProblem(err); cause != "" {
		return fmt.Sprintf("call to %s failed: %s", toward, cause), false
	}
	if errors.Is(err, context.Canceled) {
		return "the SDK's request was canceled while waiting for " + toward, false
	}
	return fmt.Sprintf("call to %s failed: %v", toward, err), false
}

// decodeAnswer decodes a usable answer's JSON object into dst; it returns a problem, with
// the code of contract §5.1 for it, when there is no usable answer, when the answer's
// Content-Type is not JSON (INVALID_RESPONSE_CONTENT_TYPE) or when the body is not a JSON
// object of the expected shape (FAILED_TO_PARSE_RESPONSE), and records the rule broken
// (§2.2, or section: the answer's table). An answer without Content-Type is read anyway.
func decodeAnswer(a answer, dst any, toward, section string) (code, problem string) {
	if a.problem != "" {
		return contract.CodeUnexpectedResponseError, a.problem
	}
	if ct := a.header.Get("Content-Type"); ct != "" && len(bytes.TrimSpace(a.body)) > 0 {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return contract.CodeInvalidResponseContentType, fmt.Sprintf("%s answer has Content-Type %q, not application/json", toward, ct)
		}
	}
	t := bytes.TrimSpace(a.body)
	if len(t) == 0 || t[0] != '{' {
		a.violate("§2.2", "the answer is not a JSON object")
		if looksHTML(nil, t) {
			return contract.CodeFailedToParseResponse, toward + " answer is an HTML page, not a JSON object: probably not the API endpoint"
		}
		return contract.CodeFailedToParseResponse, toward + " answer is not a JSON object"
	}
	if err := json.Unmarshal(t, dst); err != nil {
		a.violate(section, "the answer does not fit the contract: %v", err)
		return contract.CodeFailedToParseResponse, toward + " answer does not fit the contract: " + err.Error()
	}
	return "", ""
}

// codeNote notes on the answer's step an error_code on neither Boxo's list nor boxo-sim's
// (contract §5.1), or an earlier boxo-sim name. Parties may send any code and the platform
// passes it through: a note, never a violation.
func codeNote(a answer, code string) {
	step := &a.run.steps[a.index]
	switch {
	case contract.IsKnownCode(code) || contract.IsBoxoCode(code):
	case contract.DeprecationWarning(code) != "":
		step.Note = joinNote(step.Note, fmt.Sprintf("error_code %s is an earlier boxo-sim name, not on Boxo's list; Boxo's code is %s (contract §5.1)", code, contract.Deprecated[code][0]))
	default:
		step.Note = joinNote(step.Note, fmt.Sprintf("error_code %s is on neither Boxo's list nor boxo-sim's (contract §5.1); passed through", code))
	}
}

// maskedBody masks a JSON request body for the flow log.
func maskedBody(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	if j, ok := contract.MaskJSON(b); ok {
		return j
	}
	return nil
}

// maxLoggedJSON is the largest answer body the flow log keeps as JSON; a larger one is kept
// as its first 200 bytes of text.
const maxLoggedJSON = 64 << 10

// tokenish matches runs that look like a token, a code or a secret.
var tokenish = regexp.MustCompile(`[A-Za-z0-9_\-.~+/=]{16,}`)

// maskText keeps the first 200 bytes of a body that is not JSON, as valid UTF-8, with
// anything token-looking masked.
func maskText(b []byte) string {
	if len(b) > 200 {
		b = b[:200]
	}
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	return tokenish.ReplaceAllStringFunc(s, contract.Mask)
}
