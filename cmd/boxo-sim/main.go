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
	"syscall"

	"github.com/spf13/cobra"
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

// exitError ends the program with a code and no further message (it was already printed).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// env is what every command gets from the process, injected so tests can run the whole
// program with arguments and buffers.
type env struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
}

// run is the whole program. Errors are printed to stderr here; the returned error only
// carries the exit status.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e := &env{getenv: getenv, stdout: stdout, stderr: stderr}
	root := newRootCmd(e)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return nil
	}
	var ee exitError
	if errors.As(err, &ee) {
		return err
	}
	fmt.Fprintf(stderr, "boxo-sim: %v\n", err)
	return exitError{code: 1}
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
file (--config or BOXO_SIM_CONFIG), then defaults. See 'boxo-sim config print'.`,
		Example: `  boxo-sim up --demo          # start all three parties and run one flow
  boxo-sim connect --user bob # run the 16 steps for the demo user bob
  boxo-sim trace              # show the latest flow step by step`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.PersistentFlags().String("config", "", "YAML configuration file (also BOXO_SIM_CONFIG)")
	root.PersistentFlags().String("log-level", "info", "log level: debug, info, warn or error")
	root.PersistentFlags().String("log-format", "text", "log format: text or json")
	root.AddCommand(newUpCmd(e), newConnectCmd(e), newTraceCmd(e), newBenchCmd(e), newConfigCmd(e), newCheckCmd(e), newContractCmd(e), newFaultCmd(e), newClockCmd(e), newScenarioCmd(e), newUserdataCmd(e), newSignCmd(e), newExportCmd(e))
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w\nRun '%s --help' for usage", err, c.CommandPath())
	})
	return root
}

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
