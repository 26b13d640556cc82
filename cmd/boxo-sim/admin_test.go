package main

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/stack"
)

// TestUpBeyondLoopbackNeedsTheToken starts up on every interface: it warns, keeps a fresh
// admin token in an owner-only state file without printing it, refuses /_sim/ without it
// (called through 127.0.0.1), and the client commands find it through --data-dir.
func TestUpBeyondLoopbackNeedsTheToken(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	up := startUp(t, append([]string{"--bind", "0.0.0.0", "--data-dir", dir}, allPorts0...)...)
	out, errb := up.out, up.errb
	if !strings.Contains(errb.String(), "WARNING: --bind 0.0.0.0 is not a loopback address") || !strings.Contains(errb.String(), "require the admin token") {
		t.Errorf("no warning about the exposed parties:\n%s", errb.String())
	}
	st, err := stack.ReadState(dir)
	if err != nil || len(st.AdminToken) < 32 {
		t.Fatalf("state file: %+v, %v", st, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, stack.StateFileName)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	if strings.Contains(out.String()+errb.String(), st.AdminToken) {
		t.Fatal("up printed the admin token in full")
	}

	urls := map[string]string{}
	for p, u := range up.urls {
		urls[p] = "http://127.0.0.1:" + portOf(t, u)
	}
	if len(urls) != 3 {
		t.Fatalf("URLs not found in:\n%s", out.String())
	}
	for p, u := range urls {
		resp, err := http.Get(u + "/_sim/faults")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s /_sim/faults through 127.0.0.1 without the token: %d, want 401", p, resp.StatusCode)
		}
	}
	flags := urlFlags(urls)
	if _, errOut, code := runCmd(t, t.Context(), nil, append([]string{"fault", "list", "--data-dir", t.TempDir()}, flags...)...); code == 0 || !strings.Contains(errOut, "admin token") {
		t.Errorf("fault list without the token: exit %d, stderr %q; want a refusal naming the admin token", code, errOut)
	}
	mustRun(t, append([]string{"fault", "set", "--party", "hostapp", "--step", "6", "--kind", "status", "--status", "500", "--data-dir", dir}, flags...)...)
	if out := mustRun(t, append([]string{"fault", "list", "--data-dir", dir}, flags...)...); !strings.Contains(out, "status  500") {
		t.Errorf("fault list with the token from the state file:\n%s", out)
	}
	mustRun(t, append([]string{"fault", "clear", "--data-dir", dir}, flags...)...)
	env := map[string]string{"BOXO_SIM_ADMIN_TOKEN": st.AdminToken}
	if _, errOut, code := runCmd(t, t.Context(), env, append([]string{"clock", "show"}, flags...)...); code != 0 {
		t.Errorf("clock show with BOXO_SIM_ADMIN_TOKEN: exit %d: %s", code, errOut)
	}
	if out, errOut, code := runCmd(t, t.Context(), nil, "connect", "--platform-url", urls["platform"], "--hostapp-url", urls["hostapp"], "--data-dir", dir); code != 0 ||
		!strings.Contains(out, "Signed in") {
		t.Errorf("connect with the token from the state file: exit %d\n%s\n%s", code, out, errOut)
	}
	if out, errOut, code := runCmd(t, t.Context(), nil, "trace", "--platform-url", urls["platform"], "--data-dir", dir); code != 0 || !strings.Contains(out, "outcome ok") {
		t.Errorf("trace with the token from the state file: exit %d\n%s\n%s", code, out, errOut)
	}

	up.stop()
	if _, err := os.Stat(filepath.Join(dir, stack.StateFileName)); !os.IsNotExist(err) {
		t.Errorf("the state file outlived a clean exit: %v", err)
	}
}

// TestClockCommandRefusesOutOfRange: clock set and advance beyond what the clock can
// represent exit non-zero with the party's reason.
func TestClockCommandRefusesOutOfRange(t *testing.T) {
	t.Parallel()
	urls := runUpForFaults(t)
	flags := urlFlags(urls)
	for _, args := range [][]string{
		{"clock", "set", "0001-01-01T00:00:00Z"},
		{"clock", "set", "9999-12-31T23:59:59Z"},
		{"clock", "advance", "2562047h"},
	} {
		_, errOut, code := runCmd(t, t.Context(), nil, append(args, flags...)...)
		if code == 0 || !strings.Contains(errOut, "range") {
			t.Errorf("%s: exit %d, stderr %q; want a non-zero exit naming the range", strings.Join(args, " "), code, errOut)
		}
	}
	u, _ := url.Parse(urls["platform"])
	if d := aheadBy(t, u.String()); d > time.Minute || d < -time.Minute {
		t.Fatalf("a refused change moved the clock by %s", d)
	}
}

// TestTraceClear empties the flow log of a running up.
func TestTraceClear(t *testing.T) {
	t.Parallel()
	urls := runUpForFaults(t)
	mustRun(t, "connect", "--platform-url", urls["platform"], "--hostapp-url", urls["hostapp"])
	if out := mustRun(t, "trace", "--clear", "--platform-url", urls["platform"]); !strings.Contains(out, "Deleted 1 flow from the flow log.") {
		t.Fatalf("trace --clear printed %q", out)
	}
	if _, errOut, code := runCmd(t, t.Context(), nil, "trace", "--platform-url", urls["platform"]); code == 0 || !strings.Contains(errOut, "no flow yet") {
		t.Fatalf("trace after --clear: exit %d, %q", code, errOut)
	}
	mustRun(t, "connect", "--platform-url", urls["platform"], "--hostapp-url", urls["hostapp"])
	if out := mustRun(t, "trace", "--clear", "--json", "--platform-url", urls["platform"]); strings.TrimSpace(out) != "{\n  \"deleted\": 1\n}" {
		t.Fatalf("trace --clear --json printed %q", out)
	}
}
