package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/seed"
	"github.com/boxo-sim/boxo-sim/internal/stack"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

func addServeFlags(c *cobra.Command) {
	d := defaultConfig()
	c.Flags().String("bind", d.Bind, "address the parties listen on")
	c.Flags().Int("hostapp-port", d.HostappPort, "port of the host app (0: any free port)")
	c.Flags().Int("platform-port", d.PlatformPort, "port of the platform (0: any free port)")
	c.Flags().Int("miniapp-port", d.MiniappPort, "port of the miniapp (0: any free port)")
	c.Flags().String("data-dir", d.DataDir, "directory of hostapp.db, platform.db and miniapp.db")
	c.Flags().Bool("ephemeral", false, "keep the databases in a temporary directory removed on exit")
	c.Flags().Duration("call-timeout", d.CallTimeout, "how long the platform waits for the host app and the miniapp")
	c.Flags().String("cors-origins", "", "origins whose pages may call the parties from a browser, comma-separated (default: any origin)")
	c.Flags().Duration("body-timeout", d.BodyTimeout, "how long a request body may take to arrive before the connection is cut")
	c.Flags().Duration("shutdown-grace", d.ShutdownGrace, "how long to wait for requests in flight when stopping")
	c.Flags().Int("flow-log-max-flows", d.FlowLogMaxFlows, "the flow log keeps at most this many flows, the newest")
	c.Flags().Duration("flow-log-max-age", d.FlowLogMaxAge, "the flow log drops flows older than this")
	c.Flags().String("admin-token", "", "admin token for the parties' /_sim/ routes and console (default: a new one, kept in the data directory's state.json)")
	c.Flags().String("trusted-proxies", "", "proxies whose X-Forwarded-For the parties' IP filters believe, comma-separated CIDRs (contract §7.6)")
	c.Flags().String("user-data-key", "", "encrypt the user data between host app and miniapp with this key (contract §7.2; make one with 'boxo-sim userdata key')")
	c.Flags().Duration("auth-code-ttl", d.AuthCodeTTL, "lifetime of the host app's auth codes")
	c.Flags().Duration("connect-access-ttl", d.ConnectAccessTTL, "lifetime of the Connect access tokens the host app gives the platform")
	c.Flags().Duration("connect-refresh-ttl", d.ConnectRefreshTTL, "lifetime of the Connect refresh tokens the host app gives the platform")
	c.Flags().Duration("session-ttl", d.SessionTTL, "lifetime of a sign-in session at the host app")
	c.Flags().Duration("id-token-ttl", d.IDTokenTTL, "lifetime of the authorization server's ID tokens")
	c.Flags().Duration("access-token-ttl", d.AccessTokenTTL, "lifetime of the authorization server's access tokens")
	c.Flags().Duration("refresh-token-ttl", d.RefreshTokenTTL, "lifetime of the authorization server's refresh tokens")
	c.Flags().String("seed", "", "seed file to apply once the parties serve, before anything else runs: users, Dashboard records, settings, OAuth clients, faults ('boxo-sim export' writes one)")
}

func newUpCmd(e *env) *cobra.Command {
	var only []string
	var runDemo, reset, asJSON bool
	c := &cobra.Command{
		Use:   "up",
		Short: "Start the host app, the platform and the miniapp",
		Long: `Start the simulated parties, each on its own port with its own SQLite database
(hostapp.db, platform.db, miniapp.db in --data-dir), seed the demo host app, miniapp and
users on first start, print their URLs and demo credentials, and serve until Ctrl-C.
Every party answers GET /healthz.`,
		Example: `  boxo-sim up                              # all three on 8081, 8082, 8083
  boxo-sim up --demo                       # ... and run one full flow once ready
  boxo-sim up --ephemeral --platform-port 0  # temporary storage, any free platform port
  boxo-sim up --only miniapp --miniapp-port 9083`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, src, err := loadConfig(cmd.Flags(), e.getenv)
			if err != nil {
				return err
			}
			codes, err := authCodeSource(cfg.AuthCodeCmd, cfg.AuthCodeURL)
			if err != nil {
				return err
			}
			log := newLogger(cfg, e.stderr)
			ctx := cmd.Context()
			stopPprof, err := startPprof(cmd, e.stderr)
			if err != nil {
				return err
			}
			defer stopPprof()
			st, err := startConfigured(ctx, e, cfg, src, log, startOptions{command: "up", only: only, reset: reset})
			if err != nil {
				return err
			}
			defer st.stop()
			// With --json, stdout gets the banner as one JSON line and nothing else; the rest
			// goes to stderr or nowhere.
			text, notes, banner := e.stdout, e, newUpBanner(st.Stack, cfg, st.token, st.stateFile)
			if asJSON {
				text, notes = io.Discard, &env{getenv: e.getenv, stdout: e.stderr, stderr: e.stderr}
			}
			printUp(text, st.Stack, cfg)
			if cfg.Seed != "" {
				fmt.Fprintf(text, "\nSeed file %s applied.\n", cfg.Seed)
			}
			fmt.Fprintf(text, "\nAdmin token (for /_sim/ beyond loopback): %s, %s, kept in %s\n", contract.Mask(st.token), st.tokenFrom, st.stateFile)
			if runDemo {
				if !contains(st.Started, stack.Platform) || (!contains(st.Started, stack.Hostapp) && !st.Relayed(stack.Hostapp)) ||
					(!contains(st.Started, stack.Miniapp) && !st.Relayed(stack.Miniapp)) {
					return fmt.Errorf("--demo needs the platform started here and a host app and miniapp, started here or at --hostapp-url / --miniapp-url")
				}
				// The demo's session is saved where connect keeps its own, so 'boxo-sim session
				// refresh --user carol' and a later 'connect --user carol' find it.
				sdk, err := sdkstub.New(sdkstub.Config{PlatformURL: st.PlatformURL, HostURL: st.HostURL, Logger: log,
					AdminToken: st.token, TokenFile: filepath.Join(st.DataDir, sdkstub.TokenFileName)})
				if err != nil {
					return err
				}
				res, err := sdk.Connect(ctx, sdkstub.Options{AppID: st.AppID, AuthCode: sdkstub.AuthCodeFunc(codes), SkipMe: st.Relayed(stack.Miniapp)})
				sdk.CloseIdleConnections()
				banner.Demo = res
				fmt.Fprintln(text)
				printResult(text, res, err)
				if err != nil {
					log.Warn("the demo flow did not reach step 16; the parties keep serving", "err", err)
				}
			}
			printBrowser(text, st.Stack)
			if asJSON {
				if err := writeJSONLine(e.stdout, banner); err != nil {
					return err
				}
			}
			fmt.Fprintln(notes.stdout, "\nServing. Press Ctrl-C to stop.")
			select {
			case <-ctx.Done():
			case err := <-st.Err():
				return err
			}
			return stopStack(st.Stack, notes)
		},
	}
	addServeFlags(c)
	c.Flags().StringSliceVar(&only, "only", nil, "start only these parties (hostapp, platform, miniapp), comma-separated")
	c.Flags().BoolVar(&runDemo, "demo", false, "run one full Connect flow once the parties are ready and print it")
	c.Flags().BoolVar(&reset, "reset", false, "delete the databases (and the SDK's saved tokens) in --data-dir first and start with fresh demo data")
	c.Flags().String("platform-url", "", "URL of a platform not started here (with --only)")
	c.Flags().BoolVar(&asJSON, "json", false, "print the banner as one JSON line once the parties serve (parties, credentials, state file; with --demo the flow), and nothing else on stdout")
	addRelayFlags(c)
	addPprofFlag(c)
	return c
}

// configuredStack is a stack started from the configuration as up and exec start it, with its
// state file written.
type configuredStack struct {
	*stack.Stack
	token, tokenFrom string // the admin token and where it came from
	stateFile        string
	removeState      func() error
}

// stop removes the state file, so that no client command finds the stack any more, and
// closes the stack.
func (s *configuredStack) stop() error {
	s.removeState()
	return s.Close()
}

// startOptions are the command-line choices of up and exec beyond the configuration.
type startOptions struct {
	command string   // the command starting the stack, for messages
	only    []string // --only
	reset   bool     // --reset
}

// startConfigured starts the parties the configuration describes, as up and exec both do:
// it checks the settings that only make sense together, picks the admin token, starts the
// stack and writes its state file (the client commands find the stack through it). The
// stack stops when ctx ends.

func startConfigured(ctx context.Context, e *env, cfg Config, src source, log *slog.Logger, o startOptions) (*configuredStack, error) {
	only, reset := o.only, o.reset
	if strings.HasPrefix(src["platform_url"], "flag") && (len(only) == 0 || slices.ContainsFunc(only, func(p string) bool { return strings.Contains(p, stack.Platform) })) {
		return nil, fmt.Errorf("--platform-url names a platform not started here, but this %s starts the platform: drop it, or start only the other parties with --only", o.command)
	}
	if reset && cfg.Ephemeral {
		return nil, usageError(e, fmt.Errorf("--reset and --ephemeral: an ephemeral stack always starts afresh; give one of them"))
	}
	if err := checkEphemeralDataDir(cfg, src); err != nil {
		return nil, usageError(e, err)
	}
	tuneGC(e.getenv)
	token, tokenFrom := upToken(cfg, src)
	outbound, err := outboundClient(cfg, e.stderr)
	if err != nil {
		return nil, err
	}
	sc := cfg.stackConfig(token, outbound, log)
	sc.Only, sc.Reset = only, reset
	st, err := stack.Start(ctx, sc)
	if se := (*seed.Error)(nil); errors.As(err, &se) {
		return nil, usageError(e, err) // a setup error: exit 2
	}
	if err != nil {
		return nil, err
	}
	removeState, err := stack.WriteState(st.DataDir, st.State())
	if err != nil {
		st.Close()
		return nil, err
	}
	cs := &configuredStack{Stack: st, token: token, tokenFrom: tokenFrom, stateFile: filepath.Join(st.DataDir, stack.StateFileName), removeState: removeState}
	if !bindIsLoopback(cfg.Bind) {
		warnExposed(e.stderr, cfg.Bind, cs.stateFile)
	}
	return cs, nil
}

// checkEphemeralDataDir refuses an ephemeral stack with a data directory given as explicitly:
// one of them would be ignored. An ephemeral setting more specific than the data directory's
// (--ephemeral over a data_dir from the environment or the configuration file) wins.
func checkEphemeralDataDir(cfg Config, src source) error {
	if !cfg.Ephemeral || sourceRank(src["data_dir"]) == 0 || sourceRank(src["data_dir"]) < sourceRank(src["ephemeral"]) {
		return nil
	}
	return fmt.Errorf("ephemeral (%s) and data_dir %s (%s): an ephemeral stack keeps its databases in a temporary directory removed on exit; give one of them",
		src["ephemeral"], cfg.DataDir, src["data_dir"])
}

// sourceRank orders the sources of a setting as loadConfig applies them: a higher one wins.
func sourceRank(from string) int {
	switch {
	case strings.HasPrefix(from, "flag"):
		return 3
	case strings.HasPrefix(from, "env"):
		return 2
	case strings.HasPrefix(from, "file"):
		return 1
	}
	return 0
}

// stopStack closes the stack, waiting for requests in flight up to the grace period. A second
// Ctrl-C or SIGTERM meanwhile stops it at once and says what was cut off; the exit status is
// then 1 when something was.
func stopStack(st *stack.Stack, e *env) error {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	fmt.Fprintln(e.stdout, "Stopping.") // after Notify: a second signal from now on is seen
	closed := make(chan error, 1)
	go func() { closed <- st.Close() }()
	select {
	case err := <-closed:
		return err
	case <-sig:
	}
	cut := st.Abort()
	if len(cut) == 0 {
		fmt.Fprintln(e.stderr, "Second signal: stopped at once; no request was running.")
		return <-closed
	}
	fmt.Fprintf(e.stderr, "Second signal: stopped at once, cutting off %d %s:\n", len(cut), pluralOf(len(cut), "request", "requests"))
	for _, r := range cut {
		fmt.Fprintf(e.stderr, "  %s\n", r)
	}
	<-closed
	return exitError{code: exitFailed}
}

// addRelayFlags adds the flags of relay mode (GitHub issue 5): backends not started here,
// the Dashboard credentials the platform uses towards them, and where the fake SDK gets an
// auth code from a real host app.
func addRelayFlags(c *cobra.Command) {
	c.Flags().String("hostapp-url", "", "base URL of a host backend not started here (yours, or another boxo-sim); the platform calls its /boxo/connect/... paths")
	c.Flags().String("miniapp-url", "", "base URL of a miniapp backend not started here; the platform calls its /boxo/auth-token")
	c.Flags().String("hostapp-client-id", "", "hostapp_client_id the platform sends to the host backend at --hostapp-url (default "+demo.HostappClientID+")")
	c.Flags().String("hostapp-secret", "", "hostapp_secret_key the platform sends to the host backend at --hostapp-url")
	c.Flags().String("token-prefix", "", "access token prefix towards the host backend at --hostapp-url (default "+demo.TokenPrefix+")")
	c.Flags().String("miniapp-app-id", "", "app_id of the miniapp backend at --miniapp-url (default "+demo.AppID+")")
	c.Flags().String("miniapp-secret", "", "secret_key the platform sends to the miniapp backend at --miniapp-url")
	c.Flags().String("hostapp-signing-secret", "", "switch request signing on (contract §7.8) towards the host backend at --hostapp-url: the platform signs its calls to it with this secret and requires its Direct and consent calls signed with it")
	c.Flags().String("miniapp-signing-secret", "", "switch request signing on (contract §7.8) towards the miniapp backend at --miniapp-url: the platform signs its calls to it with this secret")
	c.Flags().String("auth-code-cmd", "", "command that prints a fresh auth code from your host app (sh -c), for the fake SDK")
	c.Flags().String("auth-code-url", "", "URL whose GET answers a fresh auth code from your host app, for the fake SDK")
	addEndpointFlags(c.Flags())
	c.Flags().String("auth-token-url", "", "the Get Auth Token endpoint of the miniapp backend at --miniapp-url: a path under it (/api/boxo/login) or a URL (default /boxo/auth-token)")
	c.Flags().String("required-fields", "", "user fields the miniapp requires (email, phone, first_name, last_name, custom_attributes), comma-separated; none clears them")
	addTLSFlags(c.Flags())
}

// addEndpointFlags adds the flags naming a real host backend's endpoints, for a backend
// whose paths differ from boxo-sim's.
func addEndpointFlags(fs *pflag.FlagSet) {
	fs.String("access-token-url", "", "the access token endpoint of the host backend at --hostapp-url: a path under it (/api/boxo/token) or a URL (default "+demo.AccessTokenPath+")")
	fs.String("user-data-url", "", "the user data endpoint of the host backend at --hostapp-url: a path under it or a URL (default "+demo.UserDataPath+")")
	fs.String("user-data-method", "", "method of the user data call: GET (default) or POST with {}")
	fs.String("refresh-token-url", "", "the refresh endpoint of the host backend at --hostapp-url: a path under it or a URL (default "+demo.RefreshTokenPath+")")
}

// addTLSFlags adds the flags that say which certificates of HTTPS backends to trust.
func addTLSFlags(fs *pflag.FlagSet) {
	fs.String("ca-cert", "", "PEM file of the CA that signed your HTTPS backend's certificate (trusted besides the system's)")
	fs.Bool("insecure-skip-verify", false, "trust any certificate of an HTTPS backend (a throwaway test backend only: prints a warning)")
}

// stackConfig is the stack a command starts from boxo-sim's configuration: addresses, storage,
// relay, lifetimes, the admin token and the seed file, which stack.Start applies before it
// returns.
func (cfg Config) stackConfig(token string, outbound *http.Client, log *slog.Logger) stack.Config {
	return stack.Config{HTTPClient: outbound,
		HostAddr: cfg.addr(cfg.HostappPort), PlatformAddr: cfg.addr(cfg.PlatformPort), MiniappAddr: cfg.addr(cfg.MiniappPort),
		DataDir: cfg.DataDir, Ephemeral: cfg.Ephemeral, Logger: log, CallTimeout: cfg.CallTimeout,
		HostURL: cfg.HostappURL, MiniappURL: cfg.MiniappURL, PlatformURL: cfg.PlatformURL, Relay: relayOf(cfg), CORS: cfg.corsPolicy(),
		AdminToken: token, BodyTimeout: cfg.BodyTimeout, ShutdownGrace: cfg.ShutdownGrace,
		FlowLogMaxFlows: cfg.FlowLogMaxFlows, FlowLogMaxAge: cfg.FlowLogMaxAge,
		UserDataKey: cfg.UserDataKey, Lifetimes: cfg.lifetimes(), TrustedProxies: must(cfg.trustedProxies()),
		SeedFile: cfg.Seed,
	}
}

// relayOf is the stack's relay configuration from boxo-sim's.
func relayOf(cfg Config) stack.Relay {
	fields, _ := parseRequiredFields(cfg.RequiredFields) // validate has checked it
	return stack.Relay{
		HostappClientID: cfg.HostappClientID, HostappSecret: cfg.HostappSecret, TokenPrefix: cfg.TokenPrefix,
		MiniappAppID: cfg.MiniappAppID, MiniappSecret: cfg.MiniappSecret,
		HostappSigningSecret: cfg.HostappSigningSecret, MiniappSigningSecret: cfg.MiniappSigningSecret,
		AccessTokenURL: cfg.AccessTokenURL, UserDataURL: cfg.UserDataURL, UserDataMethod: cfg.UserDataMethod,
		RefreshTokenURL: cfg.RefreshTokenURL, AuthTokenURL: cfg.AuthTokenURL, RequiredFields: fields,
	}
}

func printUp(w io.Writer, st *stack.Stack, cfg Config) {
	fmt.Fprintf(w, "boxo-sim is up (data in %s)\n", dataDirLabel(st, cfg))
	for _, p := range stack.Parties {
		u := map[string]string{stack.Hostapp: st.HostURL, stack.Platform: st.PlatformURL, stack.Miniapp: st.MiniappURL}[p]
		switch {
		case contains(st.Started, p):
			fmt.Fprintf(w, "  %-9s %s\n", p, u)
		case st.Relayed(p) && contains(st.Started, stack.Platform):
			fmt.Fprintf(w, "  %-9s %s  (not started here: the platform relays to it and records contract violations in the flow log)\n", p, u)
		}
	}
	started := func(p string) bool { return contains(st.Started, p) }
	cr := credentialsOf(st, cfg)
	fmt.Fprintln(w, "\nDemo credentials:")
	if cr.ClientID != "" {
		fmt.Fprintf(w, "  host app client_id        %s\n", cr.ClientID)
		if st.Relayed(stack.Hostapp) {
			fmt.Fprintf(w, "  hostapp_client_id/secret  %s / %s   (prefix %q, sent to the host backend at %s)\n",
				cr.HostappClientID, contract.Mask(cr.HostappSecret), cr.TokenPrefix, st.HostURL)
			if cfg.HostappSigningSecret != "" {
				fmt.Fprintf(w, "  request signing           on, secret %s   (calls to the host backend signed, its Direct and consent calls verified)\n", contract.Mask(cfg.HostappSigningSecret))
			}
		} else {
			fmt.Fprintf(w, "  hostapp_client_id/secret  %s / %s   (prefix %q)\n", cr.HostappClientID, cr.HostappSecret, cr.TokenPrefix)
		}
	}
	if cr.AppID != "" {
		if st.Relayed(stack.Miniapp) {
			fmt.Fprintf(w, "  miniapp app_id/secret_key %s / %s   (sent to the miniapp backend at %s)\n", cr.AppID, contract.Mask(cr.MiniappSecret), st.MiniappURL)
			if cfg.MiniappSigningSecret != "" {
				fmt.Fprintf(w, "  request signing           on, secret %s   (calls to the miniapp backend signed)\n", contract.Mask(cfg.MiniappSigningSecret))
			}
		} else {
			fmt.Fprintf(w, "  miniapp app_id/secret_key %s / %s\n", cr.AppID, cr.MiniappSecret)
		}
	}
	if started(stack.Hostapp) {
		var users []string
		for _, u := range demo.Users {
			users = append(users, u.Username+"/"+u.Password)
		}
		fmt.Fprintf(w, "  host users                %s\n", strings.Join(users, ", "))
	}
	if !started(stack.Platform) {
		// No flow runs here: say how a platform elsewhere reaches what was started.
		if started(stack.Hostapp) {
			fmt.Fprintf(w, "\nRelay a platform to it:  boxo-sim up --hostapp-url %s\n", st.HostURL)
		}
		if started(stack.Miniapp) {
			fmt.Fprintf(w, "\nRelay a platform to it:  boxo-sim up --miniapp-url %s\n", st.MiniappURL)
		}
		return
	}
	run := "boxo-sim connect"
	if st.Relayed(stack.Hostapp) {
		run += " --auth-code-cmd 'CMD'"
	} else {
		run += " --user alice"
	}
	if st.AppID != demo.AppID {
		run += " --app-id " + st.AppID
	}
	if st.PlatformURL != cfg.localURL(defaultConfig().PlatformPort) {
		run += " --platform-url " + st.PlatformURL // connect finds the host app in the platform's Dashboard
	}
	if st.Relayed(stack.Miniapp) {
		run += " --skip-me"
	}
	if st.Relayed(stack.Hostapp) {
		run += "   (CMD prints a fresh auth code from your host app)"
	}
	fmt.Fprintln(w, "\nRun a flow:  "+run)
}

// credentials are a started stack's Dashboard credentials: the demo values, or towards a
// backend the platform relays to, the ones it sends there. Fields of parties the stack has
// nothing to do with are "". up --json prints them by their Dashboard field names.
type credentials struct {
	ClientID        string `json:"client_id,omitempty"`
	HostappClientID string `json:"hostapp_client_id,omitempty"`
	HostappSecret   string `json:"hostapp_secret_key,omitempty"`
	TokenPrefix     string `json:"token_prefix,omitempty"`
	AppID           string `json:"app_id,omitempty"`
	MiniappSecret   string `json:"secret_key,omitempty"`
	// Users are the host app's demo users, for up --json; credentialsOf leaves them out.
	Users []hostUser `json:"users,omitempty"`
}

func credentialsOf(st *stack.Stack, cfg Config) credentials {
	var c credentials
	started := func(p string) bool { return contains(st.Started, p) }
	if started(stack.Platform) || started(stack.Hostapp) {
		c.ClientID, c.HostappClientID, c.HostappSecret, c.TokenPrefix = demo.ClientID, demo.HostappClientID, demo.HostappSecret, demo.TokenPrefix
		if st.Relayed(stack.Hostapp) {
			c.HostappClientID = orDefault(cfg.HostappClientID, demo.HostappClientID)
			c.HostappSecret = orDefault(cfg.HostappSecret, demo.HostappSecret)
			c.TokenPrefix = orDefault(cfg.TokenPrefix, demo.TokenPrefix)
		}
	}
	if started(stack.Platform) || started(stack.Miniapp) {
		c.AppID, c.MiniappSecret = demo.AppID, demo.MiniappSecret
		if st.Relayed(stack.Miniapp) {
			c.AppID, c.MiniappSecret = st.AppID, orDefault(cfg.MiniappSecret, demo.MiniappSecret)
		}
	}
	return c
}

// printBrowser says where a person opens the demo and the console (DESIGN.md "In the
// browser").
func printBrowser(w io.Writer, st *stack.Stack) {
	host, platform := contains(st.Started, stack.Hostapp), contains(st.Started, stack.Platform)
	if !host && !platform {
		return
	}
	fmt.Fprintln(w, "\nIn a browser:")
	if host {
		u, _ := demo.FindUser(demo.DefaultUser)
		fmt.Fprintf(w, "  demo      open %s/ and sign in as %s / %s\n", st.HostURL, u.Username, u.Password)
	}
	if platform {
		fmt.Fprintf(w, "  console   %s/\n", st.PlatformURL)
	}
}

func orDefault(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func dataDirLabel(st *stack.Stack, cfg Config) string {
	if cfg.Ephemeral {
		return "a temporary directory, removed on exit"
	}
	return st.DataDir
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// serverGCPercent is the garbage collector's target for a process that serves the parties
// or drives flows at them (bench):
// a flow allocates about 100 KB that is garbage once it is answered, and collecting half as
// often costs about 8 % less CPU per flow under load for about 6 MB more peak memory
// (measured with 'boxo-sim bench --concurrency 32').
const serverGCPercent = 200

// tuneGC sets serverGCPercent unless GOGC says otherwise.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(serverGCPercent)
	}
}
