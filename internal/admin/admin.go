// Package admin decides who may call the simulator's own routes (PROTOCOL §2.13): the
// /_sim/ admin API of every party and the platform's console. A caller is let in when it is
// on loopback and the party is bound to loopback, or when it presents the stack's admin
// token as "Authorization: Bearer <token>". Requests that look like a web page reaching the
// stack behind the developer's back — a rebinding Host, a cross-site Origin, a form post —
// are refused whoever sends them.
package admin

import (
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// The errors of a refused request, in the plain form of the /_sim/ routes.
const (
	CodeUnauthorized         = "unauthorized"
	CodeForbidden            = "forbidden"
	CodeUnsupportedMediaType = "unsupported_media_type"
)

// NewToken returns a fresh admin token: 32 random bytes, base64url.
func NewToken() string { return contract.RandomToken() }

// Guard admits callers to one party's protected routes. Build it with NewGuard.
type Guard struct {
	token           string
	boundIP         netip.Addr // the address the party listens on; unspecified for 0.0.0.0 / ::
	boundToLoopback bool
	log             *slog.Logger
}

// NewGuard returns the guard of a party listening on bound (its listener's address). token
// is the stack's admin token; "" means there is none, so only loopback callers of a
// loopback-bound party get in. log may be nil.
func NewGuard(token string, bound net.Addr, log *slog.Logger) *Guard {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	g := &Guard{token: token, log: log}
	if ip, ok := addrIP(bound); ok {
		g.boundIP = ip
		g.boundToLoopback = ip.IsLoopback()
	}
	return g
}

func addrIP(a net.Addr) (netip.Addr, bool) {
	if a == nil {
		return netip.Addr{}, false
	}
	if ta, ok := a.(*net.TCPAddr); ok {
		ip, ok := netip.AddrFromSlice(ta.IP)
		return ip.Unmap(), ok
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

// BoundToLoopback reports whether the party listens on a loopback address only.
func (g *Guard) BoundToLoopback() bool { return g.boundToLoopback }

// Wrap returns a handler that checks every request for which protected returns true and
// passes the others to next untouched.
func (g *Guard) Wrap(next http.Handler, protected func(*http.Request) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if protected(r) {
			if e := g.Check(r); e != nil {
				g.log.DebugContext(r.Context(), "admin request refused", "method", r.Method, "path", r.URL.Path,
					"remote", r.RemoteAddr, "host", r.Host, "reason", e.Message)
				refuse(w, e)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// Check returns nil when r may reach a protected route, else the refusal to answer:
//   - 403 for a Host that is neither the bound address, localhost nor a loopback literal,
//     unless the admin token is presented (a rebinding page cannot know it);
//   - 401 without the admin token, unless the caller is on loopback and the party is bound
//     to loopback (a present but wrong token is ignored for such a caller);
//   - 403 for a state-changing request with a foreign Origin or Sec-Fetch-Site: cross-site;
//   - 415 for a state-changing request whose body is not declared as JSON.
func (g *Guard) Check(r *http.Request) *contract.Error {
	tokenOK := g.tokenMatches(r)
	if !tokenOK && g.boundToLoopback && !g.hostAllowed(r.Host) {
		return &contract.Error{Code: CodeForbidden, Status: http.StatusForbidden,
			Message: "Host " + quote(r.Host) + " is not this party's address: the simulator's own routes answer only to localhost, a loopback address or the address they are bound to"}
	}
	if !tokenOK && !(g.boundToLoopback && remoteIsLoopback(r.RemoteAddr)) {
		msg := "the simulator's own routes need the stack's admin token (Authorization: Bearer <token>) when the party listens beyond loopback; boxo-sim's commands read it from the state file in up's data directory"
		if _, has := bearer(r); has {
			msg = "the admin token does not match this stack's"
		}
		return &contract.Error{Code: CodeUnauthorized, Status: http.StatusUnauthorized, Message: msg,
			Header: http.Header{"Www-Authenticate": {`Bearer realm="boxo-sim"`}}}
	}
	if !stateChanging(r.Method) {
		return nil
	}
	if site := r.Header.Get("Sec-Fetch-Site"); strings.EqualFold(site, "cross-site") {
		return &contract.Error{Code: CodeForbidden, Status: http.StatusForbidden,
			Message: "cross-site requests may not change the simulator (Sec-Fetch-Site: cross-site)"}
	}
	if o := r.Header.Get("Origin"); o != "" && !sameOrigin(o, r.Host) {
		return &contract.Error{Code: CodeForbidden, Status: http.StatusForbidden,
			Message: "requests from origin " + quote(o) + " may not change the simulator: only its own pages and non-browser clients may"}
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		if r.ContentLength != 0 {
			return &contract.Error{Code: CodeUnsupportedMediaType, Status: http.StatusUnsupportedMediaType,
				Message: "a request body to the simulator's own routes must be sent with Content-Type: application/json"}
		}
		return nil
	}
	if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return &contract.Error{Code: CodeUnsupportedMediaType, Status: http.StatusUnsupportedMediaType,
			Message: "the simulator's own routes take JSON only (Content-Type: application/json), not " + quote(ct)}
	}
	return nil
}

func (g *Guard) tokenMatches(r *http.Request) bool {
	if g.token == "" {
		return false
	}
	t, ok := bearer(r)
	return ok && contract.Equal(t, g.token)
}

// bearer returns the credential of an "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	return contract.SchemeCredential(r.Header.Get("Authorization"), "Bearer")
}

func (g *Guard) hostAllowed(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	return ip.IsLoopback() || (g.boundIP.IsValid() && !g.boundIP.IsUnspecified() && ip == g.boundIP)
}

func remoteIsLoopback(remoteAddr string) bool {
	host := remoteAddr
	if h, _, err := net.SplitHostPort(remoteAddr); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

func stateChanging(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// sameOrigin reports whether the Origin header names the party itself (scheme http or
// https, host and port as in the Host header).
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return false // includes "null"
	}
	return strings.EqualFold(u.Host, host)
}

func quote(s string) string {
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return `"` + s + `"`
}

func refuse(w http.ResponseWriter, e *contract.Error) {
	for k, vs := range e.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	contract.WriteJSON(w, e.Status, map[string]string{"error": e.Code, "error_description": e.Message})
}

// Transport returns a RoundTripper that adds "Authorization: Bearer <token>" to requests for
// the simulator's own routes (paths under /_sim/) that carry no Authorization yet, and sends
// everything through base (nil means http.DefaultTransport). With token "" it returns base.
// Contract calls never get the token, so it cannot leak to a real backend.
func Transport(base http.RoundTripper, token string) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if token == "" {
		return base
	}
	return &transport{base: base, token: token}
}

type transport struct {
	base  http.RoundTripper
	token string
}

func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if !IsSimPath(r.URL.Path) || r.Header.Get("Authorization") != "" {
		return t.base.RoundTrip(r)
	}
	r2 := r.Clone(r.Context())
	r2.Header.Set("Authorization", "Bearer "+t.token)
	return t.base.RoundTrip(r2)
}

// CloseIdleConnections closes the idle connections of the underlying transport.
func (t *transport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// IsSimPath reports whether path is one of the simulator's own routes (/_sim and below).
func IsSimPath(path string) bool {
	return path == "/_sim" || strings.HasPrefix(path, "/_sim/")
}

// ShowSecretsQuery is the query a GET of a /_sim/ record sends to have its secrets shown in
// full instead of masked ('boxo-sim export --with-secrets'); only admitted callers reach it.
const ShowSecretsQuery = "secrets=show"

// ShowSecrets reports whether a GET of a /_sim/ record asks for its secrets in full
// (?secrets=show); absent or "masked" masks them, and any other value is refused, so a typo
// never shows a masked page that looks like the full one.
func ShowSecrets(r *http.Request) (bool, error) {
	switch v := r.URL.Query().Get("secrets"); v {
	case "", "masked":
		return false, nil
	case "show":
		return true, nil
	default:
		return false, &contract.Error{Code: "invalid_request", Message: fmt.Sprintf("secrets: must be masked (the default) or show, not %q", v)}
	}
}
