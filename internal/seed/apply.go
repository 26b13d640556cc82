package seed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/fault"
	"github.com/boxo-sim/boxo-sim/internal/strictyaml"
)

// Stack is where a running stack's parties are, and the client that reaches their /_sim/
// routes (with the admin token: admin.Transport). A URL is "" for a party without an admin
// API here (not started, or a real backend the platform relays to).
type Stack struct {
	HostURL, PlatformURL, MiniappURL string
	// MiniappPageURL is where the miniapp's page is loaded from, when not at MiniappURL (the
	// stack puts it on another site: stack.SiteApart).
	MiniappPageURL string
	Client         *http.Client
}

func (s Stack) pageURL() string {
	if s.MiniappPageURL != "" {
		return s.MiniappPageURL
	}
	return s.MiniappURL
}

// resolve makes a path in a seed file (a URL field written as /boxo/...) a URL on the party
// at base; an absolute URL or "" stays as it is.
func resolve(v *string, base, party string) (*string, error) {
	if v == nil || !isPath(*v) {
		return v, nil
	}
	if base == "" {
		return nil, fmt.Errorf("%q is a path on the %s, which is not started here: give an absolute URL", *v, party)
	}
	u := strings.TrimRight(base, "/") + *v
	return &u, nil
}

// relative is resolve's inverse: a URL on the party at base becomes its path, so an export
// applies to a stack on other ports.
func relative(v *string, base string) *string {
	if v == nil || base == "" {
		return v
	}
	if rest, ok := strings.CutPrefix(*v, strings.TrimRight(base, "/")); ok && strings.HasPrefix(rest, "/") {
		return &rest
	}
	return v
}

// resolved is the record with its paths made URLs on the stack's parties.
func (h DashboardHostapp) resolved(st Stack) (DashboardHostapp, error) {
	var err error
	for _, f := range []**string{&h.AccessTokenURL, &h.UserDataURL, &h.RefreshTokenURL} {
		if *f, err = resolve(*f, st.HostURL, contract.PartyHostapp); err != nil {
			return h, err
		}
	}
	return h, nil
}

func (m DashboardMiniapp) resolved(st Stack) (DashboardMiniapp, error) {
	var err error
	if m.AuthTokenURL, err = resolve(m.AuthTokenURL, st.MiniappURL, contract.PartyMiniapp); err != nil {
		return m, err
	}
	m.URL, err = resolve(m.URL, st.pageURL(), contract.PartyMiniapp)
	return m, err
}

func (c Client) resolved(st Stack) (Client, error) {
	if c.RedirectURIs == nil {
		return c, nil
	}
	uris := make([]string, len(*c.RedirectURIs))
	for i, u := range *c.RedirectURIs {
		r, err := resolve(&u, st.HostURL, contract.PartyHostapp)
		if err != nil {
			return c, err
		}
		uris[i] = *r
	}
	c.RedirectURIs = &uris
	return c, nil
}

// URL is the base URL of a party, "" when it has no admin API here.
func (s Stack) URL(party string) string {
	switch party {
	case contract.PartyHostapp:
		return s.HostURL
	case contract.PartyMiniapp:
		return s.MiniappURL
	}
	return s.PlatformURL
}

// Request is one admin call that puts part of a seed in place.
type Request struct {
	Party string // whose /_sim/ route
	Path  string
	Body  any
	// What names the part of the file, for errors: dashboard.hostapps[1] (client_id "777").
	What string
	// Path in the file of the record, for the line of errors.
	At []any
	// Replace: the PUT replaces the whole record (users); else it merges.
	Replace bool
}

// UserBody is the host's PUT /_sim/users/{username} body: the user's data and password.
type UserBody struct {
	Password string `json:"password,omitempty"`
	contract.UserData
}

// DefaultPassword is the password of a new user whose password is left out.
func DefaultPassword(username string) string { return username + "-password" }

// Requests lists the admin calls that put the file's records in place on st, in the order
// they must run: the parties' settings, users and clients, host apps and miniapps, then the
// partnerships between them. Faults are not among them (ApplyFaults). URL fields written as
// paths become URLs on st's parties. hasUser says whether a user exists already (it keeps
// its password when the file gives none); nil means none do.
func (f *File) Requests(st Stack, hasUser func(string) bool) ([]Request, error) {
	var rs []Request
	var err error
	fail := func(at ...any) error { return fmt.Errorf("%s: %w", f.where(at...), err) }
	add := func(party, path string, body any, what string, at ...any) {
		rs = append(rs, Request{Party: party, Path: path, Body: body, What: what, At: at})
	}
	if f.Hostapp != nil {
		add(contract.PartyHostapp, "/_sim/settings", f.Hostapp, "hostapp", "hostapp")
	}
	if f.Miniapp != nil {
		add(contract.PartyMiniapp, "/_sim/settings", f.Miniapp, "miniapp", "miniapp")
	}
	if f.Platform != nil {
		add(contract.PartyPlatform, "/_sim/settings", f.Platform, "platform", "platform")
	}
	for i, u := range f.Users {
		b := UserBody{Password: u.Password, UserData: contract.UserData{Reference: u.Reference, Email: u.Email, Phone: u.Phone, FirstName: u.FirstName, LastName: u.LastName}}
		if b.Password == "" && (hasUser == nil || !hasUser(u.Username)) {
			b.Password = DefaultPassword(u.Username)
		}
		if u.CustomAttributes != nil {
			ca, err := json.Marshal(u.CustomAttributes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.where("users", i, "custom_attributes"), err)
			}
			b.CustomAttributes = ca
		}
		rs = append(rs, Request{Party: contract.PartyHostapp, Path: "/_sim/users/" + url.PathEscape(u.Username), Body: b,
			What: fmt.Sprintf("users[%d] (%s)", i, u.Username), At: []any{"users", i}, Replace: true})
	}
	for i, c := range f.Clients {
		if c, err = c.resolved(st); err != nil {
			return nil, fail("clients", i, "redirect_uris")
		}
		id := c.ClientID
		c.ClientID = "" // in the path
		add(contract.PartyHostapp, "/_sim/clients/"+url.PathEscape(id), c, fmt.Sprintf("clients[%d] (client_id %q)", i, id), "clients", i)
	}
	d := f.Dashboard
	for i, h := range d.Hostapps {
		if h, err = h.resolved(st); err != nil {
			return nil, fail("dashboard", "hostapps", i)
		}
		add(contract.PartyPlatform, "/_sim/hostapps/"+url.PathEscape(h.ClientID), h, fmt.Sprintf("dashboard.hostapps[%d] (client_id %q)", i, h.ClientID), "dashboard", "hostapps", i)
	}
	if d.Hostapp != nil {
		h, err := d.Hostapp.resolved(st)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.where("dashboard", "hostapp"), err)
		}
		add(contract.PartyPlatform, "/_sim/hostapps/"+url.PathEscape(demo.ClientID), h, "dashboard.hostapp", "dashboard", "hostapp")
	}
	for i, m := range d.Miniapps {
		if m, err = m.resolved(st); err != nil {
			return nil, fail("dashboard", "miniapps", i)
		}
		add(contract.PartyPlatform, "/_sim/miniapps/"+url.PathEscape(m.AppID), m, fmt.Sprintf("dashboard.miniapps[%d] (app_id %q)", i, m.AppID), "dashboard", "miniapps", i)
	}
	if d.Miniapp != nil {
		m, err := d.Miniapp.resolved(st)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.where("dashboard", "miniapp"), err)
		}
		add(contract.PartyPlatform, "/_sim/miniapps/"+url.PathEscape(demo.AppID), m, "dashboard.miniapp", "dashboard", "miniapp")
	}
	for i, p := range d.Partnerships {
		add(contract.PartyPlatform, "/_sim/partnerships/"+url.PathEscape(p.ClientID)+"/"+url.PathEscape(p.AppID), p,
			fmt.Sprintf("dashboard.partnerships[%d] (%s/%s)", i, p.ClientID, p.AppID), "dashboard", "partnerships", i)
	}
	if p := d.Partnership; p != nil {
		add(contract.PartyPlatform, "/_sim/partnerships/"+url.PathEscape(demo.ClientID)+"/"+url.PathEscape(demo.AppID), p, "dashboard.partnership", "dashboard", "partnership")
	}
	return rs, nil
}

// Apply puts the file's setup in place on a running stack, over the parties' admin API. It
// first checks the whole file against what the stack holds (reads only): a party the file
// needs must be reachable, a new record must have its required fields, a partnership's host
// app and miniapp must exist or be declared. Only then does it change anything, in the order
// of Requests, then the fault tables. An error names the file, line, record and field.
// Applying the same file twice gives the same state.
func Apply(ctx context.Context, st Stack, f *File) error {
	c := &caller{st: st}
	users, err := c.preflight(ctx, f)
	if err != nil {
		return err
	}
	rs, err := f.Requests(st, func(u string) bool { return users[u] })
	if err != nil {
		return err
	}
	for _, r := range rs {
		if err := c.do(ctx, http.MethodPut, r.Party, r.Path, r.Body, nil); err != nil {
			return fmt.Errorf("%s: %w", f.where(r.At...), err)
		}
	}
	if f.Faults != nil {
		if err := ApplyFaults(ctx, st, *f.Faults); err != nil {
			return fmt.Errorf("%s: %w", f.where("faults"), err)
		}
	}
	return nil
}

// ApplyFaults empties the fault table of every party with an admin URL and sets the faults,
// one PUT /_sim/faults per party.
func ApplyFaults(ctx context.Context, st Stack, faults []fault.Fault) error {
	c := &caller{st: st}
	byParty := map[string][]fault.Fault{}
	for _, f := range faults {
		byParty[f.Party] = append(byParty[f.Party], f)
	}
	for _, p := range []string{contract.PartyHostapp, contract.PartyPlatform, contract.PartyMiniapp} {
		if st.URL(p) == "" {
			continue
		}
		if err := c.do(ctx, http.MethodDelete, p, "/_sim/faults", nil, nil); err != nil {
			return err
		}
		if len(byParty[p]) > 0 {
			if err := c.do(ctx, http.MethodPut, p, "/_sim/faults", fault.List{Faults: byParty[p]}, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// preflight checks the file against the stack without changing anything. It returns the
// users the host has, when the file names any.
func (c *caller) preflight(ctx context.Context, f *File) (map[string]bool, error) {
	users := map[string]bool{}
	// at starts with the file's top-level key, which the message names.
	need := func(party, what string, at ...any) error {
		if c.st.URL(party) != "" {
			return nil
		}
		return fmt.Errorf("%s: the %s is not started here, so %s cannot be set: start it, or leave %s out of the seed file", f.where(at...), party, what, at[0])
	}
	d := f.Dashboard
	checks := []struct {
		given       bool
		party, what string
		at          []any
	}{
		{len(f.Users) > 0, contract.PartyHostapp, "its users", []any{"users"}},
		{len(f.Clients) > 0, contract.PartyHostapp, "its OAuth clients", []any{"clients"}},
		{f.Hostapp != nil, contract.PartyHostapp, "its settings", []any{"hostapp"}},
		{f.Miniapp != nil, contract.PartyMiniapp, "its settings", []any{"miniapp"}},
		{f.Platform != nil, contract.PartyPlatform, "its settings", []any{"platform"}},
		{d.given(), contract.PartyPlatform, "the Dashboard", []any{"dashboard"}},
	}
	for _, ch := range checks {
		if ch.given {
			if err := need(ch.party, ch.what, ch.at...); err != nil {
				return nil, err
			}
		}
	}
	if f.Faults != nil {
		for i, ft := range *f.Faults {
			if err := need(ft.Party, "its faults", "faults", i); err != nil {
				return nil, err
			}
		}
	}
	var errs []error
	bad := func(at []any, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", f.where(at...), fmt.Sprintf(format, args...)))
	}
	if len(f.Users) > 0 {
		var l struct {
			Users []struct {
				Username string `json:"username"`
			} `json:"users"`
		}
		if err := c.do(ctx, http.MethodGet, contract.PartyHostapp, "/_sim/users", nil, &l); err != nil {
			return nil, err
		}
		for _, u := range l.Users {
			users[u.Username] = true
		}
	}
	if len(f.Clients) > 0 {
		var l struct {
			Clients []struct {
				ClientID string `json:"client_id"`
			} `json:"clients"`
		}
		if err := c.do(ctx, http.MethodGet, contract.PartyHostapp, "/_sim/clients", nil, &l); err != nil {
			return nil, err
		}
		clients := map[string]bool{}
		for _, cl := range l.Clients {
			clients[cl.ClientID] = true
		}
		for i, cl := range f.Clients {
			if clients[cl.ClientID] {
				continue
			}
			if cl.RedirectURIs == nil {
				bad([]any{"clients", i}, "a new client needs redirect_uris")
			}
			if cl.Secret == nil && (cl.AuthMethod == nil || *cl.AuthMethod != "none") {
				bad([]any{"clients", i}, "a new client needs a secret, unless token_endpoint_auth_method is none (the host keeps only a hash of a secret, so an exported file has none: write it in)")
			}
		}
	}
	if f.Miniapp != nil {
		exists, err := c.found(ctx, contract.PartyMiniapp, "/_sim/settings", nil)
		if err != nil {
			return nil, err
		}
		if !exists && (f.Miniapp.AppID == nil || f.Miniapp.SecretKey == nil) {
			bad([]any{"miniapp"}, "the miniapp backend has no settings yet: give app_id and secret_key")
		}
	}
	if c.st.PlatformURL != "" && d.given() {
		var hs struct {
			Hostapps []struct {
				ClientID string `json:"client_id"`
			} `json:"hostapps"`
		}
		var ms struct {
			Miniapps []struct {
				AppID string `json:"app_id"`
			} `json:"miniapps"`
		}
		if err := c.do(ctx, http.MethodGet, contract.PartyPlatform, "/_sim/hostapps", nil, &hs); err != nil {
			return nil, err
		}
		if err := c.do(ctx, http.MethodGet, contract.PartyPlatform, "/_sim/miniapps", nil, &ms); err != nil {
			return nil, err
		}
		hostapps, miniapps := map[string]bool{}, map[string]bool{}
		for _, h := range hs.Hostapps {
			hostapps[h.ClientID] = true
		}
		for _, m := range ms.Miniapps {
			miniapps[m.AppID] = true
		}
		check := func(exists bool, at []any, what string, missing []string) {
			if !exists && len(missing) > 0 {
				bad(at, "a new %s needs %s", what, strings.Join(missing, ", "))
			}
		}
		declaredHosts, declaredMinis := map[string]bool{}, map[string]bool{}
		for i, h := range d.Hostapps {
			check(hostapps[h.ClientID], []any{"dashboard", "hostapps", i}, fmt.Sprintf("host app (client_id %q)", h.ClientID), h.missing())
			declaredHosts[h.ClientID] = true
		}
		if d.Hostapp != nil {
			check(hostapps[demo.ClientID], []any{"dashboard", "hostapp"}, "host app (client_id "+demo.ClientID+")", d.Hostapp.missing())
			declaredHosts[demo.ClientID] = true
		}
		for i, m := range d.Miniapps {
			check(miniapps[m.AppID], []any{"dashboard", "miniapps", i}, fmt.Sprintf("miniapp (app_id %q)", m.AppID), m.missing())
			declaredMinis[m.AppID] = true
		}
		if d.Miniapp != nil {
			check(miniapps[demo.AppID], []any{"dashboard", "miniapp"}, "miniapp (app_id "+demo.AppID+")", d.Miniapp.missing())
			declaredMinis[demo.AppID] = true
		}
		pairs := d.Partnerships
		if d.Partnership != nil {
			pairs = append(pairs[:len(pairs):len(pairs)], Partnership{ClientID: demo.ClientID, AppID: demo.AppID})
		}
		for i, p := range pairs {
			at := []any{"dashboard", "partnerships", i}
			if i == len(d.Partnerships) {
				at = []any{"dashboard", "partnership"}
			}
			if !hostapps[p.ClientID] && !declaredHosts[p.ClientID] {
				bad(append(at, "client_id"), "no host app %q: declare it under dashboard.hostapps", p.ClientID)
			}
			if !miniapps[p.AppID] && !declaredMinis[p.AppID] {
				bad(append(at, "app_id"), "no miniapp %q: declare it under dashboard.miniapps", p.AppID)
			}
		}
	}
	if len(errs) > 0 {
		return nil, &RefusedError{Errs: errs}
	}
	return users, nil
}

// given reports whether the file sets anything in the Dashboard.
func (d Dashboard) given() bool {
	return len(d.Hostapps)+len(d.Miniapps)+len(d.Partnerships) > 0 || d.Hostapp != nil || d.Miniapp != nil || d.Partnership != nil
}

// missing names the keys a new host app needs that h leaves out.
func (h DashboardHostapp) missing() []string {
	return unset([]string{"name", "access_token_url", "user_data_url", "hostapp_client_id", "hostapp_secret_key"},
		h.Name, h.AccessTokenURL, h.UserDataURL, h.HostappClientID, h.HostappSecretKey)
}

// missing names the keys a new miniapp needs that m leaves out.
func (m DashboardMiniapp) missing() []string {
	return unset([]string{"name", "url", "auth_token_url", "secret_key"}, m.Name, m.URL, m.AuthTokenURL, m.SecretKey)
}

// unset names the keys whose values are nil.
func unset(keys []string, values ...*string) []string {
	var out []string
	for i, v := range values {
		if v == nil {
			out = append(out, keys[i])
		}
	}
	return out
}

// Error is a seed file that could not be loaded or applied: a setup error, not a failure of
// what runs on the stack afterwards.
type Error struct {
	File string
	Err  error
}

func (e *Error) Error() string {
	var le *strictyaml.LoadError
	if errors.As(e.Err, &le) {
		return "seed file " + e.File + " is malformed; nothing was applied:\n" + le.Error()
	}
	return "seed file " + e.File + ": " + e.Err.Error()
}
func (e *Error) Unwrap() error { return e.Err }

// RefusedError is every reason a file was refused before anything changed.
type RefusedError struct{ Errs []error }

func (e *RefusedError) Error() string {
	lines := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		lines[i] = err.Error()
	}
	return "nothing was changed:\n" + strings.Join(lines, "\n")
}

// caller sends admin requests to a stack's parties.
type caller struct{ st Stack }

// HTTPError is an admin call that did not answer 2xx.
type HTTPError struct {
	Party       string
	Method, URL string
	Status      int
	Body        string
}

func (h *HTTPError) Error() string {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal([]byte(h.Body), &e) == nil && e.Description != "" {
		return fmt.Sprintf("the %s refused it (%s %s answered %d %s): %s", h.Party, h.Method, h.URL, h.Status, e.Error, e.Description)
	}
	return fmt.Sprintf("%s %s answered %d: %s", h.Method, h.URL, h.Status, strings.TrimSpace(h.Body))
}

// do sends one admin request that must answer 2xx, and decodes the answer into out.
func (c *caller) do(ctx context.Context, method, party, path string, in, out any) error {
	base := c.st.URL(party)
	if base == "" {
		return fmt.Errorf("the %s is not started here", party)
	}
	u := base + path
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	client := c.st.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("could not connect to the %s at %s: %w", party, base, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, contract.MaxBodyBytes))
	if err != nil {
		return fmt.Errorf("%s %s: reading the answer: %w", method, u, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &HTTPError{Party: party, Method: method, URL: u, Status: resp.StatusCode, Body: string(b)}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s answered a body that is not the expected JSON: %v", method, u, err)
		}
	}
	return nil
}

// found sends a GET that answers 200, whose body it decodes into out, or 404 (found false).
func (c *caller) found(ctx context.Context, party, path string, out any) (bool, error) {
	err := c.do(ctx, http.MethodGet, party, path, nil, out)
	if he := (*HTTPError)(nil); errors.As(err, &he) && he.Status == http.StatusNotFound {
		return false, nil
	}
	return err == nil, err
}
