package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/boxo-sim/boxo-sim/internal/demo"
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
}

func newUpCmd(e *env) *cobra.Command {
	var only []string
	var runDemo bool
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
			cfg, _, err := loadConfig(cmd.Flags(), e.getenv)
			if err != nil {
				return err
			}
			log := newLogger(cfg, e.stderr)
			ctx := cmd.Context()
			st, err := stack.Start(ctx, stack.Config{
				HostAddr: cfg.addr(cfg.HostappPort), PlatformAddr: cfg.addr(cfg.PlatformPort), MiniappAddr: cfg.addr(cfg.MiniappPort),
				Only: only, DataDir: cfg.DataDir, Ephemeral: cfg.Ephemeral, Logger: log, CallTimeout: cfg.CallTimeout,
				HostURL: cfg.HostappURL, PlatformURL: cfg.PlatformURL,
			})
			if err != nil {
				return err
			}
			defer st.Close()
			printUp(e.stdout, st, cfg)
			if runDemo {
				if !contains(st.Started, stack.Platform) || !contains(st.Started, stack.Hostapp) || !contains(st.Started, stack.Miniapp) {
					return fmt.Errorf("--demo needs all three parties; drop --only")
				}
				sdk, err := st.SDK(log)
				if err != nil {
					return err
				}
				res, err := sdk.Connect(ctx, sdkstub.Options{})
				fmt.Fprintln(e.stdout)
				printResult(e.stdout, res, err)
				if err != nil {
					log.Warn("the demo flow did not reach step 16; the parties keep serving", "err", err)
				}
			}
			fmt.Fprintln(e.stdout, "\nServing. Press Ctrl-C to stop.")
			select {
			case <-ctx.Done():
			case err := <-st.Err():
				return err
			}
			fmt.Fprintln(e.stdout, "Stopping.")
			return st.Close()
		},
	}
	addServeFlags(c)
	c.Flags().StringSliceVar(&only, "only", nil, "start only these parties (hostapp, platform, miniapp), comma-separated")
	c.Flags().BoolVar(&runDemo, "demo", false, "run one full Connect flow once the parties are ready and print it")
	c.Flags().String("hostapp-url", "", "URL of a host app not started here (with --only)")
	c.Flags().String("platform-url", "", "URL of a platform not started here (with --only)")
	return c
}

func printUp(w io.Writer, st *stack.Stack, cfg Config) {
	fmt.Fprintf(w, "boxo-sim is up (data in %s)\n", dataDirLabel(st, cfg))
	for _, p := range st.Started {
		u := map[string]string{stack.Hostapp: st.HostURL, stack.Platform: st.PlatformURL, stack.Miniapp: st.MiniappURL}[p]
		fmt.Fprintf(w, "  %-9s %s\n", p, u)
	}
	fmt.Fprintln(w, "\nDemo credentials:")
	fmt.Fprintf(w, "  host app client_id        %s\n", demo.ClientID)
	fmt.Fprintf(w, "  hostapp_client_id/secret  %s / %s   (prefix %q)\n", demo.HostappClientID, demo.HostappSecret, demo.TokenPrefix)
	fmt.Fprintf(w, "  miniapp app_id/secret_key %s / %s\n", demo.AppID, demo.MiniappSecret)
	var users []string
	for _, u := range demo.Users {
		users = append(users, u.Username+"/"+u.Password)
	}
	fmt.Fprintf(w, "  host users                %s\n", strings.Join(users, ", "))
	fmt.Fprintln(w, "\nRun a flow:  boxo-sim connect --user alice")
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
