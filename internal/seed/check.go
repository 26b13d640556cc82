package seed

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/fault"
	"github.com/boxo-sim/boxo-sim/internal/strictyaml"
	"github.com/boxo-sim/boxo-sim/internal/userdata"
)

var (
	usernameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	// TokenRE is one RFC 9110 token: a token prefix, a header name.
	TokenRE = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
)

// Checker checks what the types cannot say about the seed parts of a file — names, URLs,
// CIDRs, enums, duplicates, masked secrets — and reports each issue at its line. Scenario
// files use it for their setup.
type Checker struct {
	*strictyaml.Parser
	Root *yaml.Node
	// Warnings are what is worth saying but not wrong (an earlier error code name).
	Warnings []strictyaml.Issue
	masked   bool // a secret was as the admin API shows it masked
}

func (c *Checker) at(path ...any) int { return strictyaml.LineAt(c.Root, path...) }

func (c *Checker) add(path []any, format string, args ...any) {
	c.Add(c.at(path...), "%s"+format, append([]any{strictyaml.Dotted(path)}, args...)...)
}

// Users checks the users at path.
func (c *Checker) Users(users []User, path ...any) {
	seen := map[string]bool{}
	for i, u := range users {
		p := strictyaml.Cat(path, i)
		switch {
		case !usernameRE.MatchString(u.Username):
			c.add(strictyaml.Cat(p, "username"), " %q: use 1–64 letters, digits, dots, dashes or underscores", u.Username)
		case seen[u.Username]:
			c.add(strictyaml.Cat(p, "username"), ": user %q is defined twice", u.Username)
		}
		seen[u.Username] = true
		if u.Reference == "" {
			c.add(p, " (%s) needs a reference: the user's key in the host system", u.Username)
		}
		if strictyaml.HasKey(c.Root, "password", p...) && u.Password == "" {
			c.add(strictyaml.Cat(p, "password"), " is empty: leave it out to keep the user's password (a new user gets %s-password)", u.Username)
		}
		c.secret(u.Password, strictyaml.Cat(p, "password"))
	}
}

// Dashboard checks the Dashboard records at path.
func (c *Checker) Dashboard(d Dashboard, path ...any) {
	ids := map[string]bool{}
	for i, h := range d.Hostapps {
		p := strictyaml.Cat(path, "hostapps", i)
		c.id(h.ClientID, "client_id", "host app", ids, p)
		c.hostapp(h, p)
	}
	if d.Hostapp != nil {
		p := strictyaml.Cat(path, "hostapp")
		c.shorthand(d.Hostapp.ClientID, demo.ClientID, "client_id", ids, "hostapps", p)
		c.hostapp(*d.Hostapp, p)
	}
	ids = map[string]bool{}
	for i, m := range d.Miniapps {
		p := strictyaml.Cat(path, "miniapps", i)
		c.id(m.AppID, "app_id", "miniapp", ids, p)
		c.miniapp(m, p)
	}
	if d.Miniapp != nil {
		p := strictyaml.Cat(path, "miniapp")
		c.shorthand(d.Miniapp.AppID, demo.AppID, "app_id", ids, "miniapps", p)
		c.miniapp(*d.Miniapp, p)
	}
	pairs := map[string]bool{}
	for i, ps := range d.Partnerships {
		p := strictyaml.Cat(path, "partnerships", i)
		if ps.ClientID == "" || ps.AppID == "" {
			c.add(p, ": give client_id and app_id, the host app and the miniapp it links")
			continue
		}
		key := ps.ClientID + "/" + ps.AppID
		if pairs[key] {
			c.add(p, ": partnership %s is given twice", key)
		}
		pairs[key] = true
	}
	if ps := d.Partnership; ps != nil {
		p := strictyaml.Cat(path, "partnership")
		if (ps.ClientID != "" && ps.ClientID != demo.ClientID) || (ps.AppID != "" && ps.AppID != demo.AppID) {
			c.add(p, ": the shorthand is the demo partnership %s/%s: list others under partnerships", demo.ClientID, demo.AppID)
		} else if pairs[demo.ClientID+"/"+demo.AppID] {
			c.add(p, ": the demo partnership is also in partnerships: give it once")
		}
	}
}

// id checks a record's id in a list.
func (c *Checker) id(id, key, what string, seen map[string]bool, p []any) {
	switch err := contract.CheckID(id); {
	case id == "":
		c.add(p, ": give the %s's %s", what, key)
	case err != nil:
		c.add(strictyaml.Cat(p, key), " %q: %v", id, err)
	case seen[id]:
		c.add(strictyaml.Cat(p, key), ": %s %q is given twice", what, id)
	}
	seen[id] = true
}

// shorthand checks the demo record's shorthand against the list.
func (c *Checker) shorthand(id, demoID, key string, seen map[string]bool, list string, p []any) {
	switch {
	case id != "" && id != demoID:
		c.add(strictyaml.Cat(p, key), " %q: the shorthand is the demo record %s: list others under %s", id, demoID, list)
	case seen[demoID]:
		c.add(p, ": the demo record %s is also in %s: give it once", demoID, list)
	}
}

func (c *Checker) hostapp(h DashboardHostapp, p []any) {
	c.prefix(h.TokenPrefix, strictyaml.Cat(p, "token_prefix"))
	c.allowlist(h.IPAllowlist, strictyaml.Cat(p, "ip_allowlist"))
	c.nonEmpty(h.Name, strictyaml.Cat(p, "name"), "give the host app's name")
	// "" leaves an endpoint unset: a flow that needs it stops with ENDPOINT_URL_NOT_SET.
	c.partyURL(h.AccessTokenURL, true, strictyaml.Cat(p, "access_token_url"))
	c.partyURL(h.UserDataURL, true, strictyaml.Cat(p, "user_data_url"))
	c.partyURL(h.RefreshTokenURL, true, strictyaml.Cat(p, "refresh_token_url"))
	if m := h.UserDataMethod; m != nil && *m != "GET" && *m != "POST" {
		c.add(strictyaml.Cat(p, "user_data_method"), " %q: use GET or POST", *m)
	}
	if id := h.HostappClientID; id != nil && (*id == "" || strings.Contains(*id, ":")) {
		c.add(strictyaml.Cat(p, "hostapp_client_id"), " %q: give a non-empty id without ':'", *id)
	}
	c.nonEmpty(h.HostappSecretKey, strictyaml.Cat(p, "hostapp_secret_key"), "give the secret to send")
	c.secretPtr(h.HostappSecretKey, strictyaml.Cat(p, "hostapp_secret_key"))
	c.secretPtr(h.SigningSecret, strictyaml.Cat(p, "signing_secret"))
}

func (c *Checker) miniapp(m DashboardMiniapp, p []any) {
	c.fields(m.RequiredFields, strictyaml.Cat(p, "required_fields"))
	c.allowlist(m.IPAllowlist, strictyaml.Cat(p, "ip_allowlist"))
	c.nonEmpty(m.Name, strictyaml.Cat(p, "name"), "give the miniapp's name")
	c.partyURL(m.URL, false, strictyaml.Cat(p, "url"))
	c.partyURL(m.AuthTokenURL, true, strictyaml.Cat(p, "auth_token_url"))
	c.nonEmpty(m.SecretKey, strictyaml.Cat(p, "secret_key"), "give the secret to send")
	c.secretPtr(m.SecretKey, strictyaml.Cat(p, "secret_key"))
	c.secretPtr(m.SigningSecret, strictyaml.Cat(p, "signing_secret"))
	if m.ConsentLinks != nil {
		for i, l := range *m.ConsentLinks {
			lp := strictyaml.Cat(p, "consent_links", i)
			if strings.TrimSpace(l.Title) == "" {
				c.add(strictyaml.Cat(lp, "title"), " is empty: give the link's text")
			}
			u := l.URL
			c.url(&u, false, strictyaml.Cat(lp, "url"))
		}
	}
}

// HostSettings checks the host backend's settings at path.
func (c *Checker) HostSettings(h *HostSettings, path ...any) {
	if h == nil {
		return
	}
	c.prefix(h.TokenPrefix, strictyaml.Cat(path, "token_prefix"))
	c.allowlist(h.IPAllowlist, strictyaml.Cat(path, "ip_allowlist"))
	c.allowlist(h.TrustedProxies, strictyaml.Cat(path, "trusted_proxies"))
	c.secretPtr(h.SigningSecret, strictyaml.Cat(path, "signing_secret"))
	if h.EncryptedUserData != nil {
		for app, key := range *h.EncryptedUserData {
			p := strictyaml.Cat(path, "encrypted_user_data", app)
			if c.secret(key, p) {
				continue
			}
			if _, err := userdata.ParseKey(key); err != nil {
				c.add(p, ": %v", err)
			}
		}
	}
}

// MiniSettings checks the miniapp backend's settings at path.
func (c *Checker) MiniSettings(m *MiniSettings, path ...any) {
	if m == nil {
		return
	}
	c.fields(m.RequiredFields, strictyaml.Cat(path, "required_fields"))
	c.allowlist(m.IPAllowlist, strictyaml.Cat(path, "ip_allowlist"))
	c.allowlist(m.TrustedProxies, strictyaml.Cat(path, "trusted_proxies"))
	if m.AppID != nil {
		if err := contract.CheckID(*m.AppID); err != nil {
			c.add(strictyaml.Cat(path, "app_id"), " %q: %v", *m.AppID, err)
		}
	}
	c.nonEmpty(m.SecretKey, strictyaml.Cat(path, "secret_key"), "give the secret the backend accepts")
	c.secretPtr(m.SecretKey, strictyaml.Cat(path, "secret_key"))
	c.secretPtr(m.SigningSecret, strictyaml.Cat(path, "signing_secret"))
	if k := m.UserDataKey; k != nil && *k != "" && !c.secret(*k, strictyaml.Cat(path, "user_data_key")) {
		if _, err := userdata.ParseKey(*k); err != nil {
			c.add(strictyaml.Cat(path, "user_data_key"), ": %v", err)
		}
	}
}

// PlatformSettings checks the platform's settings at path.
func (c *Checker) PlatformSettings(s *PlatformSettings, path ...any) {
	if s != nil {
		c.allowlist(s.TrustedProxies, strictyaml.Cat(path, "trusted_proxies"))
	}
}

// Clients checks the OAuth clients at path.
func (c *Checker) Clients(clients []Client, path ...any) {
	ids := map[string]bool{}
	for i, cl := range clients {
		p := strictyaml.Cat(path, i)
		c.id(cl.ClientID, "client_id", "client", ids, p)
		if s := cl.Secret; s != nil && (*s == "" || len(*s) > 256) {
			c.add(strictyaml.Cat(p, "secret"), ": give 1 to 256 bytes")
		}
		c.secretPtr(cl.Secret, strictyaml.Cat(p, "secret"))
		if m := cl.AuthMethod; m != nil {
			switch *m {
			case "client_secret_basic", "client_secret_post":
			case "none":
				if cl.Secret != nil {
					c.add(strictyaml.Cat(p, "secret"), ": a client with token_endpoint_auth_method none is public and has no secret")
				}
			default:
				c.add(strictyaml.Cat(p, "token_endpoint_auth_method"), " %q: use client_secret_basic, client_secret_post or none", *m)
			}
		}
		if m := cl.RedirectMatch; m != nil && *m != "exact" && *m != "host" {
			c.add(strictyaml.Cat(p, "redirect_match"), " %q: use exact or host", *m)
		}
		if r := cl.RedirectURIs; r != nil {
			if len(*r) == 0 {
				c.add(strictyaml.Cat(p, "redirect_uris"), " is empty: give at least one redirect URI")
			}
			for j, u := range *r {
				if pu, err := url.Parse(u); err != nil || (pu.Scheme == "" && !isPath(u)) || strings.Contains(u, "#") {
					c.add(strictyaml.Cat(p, "redirect_uris", j), " %q: give an absolute URI without fragment, or a path on the host app started here", u)
				}
			}
		}
	}
}

// Faults checks the faults at path with fault.Validate (the same rules the parties apply)
// and completes them in place (party filled in from the step).
func (c *Checker) Faults(faults []fault.Fault, path ...any) {
	for i := range faults {
		f := faults[i]
		p := strictyaml.Cat(path, i)
		if err := f.Validate(); err != nil {
			msg := err.Error()
			line := c.at(p...)
			for _, k := range []string{"step", "kind", "error_code", "delay", "status", "body", "field", "nth", "probability", "endpoint", "party"} {
				if strings.HasPrefix(msg, k+" ") {
					if strictyaml.HasKey(c.Root, k, p...) {
						line = c.at(strictyaml.Cat(p, k)...)
					}
					break
				}
			}
			c.Add(line, "%s: %s", strictyaml.Dotted(p), msg)
			continue
		}
		if w := f.Deprecation(); w != "" {
			c.Warnings = append(c.Warnings, strictyaml.Issue{File: c.Parser.File, Line: c.at(strictyaml.Cat(p, "error_code")...),
				Msg: fmt.Sprintf("%s.error_code: %s", strictyaml.Dotted(p), w)})
		}
		faults[i] = f
	}
}

func (c *Checker) prefix(v *string, p []any) {
	if v != nil && !TokenRE.MatchString(*v) {
		c.add(p, " %q: a token prefix is one word without spaces, such as Token or Bearer", *v)
	}
}

func (c *Checker) allowlist(l *[]string, p []any) {
	if l == nil {
		return
	}
	for i, e := range *l {
		if err := contract.CheckAllowlist([]string{e}); err != nil {
			c.add(strictyaml.Cat(p, i), " %q: %v", e, err)
		}
	}
}

func (c *Checker) fields(l *[]string, p []any) {
	if l == nil {
		return
	}
	for i, f := range *l {
		if !contract.IsUserField(f) {
			c.add(strictyaml.Cat(p, i), " %q: use one of %s", f, strings.Join(contract.UserFields, ", "))
		}
	}
}

// url checks an absolute http(s) URL; "" is allowed when may be empty.
func (c *Checker) url(v *string, mayBeEmpty bool, p []any) {
	if v == nil || (*v == "" && mayBeEmpty) {
		return
	}
	u, err := url.Parse(*v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		c.add(p, " %q: give an absolute http(s) URL", *v)
	}
}

// partyURL checks a URL of a party's endpoint: an absolute http(s) URL, or a path on the
// party started here ("" too when mayBeEmpty).
func (c *Checker) partyURL(v *string, mayBeEmpty bool, p []any) {
	if v == nil || (*v == "" && mayBeEmpty) {
		return
	}
	if isPath(*v) {
		if _, err := url.Parse(*v); err != nil {
			c.add(p, " %q: %v", *v, err)
		}
		return
	}
	u, err := url.Parse(*v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		c.add(p, " %q: give an absolute http(s) URL, or a path on the party started here such as /boxo/auth-token", *v)
	}
}

// isPath reports whether v is a path (on a party started here) rather than a URL.
func isPath(v string) bool { return strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "//") }

func (c *Checker) nonEmpty(v *string, p []any, hint string) {
	if v != nil && strings.TrimSpace(*v) == "" {
		c.add(p, " is empty: %s", hint)
	}
}

func (c *Checker) secretPtr(v *string, p []any) {
	if v != nil {
		c.secret(*v, p)
	}
}

// secret refuses a secret as export writes it without --with-secrets.
func (c *Checker) secret(v string, p []any) bool {
	if !contract.IsMasked(v) {
		return false
	}
	c.masked = true
	c.add(p, " is masked (%s), not a secret: this file was exported without --with-secrets; export again with --with-secrets, or write the secret in", v)
	return true
}
