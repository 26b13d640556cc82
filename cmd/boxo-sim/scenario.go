package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/boxo-sim/boxo-sim/internal/stack"
	"github.com/boxo-sim/boxo-sim/scenarios"
)

func newScenarioCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "scenario",
		Short: "Run, check and write scenario files",
		Long: `A scenario is a YAML file that describes a situation (users, Dashboard and party
settings), the faults to inject, the actions (connect, connect_direct, connect_again,
refresh, logout, advance_clock, revoke_consent, delete_user, revoke_tokens,
remove_partnership, read_only_storage, request) and the expected outcome. The shipped library in
scenarios/library covers every error code and branch of the contract (boxo-sim contract).

Files are checked strictly: an unknown key, a bad step number, an unknown error code or a
bad duration is an error with its file and line. Editors can validate files with the JSON
Schema scenarios/scenario.schema.json ('boxo-sim scenario schema' prints it).`,
		Example: `  boxo-sim scenario run scenarios/library --junit report.xml
  boxo-sim scenario new connect-my-case
  boxo-sim scenario lint scenarios/library`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	c.AddCommand(newScenarioRunCmd(e), newScenarioNewCmd(e), newScenarioLintCmd(e), newScenarioSchemaCmd(e))
	return c
}

// rewriteRun turns a Go-test-style -run (and -run=RE) into --run: pflag has no multi-letter
// single-dash flags. Arguments after -- are left alone.
func rewriteRun(args []string) []string {
	out := make([]string, len(args))
	copy(out, args)
	for i, a := range out {
		if a == "--" {
			break
		}
		if a == "-run" || strings.HasPrefix(a, "-run=") {
			out[i] = "-" + a
		}
	}
	return out
}

func newScenarioRunCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "run FILE|DIR...",
		Short: "Run scenario files and report the results",
		Long: `Run scenario files, and every *.yaml below the directories given. All files are
checked before anything starts; a malformed one stops the run with its file, line and
reason.

By default each scenario runs on its own in-process stack (temporary storage, a fake clock,
a 10 s call timeout unless the scenario's setup.call_timeout says otherwise), --parallel at a
time. With --platform-url (and --hostapp-url, --miniapp-url) the scenarios run one after
another against a running 'boxo-sim up': faults are cleared before and after each, what the
setup changed is put back, and setup users get a fresh reference suffix each run.

Progress goes to stderr: on a terminal one live line, with a line kept for each scenario
that fails; elsewhere (a CI log) one line per scenario as it ends, with its verdict and
time. --quiet prints no progress. Each failure prints the expectation, what happened and
the flow trace of the failing step. --junit writes JUnit XML
that GitLab, GitHub and Jenkins render (one test case per scenario, named as the scenario);
--json prints the whole report as JSON instead of text.

Exit status: 0 when every scenario passed, 1 when one failed or the run was interrupted,
2 on a usage or setup error (a malformed file, a stack that does not answer): nothing ran.`,
		Example: `  boxo-sim scenario run scenarios/library
  boxo-sim scenario run scenarios/library --junit report.xml --parallel 8
  boxo-sim scenario run scenarios/library -run '^hostapp-' --fail-fast
  boxo-sim scenario run my-case.yaml --json | jq '.scenarios[] | select(.status != "passed")'
  boxo-sim scenario run scenarios/library --platform-url http://127.0.0.1:8082 \
      --hostapp-url http://127.0.0.1:8081 --miniapp-url http://127.0.0.1:8083`,
		// Flags are parsed in RunE, after -run is rewritten to --run.
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.InheritedFlags() // merges the root's persistent flags into cmd.Flags()
			if err := cmd.Flags().Parse(rewriteRun(args)); err != nil {
				return cmd.FlagErrorFunc()(cmd, err)
			}
			if help, _ := cmd.Flags().GetBool("help"); help {
				return cmd.Help()
			}
			return runScenarios(cmd, e, cmd.Flags().Args())
		},
	}
	f := c.Flags()
	f.Int("parallel", 0, "scenarios run at once in-process (default twice the CPUs); a run against up is sequential")
	f.String("junit", "", "write a JUnit XML report to this file")
	f.Bool("json", false, "print the report as JSON instead of text")
	f.Bool("fail-fast", false, "start no further scenario after the first failure")
	f.Bool("quiet", false, "print no progress on stderr, only the report")
	f.String("run", "", "run only the scenarios whose name matches this regular expression (-run works too)")
	f.String("platform-url", "", "URL of a running platform: run against 'boxo-sim up' instead of in-process")
	f.String("hostapp-url", "", "URL of the running host app (default: the local one)")
	f.String("miniapp-url", "", "URL of the running miniapp (default: the local one)")
	addAdminTokenFlag(f)
	f.BoolP("help", "h", false, "help for run")
	return c
}

func runScenarios(cmd *cobra.Command, e *env, paths []string) error {
	cfg, src, err := loadConfig(cmd.Flags(), e.getenv)
	if err != nil {
		return err
	}
	f := cmd.Flags()
	parallel, _ := f.GetInt("parallel")
	junit, _ := f.GetString("junit")
	asJSON, _ := f.GetBool("json")
	failFast, _ := f.GetBool("fail-fast")
	quiet, _ := f.GetBool("quiet")
	filter, _ := f.GetString("run")
	if len(paths) == 0 {
		return errors.New("name the scenario files or directories to run, e.g. 'boxo-sim scenario run scenarios/library'")
	}
	if parallel < 0 {
		return fmt.Errorf("--parallel %d: give a number of scenarios, 1 or more (0 for the default)", parallel)
	}
	var re *regexp.Regexp
	if filter != "" {
		if re, err = regexp.Compile(filter); err != nil {
			return fmt.Errorf("--run %q is not a regular expression: %v", filter, err)
		}
	}
	scs, err := scenarios.Load(paths...)
	if err != nil {
		return loadFailure(err)
	}
	printWarnings(e, scs)
	if re != nil {
		kept := scs[:0]
		for _, sc := range scs {
			if re.MatchString(sc.Name) {
				kept = append(kept, sc)
			}
		}
		if len(kept) == 0 {
			return fmt.Errorf("--run %q matches none of the %d scenarios given", filter, len(scs))
		}
		scs = kept
	}

	o := scenarios.Options{Parallel: parallel, FailFast: failFast}
	// The parties' own logs are quiet unless a log level was asked for.
	if src["log_level"] == "default" {
		o.Logger = slog.New(slog.DiscardHandler)
	} else {
		o.Logger = newLogger(cfg, e.stderr)
	}
	if cfg.PlatformURL != "" || f.Changed("data-dir") {
		// Against a running stack: the one of --platform-url, or of the up on --data-dir.
		found, err := findStack(cmd.Context(), cfg, src)
		if err != nil {
			return err
		}
		o.PlatformURL, o.HostURL, o.MiniappURL = found.url(stack.Platform), found.url(stack.Hostapp), found.url(stack.Miniapp)
		o.AdminToken = adminToken(cfg)
		for name, p := range map[string]string{"host app": stack.Hostapp, "miniapp": stack.Miniapp} {
			if found.parties[p].Relayed {
				return fmt.Errorf("the %s of the stack found through %s is a real backend (%s): scenarios set faults and users on simulated parties only", name, found.from, found.url(p))
			}
		}
		for name, u := range map[string]string{"platform": o.PlatformURL, "host app": o.HostURL, "miniapp": o.MiniappURL} {
			if !healthy(cmd.Context(), strings.TrimRight(u, "/")) {
				return fmt.Errorf("no %s answers at %s: start the parties with 'boxo-sim up', or give its URL", name, u)
			}
		}
		if !quiet {
			fmt.Fprintf(e.stderr, "Running %d %s one at a time against the platform at %s.\n", len(scs), scenarioPlural(len(scs), "scenario"), o.PlatformURL)
		}
	}
	progress := &scenarioProgress{w: e.stderr, live: isTerminal(e.stderr), total: len(scs)}
	if !quiet {
		o.OnDone = progress.done
	}

	rep := scenarios.Run(cmd.Context(), scs, o)
	progress.end()

	if junit != "" {
		var b bytes.Buffer
		if err := rep.WriteJUnit(&b); err != nil {
			return err
		}
		if err := os.WriteFile(junit, b.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write the JUnit report: %w", err)
		}
	}
	if asJSON {
		err = rep.WriteJSON(e.stdout)
	} else {
		err = rep.WriteText(e.stdout)
	}
	if err != nil {
		return err
	}
	if rep.Interrupted {
		return failure(e, fmt.Errorf("interrupted: %d %s not run to the end (reported as skipped); what the scenarios changed was put back",
			rep.Skipped, scenarioPlural(rep.Skipped, "scenario")))
	}
	if !rep.OK() {
		return exitError{code: exitFailed}
	}
	return nil
}

// loadFailure says which files are malformed, one issue a line.
func loadFailure(err error) error {
	var le *scenarios.LoadError
	if errors.As(err, &le) {
		n := len(le.Issues)
		return fmt.Errorf("%d %s in the scenario files; nothing was run:\n%s", n, scenarioPlural(n, "problem"), le.Error())
	}
	return err
}

func scenarioPlural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// scenarioProgress reports each scenario as it ends: on a terminal (live) one line rewritten
// in place, above which the scenarios that did not pass stay; elsewhere one line each.
type scenarioProgress struct {
	w                   io.Writer
	live                bool
	total, ended, fails int
}

func (p *scenarioProgress) done(r scenarios.Result) {
	p.ended++
	failed := r.Status == scenarios.Failed || r.Status == scenarios.Errored
	if failed {
		p.fails++
	}
	count := fmt.Sprintf("[%*d/%d]", len(strconv.Itoa(p.total)), p.ended, p.total)
	if !p.live {
		fmt.Fprintf(p.w, "%s %s\n", count, r.Line())
		return
	}
	fmt.Fprint(p.w, "\r\033[K") // back to the line's start, and clear it
	if failed {
		fmt.Fprintln(p.w, r.Line())
	}
	fmt.Fprintf(p.w, "%s %d failed, last: %s", count, p.fails, r.Line())
}

// end clears the live line before the report.
func (p *scenarioProgress) end() {
	if p.live && p.ended > 0 {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// isTerminal reports whether w is a terminal (a character device), where a live line helps.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func newScenarioNewCmd(e *env) *cobra.Command {
	var force, asJSON bool
	c := &cobra.Command{
		Use:   "new NAME",
		Short: "Write a commented scenario template",
		Long: `Write NAME.yaml, a commented scenario template that passes as it is: one flow for a
new host user, with every other section shown commented out. NAME is <area>-<case> in
lower case (the scenario's name); it may carry a directory, e.g.
scenarios/library/connect-my-case. An existing file is kept unless --force is given.`,
		Example: `  boxo-sim scenario new connect-my-case
  boxo-sim scenario new scenarios/library/hostapp-slow-user-data`,
		Args: scenarioExactArgs(1, "give the new scenario's name, e.g. 'boxo-sim scenario new connect-my-case'"),
		RunE: func(_ *cobra.Command, args []string) error {
			dir, name := filepath.Split(args[0])
			name = strings.TrimSuffix(strings.TrimSuffix(name, ".yaml"), ".yml")
			if err := scenarios.ValidName(name); err != nil {
				return err
			}
			path := filepath.Join(dir, name+".yaml")
			flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
			if force {
				flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
			}
			file, err := os.OpenFile(path, flags, 0o644)
			if errors.Is(err, os.ErrExist) {
				return fmt.Errorf("%s exists: choose another name, or give --force to overwrite it", path)
			}
			if err != nil {
				return err
			}
			if _, err := file.Write(scenarios.Template(name)); err != nil {
				file.Close()
				return err
			}
			if err := file.Close(); err != nil {
				return err
			}
			if asJSON {
				return printIndentedJSON(e.stdout, map[string]string{"file": path})
			}
			fmt.Fprintf(e.stdout, "Wrote %s. Edit it, then: boxo-sim scenario run %s\n", path, path)
			return nil
		},
	}
	c.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
	c.Flags().BoolVar(&asJSON, "json", false, `print {"file": PATH} as JSON`)
	return c
}

func newScenarioLintCmd(e *env) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "lint FILE|DIR...",
		Short: "Check scenario files without running them",
		Long: `Check scenario files, and every *.yaml below the directories given, as 'scenario run'
does before it starts anything: strict keys, value types, actions and their options,
fault kinds and steps, error codes, parties and durations. Each problem is printed with
its file and line. Exit status: 0 when every file is well formed, 1 when one is not, 2 on
a usage error (no file named, a path that does not exist).`,
		Example: `  boxo-sim scenario lint scenarios/library
  boxo-sim scenario lint my-case.yaml --json | jq -r '.problems[] | "\(.file):\(.line): \(.message)"'`,
		Args: scenarioMinArgs(1, "name the scenario files or directories to check, e.g. 'boxo-sim scenario lint scenarios/library'"),
		RunE: func(_ *cobra.Command, args []string) error {
			scs, err := scenarios.Load(args...)
			var le *scenarios.LoadError
			if err != nil && !errors.As(err, &le) {
				return err
			}
			if asJSON {
				return printLintJSON(e, scs, le)
			}
			if le != nil {
				return failure(e, loadFailure(err))
			}
			printWarnings(e, scs)
			fmt.Fprintf(e.stdout, "ok: %d scenario %s well formed\n", len(scs), scenarioPlural(len(scs), "file"))
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, `print {"ok", "scenarios", "problems", "warnings"} as JSON`)
	return c
}

// printLintJSON prints lint's verdict as JSON: the names of the well-formed scenarios, or the
// problems of the malformed files, and the warnings. A problem makes the exit status 1.
func printLintJSON(e *env, scs []*scenarios.Scenario, le *scenarios.LoadError) error {
	out := struct {
		OK        bool              `json:"ok"`
		Scenarios []string          `json:"scenarios"`
		Problems  []scenarios.Issue `json:"problems"`
		Warnings  []scenarios.Issue `json:"warnings"`
	}{OK: le == nil, Scenarios: []string{}, Problems: []scenarios.Issue{}, Warnings: []scenarios.Issue{}}
	if le != nil {
		out.Problems = le.Issues
	}
	for _, sc := range scs {
		out.Scenarios = append(out.Scenarios, sc.Name)
		out.Warnings = append(out.Warnings, sc.Warnings...)
	}
	if err := printIndentedJSON(e.stdout, out); err != nil {
		return err
	}
	if le != nil {
		return exitError{code: exitFailed}
	}
	return nil
}

// printWarnings prints what loading the scenarios found worth saying but not wrong, such as
// an earlier boxo-sim error code name, one "warning:" line each on standard error.
func printWarnings(e *env, scs []*scenarios.Scenario) {
	for _, sc := range scs {
		for _, w := range sc.Warnings {
			fmt.Fprintf(e.stderr, "warning: %s\n", w)
		}
	}
}

func newScenarioSchemaCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of scenario files",
		Long: `Print the JSON Schema (draft-07) of the scenario format, the same as the shipped
scenarios/scenario.schema.json. Point your editor's YAML support at it, or save it beside
your scenario files and start each with: # yaml-language-server: $schema=` + scenarios.SchemaFile,
		Example: `  boxo-sim scenario schema > scenario.schema.json`,
		Args:    cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			b, err := scenarios.Schema()
			if err != nil {
				return err
			}
			_, err = e.stdout.Write(b)
			return err
		},
	}
}

// scenarioExactArgs and scenarioMinArgs are cobra's checks with a message that says how to fix the call.
func scenarioExactArgs(n int, hint string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return fmt.Errorf("%d arguments given: %s", len(args), hint)
		}
		return nil
	}
}

func scenarioMinArgs(n int, hint string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) < n {
			return errors.New(hint)
		}
		return nil
	}
}
