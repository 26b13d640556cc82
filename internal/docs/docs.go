// Package docs holds the documents that ship inside the boxo-sim binary. Contract is the
// contract every verdict, violation and trace cites as "contract §x.y".
package docs

import (
	_ "embed"
	"regexp"
	"strings"
)

// Contract is contract.md: the Boxo Connect contract in boxo-sim's words, each rule with its
// source.
//
//go:embed contract.md
var Contract string

// heading matches a numbered heading: "## 5. Error codes", "### 5.1 Connect error codes".
var heading = regexp.MustCompile(`^(#{2,4}) (\d+(?:\.\d+)?)\.? `)

// Section returns the section of Contract numbered number ("5", "5.1", "§5.1"): its
// heading and everything up to the next heading of the same or a higher level. ok is false
// when there is no such section.
func Section(number string) (text string, ok bool) {
	number = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(number), "§"), ".")
	lines := strings.Split(Contract, "\n")
	start, level := -1, 0
	for i, l := range lines {
		m := heading.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		if start >= 0 && len(m[1]) <= level {
			return strings.TrimRight(strings.Join(lines[start:i], "\n"), "\n") + "\n", true
		}
		if start < 0 && m[2] == number {
			start, level = i, len(m[1])
		}
	}
	if start < 0 {
		return "", false
	}
	return strings.TrimRight(strings.Join(lines[start:], "\n"), "\n") + "\n", true
}

// Sections lists the numbers of every section of Contract, in order.
func Sections() []string {
	var out []string
	for _, l := range strings.Split(Contract, "\n") {
		if m := heading.FindStringSubmatch(l); m != nil {
			out = append(out, m[2])
		}
	}
	return out
}

// Titles lists every numbered heading of Contract as "5.1 Connect error codes".
func Titles() []string {
	var out []string
	for _, l := range strings.Split(Contract, "\n") {
		if m := heading.FindStringSubmatch(l); m != nil {
			out = append(out, strings.Repeat("  ", len(m[1])-2)+strings.TrimSpace(strings.TrimLeft(l, "#")))
		}
	}
	return out
}
