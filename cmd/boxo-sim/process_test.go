package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/testkit"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

// The tests in this file run the real binary as a user's CI job would, to see what signals
// and crashes do to it. BOXO_SIM_TEST_BINARY runs them against another build.

var binaryDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binaryDir != "" {
		os.RemoveAll(binaryDir)
	}
	os.Exit(code)
}

var buildBinary = sync.OnceValues(func() (string, error) {
	if p := os.Getenv("BOXO_SIM_TEST_BINARY"); p != "" {
		return p, nil
	}
	dir, err := os.MkdirTemp("", "boxo-sim-bin-")
	if err != nil {
		return "", err
	}
	binaryDir = dir
	path := filepath.Join(dir, "boxo-sim")
	out, err := exec.Command("go", "build", "-o", path, ".").CombinedOutput()
	if err != nil {
		return "", errors.New("go build: " + err.Error() + "\n" + string(out))
	}
	return path, nil
})

// proc is a running `boxo-sim up` subprocess.
type proc struct {
	cmd       *exec.Cmd
	out, errb *testkit.Buffer
	urls      map[string]string
	done      chan struct{}
	exitCode  int
	exitedAt  time.Time
}

// startProc starts `boxo-sim up` on dataDir on ephemeral ports and waits until it serves.
func startProc(t *testing.T, dataDir string, args ...string) *proc {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{out: &testkit.Buffer{}, errb: &testkit.Buffer{}, urls: map[string]string{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"up", "--data-dir", dataDir, "--hostapp-port", "0", "--platform-port", "0", "--miniapp-port", "0"}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.errb
	p.cmd.Env = append(os.Environ(), "BOXO_SIM_CONFIG=")
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		p.exitedAt = time.Now()
		p.exitCode = p.cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	deadline := time.After(60 * time.Second)
	for !strings.Contains(p.out.String(), "Serving.") {
		select {
		case <-p.done:
			t.Fatalf("up exited early (%d):\nstdout: %s\nstderr: %s", p.exitCode, p.out.String(), p.errb.String())
		case <-deadline:
			t.Fatalf("up did not get ready:\nstdout: %s\nstderr: %s", p.out.String(), p.errb.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	p.urls = partyURLs(p.out.String())
	return p
}

// signal sends sig and returns how long the process then took to exit, and its status.
func (p *proc) stop(t *testing.T, sig os.Signal, within time.Duration) (time.Duration, int) {
	t.Helper()
	start := time.Now()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
		return p.exitedAt.Sub(start), p.exitCode
	case <-time.After(within):
		_ = p.cmd.Process.Kill()
		<-p.done
		return time.Since(start), -1
	}
}

// burst runs n flows, at most c at a time, through one SDK that keeps its connections.
func burst(t *testing.T, p *proc, n, c int) []string {
	t.Helper()
	sdk, err := sdkstub.New(sdkstub.Config{PlatformURL: p.urls["platform"], HostURL: p.urls["hostapp"]})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var ids []string
	sem := make(chan struct{}, c)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			res, err := sdk.Connect(context.Background(), sdkstub.Options{User: "alice", NoTrace: true})
			if err != nil {
				t.Errorf("flow: %v", err)
				return
			}
			mu.Lock()
			ids = append(ids, res.FlowID)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return ids
}

// TestSIGTERMAfterABurstExitsAtOnce is what a CI job does: run flows, then stop up. Ten
// times, each exit must be 0 and take under a second. The SDK's connections stay open, as a
// test client's would.
func TestSIGTERMAfterABurstExitsAtOnce(t *testing.T) {
	dir := t.TempDir()
	var worst time.Duration
	var runs []string
	for i := range 10 {
		p := startProc(t, dir)
		burst(t, p, 40, 8)
		took, code := p.stop(t, syscall.SIGTERM, 10*time.Second)
		if took > worst {
			worst = took
		}
		runs = append(runs, fmt.Sprintf("exit %d in %s", code, took.Round(time.Millisecond)))
		if code != 0 || took >= time.Second {
			t.Errorf("run %d: SIGTERM after a burst: exit %d after %s, want 0 within 1s\nstderr: %s", i+1, code, took.Round(time.Millisecond), p.errb.String())
		}
	}
	t.Logf("10 runs: %s; slowest %s", strings.Join(runs, ", "), worst.Round(time.Millisecond))
}

// TestSIGTERMAnswersAFlowHeldByADelay stops up while a flow is held by a delay fault longer
// than the grace period: the SDK's call gets the platform's error envelope, not EOF, and up
// exits 0 soon after the grace period.
func TestSIGTERMAnswersAFlowHeldByADelay(t *testing.T) {
	p := startProc(t, t.TempDir(), "--shutdown-grace", "500ms")
	put, _ := http.NewRequest(http.MethodPut, p.urls["hostapp"]+"/_sim/faults", strings.NewReader(`{"step":6,"kind":"delay","delay":"1h"}`))
	put.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(put); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("set the delay fault: %v %v", resp, err)
	}
	type answer struct {
		status int
		body   []byte
		err    error
	}
	got := make(chan answer, 1)
	go func() {
		// Steps 1–5 as the SDK runs them, with a fresh code from the host app.
		sdk, err := sdkstub.New(sdkstub.Config{PlatformURL: p.urls["platform"], HostURL: p.urls["hostapp"]})
		if err != nil {
			got <- answer{err: err}
			return
		}
		code, err := sdk.HostAuthCode("alice", "")(context.Background())
		if err != nil {
			got <- answer{err: err}
			return
		}
		b, _ := json.Marshal(map[string]string{"client_id": demo.ClientID, "app_id": demo.AppID, "auth_code": code})
		req, _ := http.NewRequest(http.MethodPost, p.urls["platform"]+"/api/v1/authorize/", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		got <- answer{resp.StatusCode, body, err}
	}()
	// Wait until the host app holds the call.
	for deadline := time.Now().Add(10 * time.Second); ; {
		var l struct {
			Faults []struct{ Matched int } `json:"faults"`
		}
		resp, err := http.Get(p.urls["hostapp"] + "/_sim/faults")
		if err == nil {
			_ = json.NewDecoder(resp.Body).Decode(&l)
			resp.Body.Close()
		}
		if len(l.Faults) == 1 && l.Faults[0].Matched > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the flow never reached the delayed step")
		}
		time.Sleep(10 * time.Millisecond)
	}
	took, code := p.stop(t, syscall.SIGTERM, 10*time.Second)
	a := <-got
	if a.err != nil {
		t.Fatalf("the held flow's call got %v, want an answer in the platform's error form", a.err)
	}
	var env contract.ErrorEnvelope
	if err := json.Unmarshal(a.body, &env); err != nil || env.ErrorCode == "" || a.status < 400 {
		t.Fatalf("the held flow's call got %d %s, want the platform's error envelope", a.status, a.body)
	}
	if code != 0 || took > 2500*time.Millisecond {
		t.Fatalf("up exited %d after %s with a 500ms grace period, want 0 soon after it\nstderr: %s", code, took.Round(time.Millisecond), p.errb.String())
	}
	if strings.Contains(p.errb.String(), "database is closed") {
		t.Fatalf("a handler used a closed database:\n%s", p.errb.String())
	}
}

// TestSecondSignalStopsAtOnce stops up while a request is held, then signals again: up stops
// at once and says what it cut off.
func TestSecondSignalStopsAtOnce(t *testing.T) {
	p := startProc(t, t.TempDir(), "--shutdown-grace", "30s")
	put, _ := http.NewRequest(http.MethodPut, p.urls["platform"]+"/_sim/faults", strings.NewReader(`{"step":1,"kind":"delay","delay":"1h"}`))
	put.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(put); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("set the delay fault: %v %v", resp, err)
	}
	go func() {
		resp, err := http.Get(p.urls["platform"] + "/api/v1/miniapps/" + demo.AppID + "/settings/?client_id=" + demo.ClientID)
		if err == nil {
			resp.Body.Close()
		}
	}()
	// Wait until the platform holds the request, then signal once and wait for "Stopping.".
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var l struct {
			Faults []struct{ Matched int } `json:"faults"`
		}
		if resp, err := http.Get(p.urls["platform"] + "/_sim/faults"); err == nil {
			_ = json.NewDecoder(resp.Body).Decode(&l)
			resp.Body.Close()
		}
		if len(l.Faults) == 1 && l.Faults[0].Matched > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the request never reached the platform")
		}
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(p.out.String(), "Stopping."); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("up did not start stopping")
		}
	}
	took, code := p.stop(t, syscall.SIGTERM, 10*time.Second)
	if took > time.Second || code == 0 || code == -1 {
		t.Fatalf("second SIGTERM: exit %d after %s, want a non-zero exit at once\nstderr: %s", code, took.Round(time.Millisecond), p.errb.String())
	}
	if !strings.Contains(p.errb.String(), "cutting off 1 request") || !strings.Contains(p.errb.String(), "platform GET /api/v1/miniapps/") {
		t.Fatalf("stderr does not say what was cut off:\n%s", p.errb.String())
	}
}

// TestKill9UnderLoadLosesNoCompletedFlow kills up with SIGKILL while flows run, restarts it
// on the same data directory and finds every flow that completed before the kill.
func TestKill9UnderLoadLosesNoCompletedFlow(t *testing.T) {
	dir := t.TempDir()
	p := startProc(t, dir)
	sdk, err := sdkstub.New(sdkstub.Config{PlatformURL: p.urls["platform"], HostURL: p.urls["hostapp"]})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var completed []string
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				res, err := sdk.Connect(context.Background(), sdkstub.Options{User: "bob"})
				if err != nil {
					return // the kill
				}
				mu.Lock()
				completed = append(completed, res.FlowID)
				mu.Unlock()
			}
		}()
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := len(completed)
		mu.Unlock()
		if n >= 50 || time.Now().After(deadline) {
			break
		}
	}
	if _, code := p.stop(t, syscall.SIGKILL, 10*time.Second); code == 0 {
		t.Fatal("up survived SIGKILL")
	}
	close(stop)
	wg.Wait()
	sdk.CloseIdleConnections()
	if len(completed) == 0 {
		t.Fatal("no flow completed before the kill")
	}

	q := startProc(t, dir)
	for _, id := range completed {
		resp, err := http.Get(q.urls["platform"] + "/_sim/flows/" + id)
		if err != nil {
			t.Fatal(err)
		}
		var fl contract.Flow
		_ = json.NewDecoder(resp.Body).Decode(&fl)
		resp.Body.Close()
		// The platform recorded steps 6–12 before it answered, which closes the flow as ok;
		// the SDK's own steps were posted afterwards, so the kill may have caught that post,
		// and then the flow says they were not reported.
		platformSteps := map[int]bool{}
		for _, st := range fl.Steps {
			if st.Step >= 6 && st.Step <= 12 && st.Outcome == contract.OutcomeOK {
				platformSteps[st.Step] = true
			}
		}
		if resp.StatusCode != http.StatusOK || len(platformSteps) != 7 || fl.Outcome != contract.OutcomeOK ||
			(len(fl.Steps) == 16) == (fl.Note != "") {
			t.Errorf("flow %s after the restart: %d, outcome %q, %d steps (%d of the platform's 6–12 ok), note %q; want steps 6–12 ok",
				id, resp.StatusCode, fl.Outcome, len(fl.Steps), len(platformSteps), fl.Note)
		}
	}
	t.Logf("%d completed flows found intact after kill -9 and restart", len(completed))
	if took, code := q.stop(t, syscall.SIGTERM, 10*time.Second); code != 0 {
		t.Fatalf("the restarted up exited %d after %s", code, took)
	}
}
