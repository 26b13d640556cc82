// Package junit writes test reports as JUnit XML in the common Ant/Jenkins form that GitLab,
// GitHub and Jenkins render; the scenario runner and the conformance checker share it.
package junit

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// Suite is one <testsuite>. Its counters are computed from Cases when it is written.
type Suite struct {
	XMLName   xml.Name `xml:"testsuite"`
	Name      string   `xml:"name,attr"`
	Tests     int      `xml:"tests,attr"`
	Failures  int      `xml:"failures,attr"`
	Errors    int      `xml:"errors,attr"`
	Skipped   int      `xml:"skipped,attr"`
	Time      string   `xml:"time,attr"`
	Timestamp string   `xml:"timestamp,attr"`
	Hostname  string   `xml:"hostname,attr,omitempty"`
	Cases     []Case   `xml:"testcase"`
}

// Case is one <testcase>: passed, or with one of Failure, Error and Skipped.
type Case struct {
	Name       string     `xml:"name,attr"`
	Classname  string     `xml:"classname,attr"`
	File       string     `xml:"file,attr,omitempty"`
	Time       string     `xml:"time,attr"`
	Properties Properties `xml:"properties"`
	Failure    *Problem   `xml:"failure,omitempty"`
	Error      *Problem   `xml:"error,omitempty"`
	Skipped    *Skipped   `xml:"skipped,omitempty"`
	SystemOut  string     `xml:"system-out,omitempty"`
}

// Properties are a test case's <properties>; none writes no element at all, so a case without
// properties stays valid under the strict JUnit schemas (encoding/xml's "a>b,omitempty" would
// still write an empty <properties/>).
type Properties []Property

// MarshalXML writes <properties> with one <property> each, or nothing when there are none.
func (p Properties) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if len(p) == 0 {
		return nil
	}
	return e.EncodeElement(struct {
		Items []Property `xml:"property"`
	}{p}, start)
}

// Property is a <property name value/> of a test case, such as the checker's verdict.
type Property struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// Problem is a <failure> or an <error>: a one-line message, a type and the details.
type Problem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

// Skipped is a <skipped> with its reason.
type Skipped struct {
	Message string `xml:"message,attr"`
}

type suites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Name     string   `xml:"name,attr"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Time     string   `xml:"time,attr"`
	Suites   []Suite  `xml:"testsuite"`
}

// Write writes one suite inside <testsuites name=name>, with every counter taken from the
// cases and all text made safe for XML 1.0.
func Write(w io.Writer, name string, s Suite) error {
	s.Tests, s.Failures, s.Errors, s.Skipped = len(s.Cases), 0, 0, 0
	for i := range s.Cases {
		c := &s.Cases[i]
		c.SystemOut = Text(c.SystemOut)
		for j := range c.Properties {
			c.Properties[j].Value = Text(c.Properties[j].Value)
		}
		for _, p := range []*Problem{c.Failure, c.Error} {
			if p != nil {
				p.Message, p.Text = Text(p.Message), Text(p.Text)
			}
		}
		switch {
		case c.Failure != nil:
			s.Failures++
		case c.Error != nil:
			s.Errors++
		case c.Skipped != nil:
			s.Skipped++
		}
	}
	doc := suites{Name: name, Tests: s.Tests, Failures: s.Failures, Errors: s.Errors, Skipped: s.Skipped, Time: s.Time, Suites: []Suite{s}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// Seconds formats a duration as JUnit's time attribute.
func Seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// Timestamp formats an instant as JUnit's timestamp attribute (UTC, no zone).
func Timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05") }

// Text replaces the characters XML 1.0 cannot hold (most control characters) with U+FFFD, so
// text from a misbehaving backend cannot break the report.
func Text(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return r
		case r < 0x20, r >= 0xD800 && r <= 0xDFFF, r == 0xFFFE, r == 0xFFFF:
			return '\uFFFD'
		}
		return r
	}, s)
}
