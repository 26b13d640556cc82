package sdkstub

// The outcome of a flow as the SDK reports it: its steps, where it stopped, and how they print.

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// Step is one of the 16 steps as the SDK saw it or read it from the platform's flow log.
type Step struct {
	Number     int           `json:"step"`
	Actor      string        `json:"actor"`
	Call       string        `json:"call"`
	Status     int           `json:"status,omitempty"`
	Duration   time.Duration `json:"-"`
	DurationMS float64       `json:"duration_ms"`
	OK         bool          `json:"ok"` // the step did not fail: it succeeded or was skipped
	// Skipped: the SDK did not run the step (steps 14–15 with Options.SkipMe).
	Skipped   bool   `json:"skipped,omitempty"`
	ErrorCode string `json:"error_code,omitempty"`
	Note      string `json:"note,omitempty"`
}

// Result is the outcome of one Connect flow.
type Result struct {
	FlowID string `json:"flow_id"`
	User   string `json:"user"` // the host user signed in; "" when the auth code came from Options.AuthCode
	// Reference is the host's user reference the miniapp got at step 10 (contract §3.11),
	// read from the platform's flow log; "" when the flow did not get that far.
	Reference string `json:"reference,omitempty"`
	AppID     string `json:"app_id"`
	OK        bool   `json:"ok"` // step 16 reached
	Steps     []Step `json:"steps"`
	// Token and RefreshToken are the miniapp's tokens from step 13; never printed in full.
	Token        string       `json:"-"`
	RefreshToken string       `json:"-"`
	Me           *contract.Me `json:"me,omitempty"`
	// SavedToken: the miniapp signed in with the token saved by an earlier login, which its
	// backend accepted (PROTOCOL §3.3); steps 3–13 did not run.
	SavedToken bool `json:"saved_token"`
	// ConsentSkipped: get_consent said the user allowed the miniapp before, so the SDK showed
	// no prompt at step 4 (PROTOCOL §7.4).
	ConsentSkipped bool `json:"consent_skipped"`
	// InitData is what GetInitData handed the miniapp at step 1, tokens and payload masked.
	InitData   *InitData     `json:"init_data,omitempty"`
	Err        *Error        `json:"error,omitempty"`
	Duration   time.Duration `json:"-"`
	DurationMS float64       `json:"duration_ms"`
}

// Error is a flow that stopped: at which step, reported by which party, with which code.
type Error struct {
	Step    int    `json:"step"`
	Party   string `json:"party"`
	Status  int    `json:"status,omitempty"`
	Code    string `json:"error_code"`
	Message string `json:"message,omitempty"`
	// Unreachable: the call reached nothing at its URL (refused, unknown host); Message
	// says "could not connect to <origin> (<reason>)" and Code is the SDK's for it.
	Unreachable bool `json:"unreachable,omitempty"`
}

func (e *Error) Error() string {
	if e.Unreachable {
		return fmt.Sprintf("step %d: %s", e.Step, e.Message)
	}
	s := fmt.Sprintf("step %d: %s reported %s", e.Step, e.Party, e.Code)
	if e.Message != "" && e.Message != e.Code {
		s += ": " + e.Message
	}
	return s
}

// Bridge-level codes the SDK itself reports (PROTOCOL §4.4).
const (
	CodeUserDenied          = contract.BridgeUserDenied
	CodeNoAuthCode          = contract.BridgeNoAuthCode
	CodePlatformUnavailable = contract.BridgePlatformUnavailable
	CodeNoAuthToken         = contract.BridgeNoAuthToken
	CodeMeFailed            = contract.BridgeMeFailed
)

// WriteSteps prints steps as a table: number, actor, call, status, time and result, each
// line starting with indent.
func WriteSteps(w io.Writer, steps []Step, indent string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%sSTEP\tACTOR\tCALL\tSTATUS\tTIME\tRESULT\n", indent)
	for _, s := range steps {
		status := ""
		if s.Status != 0 {
			status = fmt.Sprint(s.Status)
		}
		result := "ok"
		switch {
		case !s.OK:
			result = "FAILED " + s.ErrorCode
		case s.Skipped:
			result = "skipped"
		}
		if s.Note != "" {
			result += " (" + s.Note + ")"
		}
		fmt.Fprintf(tw, "%s%d\t%s\t%s\t%s\t%s\t%s\n", indent, s.Number, s.Actor, s.Call, status, FormatMS(s.DurationMS), result)
	}
	return tw.Flush()
}

// FormatMS prints a duration in milliseconds for people: "-" for none, two decimals below
// 10 ms.
func FormatMS(ms float64) string {
	switch {
	case ms == 0:
		return "-"
	case ms < 10:
		return fmt.Sprintf("%.2fms", ms)
	default:
		return fmt.Sprintf("%.0fms", ms)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
