package check

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/junit"
)

// WriteText prints the report for a person: one block per check with its verdict, rule,
// message and evidence. Evidence of a PASS is one line per call; FAIL, WARN and verbose
// show the masked headers and bodies too.
func WriteText(w io.Writer, r *Report, verbose bool) error {
	ew := &errWriter{w: w}
	for _, e := range r.SetupErrors {
		ew.printf("Setup error (not a verdict on the backend): %s\n", strings.TrimPrefix(e, "setup error: "))
	}
	if len(r.SetupErrors) > 0 {
		ew.printf("\n")
	}
	if r.Hint != "" {
		ew.printf("Hint: %s\n\n", r.Hint)
	}
	ew.printf("Plan %s against %s\n", r.Plan, r.Target)
	for _, s := range r.Settings {
		ew.printf("  %s\n", s)
	}
	ew.printf("\n")
	width := 0
	for _, res := range r.Results {
		width = max(width, len(res.ID))
	}
	for _, res := range r.Results {
		ew.printf("%-4s  %-*s  %s  [%s]\n", res.Status, width, res.ID, res.Title, res.Rule)
		ew.printf("      %s\n", res.Message)
		full := verbose || res.Status == Fail || res.Status == Warn || res.Status == Info
		for _, x := range res.Evidence {
			writeExchange(ew, x, full)
		}
	}
	s := r.Summary
	infos := ""
	if s.Info > 0 {
		infos = fmt.Sprintf("%d INFO, ", s.Info)
	}
	ew.printf("\n%d checks: %d PASS, %s%d WARN, %d FAIL, %d SKIP (plan %s, %s)\n",
		len(r.Results), s.Pass, infos, s.Warn, s.Fail, s.Skip, r.Plan, time.Duration(r.DurationMS*float64(time.Millisecond)).Round(time.Millisecond))
	return ew.err
}

func writeExchange(ew *errWriter, x Exchange, full bool) {
	target := x.URL
	if u, err := url.Parse(x.URL); err == nil && !full {
		target = u.RequestURI()
	}
	label := ""
	if x.Label != "" {
		label = " (" + x.Label + ")"
	}
	answer := x.Error
	if x.Response != nil {
		answer = fmt.Sprintf("%d %s", x.Status, oneLine(x.Response, 160))
	}
	if !full {
		ew.printf("      → %s %s%s ← %s  %s\n", x.Method, target, label, answer, fmtMS(x.DurationMS))
		return
	}
	ew.printf("      → %s %s%s\n", x.Method, target, label)
	writeHeaders(ew, x.Request.Headers)
	if len(x.Request.Body) > 0 {
		ew.printf("          body %s\n", x.Request.Body)
	} else if x.Request.Text != "" {
		ew.printf("          body %q\n", x.Request.Text)
	}
	if x.Response == nil {
		ew.printf("      ← no answer: %s  %s\n", x.Error, fmtMS(x.DurationMS))
		return
	}
	ew.printf("      ← %d  %s\n", x.Status, fmtMS(x.DurationMS))
	writeHeaders(ew, x.Response.Headers)
	if len(x.Response.Body) > 0 {
		ew.printf("          body %s\n", x.Response.Body)
	} else if x.Response.Text != "" {
		ew.printf("          body %q\n", x.Response.Text)
	}
}

func writeHeaders(ew *errWriter, h map[string]string) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		ew.printf("          %s: %s\n", k, h[k])
	}
}

// oneLine is an answer's body on one line, cut at n bytes.
func oneLine(x *contract.Exchange, n int) string {
	s := string(x.Body)
	if s == "" && x.Text != "" {
		s = fmt.Sprintf("%q", x.Text)
	}
	if len(s) > n {
		s = strings.ToValidUTF8(s[:n], "") + "…"
	}
	return s
}

func fmtMS(v float64) string {
	if v < 10 {
		return fmt.Sprintf("%.2fms", v)
	}
	return fmt.Sprintf("%.0fms", v)
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, a ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, a...)
	}
}

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteJUnit writes the report as JUnit XML: a suite per plan, a case per check, each with
// a <property name="verdict"> of its status. FAIL is a <failure>, SKIP a <skipped>; WARN
// and INFO are passed cases with the message in <system-out>, unless strict, which makes a
// WARN a <failure> too (--warn-as-failure).
func WriteJUnit(w io.Writer, r *Report, strict bool) error {
	suite := junit.Suite{Name: r.Plan, Time: secs(r.DurationMS), Timestamp: junit.Timestamp(r.StartedAt)}
	for _, res := range r.Results {
		var ev strings.Builder
		ew := &errWriter{w: &ev}
		ew.printf("%s [%s]\n%s\n", res.Title, res.Rule, res.Message)
		for _, x := range res.Evidence {
			writeExchange(ew, x, true)
		}
		c := junit.Case{Name: res.ID, Classname: r.Plan, Time: secs(res.DurationMS),
			Properties: []junit.Property{{Name: "verdict", Value: string(res.Status)}, {Name: "rule", Value: res.Rule}}}
		switch {
		case res.Status == Fail, res.Status == Warn && strict:
			c.Failure = &junit.Problem{Message: res.Message, Type: string(res.Status), Text: ev.String()}
		case res.Status == Skip && strings.HasPrefix(res.Message, "setup error: "):
			// The check could not run for a reason outside the backend: a test error, not a
			// skip CI would pass over.
			c.Error = &junit.Problem{Message: res.Message, Type: "SETUP", Text: ev.String()}
		case res.Status == Skip:
			c.Skipped = &junit.Skipped{Message: res.Message}
		default:
			c.SystemOut = string(res.Status) + " " + ev.String()
		}
		suite.Cases = append(suite.Cases, c)
	}
	return junit.Write(w, "boxo-sim check", suite)
}

func secs(ms float64) string { return fmt.Sprintf("%.3f", ms/1000) }
