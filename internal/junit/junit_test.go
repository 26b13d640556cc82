package junit

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
)

func TestWriteCountsAndSanitizes(t *testing.T) {
	var b bytes.Buffer
	err := Write(&b, "all", Suite{Name: "one", Time: "1.000", Cases: []Case{
		{Name: "ok", Classname: "c"},
		{Name: "bad", Classname: "c", Failure: &Problem{Message: "no\x00good", Type: "T", Text: "details ]]> \x07"}},
		{Name: "broke", Classname: "c", Error: &Problem{Message: "boom", Type: "E"}},
		{Name: "later", Classname: "c", Skipped: &Skipped{Message: "not run"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var doc suites
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("not well-formed XML: %v\n%s", err, b.String())
	}
	s := doc.Suites[0]
	if doc.Tests != 4 || doc.Failures != 1 || doc.Errors != 1 || doc.Skipped != 1 || s.Tests != 4 || s.Failures != 1 {
		t.Fatalf("counters: %+v", doc)
	}
	if got := s.Cases[1].Failure; got.Message != "no\uFFFDgood" || !strings.Contains(got.Text, "]]> \uFFFD") {
		t.Fatalf("failure = %+v", got)
	}
}

// TestPropertiesOnlyWhenThereAreSome: a case without properties writes no <properties>
// element, which the strict JUnit schemas refuse inside <testcase>; one with properties
// writes each.
func TestPropertiesOnlyWhenThereAreSome(t *testing.T) {
	var b strings.Builder
	err := Write(&b, "n", Suite{Name: "n", Cases: []Case{
		{Name: "plain", Classname: "c", Time: "0"},
		{Name: "judged", Classname: "c", Time: "0", Properties: []Property{{Name: "verdict", Value: "WARN"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if n := strings.Count(out, "<properties>"); n != 1 {
		t.Errorf("%d <properties> elements, want 1 (only the judged case):\n%s", n, out)
	}
	if !strings.Contains(out, `<property name="verdict" value="WARN"></property>`) {
		t.Errorf("the judged case's verdict is missing:\n%s", out)
	}
}
