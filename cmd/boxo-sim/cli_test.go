package main

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestUpJSONBanner: up --json prints its banner as one JSON line on stdout, and nothing
// else there, with --demo's flow in it; the parties it names serve.
func TestUpJSONBanner(t *testing.T) {
	t.Parallel()
	up := startUp(t, append([]string{"--json", "--demo", "--ephemeral"}, allPorts0...)...)
	line := up.out.String()
	if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") {
		t.Fatalf("stdout is not one line:\n%s", line)
	}
	var b upBanner
	if err := json.Unmarshal([]byte(line), &b); err != nil {
		t.Fatalf("the banner is not JSON: %v\n%s", err, line)
	}
	if !b.Ephemeral || b.StateFile == "" || len(b.Parties) != 3 || b.Credentials.ClientID != "352131" || b.Credentials.HostappClientID != "hostapp-client-1" ||
		len(b.Credentials.Users) != 3 || b.Demo == nil || !b.Demo.OK || !strings.Contains(b.AdminToken, "…") {
		t.Fatalf("banner = %+v", b)
	}
	for p, s := range b.Parties {
		resp, err := http.Get(s.URL + "/healthz")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s at %s: %v", p, s.URL, err)
		}
		resp.Body.Close()
	}
	if err := up.stop(); err != nil {
		t.Fatalf("up after Ctrl-C: %v", err)
	}
	if up.out.String() != line {
		t.Errorf("up printed more on stdout after its banner:\n%s", up.out.String())
	}
}

// TestRenamedFlagsStillWork: each earlier spelling of a renamed flag sets the new flag's
// value for one more release, with a notice on stderr, and is gone from the help.
func TestRenamedFlagsStillWork(t *testing.T) {
	t.Parallel()
	sameOutput := [][2][]string{
		{{"sign", "--secret", "s3", "--timestamp", "1893488400", "--nonce", "00ff", "http://h/x"},
			{"sign", "--signing-secret", "s3", "--timestamp", "1893488400", "--nonce", "00ff", "http://h/x"}},
		{{"userdata", "encrypt", "--key", vectorKey, "--iv", vectorIV, vectorPlain},
			{"userdata", "encrypt", "--user-data-key", vectorKey, "--iv", vectorIV, vectorPlain}},
	}
	for _, c := range sameOutput {
		oldOut, oldErr, oldCode := runCmd(t, t.Context(), nil, c[0]...)
		newOut, newErr, newCode := runCmd(t, t.Context(), nil, c[1]...)
		if oldCode != 0 || newCode != 0 || oldOut != newOut || newErr != "" {
			t.Errorf("%v: exit %d, stdout %q; %v: exit %d, stdout %q, stderr %q", c[0], oldCode, oldOut, c[1], newCode, newOut, newErr)
		}
		if !strings.Contains(oldErr, "has been deprecated, use --") {
			t.Errorf("%v: no deprecation notice on stderr: %q", c[0], oldErr)
		}
	}
	// The old spelling counts as the new flag given: only what is really missing is named.
	accepted := []struct {
		args       []string
		old, wants string
	}{
		{[]string{"check", "miniapp", "--url", "http://h/a", "--secret", "s"}, "--url", "missing --app-id (see"},
		{[]string{"check", "hostapp", "--access-token-url", "http://h/t", "--user-data-url", "http://h/u", "--hostapp-client-id", "c",
			"--secret", "s", "--prefix", "Bearer", "--boxo-client-id", "352131"}, "--prefix", "missing --auth-code-cmd or --auth-code-url"},
		{[]string{"check", "signing", "--url", "http://h/a", "--timeout", "1s"}, "--timeout", "missing --signing-secret (see"},
		{[]string{"fault", "set", "--step", "7", "--kind", "error_code", "--seed", "7"}, "--seed", "error_code needs --error-code"},
	}
	for _, c := range accepted {
		_, errOut, code := runCmd(t, t.Context(), nil, c.args...)
		if code != exitUsage || !strings.Contains(errOut, c.wants) || !strings.Contains(errOut, "Flag "+c.old+" has been deprecated") {
			t.Errorf("%v: exit %d, stderr %q; want %d, %q and a notice for %s", c.args, code, errOut, exitUsage, c.wants, c.old)
		}
	}
	// --client-id of check hostapp changed meaning: the old use is refused with the fix.
	_, errOut, code := runCmd(t, t.Context(), nil, "check", "hostapp", "--access-token-url", "http://h/t", "--user-data-url", "http://h/u",
		"--client-id", "hostapp-client-1", "--hostapp-secret", "s", "--auth-code-cmd", "echo x")
	if code != exitUsage || !strings.Contains(errOut, "missing --hostapp-client-id: --client-id is the host app's client_id at Boxo now") {
		t.Errorf("check hostapp --client-id alone: exit %d, stderr %q", code, errOut)
	}
	// -v is --verbose; at the root it still prints the version, with a notice.
	out, errOut, code := runCmd(t, t.Context(), nil, "-v")
	if code != 0 || !strings.Contains(out, "boxo-sim version") || !strings.Contains(errOut, "-v has been deprecated, use --version") {
		t.Errorf("-v: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	for _, args := range [][]string{{"check", "hostapp", "--help"}, {"check", "miniapp", "--help"}, {"sign", "--help"}, {"userdata", "encrypt", "--help"}, {"fault", "set", "--help"}, {"--help"}} {
		out, _, _ := runCmd(t, t.Context(), nil, args...)
		for _, old := range []string{"--secret ", "--prefix ", "--boxo-client-id", "--url ", "--timeout ", "--key ", "--seed ", "-v, --version"} {
			if strings.Contains(out, old) {
				t.Errorf("%v shows the old spelling %q:\n%s", args, old, out)
			}
		}
	}
}

// reportsNothing are the commands without --json, each with the reason: their output is
// not a report. Commands with subcommands (groups: they print their help) and help topics
// need no entry.
var reportsNothing = map[string]string{
	"boxo-sim contract":              "prints the contract's text, a document",
	"boxo-sim scenario schema":       "prints the JSON Schema, JSON already",
	"boxo-sim userdata key":          "prints the bare key, for a pipe or a variable",
	"boxo-sim userdata encrypt":      "prints the bare ciphertext, for a pipe",
	"boxo-sim userdata decrypt":      "prints the decrypted JSON text itself",
	"boxo-sim check auth-code":       "prints the bare auth code, for --auth-code-cmd",
	"boxo-sim completion bash":       "prints a shell script",
	"boxo-sim completion zsh":        "prints a shell script",
	"boxo-sim completion fish":       "prints a shell script",
	"boxo-sim completion powershell": "prints a shell script",
	"boxo-sim help":                  "prints help",
	"boxo-sim exec":                  "its output is CMD's own; exec adds one line on stderr",
}

// allCommands is every command of the tree, cobra's help and completion commands included.
func allCommands() []*cobra.Command {
	root := newRootCmd(&env{getenv: func(string) string { return "" }, stdout: io.Discard, stderr: io.Discard})
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	var all []*cobra.Command
	walkCommands(root, func(c *cobra.Command) {
		if !c.Hidden {
			all = append(all, c)
		}
	})
	return all
}

// TestEveryCommandExits2OnABadFlag walks the whole command tree, commands added later
// included: an unknown flag is a usage error everywhere.
func TestEveryCommandExits2OnABadFlag(t *testing.T) {
	t.Parallel()
	for _, c := range allCommands() {
		args := append(strings.Fields(c.CommandPath())[1:], "--no-such-flag")
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			_, errOut, code := runCmd(t, t.Context(), nil, args...)
			if code != exitUsage || !strings.Contains(errOut, "unknown flag: --no-such-flag") {
				t.Errorf("exit %d, stderr %q; want %d and the unknown flag", code, errOut, exitUsage)
			}
		})
	}
}

// TestEveryReportingCommandTakesJSON walks the command tree: every command that runs and
// reports something has a boolean --json.
func TestEveryReportingCommandTakesJSON(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, c := range allCommands() {
		path := c.CommandPath()
		seen[path] = true
		if !c.Runnable() || c.HasSubCommands() {
			continue // a help topic, or a group that prints its help
		}
		f := c.Flag("json")
		_, exempt := reportsNothing[path]
		switch {
		case exempt && f != nil:
			t.Errorf("%s has --json but is listed as reporting nothing", path)
		case !exempt && (f == nil || f.Value.Type() != "bool"):
			t.Errorf("%s reports but has no boolean --json (or list it in reportsNothing with the reason)", path)
		}
	}
	for path := range reportsNothing {
		if !seen[path] {
			t.Errorf("reportsNothing lists %q, which is not a command", path)
		}
	}
}

// TestCompletion asks for completions as a shell does, through cobra's __complete command.
func TestCompletion(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args      []string
		want, not []string // lines, or line prefixes ending in a tab
	}{
		{[]string{"fault", "set", "--step", ""}, []string{"7\thostapp /boxo/connect/access-token", "14\tminiapp /api/me"}, []string{"13\t"}},
		{[]string{"fault", "set", "--kind", ""}, []string{"error_code", "replay_code", "expire"}, nil},
		{[]string{"fault", "set", "--error-code", ""}, []string{"INVALID_AUTH_CODE\tInvalid auth code. Please try again.", "ORDER_NOT_FOUND"}, []string{"INVALID_CREDENTIALS"}},
		{[]string{"fault", "set", "--body", ""}, []string{"non-json", "truncated", "wrong-types"}, nil},
		{[]string{"clock", "show", "--party", ""}, []string{"hostapp", "platform", "miniapp"}, nil},
		{[]string{"up", "--only", "hostapp,"}, []string{"hostapp,platform", "hostapp,miniapp"}, []string{"hostapp,hostapp"}},
		{[]string{"connect", "--mode", ""}, []string{"oauth\t", "direct\t"}, nil},
		{[]string{"connect", "--user", ""}, []string{"alice\t", "bob\t", "carol\t"}, nil},
		{[]string{"check", "miniapp", "--plan", ""}, []string{"miniapp-v2", "miniapp-v1"}, []string{"hostapp-v2"}},
		{[]string{"config", "print", "--log-level", ""}, []string{"debug", "info", "warn", "error"}, nil},
		{[]string{"contract", ""}, []string{"5.1\t"}, nil},
	}
	for _, tc := range cases {
		out, errOut, code := runCmd(t, t.Context(), nil, append([]string{"__complete"}, tc.args...)...)
		if code != 0 {
			t.Errorf("__complete %q: exit %d, %s", tc.args, code, errOut)
			continue
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		has := func(w string) bool {
			return slices.ContainsFunc(lines, func(l string) bool { return l == w || (strings.HasSuffix(w, "\t") && strings.HasPrefix(l, w)) })
		}
		for _, w := range tc.want {
			if !has(w) {
				t.Errorf("__complete %q lacks %q:\n%s", tc.args, w, out)
			}
		}
		for _, n := range tc.not {
			if has(n) {
				t.Errorf("__complete %q offers %q:\n%s", tc.args, n, out)
			}
		}
	}
}

// TestHelpTopics: 'boxo-sim help TOPIC' prints each page; the root's help lists them and
// says what the exit statuses mean; the configuration page names every key.
func TestHelpTopics(t *testing.T) {
	t.Parallel()
	out, _, code := runCmd(t, t.Context(), nil, "--help")
	if code != 0 || !strings.Contains(out, exitHelp) || !strings.Contains(out, "Additional help topics:") {
		t.Fatalf("--help: exit %d\n%s", code, out)
	}
	pages := map[string][]string{
		"configuration":  {"BOXO_SIM_CONFIG", "config print"},
		"scenario-files": {"scenario lint", "scenario run", "scenarios/library", "--quiet"},
		"seed-files":     {"up --seed FILE", "export", "--with-secrets"},
		"exit-codes":     {exitHelp, "scenario lint 0 every file is well formed; 1 one is not"},
	}
	for _, s := range settings {
		pages["configuration"] = append(pages["configuration"], "\n  "+s.key+"  ("+s.env()+", --"+s.flag+"; ")
	}
	for topic, wants := range pages {
		if !strings.Contains(out, "boxo-sim "+topic) {
			t.Errorf("--help does not list the topic %s", topic)
		}
		page, errOut, code := runCmd(t, t.Context(), nil, "help", topic)
		if code != 0 || errOut != "" {
			t.Errorf("help %s: exit %d, stderr %q", topic, code, errOut)
		}
		for _, w := range wants {
			if !strings.Contains(page, w) {
				t.Errorf("help %s lacks %q:\n%s", topic, w, page)
			}
		}
	}
}
