package scenarios

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/junit"
)

// Report is the outcome of a run.
type Report struct {
	Results  []Result // in the order the scenarios were given
	Started  time.Time
	Duration time.Duration
	// Counts of Results by status.
	Passed, Failed, Errors, Skipped int
	// Interrupted is set when the run was cancelled (Ctrl-C): the scenarios it stopped or kept
	// from starting are Skipped.
	Interrupted bool
}

// OK reports whether every scenario passed.
func (r *Report) OK() bool { return r.Failed == 0 && r.Errors == 0 && r.Skipped == 0 }

// Summary is the run in one line.
func (r *Report) Summary() string {
	n := len(r.Results)
	d := r.Duration.Round(time.Millisecond)
	if r.OK() {
		return fmt.Sprintf("ok: %d %s passed in %s", n, plural(n, "scenario"), d)
	}
	var parts []string
	if r.Failed > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", r.Failed))
	}
	if r.Errors > 0 {
		parts = append(parts, fmt.Sprintf("%d could not run", r.Errors))
	}
	if r.Skipped > 0 {
		parts = append(parts, fmt.Sprintf("%d skipped", r.Skipped))
	}
	word := "FAIL"
	if r.Interrupted {
		word = "INTERRUPTED"
	}
	return fmt.Sprintf("%s: %s of %d %s (%d passed) in %s", word, strings.Join(parts, ", "), n, plural(n, "scenario"), r.Passed, d)
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// Line is a scenario's result in one line, as the progress output shows it.
func (r Result) Line() string {
	word := map[Status]string{Passed: "PASS", Failed: "FAIL", Errored: "ERROR", Skipped: "SKIP"}[r.Status]
	return fmt.Sprintf("%-5s %s (%s)", word, r.Name, r.Duration.Round(time.Millisecond))
}

// Details is what went wrong, in several lines: the file and line, the expectation, what
// happened and the flow trace. It is empty for a scenario that passed.
func (r Result) Details() string {
	var b strings.Builder
	switch {
	case r.Failure != nil:
		f := r.Failure
		loc := r.File
		if f.Line > 0 {
			loc = fmt.Sprintf("%s:%d", r.File, f.Line)
		}
		who := f.Do
		if f.User != "" {
			who += " as " + f.User
		}
		fmt.Fprintf(&b, "%s: actions[%d] (%s)\n", loc, f.Action, who)
		fmt.Fprintf(&b, "expected: %s\n", f.Expected)
		fmt.Fprintf(&b, "got:      %s\n", f.Got)
		if f.Trace != "" {
			b.WriteString(f.Trace)
		}
	case r.Status == Errored:
		fmt.Fprintf(&b, "%s: could not run: %s\n", r.File, r.Error)
	case r.Status == Skipped:
		fmt.Fprintf(&b, "%s: %s\n", r.File, r.skipMessage())
	}
	return b.String()
}

// WriteText writes every failure's details and the summary line.
func (r *Report) WriteText(w io.Writer) error {
	for _, res := range r.Results {
		if res.Status == Passed || res.Status == Skipped {
			continue
		}
		fmt.Fprintf(w, "--- %s\n", res.Line())
		for _, l := range strings.Split(strings.TrimRight(res.Details(), "\n"), "\n") {
			fmt.Fprintf(w, "    %s\n", l)
		}
	}
	_, err := fmt.Fprintln(w, r.Summary())
	return err
}

// jsonReport is the --json shape.
type jsonReport struct {
	OK      bool `json:"ok"`
	Passed  int  `json:"passed"`
	Failed  int  `json:"failed"`
	Errors  int  `json:"errors"`
	Skipped int  `json:"skipped"`
	// Interrupted: the run was cancelled; the skipped scenarios say so.
	Interrupted bool     `json:"interrupted,omitempty"`
	DurationMS  float64  `json:"duration_ms"`
	Scenarios   []Result `json:"scenarios"`
}

// WriteJSON writes the report as one JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(jsonReport{
		OK: r.OK(), Passed: r.Passed, Failed: r.Failed, Errors: r.Errors, Skipped: r.Skipped, Interrupted: r.Interrupted,
		DurationMS: float64(r.Duration.Microseconds()) / 1000, Scenarios: r.Results,
	})
}

func (r Result) skipMessage() string {
	if r.Skip != "" {
		return r.Skip
	}
	return skippedMessage
}

const skippedMessage = "not run: the run stopped before it (--fail-fast after a failure, or an interrupt)"

// SuiteName names the JUnit test suite.
const SuiteName = "boxo-sim scenarios"

// WriteJUnit writes the report as JUnit XML: one testsuite, one testcase per scenario named
// as the scenario, classname its area (the name's first word).
func (r *Report) WriteJUnit(w io.Writer) error {
	suite := junit.Suite{Name: SuiteName, Time: junit.Seconds(r.Duration), Timestamp: junit.Timestamp(r.Started)}
	if h, err := os.Hostname(); err == nil {
		suite.Hostname = h
	}
	for _, res := range r.Results {
		area, _, _ := strings.Cut(res.Name, "-")
		c := junit.Case{Name: res.Name, Classname: "scenarios." + area, File: res.File, Time: junit.Seconds(res.Duration)}
		switch res.Status {
		case Failed:
			c.Failure = &junit.Problem{Message: res.Failure.Message(), Type: "ExpectationNotMet", Text: res.Details()}
		case Errored:
			c.Error = &junit.Problem{Message: res.Error, Type: "ScenarioError", Text: res.Details()}
		case Skipped:
			c.Skipped = &junit.Skipped{Message: res.skipMessage()}
		}
		suite.Cases = append(suite.Cases, c)
	}
	return junit.Write(w, SuiteName, suite)
}
