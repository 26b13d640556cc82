package scenarios_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/scenarios"
)

// junitDoc is what a JUnit consumer reads of our report.
type junitDoc struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   int    `xml:"errors,attr"`
		Skipped  int    `xml:"skipped,attr"`
		Time     string `xml:"time,attr"`
		Cases    []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Time      string `xml:"time,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
			} `xml:"error"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func sampleReport() *scenarios.Report {
	return &scenarios.Report{
		Started: time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC), Duration: 1500 * time.Millisecond,
		Passed: 1, Failed: 1, Errors: 1, Skipped: 1,
		Results: []scenarios.Result{
			{Name: "connect-new-user", File: "library/connect-new-user.yaml", Status: scenarios.Passed, Duration: 120 * time.Millisecond},
			{Name: "authcode-reused", File: "library/authcode-reused.yaml", Status: scenarios.Failed, Duration: 80 * time.Millisecond,
				Failure: &scenarios.Failure{Action: 0, Do: "connect", User: "carol", Line: 7,
					Expected: "fails at step 7 with INVALID_AUTH_CODE from hostapp", Got: "succeeded (step 16 reached)",
					Trace: "flow flow_1:\n  7 hostapp → platform <response> ]]> \x01 & done\n"}},
			{Name: "hostapp-timeout", File: "library/hostapp-timeout.yaml", Status: scenarios.Errored, Error: "start the parties: listen: address in use"},
			{Name: "session-refresh", File: "library/session-refresh.yaml", Status: scenarios.Skipped},
		},
	}
}

func TestJUnitReport(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := sampleReport().WriteJUnit(&b); err != nil {
		t.Fatal(err)
	}
	var doc junitDoc
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("the report is not XML: %v\n%s", err, b.String())
	}
	if doc.Tests != 4 || doc.Failures != 1 || doc.Errors != 1 || doc.Skipped != 1 || len(doc.Suites) != 1 {
		t.Fatalf("totals = %+v", doc)
	}
	s := doc.Suites[0]
	if s.Name != scenarios.SuiteName || s.Tests != 4 || s.Failures != 1 || s.Errors != 1 || s.Skipped != 1 || s.Time != "1.500" {
		t.Fatalf("suite = %+v", s)
	}
	names := []string{}
	for _, c := range s.Cases {
		names = append(names, c.Name)
	}
	if strings.Join(names, ",") != "connect-new-user,authcode-reused,hostapp-timeout,session-refresh" {
		t.Fatalf("test names = %v, want the scenario names in order", names)
	}
	if c := s.Cases[0]; c.Failure != nil || c.Error != nil || c.Skipped != nil || c.Classname != "scenarios.connect" || c.Time != "0.120" {
		t.Errorf("passed case = %+v", c)
	}
	f := s.Cases[1].Failure
	if f == nil || !strings.Contains(f.Message, "expected fails at step 7 with INVALID_AUTH_CODE from hostapp; got succeeded") {
		t.Fatalf("failure = %+v, want the expectation and what happened in the message", f)
	}
	for _, want := range []string{"library/authcode-reused.yaml:7", "expected: fails at step 7", "got:      succeeded", "flow flow_1", "<response> ]]> \uFFFD & done"} {
		if !strings.Contains(f.Text, want) {
			t.Errorf("failure text lacks %q:\n%s", want, f.Text)
		}
	}
	if e := s.Cases[2].Error; e == nil || !strings.Contains(e.Message, "address in use") {
		t.Errorf("error case = %+v", s.Cases[2])
	}
	if sk := s.Cases[3].Skipped; sk == nil || !strings.Contains(sk.Message, "--fail-fast") {
		t.Errorf("skipped case = %+v", s.Cases[3])
	}
	validateJUnit(t, b.Bytes())
}

// validateJUnit checks a report against the JUnit XSD in testdata with xmllint, when xmllint
// is installed (CI installs libxml2-utils).
func validateJUnit(t *testing.T, report []byte) {
	t.Helper()
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Log("xmllint not on PATH: schema validation skipped (install libxml2-utils)")
		return
	}
	xsd, err := filepath.Abs("testdata/junit.xsd")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "report.xml")
	if err := os.WriteFile(file, report, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(xmllint, "--noout", "--schema", xsd, file).CombinedOutput()
	if err != nil {
		t.Fatalf("the report does not validate against testdata/junit.xsd: %v\n%s\n%s", err, out, report)
	}
}

// TestJUnitSchemaRejectsBrokenReports shows the XSD check can fail.
func TestJUnitSchemaRejectsBrokenReports(t *testing.T) {
	t.Parallel()
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint not on PATH (install libxml2-utils)")
	}
	for name, doc := range map[string]string{
		"testcase without name":   `<testsuites><testsuite name="s" tests="1"><testcase classname="c"/></testsuite></testsuites>`,
		"count that is no number": `<testsuites><testsuite name="s" tests="one"></testsuite></testsuites>`,
		"two outcomes":            `<testsuites><testsuite name="s" tests="1"><testcase name="n" classname="c"><failure/><error/></testcase></testsuite></testsuites>`,
	} {
		file := filepath.Join(t.TempDir(), "bad.xml")
		os.WriteFile(file, []byte(doc), 0o644)
		if out, err := exec.Command(xmllint, "--noout", "--schema", "testdata/junit.xsd", file).CombinedOutput(); err == nil {
			t.Errorf("%s: xmllint accepted it: %s", name, out)
		}
	}
}

func TestJSONAndTextReports(t *testing.T) {
	t.Parallel()
	rep := sampleReport()
	var j bytes.Buffer
	if err := rep.WriteJSON(&j); err != nil {
		t.Fatal(err)
	}
	var got struct {
		OK        bool `json:"ok"`
		Failed    int  `json:"failed"`
		Scenarios []struct {
			Name    string `json:"name"`
			Status  string `json:"status"`
			Failure *struct {
				Expected, Got string
				Line          int
			} `json:"failure"`
		} `json:"scenarios"`
	}
	if err := json.Unmarshal(j.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, j.String())
	}
	if got.OK || got.Failed != 1 || len(got.Scenarios) != 4 || got.Scenarios[1].Status != "failed" || got.Scenarios[1].Failure == nil || got.Scenarios[1].Failure.Line != 7 {
		t.Fatalf("JSON report = %+v", got)
	}
	var txt bytes.Buffer
	rep.WriteText(&txt)
	out := txt.String()
	for _, want := range []string{"--- FAIL  authcode-reused", "library/authcode-reused.yaml:7: actions[0] (connect as carol)", "expected: fails at step 7", "--- ERROR hostapp-timeout", "FAIL: 1 failed, 1 could not run, 1 skipped of 4 scenarios (1 passed)"} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "connect-new-user") {
		t.Errorf("text report lists a scenario that passed:\n%s", out)
	}
}
