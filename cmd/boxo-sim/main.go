// Command boxo-sim simulates every party of the Boxo Connect single sign-on flow on one
// machine: the host app, the Boxo platform, the miniapp and a fake native SDK that drives the
// 16 steps between them over real HTTP.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// version is set at build time (make build: -ldflags "-X main.version=...").
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(1)
	}
}

// The exit statuses of every command (exitHelp says them to the user).
const (
	// exitFailed: the thing the command tested failed (a flow, a check, a scenario, a
	// benchmark's flows), or the run was interrupted.
	exitFailed = 1
	// exitUsage: a usage or setup error (a bad flag, argument or configuration, a party or a
	// backend that cannot be reached): nothing was tested. Every error a command returns
	// without an exitError ends with it.
	exitUsage = 2
)

// exitHelp is what the exit statuses mean, for the root's --help and 'boxo-sim help exit-codes'.
const exitHelp = `Exit status, the same for every command:
  0  success
  1  the thing tested failed: a flow did not reach its last step, a check FAILed, a
     scenario failed, a benchmark flow failed, a ciphertext was refused; or the run was
     interrupted
  2  usage or setup error: an unknown command or flag, a bad flag value or argument, an
     invalid configuration, a party or backend that cannot be reached or refuses the
     request; nothing was tested`

// exitError ends the program with a code and no further message (it was already printed).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// usageError prints err as run does and ends the program with exitUsage. A command may also
// just return err: run treats every plain error as a usage or setup error.
func usageError(e *env, err error) error {
	fmt.Fprintf(e.stderr, "boxo-sim: %v\n", err)
	return exitError{code: exitUsage}
}

// failure prints err as run does and ends the program with exitFailed: what the command
// tested failed.
func failure(e *env, err error) error {
	fmt.Fprintf(e.stderr, "boxo-sim: %v\n", err)
	return exitError{code: exitFailed}
}

// env is what every command gets from the process, injected so tests can run the whole
// program with arguments and buffers.
type env struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
}

// run is the whole program. Errors are printed to stderr here; the returned error only
// carries the exit status: an exitError's, exitFailed for an interrupted run, and exitUsage
// for every other error (flag and argument errors, unknown commands, invalid configuration
// and whatever a command returns without an exitError).
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e := &env{getenv: getenv, stdout: stdout, stderr: stderr}
	root := newRootCmd(e)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	// pflag writes its notices (a deprecated flag) to the flag set's output, which cobra
	// copies to the command's standard output: they go to stderr instead, away from the
	// report and JSON on stdout.
	walkCommands(root, func(c *cobra.Command) { c.Flags().SetOutput(stderr) })
	if isCompletionRequest(args) {
		addCompletions(root)
	}
	err := root.ExecuteContext(ctx)
	if err == nil {
		return nil
	}
	var ee exitError
	if errors.As(err, &ee) {
		return err
	}
	fmt.Fprintf(stderr, "boxo-sim: %v\n", err)
	var f interface{ failed() bool }
	if errors.Is(err, context.Canceled) || errors.As(err, &f) && f.failed() {
		return exitError{code: exitFailed}
	}
	return exitError{code: exitUsage}
}

// walkCommands calls fn for c and every command below it.
func walkCommands(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, sub := range c.Commands() {
		walkCommands(sub, fn)
	}
}

func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "boxo-sim",
		Short: "Simulate every party of the Boxo Connect single sign-on flow on one machine",
		Long: `boxo-sim runs the host app, the Boxo platform and a miniapp as three HTTP servers,
each with its own SQLite database, plus a fake native SDK that drives the 16-step
Boxo Connect flow between them over real HTTP. Any simulated party can be replaced
by your real backend.

Configuration comes from flags, then BOXO_SIM_* environment variables, then a YAML
file (--config or BOXO_SIM_CONFIG), then defaults. See 'boxo-sim config print' and
'boxo-sim help configuration'.

Every command that reports something takes --json. -v is --verbose wherever a command has
it; the version is --version.

` + exitHelp + `
('boxo-sim help exit-codes').`,
		Example: `  boxo-sim up --demo          # start all three parties and run one flow
  boxo-sim connect --user bob # run the 16 steps for the demo user bob
  boxo-sim trace              # show the latest flow step by step`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       buildVersion(version, debug.ReadBuildInfo),
	}
	// -v was --version here and --verbose in trace and check: it is --verbose now, and at the
	// root still the version, with a notice, for one release.
	root.Flags().BoolP("version", "v", false, "print boxo-sim's version")
	_ = root.Flags().MarkShorthandDeprecated("version", "use --version (-v means --verbose in every command; -v for the version goes in the next release)")
	root.PersistentFlags().String("config", "", "YAML configuration file (also BOXO_SIM_CONFIG)")
	root.PersistentFlags().String("log-level", "info", "log level: debug, info, warn or error")
	root.PersistentFlags().String("log-format", "text", "log format: text or json")
	root.AddCommand(newUpCmd(e), newConnectCmd(e), newTraceCmd(e), newBenchCmd(e), newConfigCmd(e), newCheckCmd(e), newContractCmd(e), newFaultCmd(e), newClockCmd(e), newScenarioCmd(e), newUserdataCmd(e), newSignCmd(e), newExportCmd(e),
		newUsersCmd(e), newDashboardCmd(e), newClientsCmd(e), newSessionCmd(e), newExecCmd(e))
	root.AddCommand(newHelpTopics()...)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w\nRun '%s --help' for usage", err, c.CommandPath())
	})
	return root
}

// renamedFlag keeps old, an earlier spelling of the flag name in fs, working for one more
// release: hidden from help, it sets name's value (so name counts as given) and prints a
// deprecation notice on stderr.
func renamedFlag(fs *pflag.FlagSet, old, name string) {
	f := fs.Lookup(name)
	fs.AddFlag(&pflag.Flag{Name: old, Usage: f.Usage, Value: aliasValue{f.Value, fs, name}, DefValue: f.DefValue, NoOptDefVal: f.NoOptDefVal})
	_ = fs.MarkDeprecated(old, fmt.Sprintf("use --%s (--%s goes in the next release)", name, old))
}

// aliasValue is the value of a renamed flag's old spelling: setting it sets the new flag.
type aliasValue struct {
	pflag.Value
	fs   *pflag.FlagSet
	name string
}

func (a aliasValue) Set(v string) error { return a.fs.Set(a.name, v) }

// newLogger builds the root logger from the configuration; logs go to stderr.
func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel)) // validated by loadConfig
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
