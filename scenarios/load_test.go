package scenarios_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/fault"
	"github.com/boxo-sim/boxo-sim/scenarios"
)

func TestLoadRejectsMalformedFiles(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		body string
		line int
		want string
	}{
		{"unknown top-level key", "name: x\ncolour: red\nactions: [connect]\n", 2, `unknown key "colour" at the top level`},
		{"unknown key in a user", "name: x\nsetup:\n  users:\n    - username: dave\n      reference: u-1\n      nickname: d\nactions: [connect]\n", 6, `unknown key "nickname" in setup.users[0]`},
		{"unknown key in an action", "name: x\nactions:\n  - do: connect\n    usr: bob\n", 4, `unknown key "usr" in actions[0]`},
		{"unknown key in an expectation", "name: x\nactions:\n  - do: connect\n    expect:\n      fails: 7\n", 5, `unknown key "fails" in actions[0].expect`},
		{"unknown key in a fault", "name: x\nfaults:\n  - {step: 7, kind: status, status: 500, colour: red}\nactions: [connect]\n", 3, `unknown key "colour" in faults[0]`},
		{"unknown key in the dashboard", "name: x\nsetup:\n  dashboard:\n    hostapp: {prefix: Bearer}\nactions: [connect]\n", 4, `unknown key "prefix" in setup.dashboard.hostapp`},
		{"fault at a step that carries none", "name: x\nfaults:\n  - step: 13\n    kind: status\n    status: 500\nactions: [connect]\n", 3, "faults[0]: step 13 cannot carry a fault"},
		{"step served by another party", "name: x\nfaults:\n  - {party: miniapp, step: 7, kind: reset}\nactions: [connect]\n", 3, "step 7 is served by hostapp, not miniapp"},
		{"fails_at beyond step 16", "name: x\nactions: [connect]\nexpect:\n  fails_at: 17\n", 4, "fails_at 17: a flow step is 1 to 16"},
		{"fails_at as words", "name: x\nactions: [connect]\nexpect:\n  fails_at: seven\n", 4, `expect.fails_at: want a whole number, got "seven"`},
		{"trace step 0", "name: x\nactions:\n  - do: connect\n    expect:\n      trace: [{step: 0}]\n", 5, "trace[0].step 0"},
		{"unknown expected error code", "name: x\nactions: [connect]\nexpect:\n  fails_at: 7\n  error_code: INVALID_AUTHCODE\n", 5, `error_code "INVALID_AUTHCODE" is not a known code`},
		{"unknown fault error code", "name: x\nfaults:\n  - step: 7\n    kind: error_code\n    error_code: NOPE\nactions: [connect]\n", 5, `error_code "NOPE" is not a code of contract §5.1`},
		{"unknown fault kind", "name: x\nfaults:\n  - step: 7\n    kind: explode\nactions: [connect]\n", 4, `kind "explode"`},
		{"bad fault delay", "name: x\nfaults:\n  - step: 7\n    kind: delay\n    delay: 11 seconds\nactions: [connect]\n", 5, `faults[0].delay: duration "11 seconds"`},
		{"bad clock advance", "name: x\nactions:\n  - connect\n  - do: advance_clock\n    by: soon\n", 5, `actions[1].by: duration "soon"`},
		{"advance_clock without by", "name: x\nactions:\n  - connect\n  - advance_clock\n", 4, "advance_clock needs by"},
		{"negative call timeout", "name: x\nsetup:\n  call_timeout: -1s\nactions: [connect]\n", 3, "setup.call_timeout -1s"},
		{"unknown action", "name: x\nactions:\n  - connect\n  - dance\n", 4, `unknown action "dance"`},
		{"action as a number", "name: x\nactions:\n  - 7\n", 3, "want an action name"},
		{"unknown party", "name: x\nactions: [connect]\nexpect:\n  fails_at: 7\n  party: browser\n", 5, `party "browser"`},
		{"actions not a list", "name: x\nactions: connect\n", 2, "actions: want a list"},
		{"no actions", "name: x\ndescription: nothing happens\n", 1, "actions is missing"},
		{"no name", "actions: [connect]\n", 1, "name is missing"},
		{"name not matching the file", "name: other-name\nactions: [connect]\n", 1, `name "other-name" differs from the file name "x"`},
		{"name with capitals", "name: Connect New\nactions: [connect]\n", 1, "use lower-case words"},
		{"connect_again first", "name: x\nactions: [connect_again]\n", 2, "connect_again repeats an earlier connect"},
		{"option the action does not take", "name: x\nactions:\n  - connect\n  - do: logout\n    password: p\n", 5, "logout takes no password"},
		{"connect_again with a user", "name: x\nactions:\n  - connect\n  - do: connect_again\n    user: bob\n", 5, "connect_again takes no user"},
		{"connect_again with a payload", "name: x\nactions:\n  - connect\n  - do: connect_again\n    payload: p\n", 5, "connect_again takes no payload"},
		{"refresh with the legacy login", "name: x\nactions:\n  - connect\n  - do: refresh\n    legacy_login: true\n", 5, "refresh takes no legacy_login"},
		{"saved_token of a logout", "name: x\nactions:\n  - connect\n  - do: logout\n    expect: {saved_token: true}\n", 5, "saved_token cannot be expected of logout"},
		{"unknown key in a consent link", "name: x\nsetup:\n  dashboard:\n    miniapp:\n      consent_links: [{title: T, href: x}]\nactions: [connect]\n", 5, `unknown key "href"`},
		{"expectation the action cannot have", "name: x\nactions:\n  - do: advance_clock\n    by: 1m\n    expect: {fails_at: 7}\n", 5, "fails_at cannot be expected of advance_clock"},
		{"succeeds and fails_at", "name: x\nactions: [connect]\nexpect:\n  succeeds: true\n  fails_at: 7\n", 4, "succeeds: true contradicts"},
		{"created with a failure", "name: x\nactions: [connect]\nexpect: {fails_at: 7, miniapp_user: created}\n", 3, "miniapp_user created needs a flow that succeeds"},
		{"empty expectation", "name: x\nactions: [connect]\nexpect: {}\n", 3, "expect says nothing"},
		{"expect twice", "name: x\nactions:\n  - do: connect\n    expect: {succeeds: true}\nexpect: {succeeds: true}\n", 5, "expect is given both here and on the last action (line 3)"},
		{"unknown user", "name: x\nactions:\n  - do: connect\n    user: zed\n", 4, `user "zed" is neither a demo user`},
		{"consent maybe", "name: x\nactions:\n  - do: connect\n    consent: maybe\n", 4, `consent "maybe": use allow or deny`},
		{"bad required field", "name: x\nsetup:\n  dashboard:\n    miniapp: {required_fields: [email, shoe_size]}\nactions: [connect]\n", 4, `required_fields[1] "shoe_size"`},
		{"bad allowlist", "name: x\nsetup:\n  hostapp: {ip_allowlist: [everyone]}\nactions: [connect]\n", 3, `ip_allowlist[0] "everyone"`},
		{"prefix with a space", "name: x\nsetup:\n  hostapp: {token_prefix: \"My Token\"}\nactions: [connect]\n", 3, "one word without spaces"},
		{"stub at a step with no stub", "name: x\nsetup:\n  stubs: [{step: 8, json: {}}]\nactions: [connect]\n", 3, "setup.stubs[0].step 8"},
		{"bool as yes", "name: x\nsetup:\n  dashboard:\n    partnership: {connect_enabled: yes}\nactions: [connect]\n", 4, "want true or false"},
		{"alias", "name: x\nsetup:\n  users:\n    - &u {username: dave, reference: u-1}\n    - *u\nactions: [connect]\n", 5, "aliases (*u) are not supported"},
		{"duplicate key", "name: x\nname: y\nactions: [connect]\n", 2, `mapping key "name" already defined`},
		{"syntax error", "name: x\nactions:\n\t- connect\n", 3, "found character that cannot start any token"},
		{"two documents", "name: x\nactions: [connect]\n---\nname: y\n", 3, "a second YAML document"},
		{"a list, not a mapping", "- connect\n", 1, "a scenario is a mapping"},
		{"empty file", "\n\n", 0, "the file is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sc, err := scenarios.Parse("dir/x.yaml", []byte(tc.body))
			if err == nil {
				t.Fatalf("accepted:\n%s\nas %+v", tc.body, sc)
			}
			var le *scenarios.LoadError
			if !errors.As(err, &le) {
				t.Fatalf("error %T %v, want *LoadError", err, err)
			}
			for _, is := range le.Issues {
				if is.Line == tc.line && strings.Contains(is.Msg, tc.want) {
					prefix := "dir/x.yaml:"
					if tc.line == 0 {
						prefix = "dir/x.yaml: "
					}
					if !strings.HasPrefix(is.String(), prefix) {
						t.Errorf("issue %q does not start with the file name", is)
					}
					return
				}
			}
			t.Fatalf("issues:\n%v\nwant one at line %d containing %q", err, tc.line, tc.want)
		})
	}
}

func TestLoadReportsEveryIssueOfEveryFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a-one.yaml", "name: a-one\ncolour: red\nactions: [dance]\n")
	write("b-two.yaml", "name: b-two\nactions: [connect]\nexpect: {fails_at: 99}\n")
	write("c-fine.yaml", "name: c-fine\nactions: [connect]\n")
	write("notes.txt", "not a scenario")
	_, err := scenarios.Load(dir)
	var le *scenarios.LoadError
	if !errors.As(err, &le) {
		t.Fatalf("Load = %v, want a *LoadError", err)
	}
	text := err.Error()
	for _, want := range []string{"a-one.yaml:2: unknown key \"colour\"", "b-two.yaml:3: expect.fails_at 99"} {
		if !strings.Contains(text, want) {
			t.Errorf("error does not contain %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "c-fine") || strings.Contains(text, "notes.txt") {
		t.Errorf("error names a file without issues:\n%s", text)
	}
	scs, err := scenarios.Load(filepath.Join(dir, "c-fine.yaml"))
	if err != nil || len(scs) != 1 || scs[0].Name != "c-fine" {
		t.Fatalf("Load of a good file = %v, %v", scs, err)
	}
}

// TestParseReportsEveryProblemInOnePass: unknown keys, a bad step, a bad code, an unknown
// action and a bad expectation of one file all come out of one Parse, in line order.
func TestParseReportsEveryProblemInOnePass(t *testing.T) {
	t.Parallel()
	body := `name: x
colour: red
faults:
  - {step: 13, kind: reset}
  - {step: 7, kind: error_code, error_code: NOPE, shade: blue}
actions:
  - do: connect
    usr: bob
  - dance
  - do: connect
    expect:
      fails_at: 99
      party: browser
      fails: 7
`
	_, err := scenarios.Parse("x.yaml", []byte(body))
	var le *scenarios.LoadError
	if !errors.As(err, &le) {
		t.Fatalf("Parse = %v, want a *LoadError", err)
	}
	want := []struct {
		line int
		msg  string
	}{
		{2, `unknown key "colour"`},
		{4, "step 13 cannot carry a fault"},
		{5, `unknown key "shade" in faults[1]`},
		{8, `unknown key "usr" in actions[0]`},
		{9, `unknown action "dance"`},
		{12, "fails_at 99"},
		{13, `party "browser"`},
		{14, `unknown key "fails" in actions[2].expect`},
	}
	for _, w := range want {
		found := false
		for _, is := range le.Issues {
			found = found || (is.Line == w.line && strings.Contains(is.Msg, w.msg))
		}
		if !found {
			t.Errorf("no issue %q at line %d:\n%s", w.msg, w.line, err)
		}
	}
	if !slices.IsSortedFunc(le.Issues, func(a, b scenarios.Issue) int { return a.Line - b.Line }) {
		t.Errorf("issues are not in line order:\n%s", err)
	}
}

func TestLoadRejectsDuplicateNamesAndMissingPaths(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, sub := range []string{"one", "two"} {
		os.MkdirAll(filepath.Join(dir, sub), 0o755)
		os.WriteFile(filepath.Join(dir, sub, "dup-name.yaml"), []byte("name: dup-name\nactions: [connect]\n"), 0o644)
	}
	if _, err := scenarios.Load(dir); err == nil || !strings.Contains(err.Error(), `name "dup-name" is also the name of`) {
		t.Errorf("Load with a duplicate name = %v", err)
	}
	if _, err := scenarios.Load(filepath.Join(dir, "nope")); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("Load of a missing path = %v", err)
	}
	if _, err := scenarios.Load(); err == nil {
		t.Error("Load of nothing succeeded")
	}
	empty := t.TempDir()
	if _, err := scenarios.Load(empty); err == nil || !strings.Contains(err.Error(), "no *.yaml") {
		t.Errorf("Load of an empty directory = %v", err)
	}
}

// TestLoadKeepsWhatTheFileSays checks the decoded values, the defaults the loader fills in and
// the lines it records.
func TestLoadKeepsWhatTheFileSays(t *testing.T) {
	t.Parallel()
	body := `name: x
setup:
  call_timeout: 500ms
  users:
    - {username: dave, reference: u-1, email: d@example.com, custom_attributes: {tier: gold, n: 2}}
  dashboard:
    hostapp: {refresh_token_url: "", token_prefix: Bearer}
faults:
  - {step: 7, kind: delay, delay: 11s, nth: 2}
  - {party: hostapp, endpoint: /boxo/connect/refresh-token, kind: malformed}
actions:
  - connect
  - do: advance_clock
    by: 1h30m
  - do: connect
    user: dave
    consent: deny
expect: {fails_at: 4, error_code: USER_DENIED, party: sdk}
`
	sc, err := scenarios.Parse("x.yaml", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if d := sc.Setup.CallTimeout; d != fault.Duration(500e6) {
		t.Errorf("call_timeout = %v", d)
	}
	if h := sc.Setup.Dashboard.Hostapp; h == nil || h.RefreshTokenURL == nil || *h.RefreshTokenURL != "" || *h.TokenPrefix != "Bearer" || h.ConnectEnabled != nil {
		t.Errorf("dashboard.hostapp = %+v", h)
	}
	if u := sc.Setup.Users[0]; u.CustomAttributes["tier"] != "gold" || u.CustomAttributes["n"] != 2 {
		t.Errorf("custom_attributes = %v", u.CustomAttributes)
	}
	if f := sc.Faults[0]; f.Party != contract.PartyHostapp || f.Delay != fault.Duration(11e9) || f.Nth != 2 {
		t.Errorf("faults[0] = %+v: party must come from the step", f)
	}
	if f := sc.Faults[1]; f.Body != "non-json" {
		t.Errorf("faults[1].body = %q, want the default non-json", f.Body)
	}
	got := []string{}
	for _, a := range sc.Actions {
		got = append(got, a.Do)
	}
	if !slices.Equal(got, []string{"connect", "advance_clock", "connect"}) {
		t.Errorf("actions = %v", got)
	}
	if a := sc.Actions[0]; a.Line != 12 {
		t.Errorf("actions[0].line = %d, want 12", a.Line)
	}
	if a := sc.Actions[1]; a.Line != 13 || a.By != fault.Duration(90*60e9) {
		t.Errorf("actions[1] = %+v", a)
	}
	last := sc.Actions[2]
	if last.Expect == nil || last.Expect.FailsAt != 4 || last.Expect.Line != 18 || last.Consent != "deny" {
		t.Errorf("the top-level expect did not become the last action's: %+v %+v", last, last.Expect)
	}
}

func TestLibraryFilesAreWellFormed(t *testing.T) {
	t.Parallel()
	scs, err := scenarios.Load("library")
	if err != nil {
		t.Fatal(err)
	}
	areas := map[string]int{}
	for _, sc := range scs {
		if sc.Description == "" {
			t.Errorf("%s has no description", sc.File)
		}
		area, _, _ := strings.Cut(sc.Name, "-")
		areas[area]++
	}
	if len(scs) < 40 {
		t.Errorf("the library has %d scenarios", len(scs))
	}
	t.Logf("%d scenarios in areas %v", len(scs), areas)
}

// TestLibraryHoldsAgainstARunningUp checks that library scenarios which expect the miniapp to
// create a user, or to hold none, use setup users: against a long-running up the runner gives
// those fresh references each run, while the demo users' miniapp accounts persist.
func TestLibraryHoldsAgainstARunningUp(t *testing.T) {
	t.Parallel()
	scs, err := scenarios.Load("library")
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range scs {
		setup := map[string]bool{}
		for _, u := range sc.Setup.Users {
			setup[u.Username] = true
		}
		user := "carol"
		for _, a := range sc.Actions {
			if a.User != "" {
				user = a.User
			}
			if a.Expect != nil && (a.Expect.MiniappUser == "created" || a.Expect.MiniappUser == "none") && !setup[user] {
				t.Errorf("%s:%d expects miniapp_user %s of the demo user %s: define a user in setup", sc.File, a.Expect.Line, a.Expect.MiniappUser, user)
			}
		}
	}
}

// onlyInjected lists the codes no behaviour of the simulator produces yet, so a library
// scenario can only inject them with a fault or a stub. Each entry says what would produce
// it; delete the entry when that lands, and TestLibraryCoversEveryErrorCode then demands a
// scenario that produces the code.
var onlyInjected = map[string]string{}

// TestLibraryCoversEveryErrorCode checks that for each code of contract §5.1 and each of the
// SDK's own some scenario expects it (as the code a flow stops with, or a step of its trace),
// and that some scenario produces it through the behaviour the code names: a scenario whose
// faults and stubs put the code on the wire itself only injects it.
func TestLibraryCoversEveryErrorCode(t *testing.T) {
	t.Parallel()
	scs, err := scenarios.Load("library")
	if err != nil {
		t.Fatal(err)
	}
	seen, produced := map[string][]string{}, map[string][]string{}
	for _, sc := range scs {
		var expected []string
		for _, a := range sc.Actions {
			if a.Expect == nil {
				continue
			}
			if c := a.Expect.ErrorCode; c != "" {
				expected = append(expected, c)
			}
			for _, tr := range a.Expect.Trace {
				if tr.ErrorCode != "" {
					expected = append(expected, tr.ErrorCode)
				}
			}
		}
		for _, c := range expected {
			seen[c] = append(seen[c], sc.Name)
			if !injects(sc, c) {
				produced[c] = append(produced[c], sc.Name)
			}
		}
	}
	for _, c := range slices.Concat(contract.Codes, scenarios.SDKCodes) {
		_, allowed := onlyInjected[c]
		switch {
		case len(seen[c]) == 0:
			t.Errorf("no library scenario expects %s", c)
		case len(produced[c]) == 0 && !allowed:
			t.Errorf("%s is only injected (by faults or stubs in %s): add a scenario where the behaviour it names produces it, or list it in onlyInjected with what would", c, strings.Join(seen[c], ", "))
		case len(produced[c]) > 0 && allowed:
			t.Errorf("%s is produced by %s: delete it from onlyInjected", c, strings.Join(produced[c], ", "))
		}
	}
}

// injects reports whether a scenario puts code on the wire itself: a fault that answers it, or
// a stub whose answer carries it.
func injects(sc *scenarios.Scenario, code string) bool {
	for _, f := range sc.Faults {
		if f.ErrorCode == code || strings.Contains(f.Body, code) {
			return true
		}
	}
	for _, st := range sc.Setup.Stubs {
		if st.JSON["error_code"] == code || strings.Contains(st.Text, code) {
			return true
		}
	}
	return false
}

func TestTemplateIsAValidScenario(t *testing.T) {
	t.Parallel()
	sc, err := scenarios.Parse("dir/auth-my-case.yaml", scenarios.Template("auth-my-case"))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Name != "auth-my-case" || len(sc.Actions) != 1 {
		t.Fatalf("template = %+v", sc)
	}
	for _, bad := range []string{"Auth Case", "", "a/b", "../x"} {
		if scenarios.ValidName(bad) == nil {
			t.Errorf("ValidName(%q) = nil", bad)
		}
	}
}

// FuzzLoad feeds the loader arbitrary YAML; the seeds are the library's files, so a plain go
// test run checks them. The loader must never panic, and must either return a scenario that
// holds together or issues that each name the file.
func FuzzLoad(f *testing.F) {
	files, err := filepath.Glob("library/*.yaml")
	if err != nil || len(files) == 0 {
		f.Fatalf("no library files: %v", err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := scenarios.Parse("fuzz", data)
		if err != nil {
			var le *scenarios.LoadError
			if !errors.As(err, &le) || len(le.Issues) == 0 {
				t.Fatalf("error %T %v, want a *LoadError with issues", err, err)
			}
			for _, is := range le.Issues {
				if is.File != "fuzz" || is.Msg == "" || is.Line < 0 {
					t.Fatalf("issue %+v does not say where and what", is)
				}
			}
			return
		}
		if sc.Name == "" || len(sc.Actions) == 0 {
			t.Fatalf("accepted a scenario without name or actions: %+v", sc)
		}
		for _, a := range sc.Actions {
			if !slices.Contains(scenarios.ActionNames, a.Do) {
				t.Fatalf("accepted unknown action %q", a.Do)
			}
			if a.Expect != nil && a.Expect.ErrorCode != "" && !scenarios.KnownCode(a.Expect.ErrorCode) {
				t.Fatalf("accepted unknown code %q", a.Expect.ErrorCode)
			}
		}
		for _, ft := range sc.Faults {
			if err := ft.Validate(); err != nil {
				t.Fatalf("accepted fault %+v: %v", ft, err)
			}
		}
	})
}

// TestOldCodeNamesWarn: an earlier boxo-sim code name still loads for one release, with a
// warning that names Boxo's code; the fault carries the new code and the expectation matches
// the code the parties now answer.
func TestOldCodeNamesWarn(t *testing.T) {
	t.Parallel()
	sc, err := scenarios.Parse("x.yaml", []byte("name: x\nfaults:\n  - {step: 7, kind: error_code, error_code: INVALID_CREDENTIALS}\nactions: [connect]\n"+
		"expect: {fails_at: 5, error_code: CONNECT_NOT_ENABLED, party: platform}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Warnings) != 2 {
		t.Fatalf("warnings = %v, want two", sc.Warnings)
	}
	for i, want := range []string{"x.yaml:3: faults[0].error_code: error code INVALID_CREDENTIALS is deprecated: Boxo's code is ACCESS_DENIED",
		"x.yaml:5: expect.error_code: error code CONNECT_NOT_ENABLED is deprecated: Boxo's code is FEATURE_DISABLED_IN_HOSTAPP or FEATURE_DISABLED_IN_INTEGRATION"} {
		if got := sc.Warnings[i].String(); !strings.HasPrefix(got, want) {
			t.Errorf("warning %d = %q, want prefix %q", i, got, want)
		}
	}
	if sc.Faults[0].ErrorCode != contract.CodeAccessDenied {
		t.Errorf("fault error_code = %s, want %s", sc.Faults[0].ErrorCode, contract.CodeAccessDenied)
	}
	if !scenarios.CodeMatches("CONNECT_NOT_ENABLED", contract.CodeFeatureDisabledInIntegration) || scenarios.CodeMatches("CONNECT_NOT_ENABLED", contract.CodeAccessDenied) {
		t.Error("CodeMatches does not map the old name to its replacements alone")
	}
	lib, err := scenarios.Load("library")
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range lib {
		for _, w := range sc.Warnings {
			t.Errorf("library scenario %s: %s", sc.Name, w)
		}
	}
}
