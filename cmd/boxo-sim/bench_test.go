package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/stack"
	"github.com/boxo-sim/boxo-sim/internal/testkit"
)

// startBenchTarget starts the three parties in this process, as `up` would, for bench to
// drive over HTTP.
func startBenchTarget(t *testing.T) *stack.Stack {
	t.Helper()
	st, err := stack.Start(t.Context(), stack.Config{
		HostAddr: "127.0.0.1:0", PlatformAddr: "127.0.0.1:0", MiniappAddr: "127.0.0.1:0",
		DataDir: t.TempDir(), SigningKey: testkit.SigningKey(), Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func countUsers(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url + "/_sim/users")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Users []json.RawMessage `json:"users"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return len(body.Users)
}

// TestBenchFirstLoginsReportAndProgress runs bench with --users against a running stack,
// its stderr not a terminal: it reports every figure, the miniapp made one user per new host
// user, the host users are gone afterwards, and progress came as periodic lines.
func TestBenchFirstLoginsReportAndProgress(t *testing.T) {
	t.Parallel()
	st := startBenchTarget(t)
	hostUsers, miniUsers := countUsers(t, st.HostURL), countUsers(t, st.MiniappURL)
	out, errOut, code := runCmd(t, t.Context(), nil, "bench", "--platform-url", st.PlatformURL, "--hostapp-url", st.HostURL,
		"--flows", "40", "--users", "20", "--concurrency", "4", "--progress-every", "1ms", "--json")
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	var r benchReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, out)
	}
	if r.Flows != 40 || r.Failed != 0 || r.FirstLogins != 20 || r.FlowsPerSec <= 0 || r.P50MS <= 0 || r.MaxMS < r.P99MS || r.P99MS < r.P50MS {
		t.Errorf("report = %+v", r)
	}
	var sawAuthorize bool
	for _, s := range r.Steps {
		sawAuthorize = sawAuthorize || (s.Step == 5 && s.P50MS > 0)
	}
	if !sawAuthorize {
		t.Errorf("no median for step 5 among %+v", r.Steps)
	}
	if s := r.Server; s == nil || s.Processes != 1 || s.CPUMSPerFlow <= 0 || s.Cores <= 0 || s.MaxRSSBytes <= 0 {
		t.Errorf("server figures = %+v", r.Server)
	} else if s.AllocKBPerFlow <= 0 || s.AllocsPerFlow < 100 || s.GoroutinesPerFlow <= 0 {
		// A flow is seven HTTP requests: it cannot allocate less than this, nor start nothing.
		t.Errorf("per-flow runtime counters = %+v", s)
	}
	if got := countUsers(t, st.MiniappURL) - miniUsers; got != 20 {
		t.Errorf("the miniapp made %d users, want 20: one per first login", got)
	}
	if got := countUsers(t, st.HostURL); got != hostUsers {
		t.Errorf("the host app has %d users after bench, %d before: the bench users were left behind", got, hostUsers)
	}
	if !regexp.MustCompile(`(?m)^bench: \d+/40 flows, 0 failed, \d+ flows/s`).MatchString(errOut) || strings.Contains(errOut, "\r") {
		t.Errorf("stderr has no periodic progress lines (or has terminal ones):\n%s", errOut)
	}
}

// TestBenchQuietAndCompare: --quiet prints no progress, --compare prints the ratios to an
// earlier --json report and refuses a file that is not one.
func TestBenchQuietAndCompare(t *testing.T) {
	t.Parallel()
	st := startBenchTarget(t)
	args := []string{"bench", "--platform-url", st.PlatformURL, "--hostapp-url", st.HostURL, "--flows", "20", "--concurrency", "2",
		"--progress-every", "1ms", "--quiet"}
	out, errOut, code := runCmd(t, t.Context(), nil, append(args, "--json")...)
	if code != 0 || strings.Contains(errOut, "bench:") {
		t.Fatalf("exit %d, stderr with --quiet:\n%s", code, errOut)
	}
	earlier := filepath.Join(t.TempDir(), "earlier.json")
	if err := os.WriteFile(earlier, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = runCmd(t, t.Context(), nil, append(args, "--compare", earlier)...)
	if code != 0 || !regexp.MustCompile(`(?m)^  flows/s +[\d.]+ +[\d.]+ +×[\d.]+`).MatchString(out) ||
		!strings.Contains(out, "CPU ms/flow") || !strings.Contains(out, "CPU per flow") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	_ = os.WriteFile(bad, []byte(`{"flows": "many"}`), 0o600)
	_, errOut, code = runCmd(t, t.Context(), nil, append(args, "--compare", bad)...)
	if code == 0 || !strings.Contains(errOut, "not a report of 'boxo-sim bench --json'") {
		t.Fatalf("a bad --compare file: exit %d, %s", code, errOut)
	}
	_, errOut, code = runCmd(t, t.Context(), nil, append(args, "--users", "2", "--user", "bob")...)
	if code == 0 || !strings.Contains(errOut, "--user and --users") {
		t.Fatalf("--user with --users: exit %d, %s", code, errOut)
	}
}

// TestLoadGeneratorProcs: bench runs one thread per 32 flows at once against parties in
// another process, between one and the CPUs.
func TestLoadGeneratorProcs(t *testing.T) {
	for _, c := range []struct{ concurrency, cpus, want int }{
		{1, 2, 1}, {32, 2, 1}, {33, 2, 2}, {256, 2, 2}, {256, 16, 8}, {0, 4, 1},
	} {
		if got := loadGeneratorProcs(c.concurrency, c.cpus); got != c.want {
			t.Errorf("loadGeneratorProcs(%d, %d) = %d, want %d", c.concurrency, c.cpus, got, c.want)
		}
	}
}
