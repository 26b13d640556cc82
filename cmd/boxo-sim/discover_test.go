package main

import (
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/fault"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

// faultsAt is the fault table a party serves, read directly.
func faultsAt(t *testing.T, base string) []fault.Fault {
	t.Helper()
	resp, err := http.Get(base + "/_sim/faults")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var l fault.List
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil {
		t.Fatal(err)
	}
	return l.Faults
}

func portOf(t *testing.T, u string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.Port()
}

// TestCommandsFindTheirStack: with a second stack on the ports the commands would guess
// (standing in for the default ports: BOXO_SIM_*_PORT point at it), connect, trace and fault
// given --data-dir act on the stack of that data directory, fault given --platform-url alone
// reaches the host app that platform calls, and neither ever touches the other stack.
func TestCommandsFindTheirStack(t *testing.T) {
	t.Parallel()
	dirA := t.TempDir()
	a := startUp(t, "--data-dir", dirA, "--hostapp-port", "0", "--platform-port", "0", "--miniapp-port", "0")
	other := startUp(t, "--hostapp-port", "0", "--platform-port", "0", "--miniapp-port", "0")
	env := map[string]string{
		"BOXO_SIM_HOSTAPP_PORT":  portOf(t, other.urls["hostapp"]),
		"BOXO_SIM_PLATFORM_PORT": portOf(t, other.urls["platform"]),
		"BOXO_SIM_MINIAPP_PORT":  portOf(t, other.urls["miniapp"]),
	}
	run := func(args ...string) (string, string, int) {
		t.Helper()
		return runCmd(t, t.Context(), env, args...)
	}
	mustRunEnv := func(args ...string) string {
		t.Helper()
		out, errOut, code := run(args...)
		if code != 0 {
			t.Fatalf("boxo-sim %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	onlyA := func(what string) {
		t.Helper()
		if n := len(faultsAt(t, a.urls["hostapp"])); n != 1 {
			t.Errorf("%s: stack A's host app holds %d faults, want 1", what, n)
		}
		if n := len(faultsAt(t, other.urls["hostapp"])); n != 0 {
			t.Errorf("%s: the other stack's host app holds %d faults, want 0", what, n)
		}
		mustRunEnv("fault", "clear", "--data-dir", dirA)
	}

	// Without a flag, the commands guess the (here: other) stack on the configured ports.
	out := mustRunEnv("connect", "--user", "bob")
	if !strings.Contains(out, "Signed in") {
		t.Fatalf("connect on the guessed ports:\n%s", out)
	}

	out = mustRunEnv("connect", "--data-dir", dirA, "--user", "alice")
	m := regexp.MustCompile(`\(flow (flow_[0-9a-f]+)`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, `as alice (host reference "u-1001")`) {
		t.Fatalf("connect --data-dir:\n%s", out)
	}
	if out := mustRunEnv("trace", "--data-dir", dirA); !strings.Contains(out, m[1]) {
		t.Errorf("trace --data-dir does not show the flow %s of its stack:\n%s", m[1], out)
	}
	if out, _, _ := run("trace", "--platform-url", other.urls["platform"], m[1]); strings.Contains(out, "Signed in") || strings.Contains(out, "alice") {
		t.Errorf("the other stack has stack A's flow:\n%s", out)
	}

	mustRunEnv("fault", "set", "--data-dir", dirA, "--step", "7", "--kind", "status", "--status", "500")
	onlyA("fault set --data-dir")
	mustRunEnv("fault", "set", "--platform-url", a.urls["platform"], "--step", "7", "--kind", "status", "--status", "500")
	onlyA("fault set --platform-url")

	// A party of another stack is refused, with both URLs named.
	_, errOut, code := run("fault", "set", "--platform-url", a.urls["platform"], "--hostapp-url", other.urls["hostapp"], "--step", "7", "--kind", "reset")
	if code == 0 || !strings.Contains(errOut, "is not the hostapp of the stack found through the platform at "+a.urls["platform"]) {
		t.Errorf("a host app of another stack: exit %d, stderr %q", code, errOut)
	}
	if n := len(faultsAt(t, other.urls["hostapp"])); n != 0 {
		t.Errorf("the refused fault reached the other stack: %d faults", n)
	}

	// scenario run --data-dir runs against that stack, and check auth-code uses its host app.
	_, errOut, code = run("scenario", "run", "--data-dir", dirA, filepath.Join(libraryDir, "connect-new-user.yaml"))
	if code != 0 || !strings.Contains(errOut, "against the platform at "+a.urls["platform"]) {
		t.Errorf("scenario run --data-dir: exit %d, stderr %q", code, errOut)
	}
	if out, errOut, code := run("check", "auth-code", "--data-dir", dirA); code != 0 || len(strings.TrimSpace(out)) < 20 {
		t.Errorf("check auth-code --data-dir: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	// A data directory with no up running is an error, not a guess.
	_, errOut, code = run("trace", "--data-dir", t.TempDir())
	if code == 0 || !strings.Contains(errOut, "no 'boxo-sim up' is running on") {
		t.Errorf("trace on a data directory without up: exit %d, stderr %q", code, errOut)
	}
}

// TestFaultSetOnARelayedHostIsRefused: a host app that is a real backend has no fault table,
// and fault set says so instead of reaching whatever answers elsewhere.
func TestFaultSetOnARelayedHostIsRefused(t *testing.T) {
	t.Parallel()
	host := startUp(t, "--only", "hostapp", "--hostapp-port", "0")
	dir := t.TempDir()
	startUp(t, "--data-dir", dir, "--hostapp-url", host.urls["hostapp"], "--platform-port", "0", "--miniapp-port", "0")
	_, errOut, code := runCmd(t, t.Context(), nil, "fault", "set", "--data-dir", dir, "--step", "7", "--kind", "status", "--status", "500")
	if code == 0 || !strings.Contains(errOut, "is a real backend the platform relays to") {
		t.Errorf("fault set on the relayed host: exit %d, stderr %q", code, errOut)
	}
	if n := len(faultsAt(t, host.urls["hostapp"])); n != 0 {
		t.Errorf("the relayed host got %d faults", n)
	}
	out, errOut, code := runCmd(t, t.Context(), nil, "fault", "list", "--data-dir", dir)
	if code != 0 || !strings.Contains(errOut, "hostapp: a real backend at "+host.urls["hostapp"]+", not simulated (skipped)") {
		t.Errorf("fault list: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
}

// TestConnectTrustsTheCACertGiven: an HTTPS host backend with a certificate of its own CA
// fails with a TLS diagnosis naming --ca-cert, and works once --ca-cert names that CA.
func TestConnectTrustsTheCACertGiven(t *testing.T) {
	t.Parallel()
	host := startUp(t, "--only", "hostapp", "--hostapp-port", "0")
	target, _ := url.Parse(host.urls["hostapp"])
	backend := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(target))
	t.Cleanup(backend.Close)
	codes := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sdk, err := sdkstub.New(sdkstub.Config{PlatformURL: "http://127.0.0.1:1", HostURL: host.urls["hostapp"]})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		code, err := sdk.HostAuthCode("carol", "")(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		io.WriteString(w, code)
	}))
	t.Cleanup(codes.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: backend.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	// In-process: no up on the data directory, and nothing on the platform port.
	args := []string{"connect", "--hostapp-url", backend.URL, "--auth-code-url", codes.URL}
	env := map[string]string{"BOXO_SIM_PLATFORM_PORT": freePort(t)}
	out, errOut, code := runCmd(t, t.Context(), env, args...)
	if code != 1 || !strings.Contains(out, "TLS: the server's certificate is signed by an authority this machine does not trust") || !strings.Contains(out, "--ca-cert") {
		t.Fatalf("without --ca-cert: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	out, errOut, code = runCmd(t, t.Context(), env, append(args, "--ca-cert", ca)...)
	if code != 0 || !strings.Contains(out, `as host reference "u-1003" (the user of the auth code)`) {
		t.Fatalf("with --ca-cert: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	_, errOut, code = runCmd(t, t.Context(), env, append(args, "--insecure-skip-verify")...)
	if code != 0 || !strings.Contains(errOut, "WARNING: --insecure-skip-verify") {
		t.Fatalf("with --insecure-skip-verify: exit %d\nstderr: %s", code, errOut)
	}
}
