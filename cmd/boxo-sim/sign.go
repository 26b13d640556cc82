package main

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/boxo-sim/boxo-sim/internal/signing"
)

// newSignCmd is `boxo-sim sign`: the signing headers of one request under the simulator's
// profile (PROTOCOL §7.8), for a team debugging its verifier or signer.
func newSignCmd(e *env) *cobra.Command {
	var (
		method, secret, body, bodyFile, nonce, timestamp string
		asJSON                                           bool
	)
	c := &cobra.Command{
		Use:   "sign URL",
		Short: "Print the request-signing headers for one request (contract §7.8)",
		Long: `Print the headers boxo-sim's request signing puts on a request, and the payload it signs:
HMAC-SHA256 with --signing-secret over "{timestamp}.{nonce}.{request_method}.{url}.{payload}", where
{url} is the full request URL and {payload} the raw body (empty for GET), the signature in
standard base64. A receiver refuses a missing or wrong signature with INVALID_SIGNATURE and a
timestamp more than 300 s away or a nonce seen in the last 10 minutes with
SIGNATURE_VALIDATION_ERROR.

Give --timestamp and --nonce to reproduce a signature you received; by default the
timestamp is now and the nonce fresh. The secret is never printed.`,
		Example: `  boxo-sim sign --signing-secret "$SECRET" --body '{"auth_code":"abc"}' http://127.0.0.1:8081/boxo/connect/access-token
  boxo-sim sign --signing-secret "$SECRET" --method GET http://127.0.0.1:8081/boxo/connect/user-data
  boxo-sim sign --signing-secret "$SECRET" --body-file body.json --timestamp 1893488400 --nonce 00112233445566778899aabbccddeeff URL`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			u, err := url.Parse(args[0])
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("URL %q: give the full request URL, e.g. http://127.0.0.1:8081/boxo/connect/access-token", args[0])
			}
			if secret == "" {
				secret = e.getenv("BOXO_SIM_SIGNING_SECRET")
			}
			if secret == "" {
				return fmt.Errorf("--signing-secret (or BOXO_SIM_SIGNING_SECRET) is required")
			}
			method = strings.ToUpper(method)
			if method == "" || strings.ContainsAny(method, " \t") {
				return fmt.Errorf("--method %q is not an HTTP method", method)
			}
			if body != "" && bodyFile != "" {
				return fmt.Errorf("give --body or --body-file, not both")
			}
			raw := []byte(body)
			if bodyFile != "" {
				var err error
				if raw, err = os.ReadFile(bodyFile); err != nil {
					return fmt.Errorf("--body-file: %w", err)
				}
			}
			at := time.Now()
			if timestamp != "" {
				sec, err := strconv.ParseInt(timestamp, 10, 64)
				if err != nil {
					return fmt.Errorf("--timestamp %q: give Unix seconds", timestamp)
				}
				at = time.Unix(sec, 0)
			}
			h := signing.Sign(secret, method, args[0], raw, at, nonce)
			payload := signing.Payload(h.Timestamp, h.Nonce, method, args[0], raw)
			if asJSON {
				return printIndentedJSON(e.stdout, map[string]any{
					"headers": map[string]string{signing.HeaderSignature: h.Signature, signing.HeaderTimestamp: h.Timestamp, signing.HeaderNonce: h.Nonce},
					"payload": payload,
				})
			}
			fmt.Fprintf(e.stdout, "%s: %s\n%s: %s\n%s: %s\n", signing.HeaderSignature, h.Signature, signing.HeaderTimestamp, h.Timestamp, signing.HeaderNonce, h.Nonce)
			fmt.Fprintf(e.stdout, "\nSigned payload (HMAC-SHA256, %d bytes):\n%s\n", len(payload), payload)
			return nil
		},
	}
	c.Flags().StringVar(&method, "method", http.MethodPost, "the request's HTTP method")
	c.Flags().StringVar(&secret, "signing-secret", "", "the request-signing secret, the HMAC key (default: $BOXO_SIM_SIGNING_SECRET)")
	renamedFlag(c.Flags(), "secret", "signing-secret")
	c.Flags().StringVar(&body, "body", "", "the raw request body")
	c.Flags().StringVar(&bodyFile, "body-file", "", "read the raw request body from a file")
	c.Flags().StringVar(&timestamp, "timestamp", "", "Unix seconds to sign at (default: now)")
	c.Flags().StringVar(&nonce, "nonce", "", "the nonce (default: 16 random bytes as hex)")
	c.Flags().BoolVar(&asJSON, "json", false, "print the headers and payload as JSON")
	return c
}
