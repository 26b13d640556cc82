package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/testkit"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

// runCmd runs the whole program with args and an environment and returns its output and exit
// status.
func runCmd(t *testing.T, ctx context.Context, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(ctx, args, func(k string) string { return env[k] }, &out, &errb)
	code = 0
	if err != nil {
		var ee exitError
		if !asExit(err, &ee) {
			t.Fatalf("run returned %v, not an exit status", err)
		}
		code = ee.code
	}
	return out.String(), errb.String(), code
}

func asExit(err error, ee *exitError) bool {
	e, ok := err.(exitError)
	if ok {
		*ee = e
	}
	return ok
}

// freePort returns a port on which no HTTP server answers, for the whole test: it is held
// by a listener that closes every connection at once, so connect's probe of the default
// platform finds nobody, and no other test's server can take the port meanwhile.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

func TestConnectInProcessJSON(t *testing.T) {
	t.Parallel()
	env := map[string]string{"BOXO_SIM_PLATFORM_PORT": freePort(t)}
	out, errOut, code := runCmd(t, t.Context(), env, "connect", "--json", "--user", "bob")
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	var res sdkstub.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("stdout is not the JSON result: %v\n%s", err, out)
	}
	if !res.OK || len(res.Steps) != 16 || res.Me == nil || res.Me.CreatedText() != "true" || res.User != "bob" {
		t.Fatalf("result = %+v", res)
	}
	if !strings.Contains(errOut, "in-process") {
		t.Errorf("stderr does not say the parties ran in-process: %s", errOut)
	}
	if strings.Contains(out, "eyJ") { // every JWT starts so
		t.Errorf("JSON result carries the miniapp's auth_token: %s", out)
	}
}

func TestConnectDeniedExitsNonZero(t *testing.T) {
	t.Parallel()
	env := map[string]string{"BOXO_SIM_PLATFORM_PORT": freePort(t)}
	out, _, code := runCmd(t, t.Context(), env, "connect", "--consent", "deny")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, out)
	}
	if !strings.Contains(out, "stopped at step 4") || !strings.Contains(out, "USER_DENIED") {
		t.Fatalf("output does not say where the flow stopped:\n%s", out)
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"connect", "--consent", "maybe"}, nil, "--consent"},
		{[]string{"connect", "--user", "nobody"}, nil, "not a demo user"},
		{[]string{"connect", "--no-such-flag"}, nil, "unknown flag"},
		{[]string{"up", "--only", "hostapp,database"}, nil, `unknown party "database"`},
		{[]string{"up", "--platform-port", "70000"}, nil, "out of range"},
		{[]string{"config", "print"}, map[string]string{"BOXO_SIM_LOG_LEVEL": "loud"}, "log_level"},
		{[]string{"config", "print"}, map[string]string{"BOXO_SIM_HOSTAPP_PORT": "eighty"}, "BOXO_SIM_HOSTAPP_PORT"},
		{[]string{"trace", "--platform-url", "http://127.0.0.1:1"}, nil, "boxo-sim up"},
		{[]string{"frobnicate"}, nil, "unknown command"},
		{[]string{"up", "--platform-url", "http://127.0.0.1:9"}, nil, "this up starts the platform"},
		{[]string{"up", "--ephemeral", "--miniapp-url", "http://127.0.0.1:9/boxo/auth-token"}, nil, "names an endpoint"},
		{[]string{"config", "print"}, map[string]string{"BOXO_SIM_HOSTAPP_SECRET": "s3cr…[18]"}, "masked value"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			_, errOut, code := runCmd(t, t.Context(), tc.env, tc.args...)
			if code != exitUsage || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errOut, exitUsage, tc.want)
			}
		})
	}
}

func TestConfigPrecedence(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "boxo-sim.yaml")
	if err := os.WriteFile(file, []byte("hostapp_port: 7001\nplatform_port: 7002\nminiapp_port: 7003\ncall_timeout: 3s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"BOXO_SIM_CONFIG": file, "BOXO_SIM_PLATFORM_PORT": "7102", "BOXO_SIM_MINIAPP_PORT": "7103"}
	out, errOut, code := runCmd(t, t.Context(), env, "config", "print", "--miniapp-port", "7203")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"hostapp_port: 7001  # file " + file,
		"platform_port: 7102  # env BOXO_SIM_PLATFORM_PORT",
		"miniapp_port: 7203  # flag --miniapp-port",
		"call_timeout: 3s  # file",
		"bind: 127.0.0.1  # default",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("config print lacks %q:\n%s", want, out)
		}
	}
	out, errOut, code = runCmd(t, t.Context(), env, "config", "print", "--miniapp-port", "7203", "--json")
	var printed struct{ Settings []configSetting }
	if err := json.Unmarshal([]byte(out), &printed); code != 0 || err != nil {
		t.Fatalf("config print --json: exit %d, %v, stderr %q:\n%s", code, err, errOut, out)
	}
	got := map[string]configSetting{}
	for _, s := range printed.Settings {
		got[s.Key] = s
	}
	if s := got["miniapp_port"]; s.Value != float64(7203) || s.Source != "flag --miniapp-port" || s.Env != "BOXO_SIM_MINIAPP_PORT" {
		t.Errorf("config print --json miniapp_port = %+v", s)
	}
	if s := got["call_timeout"]; s.Value != "3s" || s.Source != "file "+file {
		t.Errorf("config print --json call_timeout = %+v", s)
	}
	if len(printed.Settings) != len(settings) || !got["admin_token"].Secret || got["ephemeral"].Value != false {
		t.Errorf("config print --json: %d settings of %d, admin_token %+v, ephemeral %+v", len(printed.Settings), len(settings), got["admin_token"], got["ephemeral"])
	}

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("hostapp_port: 7001\nplatfrom_port: 7002\n"), 0o600)
	_, errOut, code = runCmd(t, t.Context(), map[string]string{"BOXO_SIM_CONFIG": bad}, "config", "print")
	if code == 0 || !strings.Contains(errOut, `line 2: unknown key "platfrom_port" (known keys: bind,`) {
		t.Fatalf("unknown key: exit %d, stderr %q; want the key, its line and the known keys", code, errOut)
	}
	os.WriteFile(bad, []byte("hostapp_port: abc\ncall_timeout: 10\n"), 0o600)
	_, errOut, code = runCmd(t, t.Context(), map[string]string{"BOXO_SIM_CONFIG": bad}, "config", "print")
	if code == 0 || !strings.Contains(errOut, "line 1: abc is not a whole number") || !strings.Contains(errOut, "line 2: 10 is not a duration such as 10s") {
		t.Fatalf("bad values: exit %d, stderr %q", code, errOut)
	}
}

// lockedBuffer is a buffer safe for concurrent writers.
type lockedBuffer = testkit.Buffer

// TestUpConnectTrace starts `up` as a user would, then runs `connect` twice against it and
// `trace`, and stops it with a cancelled context as Ctrl-C would.
func TestUpConnectTrace(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	up := startUp(t, append([]string{"--demo", "--data-dir", dataDir}, allPorts0...)...)
	out, urls := up.out, up.urls
	if len(urls) != 3 {
		t.Fatalf("up printed %d URLs: %s", len(urls), out.String())
	}
	if !strings.Contains(out.String(), "Signed in to") || strings.Count(out.String(), "\n16 ") != 1 {
		t.Errorf("--demo did not print a successful 16-step flow:\n%s", out.String())
	}
	for _, db := range []string{"hostapp.db", "platform.db", "miniapp.db"} {
		if _, err := os.Stat(filepath.Join(dataDir, db)); err != nil {
			t.Errorf("data dir lacks %s: %v", db, err)
		}
	}

	// The demo flow's session is saved as connect saves its own: the session commands find it.
	if stdout, stderr, code := runCmd(t, t.Context(), nil, "session", "refresh", "--user", "carol", "--data-dir", dataDir); code != 0 {
		t.Errorf("session refresh after up --demo: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(out.String(), "Run a flow:  boxo-sim connect --user alice --platform-url "+urls["platform"]) {
		t.Errorf("up's hint does not name its platform:\n%s", out.String())
	}
	// Only the platform's URL: connect finds the host app in the platform's Dashboard. The
	// first run logs in; the second finds the token the first saved in the data directory and
	// uses it without a new login (PROTOCOL §3.3); --fresh logs in anew and finds the user.
	args := []string{"connect", "--json", "--user", "alice", "--platform-url", urls["platform"], "--data-dir", dataDir}
	for i, want := range []struct {
		fresh, created, saved bool
		steps                 []int
	}{
		{created: true, steps: []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}},
		{created: true, saved: true, steps: []int{1, 2, 14, 15, 16}},
		{fresh: true, created: false, steps: []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}},
	} {
		a := args
		if want.fresh {
			a = append(slices.Clone(args), "--fresh")
		}
		stdout, stderr, code := runCmd(t, t.Context(), nil, a...)
		if code != 0 {
			t.Fatalf("connect #%d: exit %d\n%s\n%s", i+1, code, stdout, stderr)
		}
		var res sdkstub.Result
		if err := json.Unmarshal([]byte(stdout), &res); err != nil {
			t.Fatal(err)
		}
		if res.Me == nil || res.Me.CreatedText() != strconv.FormatBool(want.created) || res.SavedToken != want.saved {
			t.Fatalf("connect #%d: me = %+v, saved_token %t; want created %t, saved_token %t", i+1, res.Me, res.SavedToken, want.created, want.saved)
		}
		var steps []int
		for _, st := range res.Steps {
			steps = append(steps, st.Number)
		}
		if !slices.Equal(steps, want.steps) {
			t.Errorf("connect #%d ran steps %v, want %v", i+1, steps, want.steps)
		}
		fi, err := os.Stat(filepath.Join(dataDir, sdkstub.TokenFileName))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("the SDK's token store after connect #%d: %v, mode %v; want a 0600 file", i+1, err, fi)
		}
	}

	stdout, stderr, code := runCmd(t, t.Context(), nil, "trace", "--platform-url", urls["platform"])
	if code != 0 || !strings.Contains(stdout, "outcome ok") || !strings.Contains(stdout, "/boxo/connect/access-token") {
		t.Fatalf("trace: exit %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, _, code = runCmd(t, t.Context(), nil, "trace", "--platform-url", urls["platform"], "flow_doesnotexist")
	if code == 0 {
		t.Fatalf("trace of an unknown flow exited 0: %s", stdout)
	}

	// Connect Direct: 12 steps, and the trace says which flow it is.
	stdout, stderr, code = runCmd(t, t.Context(), nil, "connect", "--mode", "direct", "--user", "bob", "--platform-url", urls["platform"])
	if code != 0 || strings.Count(stdout, "\n12 ") != 1 || strings.Contains(stdout, "\n13 ") || !strings.Contains(stdout, "setAuthTokens") {
		t.Fatalf("connect --mode direct: exit %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, stderr, code = runCmd(t, t.Context(), nil, "trace", "--platform-url", urls["platform"])
	if code != 0 || !strings.Contains(stdout, "Connect Direct") || !strings.Contains(stdout, "POST /api/v1/connect/") {
		t.Fatalf("trace of a Direct flow: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, stderr, code = runCmd(t, t.Context(), nil, "connect", "--mode", "sideways", "--platform-url", urls["platform"]); code != 2 || !strings.Contains(stderr, "--mode") {
		t.Errorf("connect --mode sideways: exit %d, %s", code, stderr)
	}

	if err := up.stop(); err != nil {
		t.Fatalf("up after Ctrl-C: %v\n%s", err, up.errb.String())
	}
	if !strings.Contains(out.String(), "Stopping.") {
		t.Errorf("up did not say it stopped: %s", out.String())
	}
}

// awaitServing waits until up, running in-process, writes "Serving." to watch (one of out
// and errb, its stdout and stderr): the parties serve. It fails the test when up exits
// first or is not ready within a minute.
func awaitServing(t *testing.T, watch, out, errb *lockedBuffer, done <-chan error) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(watch.String(), "Serving.") {
		if time.Now().After(deadline) {
			t.Fatalf("up did not get ready:\nstdout: %s\nstderr: %s", out.String(), errb.String())
		}
		select {
		case err := <-done:
			t.Fatalf("up exited early: %v\nstdout: %s\nstderr: %s", err, out.String(), errb.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
