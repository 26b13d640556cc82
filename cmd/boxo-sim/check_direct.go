package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/boxo-sim/boxo-sim/internal/check"
	"github.com/boxo-sim/boxo-sim/internal/demo"
)

// newCheckDirectCmd is `boxo-sim check direct`: the checker plays the platform's
// /api/v1/connect/ for a host backend that uses Connect Direct (PROTOCOL §7.3).
func newCheckDirectCmd(e *env) *cobra.Command {
	var (
		rf                                       reportFlags
		listen, clientID, appID, secret, trigger string
		wait                                     time.Duration
	)
	c := &cobra.Command{
		Use:   "direct --listen ADDR [--trigger-cmd CMD]",
		Short: "Check a host backend's Connect Direct call (plan " + check.DirectPlanName + ")",
		Long: `Play the Boxo platform's /api/v1/connect/ for your host backend and judge the call it makes
there for a signed-in user in Connect Direct (contract §7.3): POST with a JSON object,
client_id and app_id, user_data with a reference of at most 100 characters and an email
or a phone (E.164), and, with --signing-secret, a valid request signature (§7.8). The
checker answers the call 200 {"token", "refresh_token"} with made-up tokens.

Point your backend's Boxo platform URL at http://ADDR (the checker prints it), then make
it connect a user: --trigger-cmd runs a command that does so (sh -c, with
BOXO_SIM_PLATFORM_URL set to the checker's URL); without it the checker waits --wait for
a call you make, e.g. by opening the miniapp in your host app. The first call is judged.`,
		Example: `  boxo-sim check direct --listen 127.0.0.1:9082 --client-id 352131 --app-id app16973 \
      --trigger-cmd './open-miniapp-as-test-user.sh'
  boxo-sim check direct --listen 127.0.0.1:9082 --signing-secret "$SECRET" --wait 2m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if rf.list {
				return rf.listPlan(e.stdout, check.DirectPlanName, check.DirectPlan(), nil)
			}
			if wait <= 0 {
				return fmt.Errorf("--wait %s: give a positive duration such as 60s", wait)
			}
			rep, err := check.RunDirect(cmd.Context(), check.DirectConfig{
				Listen: listen, ClientID: clientID, AppID: appID, SigningSecret: secret, TriggerCmd: trigger, Wait: wait,
				Ready: func(u string) {
					fmt.Fprintf(e.stderr, "Playing the platform at %s: waiting up to %s for POST %s/api/v1/connect/\n", u, wait, u)
				},
			})
			if err != nil {
				return err
			}
			return rf.output(e, rep)
		},
	}
	c.Flags().StringVar(&listen, "listen", "127.0.0.1:0", "where the checker serves /api/v1/connect/ (host:port)")
	c.Flags().StringVar(&clientID, "client-id", demo.ClientID, "the host app's client_id at Boxo, expected in the call")
	c.Flags().StringVar(&appID, "app-id", demo.AppID, "the miniapp, expected in the call")
	c.Flags().StringVar(&secret, "signing-secret", "", "the request-signing secret your backend signs with (checks the signature)")
	c.Flags().StringVar(&trigger, "trigger-cmd", "", "command that makes your backend connect a user (sh -c)")
	c.Flags().DurationVar(&wait, "wait", check.DirectDefaultWait, "how long to wait for the call")
	rf.add(c)
	return c
}
