package platform

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// Steps reported from outside the platform (DESIGN.md "Flow log"). The SDK performs steps
// 1–5 and 13–16 of PROTOCOL §3.1 and the platform 6–12; the SDK (sdkstub, or the demo web
// pages in a browser) reports its own to the platform, which keeps the one log. Two routes
// take reports, with the same rules (handleReportSteps):
//
//   - POST /_sim/flows/{id}/steps, for the simulator's own clients;
//   - POST /api/v1/sim/flows/{id}/steps, for pages in a browser: outside /_sim/ (which
//     refuses other sites), with the CORS answers of /api/v1/. The flow id, a random value
//     (contract.NewFlowID) the reporter chose, is the capability.
//
// A report never changes what the platform recorded: it may carry only steps 1–5 and
// 13–16, it only fills the flow's client_id, app_id and user_reference when empty, and the
// flow's error code prefers the platform's failing step (RecordFlow).

// Bounds of one report and of one flow.
const (
	maxReportSteps     = 32               // steps in one report
	maxSDKStepsPerFlow = 64               // SDK steps one flow may hold
	maxHeaders         = 50               // headers of one reported exchange
	maxHeaderLen       = 8 << 10          // one header value, in bytes
	maxExchangeBytes   = 64 << 10         // a reported body or text, in bytes
	maxDurationMS      = 24 * 3600 * 1000 // one step's duration
)

// codeFlowClosed is the plain-form code of a report to a flow that has ended.
const codeFlowClosed = "flow_closed"

// sdkStepIn reports whether step n is one the SDK side performs in a flow of mode: 1–5 and
// 13–16, or in Direct the SDK's and host app's 1–5 and 10–12 (PROTOCOL §3.1, §7.3).
func sdkStepIn(mode string, n int) bool {
	platformLast, last := StepsOf(mode)
	return n >= 1 && n <= 5 || n > platformLast && n <= last
}

// stepReport is the object form of a report.
type stepReport struct {
	ClientID      string `json:"client_id"`
	AppID         string `json:"app_id"`
	UserReference string `json:"user_reference"`
	// Mode is "connect" (the default) or "direct"; it must match the flow's.
	Mode  string              `json:"mode"`
	Steps []contract.FlowStep `json:"steps"`
}

// handleReportSteps takes a report of the SDK's steps for flow {id}. The body is a JSON array
// of contract.FlowStep, or {"client_id", "app_id", "user_reference", "steps": [...]}. Each
// step is checked (a step of 1–5 or 13–16, an actor, outcome ok or failed with "" meaning
// ok, started_at within years 0000–9999 UTC or absent for the server's time, bounded
// sizes) and masked again. The flow is created when absent; a flow that has ended (step 16
// recorded, or an SDK step failed) takes no more reports (409 flow_closed), nor does one
// holding maxSDKStepsPerFlow SDK steps. Answer: {"id": flow id, "added": n}.
func (s *server) handleReportSteps() contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := mux.Vars(r)["id"]
		if !contract.ValidFlowID(id) {
			return invalidField("id", "flow id must be 1 to 64 characters of A-Z a-z 0-9 _ . : ~ @ + = -, and not \"latest\"")
		}
		var raw json.RawMessage
		if err := contract.DecodeJSON(w, r, &raw, plainInvalidRequest); err != nil {
			return err
		}
		var body stepReport
		switch t := bytes.TrimSpace(raw); {
		case len(t) > 0 && t[0] == '[':
			if err := json.Unmarshal(t, &body.Steps); err != nil {
				return &contract.Error{Code: plainInvalidRequest, Message: "steps: " + err.Error()}
			}
		case len(t) > 0 && t[0] == '{':
			if err := json.Unmarshal(t, &body); err != nil {
				return &contract.Error{Code: plainInvalidRequest, Message: err.Error()}
			}
		default:
			return &contract.Error{Code: plainInvalidRequest, Message: "request body must be an array of steps or an object with steps"}
		}
		if len(body.Steps) == 0 {
			return invalidField("steps", "no step to record")
		}
		if len(body.Steps) > maxReportSteps {
			return invalidField("steps", "more than %d steps in one request", maxReportSteps)
		}
		for _, f := range []struct{ name, v string }{{"client_id", body.ClientID}, {"app_id", body.AppID}} {
			if f.v != "" {
				if err := checkID(f.name, f.v); err != nil {
					return err
				}
			}
		}
		if contract.Len(body.UserReference) > contract.MaxReferenceLen {
			return invalidField("user_reference", "is longer than %d characters", contract.MaxReferenceLen)
		}
		switch body.Mode {
		case "", ModeConnect, ModeDirect:
		default:
			return invalidField("mode", "must be connect or direct")
		}
		now := s.now().UTC()
		started := now
		for i := range body.Steps {
			if err := cleanStep(&body.Steps[i], i, now, body.Mode); err != nil {
				return err
			}
			if t := body.Steps[i].StartedAt; t.Before(started) {
				started = t
			}
		}
		err := s.store.RecordSDKSteps(r.Context(), FlowRecord{
			FlowID: id, ClientID: body.ClientID, AppID: body.AppID, UserReference: body.UserReference,
			StartedAt: started, Steps: body.Steps, Mode: body.Mode,
		}, func(exists bool, mode string, steps []contract.FlowStep) error {
			if body.Mode != "" && body.Mode != mode {
				return &contract.Error{Code: codeFlowClosed, Status: http.StatusConflict,
					Message: "flow " + quote(id) + " is a " + mode + " flow; these steps are reported as " + body.Mode}
			}
			for i, st := range body.Steps {
				if !sdkStepIn(mode, st.Step) {
					return invalidField("steps["+strconv.Itoa(i)+"].step", "%d is not a step the SDK reports in a %s flow", st.Step, mode)
				}
			}
			return reportAllowed(id, mode, steps, len(body.Steps))
		})
		if err != nil {
			return err
		}
		contract.WriteJSON(w, http.StatusOK, map[string]any{"id": id, "added": len(body.Steps)})
		return nil
	}
}

// reportAllowed says whether a flow with these recorded steps still takes n SDK steps: it has
// not ended (no step 16, no failed SDK step) and stays within maxSDKStepsPerFlow.
func reportAllowed(id, mode string, steps []contract.FlowStep, n int) error {
	_, last := StepsOf(mode)
	held := 0
	for _, st := range steps {
		if !sdkStepIn(mode, st.Step) {
			continue
		}
		held++
		if st.Step == last || st.Outcome == contract.OutcomeFailed {
			return &contract.Error{Code: codeFlowClosed, Status: http.StatusConflict,
				Message: "flow " + quote(id) + " has ended (step " + strconv.Itoa(st.Step) + " is recorded as " + st.Outcome + "): report the steps of a new flow under a new flow id"}
		}
	}
	if held+n > maxSDKStepsPerFlow {
		return &contract.Error{Code: codeFlowClosed, Status: http.StatusConflict,
			Message: "flow " + quote(id) + " would hold more than " + strconv.Itoa(maxSDKStepsPerFlow) + " SDK steps"}
	}
	return nil
}

// cleanStep checks one reported step and masks its exchanges again, defensively.
func cleanStep(st *contract.FlowStep, i int, now time.Time, mode string) error {
	field := "steps[" + strconv.Itoa(i) + "]"
	switch {
	case mode == ModeDirect && !sdkStepIn(mode, st.Step):
		return invalidField(field+".step", "%d is not a step the SDK or host app reports in Direct: only 1–5 and 10–12 (steps 6–9 are the platform's own)", st.Step)
	case !sdkStepIn(mode, st.Step) && !sdkStepIn(ModeDirect, st.Step):
		return invalidField(field+".step", "%d is not a step the SDK reports: only 1–5 and 13–16 (steps 6–12 are the platform's own)", st.Step)
	case st.Actor == "":
		return invalidField(field+".actor", "is required")
	case contract.Len(st.Actor) > 200 || contract.Len(st.Call) > 1000 || contract.Len(st.Note) > 2000 || contract.Len(st.ErrorCode) > 200:
		return invalidField(field, "actor, call, note or error_code is too long")
	case st.Status < 0 || st.Status > 999:
		return invalidField(field+".status", "must be an HTTP status")
	case st.DurationMS < 0 || st.DurationMS > maxDurationMS || math.IsNaN(st.DurationMS):
		return invalidField(field+".duration_ms", "must be between 0 and %d", maxDurationMS)
	case len(st.Violations) > 20:
		return invalidField(field+".violations", "more than 20 violations on one step")
	}
	for j, v := range st.Violations {
		if v == "" || contract.Len(v) > 1000 {
			return invalidField(field+".violations["+strconv.Itoa(j)+"]", "must be 1 to 1000 characters")
		}
	}
	switch st.Outcome {
	case "":
		st.Outcome = contract.OutcomeOK
	case contract.OutcomeOK, contract.OutcomeFailed, contract.OutcomeSkipped:
	default:
		return invalidField(field+".outcome", "must be ok, failed or skipped")
	}
	if st.StartedAt.IsZero() {
		st.StartedAt = now
	}
	// JSON and the flow log know years 0000 to 9999 only: a time outside them would make
	// every later read of the log fail.
	if y := st.StartedAt.UTC().Year(); y < 0 || y > 9999 {
		return invalidField(field+".started_at", "must be a time within the years 0000 to 9999 UTC, or absent for now")
	}
	st.StartedAt = st.StartedAt.UTC()
	for name, x := range map[string]*contract.Exchange{"request": st.Request, "response": st.Response} {
		if err := checkExchange(field+"."+name, x); err != nil {
			return err
		}
	}
	st.Request = remask(st.Request)
	st.Response = remask(st.Response)
	return nil
}

// checkExchange bounds a reported exchange.
func checkExchange(field string, x *contract.Exchange) error {
	if x == nil {
		return nil
	}
	if len(x.Headers) > maxHeaders {
		return invalidField(field+".headers", "more than %d headers", maxHeaders)
	}
	for k, v := range x.Headers {
		if len(k)+len(v) > maxHeaderLen {
			return invalidField(field+".headers", "header %s is longer than %d bytes", quote(k), maxHeaderLen)
		}
	}
	if len(x.Body) > maxExchangeBytes || len(x.Text) > maxExchangeBytes {
		return invalidField(field, "body or text is longer than %d bytes", maxExchangeBytes)
	}
	return nil
}

// noteSDKSilent is the flow note of a flow closed at step 12 with no SDK step reported;
// noteDirectSilent is the same for a Direct flow, closed at step 9 (PROTOCOL §7.3).
const (
	noteSDKSilent    = "the SDK's steps (1–5, 13–16) were not reported: the outcome is the platform's answer at step 12"
	noteDirectSilent = "the SDK's and host app's steps (1–5, 10–12) were not reported: the outcome is the platform's answer at step 9"
)

// flowNote is what a flow's record lacks, for its readers: a flow the platform answered at
// step 12 (Direct: 9) whose SDK reported nothing (a team's own web host app) is closed by
// that answer.
func flowNote(f contract.Flow) string {
	platformLast, _ := StepsOf(f.Mode)
	answered, reported := false, false
	for _, st := range f.Steps {
		switch {
		case st.Step == platformLast:
			answered = true
		case sdkStepIn(f.Mode, st.Step):
			reported = true
		}
	}
	switch {
	case !answered || reported:
		return ""
	case f.Mode == ModeDirect:
		return noteDirectSilent
	}
	return noteSDKSilent
}
