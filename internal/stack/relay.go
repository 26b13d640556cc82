package stack

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/platform"
)

// Relay mode (GitHub issue 5): a host app or miniapp located at a URL (Config.HostURL,
// Config.MiniappURL) is not started here; the platform started here calls it instead, with
// the Dashboard credentials of Config.Relay. The platform validates every answer against
// PROTOCOL.md and records the rules broken in the flow log (contract.FlowStep.Violations).

// relayParties drops from only the parties located at a URL. Only that names such a party
// explicitly is a contradiction and an error, as are relay credentials for a party that
// is started here.
func relayParties(only []string, c Config) ([]string, error) {
	located := map[string]struct{ url, flag string }{
		Hostapp: {c.HostURL, "--hostapp-url"},
		Miniapp: {c.MiniappURL, "--miniapp-url"},
	}
	out := slices.Clone(only)
	for _, p := range []string{Hostapp, Miniapp} {
		l := located[p]
		if l.url == "" {
			continue
		}
		if len(c.Only) > 0 && slices.Contains(only, p) {
			return nil, fmt.Errorf("%s is both started here (--only) and located at %s (%s): drop one of them", p, l.url, l.flag)
		}
		if u, err := url.Parse(l.url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%s %q is not an http(s) URL", l.flag, l.url)
		} else if suffix := endpointSuffix(p, u.Path); suffix != "" {
			return nil, fmt.Errorf("%s %q names an endpoint: give the backend's base URL (%s), the platform appends %s itself",
				l.flag, l.url, strings.TrimSuffix(l.url, suffix), suffix)
		}
		out = slices.DeleteFunc(out, func(x string) bool { return x == p })
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no party to start: every party is located at a URL")
	}
	if err := c.Relay.validate(c.HostURL != "", c.MiniappURL != ""); err != nil {
		return nil, err
	}
	if err := c.Relay.validateEndpoints(c.HostURL, c.MiniappURL); err != nil {
		return nil, err
	}
	return out, nil
}

// validateEndpoints checks the endpoint settings of a relayed backend: each is for a party
// located at a URL, resolves to an http(s) URL, and the method and required fields are ones
// the Dashboard takes (contract §1.3, §3.9).
func (r Relay) validateEndpoints(hostURL, miniURL string) error {
	for _, f := range []struct {
		name, v, base, flag string
	}{
		{"access_token_url", r.AccessTokenURL, hostURL, "--hostapp-url"},
		{"user_data_url", r.UserDataURL, hostURL, "--hostapp-url"},
		{"refresh_token_url", r.RefreshTokenURL, hostURL, "--hostapp-url"},
		{"user_data_method", r.UserDataMethod, hostURL, "--hostapp-url"},
		{"auth_token_url", r.AuthTokenURL, miniURL, "--miniapp-url"},
	} {
		if f.v == "" {
			continue
		}
		if f.base == "" {
			return fmt.Errorf("%s is for a backend not started here: give %s as well, or drop %s", f.name, f.flag, f.name)
		}
		if f.name == "user_data_method" {
			if m := strings.ToUpper(f.v); m != "GET" && m != "POST" {
				return fmt.Errorf("user_data_method %q: use GET or POST (POST sends the body {})", f.v)
			}
			continue
		}
		if _, err := endpointURL(f.base, f.v, ""); err != nil {
			return fmt.Errorf("%s: %v", f.name, err)
		}
	}
	for _, f := range r.RequiredFields {
		if !contract.IsUserField(f) {
			return fmt.Errorf("required_fields: %q is not a user field; use some of %s", f, strings.Join(contract.UserFields, ", "))
		}
	}
	return nil
}

// endpointURL is where a relayed backend serves an endpoint: v when it is an absolute
// http(s) URL, base+v when it is a path, base+def when v is "".
func endpointURL(base, v, def string) (string, error) {
	base = strings.TrimRight(base, "/")
	switch {
	case v == "":
		return base + def, nil
	case strings.HasPrefix(v, "/"):
		return base + v, nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is neither a path such as /api/boxo/token nor an http(s) URL", v)
	}
	return v, nil
}

// endpointSuffix is the contract path a relay URL wrongly ends with, if any.
func endpointSuffix(party, path string) string {
	paths := []string{demo.AuthTokenPath}
	if party == Hostapp {
		paths = []string{demo.AccessTokenPath, demo.UserDataPath, demo.RefreshTokenPath}
	}
	for _, p := range paths {
		if strings.HasSuffix(strings.TrimRight(path, "/"), p) {
			return p
		}
	}
	return ""
}

// validate checks the relay credentials as the platform's Dashboard would (PROTOCOL §1.2,
// §2.7), and that each is meant for a party located at a URL.
func (r Relay) validate(hostRelayed, miniRelayed bool) error {
	for _, f := range []struct {
		name, v string
		relayed bool
		flag    string
		kind    string // the Dashboard's rule, platform.CheckCredential
	}{
		{"hostapp_client_id", r.HostappClientID, hostRelayed, "--hostapp-url", platform.CredHostappClientID},
		{"hostapp_secret", r.HostappSecret, hostRelayed, "--hostapp-url", platform.CredSecret},
		{"token_prefix", r.TokenPrefix, hostRelayed, "--hostapp-url", platform.CredTokenPrefix},
		{"miniapp_app_id", r.MiniappAppID, miniRelayed, "--miniapp-url", platform.CredAppID},
		{"miniapp_secret", r.MiniappSecret, miniRelayed, "--miniapp-url", platform.CredSecret},
		{"hostapp_signing_secret", r.HostappSigningSecret, hostRelayed, "--hostapp-url", platform.CredSecret},
		{"miniapp_signing_secret", r.MiniappSigningSecret, miniRelayed, "--miniapp-url", platform.CredSecret},
	} {
		if f.v == "" {
			continue
		}
		if !f.relayed {
			return fmt.Errorf("%s is for a backend not started here: give %s as well, or drop %s", f.name, f.flag, f.name)
		}
		if err := platform.CheckCredential(f.kind, f.name, f.v); err != nil {
			shown := f.v
			if f.kind == platform.CredSecret {
				shown = contract.Mask(f.v) // never print a secret, even a rejected one
			}
			return fmt.Errorf("%v (got %q)", err, shown)
		}
	}
	return nil
}

// Relayed reports whether party p is a backend at a URL that the platform calls instead of
// a simulated party started here (relay mode).
func (s *Stack) Relayed(p string) bool {
	if slices.Contains(s.Started, p) {
		return false
	}
	switch p {
	case Hostapp:
		return s.HostURL != ""
	case Miniapp:
		return s.MiniappURL != ""
	}
	return false
}

// demoMiniappURL is the base SeedDemo points the demo miniapp at: the relay URL unless a
// miniapp with another app_id is relayed (the demo record is then left as it is).
func (s *Stack) demoMiniappURL(c Config) string {
	if s.Relayed(Miniapp) && c.Relay.MiniappAppID != "" && c.Relay.MiniappAppID != demo.AppID {
		return ""
	}
	return s.MiniappURL
}

// configureRelay writes the Dashboard records the platform needs after SeedDemo: for a
// relayed host app, the demo host app's credentials (given, else the demo values); for a
// relayed miniapp, its record under its app_id with the given secret and a Connect
// partnership with the demo host app. A party simulated here gets the demo credentials
// back, so a data directory once used for relaying works with the simulated party again
// (its URLs are rewritten on every start too, by SeedDemo).
func (s *Stack) configureRelay(ctx context.Context, db platform.Store, c Config, log *slog.Logger) error {
	r := c.Relay
	hostRelayed, miniRelayed := s.Relayed(Hostapp), s.Relayed(Miniapp)
	if hostRelayed || slices.Contains(s.Started, Hostapp) {
		id, secret, prefix := demo.HostappClientID, demo.HostappSecret, demo.TokenPrefix
		if hostRelayed {
			id, secret, prefix = or(r.HostappClientID, id), or(r.HostappSecret, secret), or(r.TokenPrefix, prefix)
		}
		var endpoints [3]string
		if hostRelayed {
			for i, e := range []struct{ v, def string }{
				{r.AccessTokenURL, demo.AccessTokenPath}, {r.UserDataURL, demo.UserDataPath}, {r.RefreshTokenURL, demo.RefreshTokenPath},
			} {
				u, err := endpointURL(s.HostURL, e.v, e.def)
				if err != nil {
					return fmt.Errorf("relay: %w", err)
				}
				endpoints[i] = u
			}
		}
		_, _, err := db.UpdateHostApp(ctx, demo.ClientID, func(h platform.HostApp, exists bool) (platform.HostApp, error) {
			if !exists {
				return h, fmt.Errorf("demo host app %s is missing", demo.ClientID)
			}
			if hostRelayed {
				// Written on every start, so a restart on the same data directory keeps them
				// as given (SeedDemo has just set the default paths).
				h.AccessTokenURL, h.UserDataURL, h.RefreshTokenURL = endpoints[0], endpoints[1], endpoints[2]
				h.UserDataMethod = strings.ToUpper(or(r.UserDataMethod, "GET"))
				h.SigningEnabled, h.SigningSecret = r.HostappSigningSecret != "", r.HostappSigningSecret
			}
			if !hostRelayed && (h.HostappClientID != id || h.HostappSecretKey != secret || h.TokenPrefix != prefix) {
				log.Info("demo host app credentials restored for the simulated host app", "client_id", demo.ClientID)
			}
			h.HostappClientID, h.HostappSecretKey, h.TokenPrefix = id, secret, prefix
			return h, nil
		})
		if err != nil {
			return fmt.Errorf("relay: configure host app: %w", err)
		}
		if hostRelayed {
			log.Info("relaying to a host backend not started here", "client_id", demo.ClientID,
				"access_token_url", endpoints[0], "user_data_url", endpoints[1], "user_data_method", strings.ToUpper(or(r.UserDataMethod, "GET")),
				"refresh_token_url", endpoints[2],
				"hostapp_client_id", id, "hostapp_secret", contract.Secret(secret), "token_prefix", prefix,
				"signing", r.HostappSigningSecret != "", "signing_secret", contract.Secret(r.HostappSigningSecret))
		}
	}
	if miniRelayed || slices.Contains(s.Started, Miniapp) {
		appID, secret := demo.AppID, demo.MiniappSecret
		if miniRelayed {
			appID, secret = or(r.MiniappAppID, appID), or(r.MiniappSecret, secret)
		}
		_, _, err := db.UpdateMiniapp(ctx, appID, func(m platform.Miniapp, exists bool) (platform.Miniapp, error) {
			if !exists {
				m = platform.Miniapp{AppID: appID, Name: "Miniapp " + appID, IPAllowlist: slices.Clone(contract.DefaultAllowlist)}
			}
			if miniRelayed {
				u, err := endpointURL(s.MiniappURL, r.AuthTokenURL, demo.AuthTokenPath)
				if err != nil {
					return m, fmt.Errorf("auth_token_url: %w", err)
				}
				m.URL, m.AuthTokenURL = s.MiniappURL+demo.MiniappPagePath, u
				m.SigningEnabled, m.SigningSecret = r.MiniappSigningSecret != "", r.MiniappSigningSecret
			} else if m.SecretKey != secret {
				log.Info("demo miniapp secret restored for the simulated miniapp", "app_id", appID)
			}
			m.SecretKey = secret
			return m, nil
		})
		if err != nil {
			return fmt.Errorf("relay: configure miniapp: %w", err)
		}
		if appID != demo.AppID {
			_, _, err = db.UpdatePartnership(ctx, demo.ClientID, appID, func(p platform.Partnership, exists bool) (platform.Partnership, error) {
				if !exists {
					p = platform.Partnership{ClientID: demo.ClientID, AppID: appID, ConnectEnabled: true}
				}
				return p, nil
			})
			if err != nil {
				return fmt.Errorf("relay: partner miniapp %s with host app %s: %w", appID, demo.ClientID, err)
			}
		}
		if miniRelayed {
			u, _ := endpointURL(s.MiniappURL, r.AuthTokenURL, demo.AuthTokenPath)
			log.Info("relaying to a miniapp backend not started here", "app_id", appID,
				"auth_token_url", u, "secret_key", contract.Secret(secret),
				"signing", r.MiniappSigningSecret != "", "signing_secret", contract.Secret(r.MiniappSigningSecret))
		}
	}
	if r.RequiredFields != nil {
		appID := relayAppID(c)
		_, _, err := db.UpdateMiniapp(ctx, appID, func(m platform.Miniapp, exists bool) (platform.Miniapp, error) {
			if !exists {
				return m, fmt.Errorf("miniapp %s is not in the Dashboard", appID)
			}
			m.RequiredFields = slices.Clone(r.RequiredFields)
			return m, nil
		})
		if err != nil {
			return fmt.Errorf("required fields: %w", err)
		}
		log.Info("required fields of the miniapp set", "app_id", appID, "required_fields", strings.Join(r.RequiredFields, ","))
	}
	return nil
}

// relayAppID is Stack.AppID: the relayed miniapp's app_id when one is given (validate
// allows it only with MiniappURL), else the demo miniapp's.
func relayAppID(c Config) string {
	if c.MiniappURL != "" && c.Relay.MiniappAppID != "" {
		return c.Relay.MiniappAppID
	}
	return demo.AppID
}
