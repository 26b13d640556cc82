package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/stack"
)

// Exit statuses of exec besides CMD's own, as docker run and the shells use them.
const (
	exitStackFailed = 125 // the stack could not start, or a party stopped serving
	exitCannotRun   = 126 // CMD was found but could not be run
	exitNotFound    = 127 // CMD was not found
)

// execReadyWait is how long exec waits for the parties to answer GET /healthz.
const execReadyWait = 10 * time.Second

// execStopWait is how long exec waits for CMD after asking it to stop because the stack
// failed, before it kills it.
const execStopWait = 10 * time.Second

// execVars documents the variables exec gives CMD, in the order --help lists them. Those
// named like a setting (BOXO_SIM_PLATFORM_URL is platform_url) are that setting, so the
// boxo-sim commands CMD runs find the stack.
var execVars = []struct{ name, what string }{
	{"BOXO_SIM_HOSTAPP_URL", "the host app (also the OIDC issuer), or the host backend the platform relays to"},
	{"BOXO_SIM_PLATFORM_URL", "the platform"},
	{"BOXO_SIM_MINIAPP_URL", "the miniapp, or the miniapp backend the platform relays to"},
	{"BOXO_SIM_CLIENT_ID", "the host app's client_id at the platform (the SDK's client id)"},
	{"BOXO_SIM_HOSTAPP_CLIENT_ID", "hostapp_client_id the platform sends to the host backend"},
	{"BOXO_SIM_HOSTAPP_SECRET", "hostapp_secret_key the platform sends to the host backend"},
	{"BOXO_SIM_TOKEN_PREFIX", "the access token prefix towards the host backend"},
	{"BOXO_SIM_MINIAPP_APP_ID", "the miniapp's app_id"},
	{"BOXO_SIM_MINIAPP_SECRET", "secret_key the platform sends to the miniapp backend"},
	{"BOXO_SIM_USER", "a demo host user started here (" + demo.DefaultUser + ")"},
	{"BOXO_SIM_PASSWORD", "that user's password"},
	{"BOXO_SIM_ADMIN_TOKEN", "the admin token for the parties' /_sim/ routes"},
	{"BOXO_SIM_DATA_DIR", "the data directory (its state.json says where the parties are)"},
}

func newExecCmd(e *env) *cobra.Command {
	var only []string
	var reset bool
	var vars strings.Builder
	for _, v := range execVars {
		fmt.Fprintf(&vars, "  %-27s %s\n", v.name, v.what)
	}
	c := &cobra.Command{
		Use:   "exec [flags] -- CMD [ARGS...]",
		Short: "Start the parties, run a command against them, stop them and exit with its status",
		Long: `Start the parties as 'boxo-sim up' does, wait until each answers GET /healthz, run CMD
with their URLs and credentials in its environment, stop the parties once CMD has ended,
and exit with CMD's exit status: the one-line CI integration for a test suite.

Unlike up, exec is ephemeral by default (its databases live in a temporary directory
removed at the end; --data-dir keeps them there instead) and listens on free ports
unless the port flags or settings name some. Every other setting of up applies, relay
mode included (--hostapp-url, --miniapp-url and their credentials).

CMD gets these environment variables; a variable of a party or credential the stack
does not have is left out:
` + vars.String() + `
They are the configuration's own names, so a boxo-sim that CMD runs acts on this stack;
the directory of this boxo-sim goes first on CMD's PATH, so that is this same binary even
where boxo-sim is not installed (./bin/boxo-sim after make build).

CMD's output goes straight to exec's; it reads exec's input when that is a pipe or a
file, not a terminal. SIGINT and SIGTERM are passed on to CMD (its process group, which
CMD runs in), and its processes still running when it ends are stopped too. exec prints
its own lines to stderr only.

Exit status: CMD's, or 128+N when a signal N ended it, as shells report it; 2 for a
usage error (no CMD, a wrong flag); 125 when the stack could not start or a party
stopped serving (the message says which); 126 when CMD could not be run, 127 when it
was not found.`,
		Example: `  boxo-sim exec -- npx jest                     # a Node suite reads process.env.BOXO_SIM_PLATFORM_URL
  boxo-sim exec -- pytest -q                    # a Python suite reads os.environ["BOXO_SIM_PLATFORM_URL"]
  boxo-sim exec -- go test ./e2e/...            # a Go suite reads os.Getenv("BOXO_SIM_PLATFORM_URL")
  boxo-sim exec -- sh -c 'curl -fsS "$BOXO_SIM_PLATFORM_URL/healthz"'
  boxo-sim exec -- sh -c 'boxo-sim fault set --step 7 --kind status --status 500 && npm test'
  boxo-sim exec --hostapp-url http://127.0.0.1:3000 --hostapp-secret "$SECRET" -- npm test`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError(e, fmt.Errorf("exec needs a command to run: boxo-sim exec [flags] -- CMD [ARGS...]\nRun '%s --help' for usage", cmd.CommandPath()))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExec(cmd, e, args, startOptions{command: "exec", only: only, reset: reset})
		},
	}
	// CMD's own flags are CMD's: flag parsing stops at the first argument, with or without --.
	c.Flags().SetInterspersed(false)
	addServeFlags(c)
	for _, p := range []string{"hostapp-port", "platform-port", "miniapp-port"} {
		f := c.Flags().Lookup(p)
		_ = f.Value.Set("0")
		f.DefValue = "0"
	}
	c.Flags().Lookup("ephemeral").Usage = "keep the databases in a temporary directory removed at the end (the default, unless --data-dir is given)"
	dd := c.Flags().Lookup("data-dir")
	_ = dd.Value.Set("")
	dd.DefValue, dd.Usage = "", "keep hostapp.db, platform.db and miniapp.db in this directory (default: a temporary one, removed at the end)"
	c.Flags().StringSliceVar(&only, "only", nil, "start only these parties (hostapp, platform, miniapp), comma-separated")
	c.Flags().BoolVar(&reset, "reset", false, "delete the databases in --data-dir first and start with fresh demo data")
	c.Flags().String("platform-url", "", "URL of a platform not started here (with --only)")
	addRelayFlags(c)
	for _, f := range []string{"auth-code-cmd", "auth-code-url"} { // the fake SDK's, which exec does not run
		_ = c.Flags().MarkHidden(f)
	}
	c.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError(e, fmt.Errorf("%w\nRun '%s --help' for usage", err, cmd.CommandPath()))
	})
	return c
}

// execDefaults applies exec's own defaults where the configuration names nothing: free ports,
// and temporary storage unless a data directory is given.
func execDefaults(cfg *Config, src source) {
	for key, p := range map[string]*int{"hostapp_port": &cfg.HostappPort, "platform_port": &cfg.PlatformPort, "miniapp_port": &cfg.MiniappPort} {
		if sourceRank(src[key]) == 0 {
			*p = 0
		}
	}
	if sourceRank(src["ephemeral"]) == 0 && sourceRank(src["data_dir"]) == 0 {
		cfg.Ephemeral = true
	}
}

func runExec(cmd *cobra.Command, e *env, args []string, o startOptions) error {
	cfg, src, err := loadConfig(cmd.Flags(), e.getenv)
	if err != nil {
		return usageError(e, err)
	}
	execDefaults(&cfg, src)
	self, _ := os.Executable() // "" when unknown: PATH is left as it is
	path := execPath(os.Getenv("PATH"), self)
	found, err := lookCmd(args[0], path)
	if err != nil {
		found = args[0] // exec.Command looks it up on exec's own PATH and says if it is missing
	}
	child := exec.Command(found, args[1:]...)
	child.Args[0] = args[0]
	if child.Err != nil { // not found: say so before starting anything
		fmt.Fprintf(e.stderr, "boxo-sim exec: %s: command not found%s\n", args[0], map[bool]string{true: " in $PATH"}[!strings.Contains(args[0], "/")])
		return exitError{code: exitNotFound}
	}
	// Signals are taken from here on, so none is lost before CMD starts; one that came
	// earlier has cancelled cmd.Context().
	sigc := make(chan os.Signal, 4)
	signal.Notify(sigc, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigc)
	log := newLogger(cfg, e.stderr)
	// A signal goes to CMD, not to the stack: the stack serves until CMD has ended.
	st, err := startConfigured(context.WithoutCancel(cmd.Context()), e, cfg, src, log, o)
	if err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			return err
		}
		fmt.Fprintf(e.stderr, "boxo-sim exec: the stack could not start: %v\n", err)
		return exitError{code: exitStackFailed}
	}
	stackFailed := func(format string, a ...any) error {
		fmt.Fprintf(e.stderr, "boxo-sim exec: "+format+"\n", a...)
		if err := st.stop(); err != nil {
			fmt.Fprintf(e.stderr, "boxo-sim exec: stopping the stack: %v\n", err)
		}
		return exitError{code: exitStackFailed}
	}
	parties := st.State().Parties
	p, ready := waitReady(cmd.Context(), st.Started, parties, execReadyWait)
	if code, stopped := signalledBeforeStart(cmd.Context(), sigc); stopped {
		fmt.Fprintf(e.stderr, "boxo-sim exec: stopped by a signal before %s started\n", args[0])
		st.stop()
		return exitError{code: code}
	}
	if !ready {
		return stackFailed("the %s did not answer GET %s/healthz with 200 within %s", p, parties[p].URL, execReadyWait)
	}

	child.Env = execEnv(os.Environ(), st, cfg, path)
	child.Stdout, child.Stderr = e.stdout, e.stderr
	// CMD runs in a process group of its own, where reading the terminal would stop it: it
	// reads exec's standard input when that is a pipe or a file, else nothing (/dev/null).
	if fi, err := os.Stdin.Stat(); err == nil && fi.Mode()&os.ModeCharDevice == 0 {
		child.Stdin = os.Stdin
	}
	ownProcessGroup(child)
	child.WaitDelay = time.Second // a process CMD left behind may hold its output open
	fmt.Fprintf(e.stderr, "boxo-sim exec: %s; running %s\n", readyLine(parties), shellWords(args))
	if err := child.Start(); err != nil {
		code := exitCannotRun
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			code = exitNotFound
		}
		st.stop()
		fmt.Fprintf(e.stderr, "boxo-sim exec: %v\n", err)
		return exitError{code: code}
	}
	waited := make(chan struct{})
	go func() { _ = child.Wait(); close(waited) }()
	var stackErr error
	var kill <-chan time.Time
wait:
	for {
		select {
		case <-waited:
			break wait
		case sig := <-sigc:
			signalGroup(child, sig.(syscall.Signal))
		case err := <-st.Err():
			stackErr = err
			fmt.Fprintf(e.stderr, "boxo-sim exec: %v; stopping %s\n", err, args[0])
			signalGroup(child, syscall.SIGTERM)
			kill = time.After(execStopWait)
		case <-kill:
			signalGroup(child, syscall.SIGKILL)
		}
	}
	endGroup(child)
	status := exitStatus(child.ProcessState)
	closeErr := st.stop()
	switch {
	case stackErr != nil:
		fmt.Fprintf(e.stderr, "boxo-sim exec: the stack failed while %s ran (%s exited %d): %v\n", args[0], args[0], status, stackErr)
		return exitError{code: exitStackFailed}
	case closeErr != nil && status == 0:
		fmt.Fprintf(e.stderr, "boxo-sim exec: %s succeeded, but the stack did not stop cleanly: %v\n", args[0], closeErr)
		return exitError{code: exitStackFailed}
	case closeErr != nil:
		fmt.Fprintf(e.stderr, "boxo-sim exec: the stack did not stop cleanly: %v\n", closeErr)
	}
	if status != 0 {
		return exitError{code: status}
	}
	return nil
}

// signalledBeforeStart reports whether a signal came before CMD started, and the exit
// status that says so: 128+N for signal N, 130 (SIGINT's) when it came before sigc was
// registered and only ctx knows of it.
func signalledBeforeStart(ctx context.Context, sigc <-chan os.Signal) (int, bool) {
	select {
	case sig := <-sigc:
		return 128 + int(sig.(syscall.Signal)), true
	default:
	}
	if ctx.Err() != nil {
		return 128 + int(syscall.SIGINT), true
	}
	return 0, false
}

// shellWords prints args as a shell would take them back: words with spaces or quotes are
// single-quoted.
func shellWords(args []string) string {
	words := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"$\\*?;&|<>()`") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		words[i] = a
	}
	return strings.Join(words, " ")
}

// exitStatus is a finished process's status as shells report it: its exit code, or 128+N
// when signal N ended it.
func exitStatus(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// waitReady waits until every party started here answers GET /healthz with 200, and
// returns the first that did not in time.
func waitReady(ctx context.Context, started []string, parties map[string]stack.PartyState, within time.Duration) (string, bool) {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for _, p := range started {
		for !healthy(ctx, parties[p].URL) {
			select {
			case <-ctx.Done():
				return p, false
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return "", true
}

// readyLine names the parties and where they are, for exec's one line before CMD runs.
func readyLine(parties map[string]stack.PartyState) string {
	var parts []string
	for _, p := range stack.Parties {
		switch ps, ok := parties[p]; {
		case ps.Relayed:
			parts = append(parts, p+" "+ps.URL+" (relayed)")
		case ok:
			parts = append(parts, p+" "+ps.URL)
		}
	}
	return "parties ready: " + strings.Join(parts, ", ")
}

// execEnv is CMD's environment: exec's own, without any of the variables exec sets, plus
// those of this stack (execVars), with PATH set to path (execPath).
func execEnv(environ []string, st *configuredStack, cfg Config, path string) []string {
	var env []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if name != "PATH" && !isExecVar(name) {
			env = append(env, kv)
		}
	}
	if path != "" {
		env = append(env, "PATH="+path)
	}
	cr := credentialsOf(st.Stack, cfg)
	vals := map[string]string{
		"BOXO_SIM_CLIENT_ID": cr.ClientID, "BOXO_SIM_HOSTAPP_CLIENT_ID": cr.HostappClientID, "BOXO_SIM_HOSTAPP_SECRET": cr.HostappSecret,
		"BOXO_SIM_TOKEN_PREFIX": cr.TokenPrefix, "BOXO_SIM_MINIAPP_APP_ID": cr.AppID, "BOXO_SIM_MINIAPP_SECRET": cr.MiniappSecret,
		"BOXO_SIM_ADMIN_TOKEN": st.token, "BOXO_SIM_DATA_DIR": st.DataDir,
	}
	for p, ps := range st.State().Parties {
		vals["BOXO_SIM_"+strings.ToUpper(p)+"_URL"] = ps.URL
	}
	if contains(st.Started, stack.Hostapp) {
		u, _ := demo.FindUser(demo.DefaultUser)
		vals["BOXO_SIM_USER"], vals["BOXO_SIM_PASSWORD"] = u.Username, u.Password
	}
	for _, v := range execVars {
		if vals[v.name] != "" {
			env = append(env, v.name+"="+vals[v.name])
		}
	}
	return env
}

// execPath is CMD's PATH: the directory of self, the running boxo-sim, first, so a
// 'boxo-sim' that CMD runs is this same binary even when it is not installed (./bin/boxo-sim
// after make build), as npm puts node_modules/.bin first for its scripts.
func execPath(path, self string) string {
	if self == "" {
		return path
	}
	return strings.TrimSuffix(filepath.Dir(self)+string(os.PathListSeparator)+path, string(os.PathListSeparator))
}

// lookCmd finds CMD as the shell would on path (exec.LookPath reads exec's own PATH). Like
// exec.LookPath it takes no relative directory from path.
func lookCmd(name, path string) (string, error) {
	if strings.ContainsRune(name, os.PathSeparator) {
		return exec.LookPath(name)
	}
	for _, dir := range filepath.SplitList(path) {
		if filepath.IsAbs(dir) {
			if p, err := exec.LookPath(filepath.Join(dir, name)); err == nil {
				return p, nil
			}
		}
	}
	return "", exec.ErrNotFound
}

func isExecVar(name string) bool {
	for _, v := range execVars {
		if v.name == name {
			return true
		}
	}
	return false
}
