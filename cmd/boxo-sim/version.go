package main

import (
	"runtime/debug"
	"strings"
)

// buildVersion is what --version prints: the version make stamps in (-X main.version), else
// what the Go toolchain recorded in the binary: the module's version (v1.2.3 from go install,
// a pseudo-version from a checkout) and the commit it was built from, with ", modified" when
// the work tree had changes.
func buildVersion(stamped string, info func() (*debug.BuildInfo, bool)) string {
	if stamped != "" && stamped != "dev" {
		return stamped
	}
	bi, ok := info()
	if !ok {
		return "dev"
	}
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v = "dev"
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return v
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	var more []string
	more = append(more, "commit "+rev)
	if modified == "true" {
		more = append(more, "modified")
	}
	return v + " (" + strings.Join(more, ", ") + ")"
}
