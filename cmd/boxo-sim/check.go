package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/boxo-sim/boxo-sim/internal/check"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/stack"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

func newCheckCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "check",
		Short: "Check your miniapp or host-app backend against the Boxo Connect contract",
		Long: `Play the Boxo platform against your real backend and report, check by check, where it
breaks the contract (boxo-sim contract). Each role has a named, versioned plan of positive and
negative checks; each check prints PASS, WARN, FAIL or SKIP with the rule it checks and
the evidence: the requests sent and the answers got, secrets and tokens masked.

WARN marks a recommendation not followed, or a rule the checker cannot observe from
outside (say so with --me-url for a miniapp).

Exit status: 0 when no check FAILs, 1 when a check FAILs, 2 on a usage or setup error
(a missing or invalid flag, an unwritable --junit file): nothing was checked.`,
		Example: `  boxo-sim check miniapp --auth-token-url http://127.0.0.1:8083/boxo/auth-token --app-id app16973 \
      --miniapp-secret miniapp-secret-1
  boxo-sim check hostapp --access-token-url https://api.example.com/boxo/access-token \
      --user-data-url https://api.example.com/boxo/user-data --hostapp-client-id boxo --hostapp-secret "$SECRET" \
      --auth-code-cmd './mint-code.sh test-user'`,
		Args: cobra.NoArgs,
		RunE: groupHelp,
	}
	c.AddCommand(newCheckMiniappCmd(e), newCheckHostappCmd(e), newCheckDirectCmd(e), newCheckSigningCmd(e), newAuthCodeCmd(e))
	return c
}

// reportFlags are the output flags both plans share.
type reportFlags struct {
	asJSON, verbose, list, strict bool
	junit                         string
	timeout                       time.Duration
}

func (f *reportFlags) add(c *cobra.Command) {
	c.Flags().BoolVar(&f.asJSON, "json", false, "print the report (with --list: the plan) as JSON instead of text")
	c.Flags().StringVar(&f.junit, "junit", "", "also write the report as JUnit XML to this file")
	c.Flags().BoolVarP(&f.verbose, "verbose", "v", false, "show the full evidence of passing checks too")
	c.Flags().BoolVar(&f.list, "list", false, "list the plan's checks and exit")
	c.Flags().DurationVar(&f.timeout, "call-timeout", check.DefaultTimeout, "how long each call may take (the platform waits 10s)")
	renamedFlag(c.Flags(), "timeout", "call-timeout")
	c.Flags().BoolVar(&f.strict, "warn-as-failure", false, "a WARN fails the run too (exit 1, a <failure> in JUnit)")
	c.Flags().BoolVar(&f.strict, "strict", false, "the same as --warn-as-failure")
}

// output prints the report and writes the JUnit file; a FAIL (and with --warn-as-failure a
// WARN) becomes exit status 1.
func (f *reportFlags) output(e *env, rep *check.Report) error {
	if f.junit != "" {
		if err := writeFile(f.junit, func(w io.Writer) error { return check.WriteJUnit(w, rep, f.strict) }); err != nil {
			return fmt.Errorf("write --junit %s: %w", f.junit, err)
		}
	}
	var err error
	if f.asJSON {
		err = check.WriteJSON(e.stdout, rep)
	} else {
		err = check.WriteText(e.stdout, rep, f.verbose)
	}
	if err != nil {
		return err
	}
	if len(rep.SetupErrors) > 0 {
		// Nothing was judged that the setup kept from running: not a verdict on the backend.
		fmt.Fprintf(e.stderr, "boxo-sim: %s\n", rep.SetupErrors[0])
		return exitError{code: exitUsage}
	}
	if rep.Failed() || (f.strict && rep.FailedStrictly()) {
		return exitError{code: exitFailed}
	}
	return nil
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// listPlan prints a plan's checks for --list, as text or with --json as {"plan", "checks"};
// encrypted are the checks --user-data-key adds (miniapp plans), "with_user_data_key" in JSON.
func (f *reportFlags) listPlan(w io.Writer, name string, plan, encrypted []check.Check) error {
	if f.asJSON {
		return printIndentedJSON(w, struct {
			Plan      string        `json:"plan"`
			Checks    []check.Check `json:"checks"`
			Encrypted []check.Check `json:"with_user_data_key,omitempty"`
		}{name, plan, encrypted})
	}
	fmt.Fprintf(w, "Plan %s:\n", name)
	for _, c := range plan {
		fmt.Fprintf(w, "  %-26s %s  [%s]\n", c.ID, c.Title, c.Rule)
	}
	if len(encrypted) > 0 {
		fmt.Fprintln(w, "With --user-data-key, also:")
		for _, c := range encrypted {
			fmt.Fprintf(w, "  %-26s %s  [%s]\n", c.ID, c.Title, c.Rule)
		}
	}
	return nil
}

// required says which required flags are missing, with what to give.
func required(flags ...[2]string) error {
	var missing []string
	for _, f := range flags {
		if f[1] == "" {
			missing = append(missing, "--"+f[0])
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s (see --help for an example)", strings.Join(missing, ", "))
	}
	return nil
}

func newCheckMiniappCmd(e *env) *cobra.Command {
	var (
		rf                                             reportFlags
		url, appID, secret, client, other, meURL, plan string
		userDataKey                                    string
		concurrency, rounds                            int
	)
	c := &cobra.Command{
		Use:   "miniapp --auth-token-url URL --app-id ID --miniapp-secret S",
		Short: "Check a miniapp backend's Get Auth Token endpoint (plan " + check.MiniappPlanName + ")",
		Long: `Call your miniapp backend's Get Auth Token endpoint as the Boxo platform does at step 10
(POST with Authorization: Basic base64(app_id:secret_key), X-Miniapp-App-ID and
X-Hostapp-Client-ID) and check its answers against what Boxo asks of a miniapp: a valid
request gets auth_token; the same reference twice is one user, and the same reference
from two host apps two users; wrong credentials, missing headers and invalid user data get
an error_code of Boxo's list and create no user; custom_attributes come back as sent; the
token expires; every answer is HTTP 200 JSON within 10 s; concurrent first logins of one
reference make one user, over enough rounds to catch a race that shows once in seven.

Any code of Boxo's published list (boxo-sim contract 5.1) is conformant; a check passes
with the code the contract names for the case and notes another one as INFO. A user with
neither e-mail nor phone may be accepted or refused: the platform enforces that rule.
When a valid request is refused, the checks that need a login are skipped as blocked,
and the report's first line says what to fix.

The checks create users whose references start with "boxo-sim-check-": point it at a
test instance. Users are told apart by the id on GET --me-url when given, else by the
auth_token's sub, user_id, uid or id claim, decoded without verifying the signature;
created (boxo-sim's own field) is used when the backend reports it and is "unknown"
otherwise. With --me-url the checker also sees the user's fields, which is how it tells
that a refused request created no user.

With --user-data-key (or BOXO_SIM_USER_DATA_KEY), the key your miniapp decrypts encrypted
user data with (contract §7.2), the encrypted checks run too, with encrypted bodies only:
encrypted user_data in both base64 alphabets is accepted; another key, short input, a
partial block, bad padding and a missing reference are refused with INVALID_USER_DATA and
create no user.`,
		Example: `  boxo-sim check miniapp --auth-token-url http://127.0.0.1:8083/boxo/auth-token --app-id app16973 --miniapp-secret miniapp-secret-1
  boxo-sim check miniapp --auth-token-url https://mini.example.com/boxo/auth-token --app-id app85076 \
      --miniapp-secret "$MINIAPP_SECRET" --me-url https://mini.example.com/api/me --junit check.xml
  boxo-sim check miniapp --auth-token-url http://127.0.0.1:8083/boxo/auth-token --app-id app16973 \
      --miniapp-secret miniapp-secret-1 --user-data-key "$USER_DATA_KEY"
  boxo-sim check miniapp --list`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if rf.list {
				name := firstSet(plan, check.MiniappPlanName)
				checks, ok := check.MiniappPlanOf(name)
				if !ok {
					return fmt.Errorf("--plan %q: use %s", plan, strings.Join(check.MiniappPlans, " or "))
				}
				return rf.listPlan(e.stdout, name, checks, check.EncryptedPlan())
			}
			if !cmd.Flags().Changed("user-data-key") {
				userDataKey = e.getenv("BOXO_SIM_USER_DATA_KEY")
			}
			if err := required([2]string{"auth-token-url", url}, [2]string{"app-id", appID}, [2]string{"miniapp-secret", secret}); err != nil {
				return err
			}
			hc, err := checkClient(cmd, e)
			if err != nil {
				return err
			}
			rep, err := check.RunMiniapp(cmd.Context(), check.MiniappConfig{
				Plan: plan, URL: url, AppID: appID, Secret: secret, ClientID: client, OtherClientID: other, MeURL: meURL,
				Timeout: rf.timeout, Concurrency: concurrency, Rounds: rounds, HTTPClient: hc, UserDataKey: userDataKey,
			})
			if err != nil {
				return err
			}
			return rf.output(e, rep)
		},
	}
	c.Flags().StringVar(&url, "auth-token-url", "", "the miniapp backend's Get Auth Token URL")
	c.Flags().StringVar(&appID, "app-id", "", "the miniapp's app_id (Basic user name and X-Miniapp-App-ID)")
	c.Flags().StringVar(&secret, "miniapp-secret", "", "the miniapp's secret_key, as entered in the Boxo Dashboard")
	renamedFlag(c.Flags(), "url", "auth-token-url")
	renamedFlag(c.Flags(), "secret", "miniapp-secret")
	c.Flags().StringVar(&client, "client-id", demo.ClientID, "the host app's client_id, sent as X-Hostapp-Client-ID")
	c.Flags().StringVar(&meURL, "me-url", "", "the backend's GET /api/me, to tell users apart and see their fields (contract §3.15)")
	c.Flags().IntVar(&concurrency, "concurrency", 8, "simultaneous first logins in each round of concurrent-first-login")
	c.Flags().IntVar(&rounds, "rounds", check.DefaultRounds, "rounds of concurrent-first-login (30 catch a 1-in-7 race with 99% probability)")
	c.Flags().StringVar(&other, "other-client-id", "777777", "a second host app's client_id, for hostapps-apart")
	c.Flags().StringVar(&plan, "plan", check.MiniappPlanName, "the plan to run: "+strings.Join(check.MiniappPlans, " or "))
	c.Flags().StringVar(&userDataKey, "user-data-key", "", "the key the miniapp decrypts encrypted user data with (contract §7.2): runs the encrypted checks too")
	addTLSFlags(c.Flags())
	rf.add(c)
	return c
}

func newCheckHostappCmd(e *env) *cobra.Command {
	var (
		rf                                                reportFlags
		tokenURL, dataURL, hostappClientID, secret        string
		prefix, codeCmd, codeURL, appID, clientID, method string
		requiredFields, refreshURL, plan                  string
	)
	c := &cobra.Command{
		Use:   "hostapp --access-token-url URL --user-data-url URL --hostapp-client-id ID --hostapp-secret S --auth-code-cmd CMD",
		Short: "Check a host app's Connect endpoints (plan " + check.HostappPlanName + ")",
		Long: `Call your host backend's access-token and user-data endpoints as the Boxo platform does at
steps 6 and 8 (Authorization: <prefix> base64(hostapp_client_id:hostapp_secret_key), then
<prefix> <access_token>) and check its answers: a fresh code gets access_token, a code
used before or unknown gets INVALID_AUTH_CODE, a wrong secret or prefix gets an
error_code, the token gets user_data with a reference of at most 100 characters and an
email or phone, an unknown token gets INVALID_ACCESS_TOKEN, X-Hostapp-Client-ID is not
required, and every answer is HTTP 200 JSON within 10 s. hostapp-v2 adds malformed
bodies (still 200 with error_code), concurrent redemption of one code (exactly one token),
refresh with rotation (--refresh-token-url), the token's binding to its miniapp and the
scheme word's case; --plan hostapp-v1 runs the earlier plan.

A check whose precondition failed is SKIP "blocked by <check>: <reason>" and the first
failure names its likely cause: refused credentials (--hostapp-client-id, --hostapp-secret,
--token-prefix),
HTTP 404 (no route at that URL), HTTP 405 (the method; --user-data-method), an HTML page
(not the API), TLS (--ca-cert). --required-fields checks the test user's user_data for
the fields your miniapps require.

Only your system can mint an auth code, so give a source of fresh ones for a test user:
--auth-code-cmd runs a command (sh -c, 30 s at most) whose standard output is the code;
--auth-code-url is GET and answers the code as text or JSON {"code"} or {"auth_code"}.
hostapp-v2 asks for seven codes (hostapp-v1 four). Against a boxo-sim host app,
'boxo-sim check auth-code --user carol' prints one. A code source that fails is a setup
error: its checks are SKIP and the exit status is 2, as for a backend that cannot be
reached at all (connection refused, TLS).`,
		Example: `  boxo-sim check hostapp \
      --access-token-url http://127.0.0.1:8081/boxo/connect/access-token \
      --user-data-url http://127.0.0.1:8081/boxo/connect/user-data \
      --hostapp-client-id hostapp-client-1 --hostapp-secret hostapp-secret-1 \
      --auth-code-cmd 'boxo-sim check auth-code --user carol'
  boxo-sim check hostapp --access-token-url https://api.example.com/boxo/token --user-data-url https://api.example.com/boxo/user \
      --hostapp-client-id boxo --hostapp-secret "$SECRET" --token-prefix Bearer --auth-code-url https://test.example.com/mint-code --json
  boxo-sim check hostapp --access-token-url https://localhost:3443/api/boxo/token --user-data-url https://localhost:3443/api/boxo/me \
      --user-data-method POST --refresh-token-url https://localhost:3443/api/boxo/refresh --ca-cert ./dev-ca.pem \
      --required-fields email,phone --hostapp-client-id boxo --hostapp-secret "$SECRET" --auth-code-cmd './mint-code.sh'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if rf.list {
				name := firstSet(plan, check.HostappPlanName)
				checks, ok := check.HostappPlanOf(name)
				if !ok {
					return fmt.Errorf("--plan %q: use %s", plan, strings.Join(check.HostappPlans, " or "))
				}
				return rf.listPlan(e.stdout, name, checks, nil)
			}
			if hostappClientID == "" && cmd.Flags().Changed("client-id") {
				return fmt.Errorf("missing --hostapp-client-id: --client-id is the host app's client_id at Boxo now (sent as X-Hostapp-Client-ID, formerly --boxo-client-id); give the hostapp_client_id as --hostapp-client-id")
			}
			if err := required([2]string{"access-token-url", tokenURL}, [2]string{"user-data-url", dataURL},
				[2]string{"hostapp-client-id", hostappClientID}, [2]string{"hostapp-secret", secret}); err != nil {
				return err
			}
			codes, err := authCodeSource(codeCmd, codeURL)
			if err != nil {
				return err
			}
			if codes == nil {
				return fmt.Errorf("missing --auth-code-cmd or --auth-code-url: only your system can mint an auth code (see --help)")
			}
			hc, err := checkClient(cmd, e)
			if err != nil {
				return err
			}
			fields, err := parseRequiredFields(requiredFields)
			if err != nil {
				return fmt.Errorf("--required-fields: %w", err)
			}
			rep, err := check.RunHostapp(cmd.Context(), check.HostappConfig{
				AccessTokenURL: tokenURL, UserDataURL: dataURL, ClientID: hostappClientID, Secret: secret, Prefix: prefix,
				AuthCode: codes, AppID: appID, PlatformClientID: clientID, UserDataMethod: method, Timeout: rf.timeout,
				HTTPClient: hc, RequiredFields: fields, RefreshTokenURL: refreshURL, Plan: plan,
			})
			if err != nil {
				return err
			}
			return rf.output(e, rep)
		},
	}
	c.Flags().StringVar(&tokenURL, "access-token-url", "", "the host backend's access token URL (step 6)")
	c.Flags().StringVar(&dataURL, "user-data-url", "", "the host backend's user data URL (step 8)")
	c.Flags().StringVar(&hostappClientID, "hostapp-client-id", "", "hostapp_client_id, as entered in the Boxo Dashboard")
	c.Flags().StringVar(&secret, "hostapp-secret", "", "hostapp_secret_key, as entered in the Boxo Dashboard")
	c.Flags().StringVar(&prefix, "token-prefix", demo.TokenPrefix, "the access token prefix (scheme word of Authorization)")
	renamedFlag(c.Flags(), "secret", "hostapp-secret")
	renamedFlag(c.Flags(), "prefix", "token-prefix")
	c.Flags().StringVar(&codeCmd, "auth-code-cmd", "", "command that prints a fresh auth code (run with sh -c)")
	c.Flags().StringVar(&codeURL, "auth-code-url", "", "URL whose GET answers a fresh auth code")
	c.Flags().StringVar(&appID, "app-id", demo.AppID, "sent as X-Miniapp-App-ID")
	c.Flags().StringVar(&clientID, "client-id", demo.ClientID, "the host app's client_id at Boxo, sent as X-Hostapp-Client-ID (not the hostapp_client_id)")
	renamedFlag(c.Flags(), "boxo-client-id", "client-id")
	c.Flags().StringVar(&method, "user-data-method", "GET", "method of the user data call: GET, or POST with {}")
	c.Flags().StringVar(&refreshURL, "refresh-token-url", "", "the host backend's refresh token URL (contract §7.1): checks refresh and rotation")
	c.Flags().StringVar(&plan, "plan", check.HostappPlanName, "the plan to run: "+strings.Join(check.HostappPlans, " or "))
	c.Flags().StringVar(&requiredFields, "required-fields", "", "user fields your miniapps require (email, phone, first_name, last_name, custom_attributes): the test user's user_data is checked for them")
	addTLSFlags(c.Flags())
	rf.add(c)
	return c
}

// checkClient is the checker's HTTP client for --ca-cert / --insecure-skip-verify; nil means
// the checker's own.
func checkClient(cmd *cobra.Command, e *env) (*http.Client, error) {
	var cfg Config
	cfg.CACert, _ = cmd.Flags().GetString("ca-cert")
	cfg.InsecureSkipVerify, _ = cmd.Flags().GetBool("insecure-skip-verify")
	tc, err := tlsConfig(cfg, e.stderr)
	if err != nil || tc == nil {
		return nil, err
	}
	return &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, TLSClientConfig: tc,
		MaxIdleConnsPerHost: 8, IdleConnTimeout: 30 * time.Second}}, nil
}

// authCodeSource builds the AuthCodeFunc of --auth-code-cmd or --auth-code-url; nil when
// neither is given.
func authCodeSource(cmd, u string) (check.AuthCodeFunc, error) {
	switch {
	case cmd != "" && u != "":
		return nil, fmt.Errorf("give either --auth-code-cmd or --auth-code-url, not both")
	case cmd != "":
		return check.CommandAuthCode(cmd), nil
	case u != "":
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return nil, fmt.Errorf("--auth-code-url %q must start with http:// or https://", u)
		}
		return check.URLAuthCode(u, nil), nil
	}
	return nil, nil
}

func newAuthCodeCmd(e *env) *cobra.Command {
	var user, password string
	c := &cobra.Command{
		Use:   "auth-code",
		Short: "Print a fresh auth code from a boxo-sim host app (for --auth-code-cmd)",
		Long: `Sign a user in to a simulated host app and print one fresh auth code for the Boxo-facing
OAuth client, as the host app does at step 5 (contract §6.10). It is the auth code
source for 'boxo-sim check hostapp' against a boxo-sim host app; a real host needs a
command of its own. The host app is found like every command finds it: the stack of
--platform-url, else the 'boxo-sim up' running on --data-dir (its state file), else the
local ports; --hostapp-url names it directly (it must be that stack's host app).

Exit status: 0 with the code printed, 1 when the host app gives no code, 2 on a usage error.`,
		Example: `  boxo-sim check auth-code
  boxo-sim check auth-code --user bob --hostapp-url http://127.0.0.1:9081`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, ok := demo.FindUser(user); !ok && password == "" {
				return fmt.Errorf("--user %q is not a demo user (%s): give its --password", user, demoUserNames())
			}
			cfg, src, err := loadConfig(cmd.Flags(), e.getenv)
			if err != nil {
				return err
			}
			found, err := findStack(cmd.Context(), cfg, src)
			if err != nil {
				return err
			}
			hostURL := found.url(stack.Hostapp)
			switch {
			case hostURL == "":
				return fmt.Errorf("the stack found through %s has no host app: give --hostapp-url", found.from)
			case found.parties[stack.Hostapp].Relayed:
				return fmt.Errorf("the host app of the stack found through %s is a real backend (%s): only your system can mint its auth codes (give --auth-code-cmd or --auth-code-url to the command that needs them)", found.from, hostURL)
			}
			// The SDK is only used for its fake host app; its platform is never called.
			sdk, err := sdkstub.New(sdkstub.Config{PlatformURL: "http://" + demo.PlatformAddr, HostURL: hostURL})
			if err != nil {
				return fmt.Errorf("--hostapp-url: %w", err)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
			defer cancel()
			code, err := sdk.HostAuthCode(user, password)(ctx)
			if err != nil {
				fmt.Fprintf(e.stderr, "boxo-sim: no auth code from the host app at %s: %v\n", hostURL, err)
				return exitError{code: exitFailed}
			}
			fmt.Fprintln(e.stdout, code)
			return nil
		},
	}
	c.Flags().String("hostapp-url", "", "URL of the boxo-sim host app (default: the host app of the up running on --data-dir, else the local one)")
	c.Flags().String("platform-url", "", "URL of a running platform whose host app to use")
	addAdminTokenFlag(c.Flags())
	c.Flags().StringVar(&user, "user", demo.DefaultUser, "host user to sign in as ("+demoUserNames()+")")
	c.Flags().StringVar(&password, "password", "", "the user's password (default: the demo user's)")
	return c
}
