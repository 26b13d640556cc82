package contract

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
)

// TLSProblem describes a failed HTTPS handshake in the words a user acts on: what is wrong
// with the server's certificate and how to make boxo-sim trust it. "" when err is not a
// TLS failure.
func TLSProblem(err error) string {
	const trust = "give the CA that signed it with --ca-cert FILE (or --insecure-skip-verify for a throwaway test backend)"
	var (
		unknown   x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		verifyErr *tls.CertificateVerificationError
		recordErr tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &unknown):
		return "TLS: the server's certificate is signed by an authority this machine does not trust (self-signed?): " + trust
	case errors.As(err, &hostname):
		return fmt.Sprintf("TLS: the server's certificate is not valid for %s (%v): use the host name it was issued for", hostname.Host, hostname)
	case errors.As(err, &invalid):
		return fmt.Sprintf("TLS: the server's certificate is not valid (%v)", invalid)
	case errors.As(err, &verifyErr):
		return fmt.Sprintf("TLS: the server's certificate was refused (%v): %s", verifyErr.Err, trust)
	case errors.As(err, &recordErr):
		return "TLS: the server does not speak HTTPS on that port: use http://"
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return "TLS: the server answered plain HTTP: use http://"
	}
	return ""
}
