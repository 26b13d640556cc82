package contract

import (
	"errors"
	"net"
	"net/url"
	"os"
)

// ConnectError is an HTTP call that reached nothing at its URL: the connection was refused,
// the host is unknown or unreachable. Its text names the URL's origin and the reason, as a
// person reads it: "could not connect to http://127.0.0.1:8082 (connection refused)".
type ConnectError struct {
	Origin string // scheme://host:port of the URL called
	Reason string // "connection refused", "lookup nosuch.example: no such host", …
	Err    error
}

func (e *ConnectError) Error() string {
	return "could not connect to " + e.Origin + " (" + e.Reason + ")"
}
func (e *ConnectError) Unwrap() error { return e.Err }

// AsConnectError returns err as a *ConnectError when it is an HTTP client's failure to
// connect (a *url.Error around a failed dial), and err itself otherwise.
func AsConnectError(err error) error {
	var ue *url.Error
	var op *net.OpError
	if !errors.As(err, &ue) || !errors.As(err, &op) || op.Op != "dial" {
		return err
	}
	origin := ue.URL
	if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
		origin = u.Scheme + "://" + u.Host
	}
	reason := op.Err.Error()
	var se *os.SyscallError
	if errors.As(op.Err, &se) {
		reason = se.Err.Error() // "connection refused" without "connect: "
	}
	return &ConnectError{Origin: origin, Reason: reason, Err: err}
}
