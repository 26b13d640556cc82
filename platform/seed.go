package platform

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
)

// Demo says where the demo host app and miniapp listen, e.g. http://127.0.0.1:8081 (no
// trailing slash needed). An empty URL leaves that party's URLs as they are.
type Demo struct {
	HostURL    string
	MiniappURL string
	// MiniappPageURL is the base of the miniapp page's URL, which browsers load; "" means
	// MiniappURL. It can name the miniapp by another host than its backend calls use (the
	// stack puts the page on localhost, another site than the host app's 127.0.0.1).
	MiniappPageURL string
}

// SeedDemo makes sure the registry holds the demo host app, the demo miniapp and their
// partnership (internal/demo, PROTOCOL §7.7, §9.4). It is idempotent: records that exist
// keep every setting except their URLs, which are rewritten to the given bases (ports may
// change between runs). A record created without a base URL gets the default address of
// internal/demo (http://127.0.0.1:8081 or :8083).
func SeedDemo(ctx context.Context, s Store, d Demo) error {
	hostURL, appURL := strings.TrimRight(d.HostURL, "/"), strings.TrimRight(d.MiniappURL, "/")
	pageURL := strings.TrimRight(d.MiniappPageURL, "/")
	_, _, err := s.UpdateHostApp(ctx, demo.ClientID, func(h HostApp, exists bool) (HostApp, error) {
		if !exists {
			if hostURL == "" {
				hostURL = "http://" + demo.HostAddr
			}
			h = HostApp{
				ClientID: demo.ClientID, Name: demo.HostappName, ConnectEnabled: true,
				HostappClientID: demo.HostappClientID, HostappSecretKey: demo.HostappSecret,
				TokenPrefix: demo.TokenPrefix, UserDataMethod: http.MethodGet,
				IPAllowlist: slices.Clone(contract.DefaultAllowlist),
			}
		}
		if hostURL != "" {
			h.AccessTokenURL = hostURL + demo.AccessTokenPath
			h.UserDataURL = hostURL + demo.UserDataPath
			h.RefreshTokenURL = hostURL + demo.RefreshTokenPath
		}
		return h, h.check()
	})
	if err != nil {
		return fmt.Errorf("platform: seed demo host app: %w", err)
	}
	_, _, err = s.UpdateMiniapp(ctx, demo.AppID, func(m Miniapp, exists bool) (Miniapp, error) {
		if !exists {
			if appURL == "" {
				appURL = "http://" + demo.MiniappAddr
			}
			m = Miniapp{
				AppID: demo.AppID, Name: demo.MiniappName, SecretKey: demo.MiniappSecret,
				IPAllowlist: slices.Clone(contract.DefaultAllowlist),
			}
		}
		if appURL != "" {
			m.URL = appURL + demo.MiniappPagePath
			m.AuthTokenURL = appURL + demo.AuthTokenPath
		}
		if pageURL != "" {
			m.URL = pageURL + demo.MiniappPagePath
		}
		return m, m.check()
	})
	if err != nil {
		return fmt.Errorf("platform: seed demo miniapp: %w", err)
	}
	_, _, err = s.UpdatePartnership(ctx, demo.ClientID, demo.AppID, func(p Partnership, exists bool) (Partnership, error) {
		if !exists {
			p = Partnership{ClientID: demo.ClientID, AppID: demo.AppID, ConnectEnabled: true}
		}
		return p, nil
	})
	if err != nil {
		return fmt.Errorf("platform: seed demo partnership: %w", err)
	}
	return nil
}
