package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/boxo-sim/boxo-sim/platform"
)

// tlsConfig is the TLS configuration for calls to HTTPS backends: the system's CAs plus
// those of ca_cert, or no verification at all with insecure_skip_verify (a warning on
// stderr). nil when neither is set: the defaults apply.
func tlsConfig(cfg Config, stderr io.Writer) (*tls.Config, error) {
	if cfg.CACert == "" && !cfg.InsecureSkipVerify {
		return nil, nil
	}
	if cfg.CACert != "" && cfg.InsecureSkipVerify {
		return nil, fmt.Errorf("give --ca-cert or --insecure-skip-verify, not both: with the CA, certificates can be verified")
	}
	if cfg.InsecureSkipVerify {
		fmt.Fprintln(stderr, "WARNING: --insecure-skip-verify: certificates of HTTPS backends are not verified; anyone on the path can read and change the calls, secrets included. Use --ca-cert FILE for anything but a throwaway test backend.")
		return &tls.Config{InsecureSkipVerify: true}, nil //nolint:gosec // asked for, with a warning
	}
	pem, err := os.ReadFile(cfg.CACert)
	if err != nil {
		return nil, fmt.Errorf("--ca-cert: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--ca-cert %s holds no PEM certificate (BEGIN CERTIFICATE): give the CA's certificate, not its key or a DER file", cfg.CACert)
	}
	return &tls.Config{RootCAs: pool}, nil
}

// outboundClient is the platform's client for its calls to relayed backends, trusting what
// tlsConfig says; nil means the platform's default.
func outboundClient(cfg Config, stderr io.Writer) (*http.Client, error) {
	tc, err := tlsConfig(cfg, stderr)
	if err != nil || tc == nil {
		return nil, err
	}
	c := platform.NewHTTPClient()
	c.Transport.(*http.Transport).TLSClientConfig = tc
	return c, nil
}
