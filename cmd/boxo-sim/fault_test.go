package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/fault"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

// runUpForFaults starts `up` with args on ports 0 (startUp) and returns the URL of each party
// it started. The test's end stops it.
func runUpForFaults(t *testing.T, args ...string) map[string]string {
	t.Helper()
	return startUp(t, slices.Concat(allPorts0, args)...).urls
}

// urlFlags points a command at the parties of a running up.
func urlFlags(urls map[string]string) []string {
	var f []string
	for _, p := range []string{"hostapp", "platform", "miniapp"} {
		if u, ok := urls[p]; ok {
			f = append(f, "--"+p+"-url", u)
		}
	}
	return f
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := runCmd(t, t.Context(), nil, args...)
	if code != 0 {
		t.Fatalf("boxo-sim %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// connectJSON runs `connect --json` against the up and returns its result and exit status.
func connectJSON(t *testing.T, urls map[string]string, user string) (sdkstub.Result, int) {
	t.Helper()
	out, errOut, code := runCmd(t, t.Context(), nil, "connect", "--json", "--user", user, "--platform-url", urls["platform"], "--hostapp-url", urls["hostapp"])
	var res sdkstub.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("connect: exit %d, stdout is not JSON: %v\n%s\n%s", code, err, out, errOut)
	}
	return res, code
}

// failedAt returns the step, actor and error code of a result's first failed step.
func failedAt(res sdkstub.Result) (int, string) {
	for _, s := range res.Steps {
		if !s.OK {
			return s.Number, s.ErrorCode
		}
	}
	return 0, ""
}

// TestFaultsChangeTheNextConnect is issue 4's "done when": faults set over HTTP on a running
// up change the next connect as expected, and clearing them restores success.
func TestFaultsChangeTheNextConnect(t *testing.T) {
	t.Parallel()
	urls := runUpForFaults(t)
	flags := urlFlags(urls)

	res, code := connectJSON(t, urls, "alice")
	if code != 0 || !res.OK {
		t.Fatalf("connect before any fault: exit %d, %+v", code, res)
	}

	out := mustRun(t, append([]string{"fault", "set", "--step", "7", "--kind", "status", "--status", "500"}, flags...)...)
	if !strings.Contains(out, "Added f1 hostapp step 7: status 500, every call") {
		t.Fatalf("fault set printed %q", out)
	}
	out = mustRun(t, append([]string{"fault", "set", "--step", "11", "--kind", "error_code", "--error-code", "INVALID_USER_DATA", "--nth", "1", "--json"}, flags...)...)
	var added fault.List
	if err := json.Unmarshal([]byte(out), &added); err != nil || len(added.Faults) != 1 || added.Faults[0].ID != "f2" || added.Faults[0].Party != "miniapp" {
		t.Fatalf("fault set --json printed %q (%v)", out, err)
	}

	res, code = connectJSON(t, urls, "alice")
	if step, ec := failedAt(res); code != 1 || step != 7 || ec != contract.CodeUnexpectedResponseError {
		t.Fatalf("connect with a 500 at step 7: exit %d, failed at %d with %q; steps %+v", code, step, ec, res.Steps)
	}

	out = mustRun(t, append([]string{"fault", "list"}, flags...)...)
	for _, want := range []string{"hostapp  f1  step 7 /boxo/connect/access-token", "status", "500", "miniapp  f2  step 11 /boxo/auth-token", "INVALID_USER_DATA", "call 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("fault list lacks %q:\n%s", want, out)
		}
	}
	out = mustRun(t, append([]string{"fault", "list", "--json"}, flags...)...)
	var listed fault.List
	if err := json.Unmarshal([]byte(out), &listed); err != nil || len(listed.Faults) != 2 || listed.Faults[0].Fired != 1 || listed.Faults[1].Matched != 0 {
		t.Fatalf("fault list --json: %v\n%s", err, out)
	}

	// Remove the host's fault by id: the miniapp's fault now stops the flow at step 11.
	out = mustRun(t, append([]string{"fault", "clear", "f1"}, flags...)...)
	if !strings.Contains(out, "Removed f1 from hostapp") {
		t.Fatalf("fault clear f1 printed %q", out)
	}
	res, code = connectJSON(t, urls, "alice")
	if step, ec := failedAt(res); code != 1 || step != 11 || ec != contract.CodeInvalidUserData {
		t.Fatalf("connect with INVALID_USER_DATA at step 11: exit %d, failed at %d with %q", code, step, ec)
	}

	// The virtual clock: an 11-minute jump expires the auth code the fault lets through.
	mustRun(t, append([]string{"fault", "set", "--step", "6", "--kind", "expire"}, flags...)...)
	res, _ = connectJSON(t, urls, "alice")
	if step, ec := failedAt(res); step != 7 || ec != contract.CodeExpiredAuthCode {
		t.Fatalf("connect with an expired auth code: failed at %d with %q", step, ec)
	}
	out = mustRun(t, append([]string{"clock", "show"}, flags...)...)
	if strings.Count(out, "10m 1s") != 3 {
		t.Errorf("after one expire fault at step 6 every party should be 10m 1s ahead:\n%s", out)
	}
	mustRun(t, append([]string{"clock", "reset"}, flags...)...)
	if out = mustRun(t, append([]string{"clock", "show"}, flags...)...); strings.Count(out, " 0s ") != 3 {
		t.Errorf("clock reset did not put every party back to real time:\n%s", out)
	}

	out = mustRun(t, append([]string{"fault", "clear", "--json"}, flags...)...)
	var cleared struct {
		Cleared int            `json:"cleared"`
		Parties map[string]int `json:"parties"`
	}
	if err := json.Unmarshal([]byte(out), &cleared); err != nil || cleared.Cleared != 2 || cleared.Parties["hostapp"] != 1 || cleared.Parties["miniapp"] != 1 {
		t.Fatalf("fault clear --json printed %q (%v)", out, err)
	}
	if out = mustRun(t, append([]string{"fault", "clear"}, flags...)...); !strings.Contains(out, "Cleared 0 faults (hostapp 0, platform 0, miniapp 0).") {
		t.Fatalf("fault clear printed %q", out)
	}
	out = mustRun(t, append([]string{"fault", "list"}, flags...)...)
	if !strings.Contains(out, "No faults set") {
		t.Fatalf("fault list after clear: %q", out)
	}
	res, code = connectJSON(t, urls, "alice")
	if code != 0 || !res.OK || res.Me == nil || res.Me.CreatedText() == "true" {
		t.Fatalf("connect after clearing the faults: exit %d, %+v", code, res)
	}
}

// TestPartiesThatDoNotAnswerAreSkipped: with the miniapp not running, list, clear and clock
// work on the parties that answer and say which one is not running; set fails only when its
// own party does not answer, and everything fails when no party answers.
func TestPartiesThatDoNotAnswerAreSkipped(t *testing.T) {
	t.Parallel()
	urls := runUpForFaults(t, "--only", "hostapp,platform")
	down := "http://127.0.0.1:" + freePort(t)
	urls["miniapp"] = down
	flags := urlFlags(urls)
	notRunning := "miniapp: not running at " + down

	mustRun(t, append([]string{"fault", "set", "--step", "7", "--kind", "status", "--status", "500"}, flags...)...)
	for _, args := range [][]string{{"fault", "list"}, {"clock", "show"}, {"clock", "advance", "1m"}} {
		out, errOut, code := runCmd(t, t.Context(), nil, append(args, flags...)...)
		if code != 0 || strings.Count(errOut, notRunning) != 1 || !strings.Contains(out, "hostapp") || strings.Contains(out, "miniapp") {
			t.Errorf("%s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
		}
	}
	out, errOut, code := runCmd(t, t.Context(), nil, append([]string{"fault", "set", "--step", "11", "--kind", "reset"}, flags...)...)
	if code != exitUsage || !strings.Contains(errOut, "no miniapp answers at "+down) || !strings.Contains(errOut, "boxo-sim up") {
		t.Errorf("fault set on the missing miniapp: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	out, errOut, code = runCmd(t, t.Context(), nil, append([]string{"fault", "clear"}, flags...)...)
	if code != 0 || !strings.Contains(out, "Cleared 1 fault (hostapp 1, platform 0).") || !strings.Contains(errOut, notRunning) {
		t.Errorf("fault clear: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}

	none := []string{"--hostapp-url", down, "--platform-url", down, "--miniapp-url", down}
	for _, args := range [][]string{{"fault", "list"}, {"fault", "clear"}, {"clock", "show"}, {"clock", "reset"}} {
		_, errOut, code := runCmd(t, t.Context(), nil, append(args, none...)...)
		if code != exitUsage || !strings.Contains(errOut, "no party answers") || !strings.Contains(errOut, "boxo-sim up") || !strings.Contains(errOut, "--miniapp-url") {
			t.Errorf("%s with no party: exit %d, stderr %q", strings.Join(args, " "), code, errOut)
		}
	}
}

func TestGroupsRunBarePrintHelp(t *testing.T) {
	t.Parallel()
	for _, g := range []string{"fault", "clock", "check", "scenario", "config"} {
		out, errOut, code := runCmd(t, t.Context(), nil, g)
		if code != 0 || !strings.Contains(out, "Available Commands") || errOut != "" {
			t.Errorf("boxo-sim %s: exit %d\nstdout: %s\nstderr: %s", g, code, out, errOut)
		}
	}
}

func TestFaultHelpListsTheAcceptedSteps(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"fault", "--help"}, {"fault", "set", "--help"}} {
		out := mustRun(t, args...)
		if !strings.Contains(out, fault.StepList()) || strings.Contains(out, "6–11, 14") {
			t.Errorf("%s does not list the steps %s:\n%s", strings.Join(args, " "), fault.StepList(), out)
		}
	}
}

func TestFaultUsageErrors(t *testing.T) {
	t.Parallel()
	down := "http://127.0.0.1:" + freePort(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"fault", "set", "--step", "7"}, "needs a kind"},
		{[]string{"fault", "set", "--kind", "reset"}, "needs a step"},
		{[]string{"fault", "set", "--step", "13", "--kind", "reset"}, "step 13 cannot carry a fault"},
		{[]string{"fault", "set", "--step", "7", "--kind", "status", "--status", "200"}, "not 200"},
		{[]string{"fault", "set", "--step", "7", "--kind", "error_code"}, "needs --error-code"},
		{[]string{"fault", "set", "--step", "7", "--kind", "error_code", "--error-code", "OOPS"}, "contract §5.1"},
		{[]string{"fault", "set", "--step", "7", "--kind", "delay", "--delay", "soon"}, "--delay"},
		{[]string{"fault", "set", "--step", "7", "--kind", "reset", "--party", "miniapp"}, "served by hostapp"},
		{[]string{"fault", "set", "--step", "7", "--kind", "reset", "--hostapp-url", down}, "no hostapp answers at " + down},
		{[]string{"fault", "set", "--step", "7", "--kind", "reset", "--hostapp-url", down}, "boxo-sim up"},
		{[]string{"fault", "list", "--platform-url", down, "--party", "platform"}, "no platform answers at " + down},
		{[]string{"fault", "list", "--party", "database"}, `--party "database"`},
		{[]string{"fault", "clear", "a", "b"}, "accepts at most 1 arg"},
		{[]string{"fault", "set", "--step", "7", "--kind", "status", "--status", "500", "--error-code", "INVALID_AUTH_CODE"},
			"--error-code does not belong to --kind status, which takes only --status"},
		{[]string{"fault", "set", "--step", "7", "--kind", "reset", "--delay", "1s", "--body", "truncated"},
			"--delay and --body do not belong to --kind reset, which takes none"},
		{[]string{"fault", "set", "--step", "9", "--kind", "missing_field", "--field", "user_data..email"}, "without empty segments"},
		{[]string{"fault", "set", "--party", "hostapp", "--endpoint", "/nope", "--kind", "reset"}, "does not serve it"},
		{[]string{"fault", "set", "--step", "11", "--kind", "reset", "--miniapp-url", down}, "no miniapp answers at " + down},
		{[]string{"clock", "advance", "-5m", "3m"}, "give the duration"},
		{[]string{"clock", "advance"}, "give the duration"},
		{[]string{"clock", "advance", "eleven"}, "not a duration"},
		{[]string{"clock", "set", "tomorrow"}, "RFC 3339"},
		{[]string{"clock", "show", "--party", "platform", "--platform-url", down}, "no platform answers at " + down},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			_, errOut, code := runCmd(t, t.Context(), nil, tc.args...)
			if code == 0 || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q; want non-zero and %q", code, errOut, tc.want)
			}
		})
	}
}
