package main

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/testkit"
)

// runExecBinary runs the built binary's exec with args and returns its output and exit
// status. The configuration comes from args only.
func runExecBinary(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	c := exec.Command(bin, append([]string{"exec"}, args...)...)
	c.Env = append(os.Environ(), "BOXO_SIM_CONFIG=")
	var out, errb testkit.Buffer
	c.Stdout, c.Stderr = &out, &errb
	c.WaitDelay = 10 * time.Second // a process left behind holding the output must not hang the test
	err = c.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return out.String(), errb.String(), c.ProcessState.ExitCode()
}

// TestExecExitsWithTheCommandsStatus is the CI contract: CMD runs against a ready stack,
// and exec's status is CMD's.
func TestExecExitsWithTheCommandsStatus(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	cases := []struct {
		cmd  []string
		want int
	}{
		{[]string{"sh", "-c", `curl -fsS "$BOXO_SIM_PLATFORM_URL/healthz"`}, 0},
		{[]string{"false"}, 1},
		{[]string{"sh", "-c", "exit 7"}, 7},
		{[]string{"sh", "-c", "kill -TERM $$"}, 128 + int(syscall.SIGTERM)},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.cmd, " "), func(t *testing.T) {
			t.Parallel()
			out, errOut, code := runExecBinary(t, append([]string{"--"}, tc.cmd...)...)
			if code != tc.want {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.want, out, errOut)
			}
			if tc.want == 0 && !strings.Contains(out, `"status":"ok"`) {
				t.Fatalf("CMD's output did not come through: %q", out)
			}
		})
	}
}

// TestExecPassesPipedInput: CMD reads what is piped into exec.
func TestExecPassesPipedInput(t *testing.T) {
	t.Parallel()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	c := exec.Command(bin, "exec", "--", "cat")
	c.Env = append(os.Environ(), "BOXO_SIM_CONFIG=")
	c.Stdin = strings.NewReader("piped in\n")
	out, err := c.Output()
	if err != nil || string(out) != "piped in\n" {
		t.Fatalf("exec -- cat with piped input: %q, %v", out, err)
	}
}

// TestExecOwnFailures: exec's own failures have statuses of their own, and a message.
func TestExecOwnFailures(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { taken.Close() }) // after the parallel subtests
	port := strconv.Itoa(taken.Addr().(*net.TCPAddr).Port)
	cases := []struct {
		name string
		args []string
		want int
		msg  string
	}{
		{"no command", nil, 2, "exec needs a command to run"},
		{"no command after --", []string{"--"}, 2, "exec needs a command to run"},
		{"a wrong flag", []string{"--no-such-flag", "--", "true"}, 2, "unknown flag: --no-such-flag"},
		{"a wrong setting", []string{"--platform-port", "99999", "--", "true"}, 2, "platform_port 99999 is out of range"},
		{"ephemeral with a data directory", []string{"--ephemeral", "--data-dir", t.TempDir(), "--", "true"}, 2, "give one of them"},
		{"a port in use", []string{"--platform-port", port, "--", "true"}, exitStackFailed, "the stack could not start: platform: listen on 127.0.0.1:" + port},
		{"command not found", []string{"--", "boxo-sim-no-such-command"}, exitNotFound, "boxo-sim-no-such-command: command not found"},
		{"command not runnable", []string{"--", "/dev/null"}, exitCannotRun, "/dev/null"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, errOut, code := runExecBinary(t, tc.args...)
			if code != tc.want || !strings.Contains(errOut, tc.msg) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errOut, tc.want, tc.msg)
			}
		})
	}
}

// TestExecLeavesNothingBehind: once exec has exited, the parties' ports are free, the
// temporary data directory is gone, and a process CMD left running in the background is
// stopped.
func TestExecLeavesNothingBehind(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := `env | grep '^BOXO_SIM_' > "$OUT/env"
sleep 300 >/dev/null 2>&1 &
echo $! > "$OUT/pid"`
	out, errOut, code := runExecBinary(t, "--", "sh", "-c", "OUT="+dir+"; "+script)
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	env := readEnvFile(t, filepath.Join(dir, "env"))
	for _, p := range []string{"HOSTAPP", "PLATFORM", "MINIAPP"} {
		u := env["BOXO_SIM_"+p+"_URL"]
		host := strings.TrimPrefix(u, "http://")
		if host == u || host == "" {
			t.Fatalf("BOXO_SIM_%s_URL = %q, want an http URL", p, u)
		}
		if strings.HasSuffix(host, ":8081") || strings.HasSuffix(host, ":8082") || strings.HasSuffix(host, ":8083") {
			t.Errorf("BOXO_SIM_%s_URL = %q: exec took up's default port, not a free one", p, u)
		}
		if c, err := net.DialTimeout("tcp", host, time.Second); err == nil {
			c.Close()
			t.Errorf("%s's port %s still accepts connections after exec exited", p, host)
		}
	}
	if d := env["BOXO_SIM_DATA_DIR"]; d == "" {
		t.Error("no BOXO_SIM_DATA_DIR")
	} else if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the temporary data directory %s is still there (%v)", d, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	// The orphan is stopped at once; give its new parent a moment to reap it.
	for deadline := time.Now().Add(5 * time.Second); alive(pid); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the background process %d CMD started survived exec", pid)
		}
	}
}

// alive reports whether pid runs (a zombie waiting for its reaper does not).
func alive(pid int) bool {
	if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
		_, rest, _ := strings.Cut(string(b), ") ")
		return !strings.HasPrefix(rest, "Z") && !strings.HasPrefix(rest, "X")
	}
	return syscall.Kill(pid, 0) == nil
}

func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		env[k] = v
	}
	return env
}

// TestExecEnvironment: CMD gets every documented variable, and since they are the
// configuration's own names, a boxo-sim that CMD runs finds the stack and runs a flow on it.
func TestExecEnvironment(t *testing.T) {
	t.Parallel()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out, errOut, code := runExecBinary(t, "--", "sh", "-c", `env | grep '^BOXO_SIM_' > "$0/env" && "$1" connect --user alice`, dir, bin)
	if code != 0 || !strings.Contains(out, "Signed in to") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	env := readEnvFile(t, filepath.Join(dir, "env"))
	help, _, _ := runExecBinary(t, "--help")
	for _, v := range execVars {
		if env[v.name] == "" {
			t.Errorf("CMD's environment lacks %s", v.name)
		}
		if !strings.Contains(help, v.name) {
			t.Errorf("exec --help does not document %s", v.name)
		}
	}
	if strings.Contains(errOut, "in-process") {
		t.Fatalf("the inner connect did not find exec's stack:\n%s", errOut)
	}

	// The same with a failing flow: its status comes through.
	_, errOut, code = runExecBinary(t, "--", bin, "connect", "--consent", "deny")
	if code != 1 {
		t.Fatalf("exec -- connect --consent deny: exit %d, want 1\n%s", code, errOut)
	}
}

// TestExecForwardsSignals: a SIGTERM to exec reaches CMD, which decides the exit status, and
// the stack stops after it.
func TestExecForwardsSignals(t *testing.T) {
	t.Parallel()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			c := exec.Command(bin, "exec", "--", "sh", "-c", `trap 'echo "got it"; exit 42' TERM INT; echo "ready $$"; while :; do sleep 0.05; done`)
			c.Env = append(os.Environ(), "BOXO_SIM_CONFIG=")
			var out, errb testkit.Buffer
			c.Stdout, c.Stderr = &out, &errb
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			c.WaitDelay = 10 * time.Second
			done := make(chan struct{})
			go func() { c.Wait(); close(done) }()
			var ready []string
			for deadline := time.Now().Add(30 * time.Second); len(ready) < 2; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					c.Process.Kill()
					t.Fatalf("CMD did not start:\n%s", errb.String())
				}
				ready = strings.Fields(out.String())
			}
			if pgid, err := strconv.Atoi(ready[1]); err == nil { // CMD leads its process group
				t.Cleanup(func() { syscall.Kill(-pgid, syscall.SIGKILL) })
			}
			c.Process.Signal(sig)
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				c.Process.Kill()
				<-done
				t.Fatalf("exec did not end after %s", sig)
			}
			if code := c.ProcessState.ExitCode(); code != 42 || strings.Count(out.String(), "got it") != 1 {
				t.Fatalf("after %s: exit %d, stdout %q; want CMD's trap once and its status 42\nstderr: %s", sig, code, out.String(), errb.String())
			}
		})
	}
}

// TestUpEphemeralWithDataDir: a data directory and --ephemeral given as explicitly is a
// usage error, wherever they come from as long as it is the same level.
func TestUpEphemeralWithDataDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// Were the combination accepted, up would serve until this context ends.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	_, errOut, code := runCmd(t, ctx, nil, "up", "--ephemeral", "--data-dir", dir, "--hostapp-port", "0", "--platform-port", "0", "--miniapp-port", "0")
	if code != 2 || !strings.Contains(errOut, "ephemeral (flag --ephemeral) and data_dir "+dir+" (flag --data-dir)") {
		t.Fatalf("up --ephemeral --data-dir: exit %d, stderr %q; want 2 naming both", code, errOut)
	}
	_, errOut, code = runCmd(t, ctx, map[string]string{"BOXO_SIM_DATA_DIR": dir, "BOXO_SIM_EPHEMERAL": "true"}, "up", "--hostapp-port", "0", "--platform-port", "0", "--miniapp-port", "0")
	if code != 2 || !strings.Contains(errOut, "env BOXO_SIM_DATA_DIR") {
		t.Fatalf("both from the environment: exit %d, stderr %q; want 2", code, errOut)
	}
}

// TestExecDataDir: exec is ephemeral unless a data directory is given; then it keeps its
// databases there. --ephemeral over a data_dir from the environment wins.
func TestExecDataDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	printDir := []string{"exec", "--", "sh", "-c", `echo "$BOXO_SIM_DATA_DIR"`}
	env := map[string]string{"BOXO_SIM_DATA_DIR": dir}

	out, errOut, code := runCmd(t, t.Context(), env, append([]string{printDir[0], "--ephemeral"}, printDir[1:]...)...)
	if got := strings.TrimSpace(out); code != 0 || got == dir || got == "" {
		t.Fatalf("exec --ephemeral with BOXO_SIM_DATA_DIR: exit %d, data dir %q, want a temporary one\n%s", code, got, errOut)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("exec --ephemeral wrote to %s: %v", dir, entries)
	}

	out, errOut, code = runCmd(t, t.Context(), env, printDir...)
	if got := strings.TrimSpace(out); code != 0 || got != dir {
		t.Fatalf("exec with BOXO_SIM_DATA_DIR: exit %d, data dir %q, want %s\n%s", code, got, dir, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "platform.db")); err != nil {
		t.Fatalf("the databases are not kept in %s: %v", dir, err)
	}
}

// TestExecFindsItself: a boxo-sim that CMD runs is the binary running exec, found through
// PATH even where boxo-sim is not installed, and it acts on exec's stack.
func TestExecFindsItself(t *testing.T) {
	t.Parallel()
	if p, err := exec.LookPath("boxo-sim"); err == nil {
		t.Skipf("a boxo-sim is installed at %s: the test needs a PATH without one", p)
	}
	// As a command of its own too: exec finds CMD on the PATH it gives CMD.
	if _, errOut, code := runExecBinary(t, "--", "boxo-sim", "clock", "show"); code != 0 {
		t.Errorf("exec -- boxo-sim clock show: exit %d\n%s", code, errOut)
	}
	out, errOut, code := runExecBinary(t, "--", "sh", "-c", `boxo-sim connect --user bob --json >/dev/null && command -v boxo-sim`)
	bin, _ := buildBinary()
	if code != 0 || strings.TrimSpace(out) != bin {
		t.Fatalf("exit %d, boxo-sim found at %q, want %s\nstderr: %s", code, strings.TrimSpace(out), bin, errOut)
	}
}
