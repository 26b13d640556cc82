package main

import (
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/boxo-sim/boxo-sim/internal/admin"
	"github.com/boxo-sim/boxo-sim/internal/stack"
)

// adminToken is the token the client commands send to the parties' /_sim/ routes (PROTOCOL
// §2.13): admin_token when configured, else the one in the state file of the running up on
// the configured data directory, else none (enough for a loopback-bound stack).
func adminToken(cfg Config) string {
	if cfg.AdminToken != "" {
		return cfg.AdminToken
	}
	st, err := stack.ReadState(cfg.DataDir)
	if err != nil {
		return ""
	}
	return st.AdminToken
}

// adminClient is an HTTP client that sends the admin token to /_sim/ routes, and nowhere else.
func adminClient(cfg Config, timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: admin.Transport(nil, adminToken(cfg))}
}

// upToken is the admin token up runs with, and where it came from.
func upToken(cfg Config, src source) (token, from string) {
	if cfg.AdminToken != "" {
		return cfg.AdminToken, src["admin_token"]
	}
	return admin.NewToken(), "made at start"
}

// bindIsLoopback reports whether the bind address reaches loopback only.
func bindIsLoopback(bind string) bool {
	if strings.EqualFold(bind, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(bind, "[]"))
	return err == nil && ip.Unmap().IsLoopback()
}

// warnExposed tells the user, on stderr, what a non-loopback --bind exposes.
func warnExposed(w io.Writer, bind, stateFile string) {
	who := "every host that can reach " + bind
	if ip, err := netip.ParseAddr(strings.Trim(bind, "[]")); err == nil && ip.IsUnspecified() {
		who = "every host on every network this machine is on"
	}
	fmt.Fprintf(w, `WARNING: --bind %s is not a loopback address: %s can reach the parties.
  Their contract endpoints are open to them, as in production: sign-in, tokens, user data.
  The simulator's own routes (/_sim/: users and passwords, Dashboard URLs and secrets, faults,
  clock, flow log; and the platform's console) now require the admin token, from loopback too:
  send "Authorization: Bearer <token>". boxo-sim's commands read it from %s.
`, bind, who, stateFile)
}

// stateFileHint is where the admin token is kept, as shown to the user.
func stateFileHint(dir string) string {
	return dir + "/" + stack.StateFileName
}

// addAdminTokenFlag adds to a client command the flags that give it the admin token: the
// token itself, or the data directory of the running up whose state file holds it.
func addAdminTokenFlag(fs *pflag.FlagSet) {
	fs.String("admin-token", "", "the stack's admin token (default: the one in the state file of the up on --data-dir)")
	fs.String("data-dir", defaultConfig().DataDir, "data directory of the running 'boxo-sim up': its state file says where the stack's parties are and holds its admin token")
}

// tokenHint says how a client command gets the admin token, after a 401.
func tokenHint(status int) string {
	if status != http.StatusUnauthorized {
		return ""
	}
	return " (give --data-dir with the running up's data directory, or --admin-token / BOXO_SIM_ADMIN_TOKEN)"
}
