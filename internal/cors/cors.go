// Package cors answers browsers that call the simulator's cookie-less endpoints from another
// origin (PROTOCOL §2.12): Boxo's web SDK calling the platform, a miniapp frontend calling its
// backend, a single-page app calling the authorization server.
//
// A Policy says which origins may call. Its Wrap answers preflights (OPTIONS with
// Access-Control-Request-Method) itself, before the router, and puts Access-Control-Allow-Origin
// and Access-Control-Expose-Headers on every answer of the wrapped paths, errors included.
// Credentials are never allowed: these endpoints take no cookies.
package cors

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// AllowHeaders are the request headers a browser may send (PROTOCOL §2.12).
var AllowHeaders = []string{"Content-Type", "Authorization", "X-Sim-Flow-Id"}

// ExposeHeaders are the answer headers a page's script may read.
var ExposeHeaders = []string{"X-Sim-Flow-Id"}

// MaxAge is how long a browser may cache a preflight answer.
const MaxAge = 600

// Policy is the set of origins allowed to call. The zero value and nil allow any origin.
type Policy struct {
	origins []string // normalized scheme://host[:port]; empty means any
}

// New makes a Policy from the cors_origins setting: each entry an origin such as
// http://localhost:5173. No entries, or the single entry "*", allow any origin.
func New(origins []string) (*Policy, error) {
	p := &Policy{}
	for _, o := range origins {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if o == "*" {
			if len(origins) > 1 {
				return nil, fmt.Errorf("cors_origins: %q allows any origin and cannot be combined with others", o)
			}
			return &Policy{}, nil
		}
		n, err := normalize(o)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(p.origins, n) {
			p.origins = append(p.origins, n)
		}
	}
	return p, nil
}

// Parse is New for a comma-separated list, as the flag and environment variable give it.
func Parse(list string) (*Policy, error) {
	if strings.TrimSpace(list) == "" {
		return &Policy{}, nil
	}
	return New(strings.Split(list, ","))
}

// normalize checks that o is an origin as browsers send it (scheme, host, optional port; no
// path, query or user) and returns it in lower case.
func normalize(o string) (string, error) {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("cors_origins: %q is not an origin: write scheme://host[:port], e.g. http://localhost:5173", o)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// AnyOrigin reports whether every origin is allowed.
func (p *Policy) AnyOrigin() bool { return p == nil || len(p.origins) == 0 }

// Origins lists the allowed origins; empty means any.
func (p *Policy) Origins() []string {
	if p == nil {
		return nil
	}
	return slices.Clone(p.origins)
}

// Allowed reports whether a page of origin may read the answers.
func (p *Policy) Allowed(origin string) bool {
	if origin == "" || origin == "null" && !p.AnyOrigin() {
		return false
	}
	if p.AnyOrigin() {
		return true
	}
	return slices.Contains(p.origins, strings.ToLower(origin))
}

// Wrap answers CORS for requests whose path match accepts and passes every other request
// through untouched. methods are the methods a preflight may ask for (OPTIONS is implied).
// A refused origin's preflight gets 403 with no CORS headers, so the browser stops there; its
// actual requests are served without Access-Control-Allow-Origin, so the page cannot read them.
func (p *Policy) Wrap(next http.Handler, match func(path string) bool, methods ...string) http.Handler {
	allowMethods := strings.Join(append(slices.Clone(methods), http.MethodOptions), ", ")
	allowHeaders := strings.Join(AllowHeaders, ", ")
	expose := strings.Join(ExposeHeaders, ", ")
	maxAge := strconv.Itoa(MaxAge)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !match(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		allowed := p.Allowed(origin)
		if r.Method == http.MethodOptions {
			if r.Header.Get("Access-Control-Request-Method") != "" {
				h.Add("Vary", "Access-Control-Request-Method")
				h.Add("Vary", "Access-Control-Request-Headers")
				if !allowed {
					http.Error(w, "origin not allowed by cors_origins", http.StatusForbidden)
					return
				}
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Allow-Methods", allowMethods)
				h.Set("Access-Control-Allow-Headers", allowHeaders)
				h.Set("Access-Control-Max-Age", maxAge)
			}
			h.Set("Allow", allowMethods)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if allowed {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", expose)
		}
		next.ServeHTTP(w, r)
	})
}

// Prefix matches paths under any of prefixes.
func Prefix(prefixes ...string) func(string) bool {
	return func(path string) bool {
		for _, pre := range prefixes {
			if strings.HasPrefix(path, pre) {
				return true
			}
		}
		return false
	}
}

// Paths matches exactly the given paths.
func Paths(paths ...string) func(string) bool {
	return func(path string) bool { return slices.Contains(paths, path) }
}
