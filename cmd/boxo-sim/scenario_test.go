package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/scenarios"
)

const (
	libraryDir = "../../scenarios/library"
	junitXSD   = "../../scenarios/testdata/junit.xsd"
)

// junitReport is what CI reads of the JUnit file.
type junitReport struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Suites   []struct {
		Cases []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func readJUnit(t *testing.T, path string) junitReport {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r junitReport
	if err := xml.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s is not XML: %v", path, err)
	}
	if len(r.Suites) != 1 {
		t.Fatalf("%s has %d test suites", path, len(r.Suites))
	}
	if xmllint, err := exec.LookPath("xmllint"); err == nil {
		if out, err := exec.Command(xmllint, "--noout", "--schema", junitXSD, path).CombinedOutput(); err != nil {
			t.Fatalf("%s does not validate against the JUnit schema: %v\n%s", path, err, out)
		}
	} else {
		t.Log("xmllint not on PATH: JUnit schema validation skipped (install libxml2-utils)")
	}
	return r
}

// TestScenarioRunLibrary is the issue's done-when: the library passes, in-process, and the
// JUnit file validates, one test case per scenario named as the scenario.
func TestScenarioRunLibrary(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "out.xml")
	stdout, stderr, code := runCmd(t, t.Context(), nil, "scenario", "run", libraryDir, "--junit", out)
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	files, _ := filepath.Glob(filepath.Join(libraryDir, "*.yaml"))
	if !regexp.MustCompile(`^ok: \d+ scenarios passed in \S+\n$`).MatchString(stdout) || !strings.Contains(stdout, "ok: "+itoa(len(files))+" scenarios") {
		t.Errorf("stdout = %q, want one summary line for %d scenarios (no progress lines off a terminal)", stdout, len(files))
	}
	r := readJUnit(t, out)
	if r.Tests != len(files) || r.Failures != 0 {
		t.Fatalf("JUnit: %d tests, %d failures; want %d and 0", r.Tests, r.Failures, len(files))
	}
	var names []string
	for _, c := range r.Suites[0].Cases {
		names = append(names, c.Name)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		if !slices.Contains(names, name) {
			t.Errorf("JUnit has no test case %q", name)
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestScenarioRunWrongExpectation: a scenario that expects success where a fault makes the flow
// fail exits 1, says what was expected and what happened, shows the trace, and carries the
// message into the JUnit failure.
func TestScenarioRunWrongExpectation(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "out.xml")
	stdout, _, code := runCmd(t, t.Context(), nil, "scenario", "run", "../../scenarios/testdata/wrong/wrong-expects-success.yaml", "--junit", out)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, stdout)
	}
	for _, want := range []string{
		"--- FAIL  wrong-expects-success",
		"wrong-expects-success.yaml:10: actions[0] (connect as alice)",
		"expected: the flow succeeds (step 16 reached)",
		"got:      failed at step 7 with UNEXPECTED_RESPONSE_ERROR from platform",
		"step 7 failed: hostapp → platform POST /boxo/connect/access-token response → UNEXPECTED_RESPONSE_ERROR",
		"FAIL: 1 failed of 1 scenario (0 passed)",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	r := readJUnit(t, out)
	c := r.Suites[0].Cases[0]
	if r.Failures != 1 || c.Name != "wrong-expects-success" || c.Failure == nil ||
		!strings.Contains(c.Failure.Message, "expected the flow succeeds (step 16 reached); got failed at step 7 with UNEXPECTED_RESPONSE_ERROR") ||
		!strings.Contains(c.Failure.Text, "flow flow_") {
		t.Fatalf("JUnit case = %+v", c)
	}
}

// TestScenarioRunRejectsMalformedFiles: unknown key, bad step number, unknown error code and
// bad duration are reported with file, line and reason, and nothing runs.
func TestScenarioRunRejectsMalformedFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := map[string]string{
		"a-good.yaml":         "name: a-good\nactions: [connect]\n",
		"b-unknown-key.yaml":  "name: b-unknown-key\nactions: [connect]\nexpectation: {fails_at: 7}\n",
		"c-bad-step.yaml":     "name: c-bad-step\nfaults:\n  - {step: 13, kind: reset}\nactions: [connect]\n",
		"d-unknown-code.yaml": "name: d-unknown-code\nactions: [connect]\nexpect:\n  fails_at: 7\n  error_code: INVALID_AUTH\n",
		"e-bad-duration.yaml": "name: e-bad-duration\nfaults:\n  - {step: 7, kind: delay, delay: 11 secs}\nactions: [connect]\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	junit := filepath.Join(dir, "out.xml")
	// Malformed files are what lint tests (1), and a setup error to run (2).
	for want, cmd := range map[int][]string{2: {"scenario", "run", dir, "--junit", junit}, 1: {"scenario", "lint", dir}} {
		stdout, stderr, code := runCmd(t, t.Context(), nil, cmd...)
		if code != want {
			t.Fatalf("%v: exit %d, want %d\n%s%s", cmd, code, want, stdout, stderr)
		}
		for _, want := range []string{
			"4 problems in the scenario files; nothing was run",
			"b-unknown-key.yaml:3: unknown key \"expectation\" at the top level",
			"c-bad-step.yaml:3: faults[0]: step 13 cannot carry a fault",
			"d-unknown-code.yaml:5: expect.error_code \"INVALID_AUTH\" is not a known code",
			"e-bad-duration.yaml:3: faults[0].delay: duration \"11 secs\"",
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("%v: stderr lacks %q:\n%s", cmd, want, stderr)
			}
		}
		if stdout != "" || strings.Contains(stderr, "a-good") {
			t.Errorf("%v: something ran or a good file was named:\nstdout: %s\nstderr: %s", cmd, stdout, stderr)
		}
	}
	if _, err := os.Stat(junit); err == nil {
		t.Error("a JUnit report was written although nothing ran")
	}
	type lintReport struct {
		OK        bool              `json:"ok"`
		Scenarios []string          `json:"scenarios"`
		Problems  []scenarios.Issue `json:"problems"`
	}
	stdout, stderr, code := runCmd(t, t.Context(), nil, "scenario", "lint", dir, "--json")
	var bad lintReport
	if err := json.Unmarshal([]byte(stdout), &bad); code != 1 || err != nil || bad.OK || len(bad.Problems) != 4 || bad.Problems[0].Line != 3 {
		t.Errorf("lint --json of malformed files: exit %d, %v, stderr %q\n%s", code, err, stderr, stdout)
	}
	stdout, _, code = runCmd(t, t.Context(), nil, "scenario", "lint", filepath.Join(dir, "a-good.yaml"), "--json")
	var good lintReport
	if err := json.Unmarshal([]byte(stdout), &good); code != 0 || err != nil || !good.OK || !slices.Equal(good.Scenarios, []string{"a-good"}) || len(good.Problems) != 0 {
		t.Errorf("lint --json of a good file: exit %d, %v\n%s", code, err, stdout)
	}
}

func TestScenarioRunFilterJSONAndFailFast(t *testing.T) {
	t.Parallel()
	// -run as go test spells it, and the report as JSON.
	stdout, stderr, code := runCmd(t, t.Context(), nil, "scenario", "run", libraryDir, "-run", "^connect-(new|returning)-user$", "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	var rep struct {
		OK        bool `json:"ok"`
		Passed    int  `json:"passed"`
		Scenarios []struct {
			Name   string `json:"name"`
			Status string `json:"status"`
		} `json:"scenarios"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, stdout)
	}
	if !rep.OK || rep.Passed != 2 || len(rep.Scenarios) != 2 || rep.Scenarios[0].Name != "connect-new-user" || rep.Scenarios[1].Name != "connect-returning-user" {
		t.Fatalf("report = %+v", rep)
	}
	// Not a terminal (a CI log): one progress line per scenario on stderr, as each ends.
	progress := regexp.MustCompile(`(?m)^\[([12])/2\] PASS  (connect-new-user|connect-returning-user) \(\d+(\.\d+)?m?s\)$`)
	if m := progress.FindAllStringSubmatch(stderr, -1); len(m) != 2 || m[0][1] != "1" || m[1][1] != "2" || m[0][2] == m[1][2] {
		t.Errorf("progress on stderr: %q", stderr)
	}
	_, stderr, code = runCmd(t, t.Context(), nil, "scenario", "run", libraryDir, "-run", "^connect-new-user$", "--quiet")
	if code != 0 || stderr != "" {
		t.Errorf("--quiet: exit %d, stderr %q", code, stderr)
	}
	_, stderr, code = runCmd(t, t.Context(), nil, "scenario", "run", libraryDir, "-run=^nothing-matches$")
	if code != exitUsage || !strings.Contains(stderr, "matches none") {
		t.Errorf("-run=RE matching nothing: exit %d, stderr %q", code, stderr)
	}
	_, stderr, code = runCmd(t, t.Context(), nil, "scenario", "run", libraryDir, "--run", "(")
	if code != exitUsage || !strings.Contains(stderr, "not a regular expression") {
		t.Errorf("bad --run: exit %d, stderr %q", code, stderr)
	}

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a-fails.yaml"), []byte("name: a-fails\nactions: [connect]\nexpect: {fails_at: 7}\n"), 0o644)
	for _, n := range []string{"b-one", "c-two", "d-three"} {
		os.WriteFile(filepath.Join(dir, n+".yaml"), []byte("name: "+n+"\nactions: [connect]\n"), 0o644)
	}
	stdout, _, code = runCmd(t, t.Context(), nil, "scenario", "run", dir, "--fail-fast", "--parallel", "1")
	if code != 1 || !strings.Contains(stdout, "--- FAIL  a-fails") || !strings.Contains(stdout, "skipped") {
		t.Errorf("--fail-fast: exit %d\n%s", code, stdout)
	}
}

func TestRewriteRun(t *testing.T) {
	t.Parallel()
	got := rewriteRun([]string{"lib", "-run", "x", "-run=y", "--run", "z", "--", "-run"})
	want := []string{"lib", "--run", "x", "--run=y", "--run", "z", "--", "-run"}
	if !slices.Equal(got, want) {
		t.Fatalf("rewriteRun = %v, want %v", got, want)
	}
}

func TestScenarioNewLintSchema(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "connect-my-case")
	stdout, stderr, code := runCmd(t, t.Context(), nil, "scenario", "new", path)
	if code != 0 || !strings.Contains(stdout, "Wrote "+path+".yaml") {
		t.Fatalf("new: exit %d\n%s%s", code, stdout, stderr)
	}
	if stdout, _, code := runCmd(t, t.Context(), nil, "scenario", "new", path+"-2", "--json"); code != 0 || stdout != "{\n  \"file\": \""+path+"-2.yaml\"\n}\n" {
		t.Errorf("new --json: exit %d, %q", code, stdout)
	}
	b, err := os.ReadFile(path + ".yaml")
	if err != nil || !strings.Contains(string(b), "name: connect-my-case") || !strings.Contains(string(b), "# ") {
		t.Fatalf("template: %v\n%s", err, b)
	}
	if _, stderr, code = runCmd(t, t.Context(), nil, "scenario", "new", path); code == 0 || !strings.Contains(stderr, "exists") {
		t.Errorf("new over an existing file: exit %d, stderr %q", code, stderr)
	}
	if _, _, code = runCmd(t, t.Context(), nil, "scenario", "new", path, "--force"); code != 0 {
		t.Errorf("new --force: exit %d", code)
	}
	if _, stderr, code = runCmd(t, t.Context(), nil, "scenario", "new", filepath.Join(dir, "Bad Name")); code == 0 || !strings.Contains(stderr, "lower-case") {
		t.Errorf("new with a bad name: exit %d, stderr %q", code, stderr)
	}
	if _, stderr, code = runCmd(t, t.Context(), nil, "scenario", "new"); code == 0 || !strings.Contains(stderr, "give the new scenario's name") {
		t.Errorf("new without a name: exit %d, stderr %q", code, stderr)
	}
	stdout, stderr, code = runCmd(t, t.Context(), nil, "scenario", "lint", path+".yaml", libraryDir)
	if code != 0 || !strings.HasPrefix(stdout, "ok: ") {
		t.Fatalf("lint: exit %d\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code = runCmd(t, t.Context(), nil, "scenario", "run", path+".yaml")
	if code != 0 {
		t.Fatalf("the new template does not run: exit %d\n%s%s", code, stdout, stderr)
	}
	stdout, _, code = runCmd(t, t.Context(), nil, "scenario", "schema")
	var schema map[string]any
	if code != 0 || json.Unmarshal([]byte(stdout), &schema) != nil || schema["$schema"] == nil {
		t.Fatalf("schema: exit %d\n%.200s", code, stdout)
	}
	shipped, err := os.ReadFile("../../scenarios/scenario.schema.json")
	if err != nil || string(shipped) != stdout {
		t.Errorf("scenario schema differs from the shipped scenario.schema.json (%v)", err)
	}
	for _, args := range [][]string{{"scenario", "--help"}, {"scenario", "run", "--help"}, {"scenario", "lint", "--help"}, {"scenario", "new", "--help"}} {
		stdout, _, code := runCmd(t, t.Context(), nil, args...)
		if code != 0 || !strings.Contains(stdout, "Examples:") {
			t.Errorf("%v: exit %d, no examples:\n%s", args, code, stdout)
		}
	}
}

// TestScenarioRunAgainstUp starts `up` as a user would and runs library scenarios against it
// twice: they pass both times, and the running parties keep their settings.
func TestScenarioRunAgainstUp(t *testing.T) {
	t.Parallel()
	urls := startUp(t, append([]string{"--ephemeral"}, allPorts0...)...).urls
	args := []string{"scenario", "run", "--platform-url", urls["platform"], "--hostapp-url", urls["hostapp"], "--miniapp-url", urls["miniapp"]}
	for _, f := range []string{"connect-new-user", "credentials-wrong-host-secret", "userdata-response-attribute-missing", "session-refresh", "hostapp-status-500", "consent-revoked"} {
		args = append(args, filepath.Join(libraryDir, f+".yaml"))
	}
	for run := 1; run <= 2; run++ {
		stdout, stderr, code := runCmd(t, t.Context(), nil, args...)
		if code != 0 || !strings.Contains(stdout, "ok: 6 scenarios passed") || !strings.Contains(stderr, "one at a time") {
			t.Fatalf("run %d against up: exit %d\n%s\n%s", run, code, stdout, stderr)
		}
	}
	// The host app's secret is back: a plain connect still works.
	stdout, stderr, code := runCmd(t, t.Context(), nil, "connect", "--platform-url", urls["platform"], "--hostapp-url", urls["hostapp"])
	if code != 0 {
		t.Fatalf("connect after the scenarios: exit %d\n%s\n%s", code, stdout, stderr)
	}
	_, stderr, code = runCmd(t, t.Context(), nil, "scenario", "run", "--platform-url", "http://127.0.0.1:1", filepath.Join(libraryDir, "connect-new-user.yaml"))
	if code != exitUsage || !strings.Contains(stderr, "boxo-sim up") {
		t.Errorf("unreachable platform: exit %d, stderr %q", code, stderr)
	}
}

// TestScenarioProgressLiveLine: on a terminal the progress is one line rewritten in place;
// a scenario that fails keeps a line of its own, and the live line is cleared at the end.
func TestScenarioProgressLiveLine(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	p := &scenarioProgress{w: &b, live: true, total: 3}
	p.done(scenarios.Result{Name: "a-ok", Status: scenarios.Passed, Duration: time.Second})
	p.done(scenarios.Result{Name: "b-bad", Status: scenarios.Failed, Duration: time.Second})
	p.done(scenarios.Result{Name: "c-ok", Status: scenarios.Passed, Duration: time.Second})
	p.end()
	want := "\r\033[K[1/3] 0 failed, last: PASS  a-ok (1s)" +
		"\r\033[KFAIL  b-bad (1s)\n[2/3] 1 failed, last: FAIL  b-bad (1s)" +
		"\r\033[K[3/3] 1 failed, last: PASS  c-ok (1s)" +
		"\r\033[K"
	if b.String() != want {
		t.Errorf("live progress = %q\nwant %q", b.String(), want)
	}
}
