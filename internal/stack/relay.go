package stack

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"unicode"

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
	return out, nil
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
		check   func(string) error
	}{
		{"hostapp_client_id", r.HostappClientID, hostRelayed, "--hostapp-url", checkBasicUser},
		{"hostapp_secret", r.HostappSecret, hostRelayed, "--hostapp-url", checkSecret},
		{"token_prefix", r.TokenPrefix, hostRelayed, "--hostapp-url", checkPrefix},
		{"miniapp_app_id", r.MiniappAppID, miniRelayed, "--miniapp-url", checkAppID},
		{"miniapp_secret", r.MiniappSecret, miniRelayed, "--miniapp-url", checkSecret},
	} {
		if f.v == "" {
			continue
		}
		if !f.relayed {
			return fmt.Errorf("%s is for a backend not started here: give %s as well, or drop %s", f.name, f.flag, f.name)
		}
		if err := f.check(f.v); err != nil {
			shown := f.v
			if strings.HasSuffix(f.name, "_secret") {
				shown = contract.Mask(f.v) // never print a secret, even a rejected one
			}
			return fmt.Errorf("%s %q %v", f.name, shown, err)
		}
	}
	return nil
}

func checkSecret(v string) error {
	if strings.TrimSpace(v) == "" || contract.Len(v) > 1000 {
		return fmt.Errorf("must be 1 to 1000 characters")
	}
	for _, c := range v {
		if unicode.IsControl(c) {
			return fmt.Errorf("must not contain control characters")
		}
	}
	return nil
}

// checkBasicUser: the user part of a Basic credential cannot hold ':' (PROTOCOL §7.7).
func checkBasicUser(v string) error {
	if err := checkSecret(v); err != nil {
		return err
	}
	if strings.Contains(v, ":") {
		return fmt.Errorf("must not contain ':' (it is the user part of a Basic credential)")
	}
	return nil
}

// checkPrefix: one HTTP auth scheme token (PROTOCOL §9.5, RFC 9110 §5.6.2).
func checkPrefix(v string) error {
	for _, c := range v {
		if c >= 0x80 || !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", c)) {
			return fmt.Errorf("must be one word without spaces (an HTTP auth scheme such as Token or Bearer)")
		}
	}
	if len(v) > 64 {
		return fmt.Errorf("is longer than 64 characters")
	}
	return nil
}

// checkAppID: an opaque id of at most 64 characters (PROTOCOL §1.2) that travels in paths
// and as a Basic user name.
func checkAppID(v string) error {
	if contract.Len(v) > 64 {
		return fmt.Errorf("is longer than 64 characters")
	}
	for _, c := range v {
		if !unicode.IsPrint(c) || unicode.IsSpace(c) || strings.ContainsRune(`/?#%:\`, c) {
			return fmt.Errorf(`must not contain spaces, control characters or any of / ? # %% : \`)
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
		_, _, err := db.UpdateHostApp(ctx, demo.ClientID, func(h platform.HostApp, exists bool) (platform.HostApp, error) {
			if !exists {
				return h, fmt.Errorf("demo host app %s is missing", demo.ClientID)
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
				"access_token_url", s.HostURL+demo.AccessTokenPath, "user_data_url", s.HostURL+demo.UserDataPath,
				"hostapp_client_id", id, "hostapp_secret", contract.Secret(secret), "token_prefix", prefix)
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
				m.URL, m.AuthTokenURL = s.MiniappURL+demo.MiniappPagePath, s.MiniappURL+demo.AuthTokenPath
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
			log.Info("relaying to a miniapp backend not started here", "app_id", appID,
				"auth_token_url", s.MiniappURL+demo.AuthTokenPath, "secret_key", contract.Secret(secret))
		}
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
