package main

import (
	"runtime/debug"
	"testing"
)

func TestBuildVersion(t *testing.T) {
	t.Parallel()
	info := func(version string, settings ...string) func() (*debug.BuildInfo, bool) {
		return func() (*debug.BuildInfo, bool) {
			bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/boxo-sim/boxo-sim", Version: version}}
			for i := 0; i+1 < len(settings); i += 2 {
				bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
			}
			return bi, true
		}
	}
	none := func() (*debug.BuildInfo, bool) { return nil, false }
	for _, tc := range []struct {
		name, stamped string
		info          func() (*debug.BuildInfo, bool)
		want          string
	}{
		{"make stamps it", "v1.4.0-3-gabc1234", info("v9.9.9"), "v1.4.0-3-gabc1234"},
		{"go install module@version", "dev", info("v1.2.3"), "v1.2.3"},
		{"a checkout with changes", "dev", info("v0.0.0-20261202004931-b2a8edf1a2b3+dirty", "vcs.revision", "b2a8edf1a2b3c4d5e6f7", "vcs.modified", "true"),
			"v0.0.0-20261202004931-b2a8edf1a2b3+dirty (commit b2a8edf1a2b3, modified)"},
		{"a clean checkout without a module version", "dev", info("(devel)", "vcs.revision", "b2a8edf1a2b3c4d5e6f7", "vcs.modified", "false"), "dev (commit b2a8edf1a2b3)"},
		{"no build info", "dev", none, "dev"},
		{"no VCS", "dev", info("(devel)"), "dev"},
	} {
		if got := buildVersion(tc.stamped, tc.info); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
