package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/stack"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

func newSessionCmd(e *env) *cobra.Command {
	var (
		user, appID string
		asJSON      bool
	)
	c := &cobra.Command{
		Use:   "session",
		Short: "Refresh or end the miniapp session the fake SDK holds for a user",
		Long: `Act on a miniapp session that 'boxo-sim connect' left in the fake SDK's token store
(` + sdkstub.TokenFileName + ` in the data directory of the running 'boxo-sim up'), as the miniapp
frontend does with its own backend:

  refresh  trade the session's refresh token for a new pair at the miniapp's
           POST /api/auth/refresh (contract §7.1) and save the new pair
  logout   end the session at the miniapp's POST /api/auth/logout (contract §7.5)
           and drop it from the store

The session is the one of --user and --app-id, for the stack's platform and --client-id
(as connect saved it). Tokens are printed masked.
Exit status: 0 done, 1 no such session or the miniapp refused (its code and reason are
printed), 2 a usage or setup error (no --user, no stack).`,
		Example: `  boxo-sim connect --user bob
  boxo-sim session refresh --user bob
  boxo-sim session logout --user bob --app-id app16973
  boxo-sim session refresh --user bob --json     # fails now: the session ended`,
	}
	pf := c.PersistentFlags()
	pf.StringVar(&user, "user", "", "the host user whose session it is (required)")
	pf.StringVar(&appID, "app-id", demo.AppID, "the miniapp of the session")
	pf.BoolVar(&asJSON, "json", false, "print the result as JSON")
	pf.String("client-id", "", "the host app's client_id at the platform, as given to connect (default "+demo.ClientID+")")
	pf.String("platform-url", "", "URL of the running platform (default: the up running on --data-dir, else the local one)")
	addAdminTokenFlag(pf)
	_ = c.RegisterFlagCompletionFunc("user", completeFlagFrom(e, usersRecords))
	_ = c.RegisterFlagCompletionFunc("app-id", completeFlagFrom(e, miniappsKind))

	act := func(name, short, example string, do func(cmd *cobra.Command, sdk *sdkstub.SDK, appID string) (map[string]any, string, error)) *cobra.Command {
		return &cobra.Command{
			Use: name + " --user USER [--app-id APP_ID]", Short: short, Example: example, Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if user == "" {
					return fmt.Errorf("--user is required: the host user whose miniapp session to %s", name)
				}
				sdk, cfg, err := sessionSDK(cmd, e)
				if err != nil {
					return err
				}
				defer sdk.CloseIdleConnections()
				file, app := filepath.Join(cfg.DataDir, sdkstub.TokenFileName), appID
				if !cmd.Flags().Changed("app-id") && cfg.MiniappAppID != "" {
					app = cfg.MiniappAppID
				}
				out, text, err := do(cmd, sdk, app)
				var fe *sdkstub.Error
				switch {
				case errors.Is(err, sdkstub.ErrNoTokens):
					return failure(e, fmt.Errorf("the fake SDK holds no miniapp session for user %q and miniapp %q (%s, for this stack's platform and host app): 'boxo-sim connect --user %s --app-id %s' makes one",
						user, app, file, user, app))
				case errors.As(err, &fe):
					msg := fmt.Sprintf("the miniapp refused the %s (%d): %s", name, fe.Status, fe.Code)
					if fe.Message != "" {
						msg += ": " + fe.Message
					}
					if name == "logout" {
						msg += "; the saved session is dropped all the same"
					}
					return failure(e, errors.New(msg))
				case err != nil:
					return err
				}
				if asJSON {
					out["user"], out["app_id"] = user, app
					return printIndentedJSON(e.stdout, out)
				}
				fmt.Fprintln(e.stdout, text)
				return nil
			},
		}
	}
	refresh := act("refresh", "Get a new miniapp token pair with the session's refresh token", "  boxo-sim session refresh --user bob",
		func(cmd *cobra.Command, sdk *sdkstub.SDK, app string) (map[string]any, string, error) {
			p, err := sdk.Refresh(cmd.Context(), user, app)
			if err != nil {
				return nil, "", err
			}
			at, rt := contract.Mask(p.Token), contract.Mask(p.RefreshToken)
			return map[string]any{"refreshed": true, "auth_token": at, "refresh_token": rt},
				fmt.Sprintf("Refreshed %s's session at %s: new auth_token %s, refresh_token %s (saved).", user, app, at, rt), nil
		})
	logout := act("logout", "End the session at the miniapp and drop it from the token store", "  boxo-sim session logout --user bob",
		func(cmd *cobra.Command, sdk *sdkstub.SDK, app string) (map[string]any, string, error) {
			if err := sdk.EndSession(cmd.Context(), user, app); err != nil {
				return nil, "", err
			}
			return map[string]any{"logged_out": true},
				fmt.Sprintf("Logged %s out of %s: the miniapp ended the session and its tokens are dropped from the store.", user, app), nil
		})
	return recordGroup(c, refresh, logout)
}

// sessionSDK is the fake SDK on the token store of the stack the command acts on, as connect
// made it: the same platform URL and client_id key its sessions.
func sessionSDK(cmd *cobra.Command, e *env) (*sdkstub.SDK, Config, error) {
	cfg, src, err := loadConfig(cmd.Flags(), e.getenv)
	if err != nil {
		return nil, cfg, err
	}
	found, err := findStack(cmd.Context(), cfg, src)
	if err != nil {
		return nil, cfg, err
	}
	platformURL := found.url(stack.Platform)
	if platformURL == "" {
		return nil, cfg, fmt.Errorf("the stack found through %s has no platform: give --platform-url", found.from)
	}
	file := filepath.Join(cfg.DataDir, sdkstub.TokenFileName)
	if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
		return nil, cfg, failure(e, fmt.Errorf("no token store at %s: 'boxo-sim connect --data-dir %s' against the running up saves its sessions there", file, cfg.DataDir))
	}
	sdk, err := sdkstub.New(sdkstub.Config{PlatformURL: platformURL, HostURL: found.url(stack.Hostapp), ClientID: cfg.ClientID,
		AdminToken: adminToken(cfg), TokenFile: file, Logger: newLogger(cfg, e.stderr)})
	return sdk, cfg, err
}
