package main

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/boxo-sim/boxo-sim/internal/check"
)

// newCheckSigningCmd is `boxo-sim check signing`: does a backend with request signing on
// accept a well-signed platform call and refuse each bad one (PROTOCOL §7.8)?
func newCheckSigningCmd(e *env) *cobra.Command {
	var (
		rf                    reportFlags
		u, method, body, secr string
		headers               []string
	)
	c := &cobra.Command{
		Use:   "signing --url URL --signing-secret S [--body JSON] [--header 'Name: value']...",
		Short: "Check that a backend refuses each bad request signature (plan " + check.SigningPlanName + ")",
		Long: `Call one endpoint the platform calls on your backend (the host's access-token or user-data
URL, the miniapp's Get Auth Token URL) as the platform does with request signing on
(contract §7.8, boxo-sim's profile: HMAC-SHA256 over
"{timestamp}.{nonce}.{request_method}.{url}.{payload}"), and check that the backend
accepts a call signed with --signing-secret and refuses: no signature and a wrong one
with INVALID_SIGNATURE, a changed body with INVALID_SIGNATURE, a timestamp over 300 s old
and a replayed nonce with SIGNATURE_VALIDATION_ERROR.

The body and headers (--header, repeatable: the credentials and X-* headers of the
endpoint) are sent with every call; the body need not succeed, only its signature is
judged: an answer such as INVALID_AUTH_CODE counts as accepting the signature.`,
		Example: `  boxo-sim check signing --url http://127.0.0.1:8081/boxo/connect/access-token --signing-secret "$SECRET" \
      --body '{"auth_code":"x"}' --header 'Authorization: Token aG9zdGFwcC1jbGllbnQtMTpob3N0YXBwLXNlY3JldC0x'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if rf.list {
				return rf.listPlan(e.stdout, check.SigningPlanName, check.SigningPlan(), nil)
			}
			if err := required([2]string{"url", u}, [2]string{"signing-secret", secr}); err != nil {
				return err
			}
			h := http.Header{}
			for _, kv := range headers {
				k, v, ok := strings.Cut(kv, ":")
				if !ok || strings.TrimSpace(k) == "" {
					return fmt.Errorf("--header %q: give 'Name: value'", kv)
				}
				h[strings.TrimSpace(k)] = append(h[strings.TrimSpace(k)], strings.TrimSpace(v))
			}
			rep, err := check.RunSigning(cmd.Context(), check.SigningConfig{
				URL: u, Method: strings.ToUpper(method), Body: []byte(body), Header: h, Secret: secr, Timeout: rf.timeout,
			})
			if err != nil {
				return err
			}
			return rf.output(e, rep)
		},
	}
	c.Flags().StringVar(&u, "url", "", "the endpoint the platform calls on your backend")
	c.Flags().StringVar(&method, "method", http.MethodPost, "the call's method")
	c.Flags().StringVar(&body, "body", "", "the call's JSON body")
	c.Flags().StringVar(&secr, "signing-secret", "", "the request-signing secret your backend shares with the Dashboard")
	c.Flags().StringArrayVar(&headers, "header", nil, "a header sent with every call, 'Name: value' (repeatable)")
	rf.add(c)
	return c
}
