package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/stack"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

func newConnectCmd(e *env) *cobra.Command {
	var (
		user, password, appID, consent, userRef string
		asJSON, skipMe, fresh, skipConsent      bool
		legacy                                  bool
		meURL, payload, data, mode              string
		sandbox                                 bool
	)
	c := &cobra.Command{
		Use:   "connect",
		Short: "Run the 16-step Connect flow (or the 12 steps of Connect Direct) for one user",
		Long: `Run the 16 steps of Boxo Connect for a host user and a miniapp with the fake SDK, and
print one line per step (number, actor, call, status, time).

It talks to running parties: the stack of --platform-url, else the 'boxo-sim up' running
on --data-dir (its state file), else a local 'boxo-sim up' on the default ports. When none
is given and none answers, it starts
the parties in-process on temporary storage for this one flow; then --hostapp-url and
--miniapp-url name backends the in-process platform relays to instead of starting
them, with the Dashboard credentials given (--hostapp-secret, --miniapp-secret, ...).

With a real host app, only your system can mint an auth code: --auth-code-cmd runs a
command that prints a fresh one, --auth-code-url answers one (text, or JSON {"code"}).

Steps 14-15 are the miniapp frontend reading its user from its own backend: GET /api/me
at the miniapp's origin, as the simulated miniapp serves it. For a real miniapp give
--me-url (an endpoint that answers the user for "Authorization: Bearer <auth_token>"),
or --skip-me; with --miniapp-url and no --me-url they are skipped.

A returning user: the SDK saves the miniapp's tokens in --data-dir, the running 'boxo-sim
up''s data directory, when it exists (` + sdkstub.TokenFileName + `, readable by you only). The
next connect for the same user and miniapp hands the saved token to the miniapp, which tries
it at its backend first (contract §3.3) and logs in anew only when it is refused, in both
modes. --fresh ignores the saved token. A flow on in-process parties saves nothing.

--skip-granted-consent with --user-reference is the SDK's prompt-skip switch (contract
§7.4): at step 4 the host app asks its own backend (POST /boxo/consent with the user's
session), which calls the platform's get_consent for its signed-in user, signed when request
signing is on, and the prompt is skipped when the user allowed the miniapp before.

--mode direct runs Connect Direct instead (contract §7.3, 12 steps): at step 5 the host
app asks its own backend (POST /boxo/direct/tokens with the user's session), which sends
the user's data to the platform's /api/v1/connect/ (steps 6-9); the host app hands the
tokens to the SDK with setAuthTokens (step 10) and the miniapp reads its user (step 11).
The partnership's direct_enabled must be on (it is for the demo pair).

Exit status: 0 when the last step (16, or 12 in Direct) is reached, 1 when the flow stops
before it, 2 on a usage or setup error (no flow ran).`,
		Example: `  boxo-sim connect                       # the demo user carol
  boxo-sim connect --user bob --json     # machine-readable result
  boxo-sim connect --consent deny        # the user declines at step 4
  boxo-sim connect --fresh               # log in anew, ignoring the saved token
  boxo-sim connect --user-reference u-1003 --skip-granted-consent   # no prompt once allowed
  boxo-sim connect --legacy-login --fresh   # older SDKs: the host's auth payload, /api/v1/partner/login/
  boxo-sim connect --mode direct         # Connect Direct, 12 steps
  boxo-sim connect --platform-url http://127.0.0.1:8082 --hostapp-url http://127.0.0.1:8081
  boxo-sim connect --miniapp-url http://127.0.0.1:9083 --miniapp-secret "$SECRET"   # in-process, your miniapp
  boxo-sim connect --auth-code-cmd './mint-code.sh' --user test-user              # a platform relaying to your host`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, src, err := loadConfig(cmd.Flags(), e.getenv)
			if err != nil {
				return err
			}
			var deny bool
			switch consent {
			case "allow":
			case "deny":
				deny = true
			default:
				return fmt.Errorf("--consent %q: use allow or deny", consent)
			}
			if mode != "oauth" && mode != "direct" {
				return usageError(e, fmt.Errorf("--mode %q: use oauth (the 16-step flow) or direct (Connect Direct, 12 steps)", mode))
			}
			codes, err := authCodeSource(cfg.AuthCodeCmd, cfg.AuthCodeURL)
			if err != nil {
				return err
			}
			if mode == "direct" && codes != nil {
				return usageError(e, fmt.Errorf("--auth-code-cmd and --auth-code-url mint auth codes, which Connect Direct does not use (--mode direct)"))
			}
			if _, ok := demo.FindUser(user); !ok && password == "" && codes == nil {
				return fmt.Errorf("--user %q is not a demo user (%s): give its --password", user, demoUserNames())
			}
			if !cmd.Flags().Changed("app-id") && cfg.MiniappAppID != "" {
				appID = cfg.MiniappAppID
			}
			log := newLogger(cfg, e.stderr)
			ctx := cmd.Context()
			noteIgnoredRelay(ctx, cfg, src, e.stderr)
			at, err := locateParties(ctx, cfg, src, e.stderr)
			if err != nil {
				return err
			}
			defer at.cleanup()
			tokenFile := ""
			if fi, err := os.Stat(cfg.DataDir); err == nil && fi.IsDir() && !at.inProcess {
				tokenFile = filepath.Join(cfg.DataDir, sdkstub.TokenFileName)
			}
			sdk, err := sdkstub.New(sdkstub.Config{PlatformURL: at.platformURL, HostURL: at.hostURL, ClientID: cfg.ClientID, Logger: log, AdminToken: adminToken(cfg), TokenFile: tokenFile, SkipGrantedConsent: skipConsent})
			if err != nil {
				return err
			}
			defer sdk.CloseIdleConnections() // before the parties stop: they need not wait for them
			if meURL != "" && !strings.HasPrefix(meURL, "http://") && !strings.HasPrefix(meURL, "https://") {
				return fmt.Errorf("--me-url %q must start with http:// or https://", meURL)
			}
			if meURL != "" && skipMe {
				return fmt.Errorf("give --me-url or --skip-me, not both")
			}
			if at.miniappRelayed && meURL == "" {
				skipMe = true // a real miniapp's own frontend API is unknown
			}
			if data != "" {
				var obj map[string]any
				if err := json.Unmarshal([]byte(data), &obj); err != nil {
					return fmt.Errorf("--data %q: give a JSON object, e.g. --data '{\"screen\":\"checkout\"}'", data)
				}
			}
			if skipConsent && userRef == "" {
				return fmt.Errorf("--skip-granted-consent needs --user-reference: the SDK asks get_consent for that user (contract §7.4)")
			}
			opts := sdkstub.Options{Payload: payload, Data: json.RawMessage(data), SandboxMode: sandbox, LegacyLogin: legacy, User: user, Password: password, AppID: appID, Deny: deny, UserReference: userRef,
				AuthCode: sdkstub.AuthCodeFunc(codes), MeURL: meURL, SkipMe: skipMe, TrySavedToken: !fresh}
			var res *sdkstub.Result
			if mode == "direct" {
				opts.AuthCode = nil
				res, err = sdk.ConnectDirect(ctx, opts)
			} else {
				res, err = sdk.Connect(ctx, opts)
			}
			if res == nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(res); err != nil {
					return err
				}
			} else {
				printResult(e.stdout, res, err)
			}
			if err != nil {
				return exitError{code: exitFailed}
			}
			return nil
		},
	}
	c.Flags().StringVar(&user, "user", demo.DefaultUser, "host user to sign in as ("+demoUserNames()+")")
	c.Flags().StringVar(&password, "password", "", "the user's password (default: the demo user's)")
	c.Flags().StringVar(&appID, "app-id", demo.AppID, "the miniapp to sign in to")
	c.Flags().StringVar(&consent, "consent", "allow", "the user's answer at step 4: allow or deny")
	c.Flags().StringVar(&userRef, "user-reference", "", "host user id the SDK is configured with (sent as user_reference)")
	c.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	c.Flags().StringVar(&mode, "mode", "oauth", "oauth (the 16-step flow) or direct (Connect Direct, contract §7.3)")
	c.Flags().String("platform-url", "", "URL of a running platform")
	addAdminTokenFlag(c.Flags())
	c.Flags().String("client-id", "", "the host app's client_id at the platform (default "+demo.ClientID+")")
	c.Flags().StringVar(&meURL, "me-url", "", "where the miniapp frontend reads its user at steps 14-15 (default: /api/me at the miniapp)")
	c.Flags().BoolVar(&skipConsent, "skip-granted-consent", false, "the SDK's prompt-skip switch: ask get_consent and skip the prompt when the user allowed before (needs --user-reference)")
	c.Flags().StringVar(&payload, "payload", "", "the auth payload the host app opens the miniapp with (GetInitData payload)")
	c.Flags().StringVar(&data, "data", "", "JSON object the host app opens the miniapp with (GetInitData data)")
	c.Flags().BoolVar(&sandbox, "sandbox", false, "open the miniapp in sandbox mode (GetInitData sandbox_mode)")
	c.Flags().BoolVar(&legacy, "legacy-login", false, "the legacy payload login of older SDKs instead of Connect (contract §7.10); the host app needs legacy_login_enabled in the Dashboard")
	c.Flags().BoolVar(&fresh, "fresh", false, "ignore the miniapp token saved by an earlier connect: log in anew")
	c.Flags().BoolVar(&skipMe, "skip-me", false, "leave out steps 14-15 (a real miniapp without the simulator's /api/me)")
	addRelayFlags(c)
	return c
}

// noteIgnoredRelay warns when relay flags were given but a running platform will be used:
// it keeps its own Dashboard, which connect does not change.
func noteIgnoredRelay(ctx context.Context, cfg Config, src source, stderr io.Writer) {
	var ignored []string
	for _, k := range []string{"miniapp_url", "hostapp_client_id", "hostapp_secret", "token_prefix", "miniapp_secret", "hostapp_signing_secret", "miniapp_signing_secret", "access_token_url", "user_data_url", "user_data_method", "refresh_token_url", "auth_token_url", "required_fields", "ca_cert", "insecure_skip_verify"} {
		if s, _ := findSetting(k); strings.HasPrefix(src[k], "flag") {
			ignored = append(ignored, "--"+s.flag)
		}
	}
	if len(ignored) == 0 || (cfg.PlatformURL == "" && !healthy(ctx, cfg.localURL(cfg.PlatformPort))) {
		return
	}
	fmt.Fprintf(stderr, "Note: %s configure only a platform that connect starts itself; the running platform keeps its Dashboard (give them to 'boxo-sim up', or use its /_sim/ routes).\n",
		strings.Join(ignored, ", "))
}

func demoUserNames() string {
	var names []string
	for _, u := range demo.Users {
		names = append(names, u.Username)
	}
	return strings.Join(names, ", ")
}

// located is where connect and bench find the parties.
type located struct {
	platformURL, hostURL string
	// miniappRelayed: the in-process platform relays to a miniapp backend not simulated here,
	// whose own frontend API (steps 14–15) is unknown.
	miniappRelayed bool
	// inProcess: the parties run in this process on temporary storage.
	inProcess bool
	cleanup   func()
}

// locateParties finds the platform and host app to talk to: the stack of platform_url, else
// the one whose state file is in data_dir, else a local `up` on the configured ports (each
// through findStack), else an in-process stack on temporary storage that relays to the
// configured host and miniapp backends, if any.
func locateParties(ctx context.Context, cfg Config, src source, stderr io.Writer) (located, error) {
	l := located{cleanup: func() {}}
	local := cfg.localURL(cfg.PlatformPort)
	_, stateErr := stack.ReadState(cfg.DataDir)
	explicitDir := strings.HasPrefix(src["data_dir"], "flag") || strings.HasPrefix(src["data_dir"], "env")
	if cfg.PlatformURL == "" && stateErr != nil && !explicitDir && !healthy(ctx, local) {
		outbound, err := outboundClient(cfg, stderr)
		if err != nil {
			return l, err
		}
		st, err := stack.Start(ctx, stack.Config{HTTPClient: outbound,
			HostAddr: "127.0.0.1:0", PlatformAddr: "127.0.0.1:0", MiniappAddr: "127.0.0.1:0",
			Ephemeral: true, CallTimeout: cfg.CallTimeout, Logger: newLogger(cfg, stderr),
			UserDataKey: cfg.UserDataKey, Lifetimes: cfg.lifetimes(), TrustedProxies: must(cfg.trustedProxies()),
			HostURL: cfg.HostappURL, MiniappURL: cfg.MiniappURL, Relay: relayOf(cfg),
		})
		if err != nil {
			return l, err
		}
		what := "the three parties"
		if len(st.Started) < len(stack.Parties) {
			what = strings.Join(st.Started, " and ") + " (relaying to the backends given)"
		}
		fmt.Fprintf(stderr, "No platform answers at %s; running %s in-process on temporary storage.\n", local, what)
		l.platformURL, l.hostURL, l.cleanup = st.PlatformURL, st.HostURL, func() { st.Close() }
		l.miniappRelayed = !slices.Contains(st.Started, stack.Miniapp)
		l.inProcess = true
		return l, nil
	}
	found, err := findStack(ctx, cfg, src)
	if err != nil {
		return l, err
	}
	l.platformURL = found.url(stack.Platform)
	if l.platformURL == "" {
		return l, fmt.Errorf("the stack found through %s has no platform: start one, or give --platform-url", found.from)
	}
	l.hostURL = found.url(stack.Hostapp)
	l.miniappRelayed = found.parties[stack.Miniapp].Relayed
	if l.hostURL == "" {
		l.hostURL = dashboardHostURL(ctx, adminClient(cfg, 2*time.Second), l.platformURL, cfg.ClientID)
	}
	if l.hostURL == "" && found.fromDefaults {
		l.hostURL = cfg.localURL(cfg.HostappPort)
	}
	return l, nil
}

// dashboardHostURL is the origin of the host app's access-token URL in the platform's
// Dashboard: where a platform started elsewhere expects the host app. "" when it cannot tell.
func dashboardHostURL(ctx context.Context, client *http.Client, platformURL, clientID string) string {
	if clientID == "" {
		clientID = demo.ClientID
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, platformURL+"/_sim/hostapps/"+url.PathEscape(clientID), nil)
	if err != nil {
		return ""
	}
	resp, err := client.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var h struct {
		AccessTokenURL string `json:"access_token_url"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&h) != nil {
		return ""
	}
	u, err := url.Parse(h.AccessTokenURL)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// healthy reports whether a party answers GET /healthz at base within half a second.
func healthy(ctx context.Context, base string) bool {
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// printResult prints one line per step and a closing line.
func printResult(w io.Writer, res *sdkstub.Result, err error) {
	if res == nil {
		fmt.Fprintf(w, "flow could not run: %v\n", err)
		return
	}
	sdkstub.WriteSteps(w, res.Steps, "")
	var fe *sdkstub.Error
	switch {
	case errors.Is(err, context.Canceled):
		last := 0
		if n := len(res.Steps); n > 0 {
			last = res.Steps[n-1].Number
		}
		fmt.Fprintf(w, "Flow %s interrupted after step %d\n", res.FlowID, last)
	case err == nil && res.OK && res.SavedToken:
		fmt.Fprintf(w, "Signed in to %s as %s with the saved token in %s: its backend accepted it, no new login (flow %s; --fresh logs in anew)\n",
			res.AppID, res.User, sdkstub.FormatMS(res.DurationMS), res.FlowID)
	case err == nil && res.OK:
		created := ""
		if res.Me != nil {
			created = fmt.Sprintf(", miniapp user %s, created: %s", res.Me.ID, res.Me.CreatedText())
		}
		fmt.Fprintf(w, "Signed in to %s as %s in %s (flow %s%s)\n", res.AppID, whoSignedIn(res), sdkstub.FormatMS(res.DurationMS), res.FlowID, created)
	case errors.As(err, &fe) && fe.Unreachable:
		fmt.Fprintf(w, "Flow %s stopped at step %d: %s\n", res.FlowID, fe.Step, fe.Message)
		if hint := hintFor(fe.Code); hint != "" {
			fmt.Fprintf(w, "Hint: %s\n", hint)
		}
	case errors.As(err, &fe):
		fmt.Fprintf(w, "Flow %s stopped at step %d: %s answered %s", res.FlowID, fe.Step, fe.Party, fe.Code)
		if fe.Message != "" && !strings.Contains(fe.Message, fe.Code) {
			fmt.Fprintf(w, " (%s)", fe.Message)
		}
		fmt.Fprintln(w)
		if hint := hintFor(fe.Code); hint != "" {
			fmt.Fprintf(w, "Hint: %s\n", hint)
		}
	default:
		fmt.Fprintf(w, "Flow %s failed: %v\n", res.FlowID, err)
	}
}

// whoSignedIn names the user the miniapp got: the host's reference from step 10, with the
// demo user signed in when the fake host app minted the code. A code from --auth-code-cmd
// or --auth-code-url belongs to whoever that source signed in, which only the reference tells.
func whoSignedIn(res *sdkstub.Result) string {
	switch {
	case res.User != "" && res.Reference != "":
		return fmt.Sprintf("%s (host reference %q)", res.User, res.Reference)
	case res.User != "":
		return res.User
	case res.Reference != "":
		return fmt.Sprintf("host reference %q (the user of the auth code)", res.Reference)
	}
	return "the user of the auth code (its reference is not in the flow log)"
}

// hintFor says what usually causes an error code and where to look.
func hintFor(code string) string {
	switch code {
	case contract.CodeAccessDenied:
		return "the Dashboard credentials the platform sends (hostapp_client_id/secret, token prefix, miniapp secret_key) do not match what the backend expects"
	case contract.CodeHostappNotFound:
		return "the client_id is not a host app in the platform's Dashboard (GET /_sim/hostapps on the platform)"
	case contract.CodeMiniappNotFound:
		return "the app_id is not a miniapp in the platform's Dashboard (GET /_sim/miniapps on the platform)"
	case contract.CodeNoIntegration:
		return "the host app and miniapp have no partnership (GET /_sim/partnerships)"
	case contract.CodeEndpointURLNotSet:
		return "the Dashboard record lacks the endpoint URL the error names: set it (PUT /_sim/hostapps/{client_id} or /_sim/miniapps/{app_id} on the platform)"
	case contract.CodeUnknownError:
		return "a party failed inside (its log says why), e.g. the platform's database refusing writes (GET /_sim/storage)"
	case contract.CodeFeatureDisabledInHostapp:
		return "switch Connect on for the host app in the Dashboard (for --legacy-login: legacy_login_enabled on the host app)"
	case contract.CodeFeatureDisabledInIntegration:
		return "switch Connect on for the partnership in the Dashboard (direct_enabled for Connect Direct)"
	case contract.CodeUnexpectedResponseError:
		return "the backend gave no usable answer (the reason is above); 'boxo-sim trace --verbose' shows the exchange"
	case contract.CodeFailedToParseResponse, contract.CodeInvalidResponseContentType:
		return "the backend's answer was not a JSON object with Content-Type application/json; 'boxo-sim trace' shows the exchange"
	case contract.CodeInvalidSignature, contract.CodeSignatureValidationError:
		return "request signing is on: the secret in the Dashboard and the party's own signing_secret must be the same, and the clocks within 300 s ('boxo-sim sign' prints the headers for a request)"
	case contract.CodeMissingRequestSignatureSettings:
		return "signing_enabled is on without a signing_secret in the Dashboard or at the party"
	case contract.CodeResponseAttributeMissing:
		return "the host user lacks a field the miniapp marked required"
	case sdkstub.CodeMeFailed:
		return "the miniapp backend gave a token but its user endpoint refused it; a real miniapp may need --me-url or --skip-me"
	case sdkstub.CodeNoAuthCode:
		return "the host app could not mint an auth code: check the user's password and the host URL"
	case sdkstub.CodePlatformUnavailable:
		return "is the platform running? start the parties with 'boxo-sim up'"
	}
	return ""
}
