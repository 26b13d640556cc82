package platform

import (
	"errors"
	"net/http"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// settingsJSON is GET /_sim/settings and the body of PUT (absent keys unchanged).
type settingsJSON struct {
	TrustedProxies *[]string `json:"trusted_proxies"`
}

func settingsOut(st Settings) settingsJSON {
	list := nonNil(st.TrustedProxies)
	return settingsJSON{TrustedProxies: &list}
}

// handleGetSettings serves GET /_sim/settings: the platform's own settings.
func (s *server) handleGetSettings() contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		st, err := s.store.GetSettings(r.Context())
		if err != nil {
			return err
		}
		contract.WriteJSON(w, http.StatusOK, settingsOut(st))
		return nil
	}
}

// handlePutSettings serves PUT /_sim/settings: merges the given keys into the settings and
// answers with the result. It takes effect on the next request.
func (s *server) handlePutSettings() contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var body settingsJSON
		if err := decodeStrict(w, r, &body); err != nil {
			return err
		}
		st, err := s.store.GetSettings(r.Context())
		if err != nil {
			return err
		}
		if body.TrustedProxies != nil {
			list, err := contract.NormalizeAllowlist(*body.TrustedProxies)
			if err != nil {
				return invalidField("trusted_proxies", "%v", err)
			}
			st.TrustedProxies = list
		}
		if err := s.store.PutSettings(r.Context(), st); err != nil {
			return err
		}
		contract.WriteJSON(w, http.StatusOK, settingsOut(st))
		return nil
	}
}

// storageJSON is GET /_sim/storage and the body of PUT.
type storageJSON struct {
	ReadOnly *bool `json:"read_only"`
}

// handleStorage serves GET and PUT /_sim/storage: {"read_only": true} makes every write of
// the platform's database fail from the next request on, as a read-only or full disk would,
// so a scenario can show what the platform answers when its own storage fails (UNKNOWN_ERROR,
// contract §5.1); false puts it back.
func (s *server) handleStorage() contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if r.Method == http.MethodPut {
			var body storageJSON
			if err := decodeStrict(w, r, &body); err != nil {
				return err
			}
			if body.ReadOnly == nil {
				return invalidField("read_only", "is required: true or false")
			}
			if err := s.store.SetReadOnly(r.Context(), *body.ReadOnly); err != nil {
				return err
			}
			s.log.WarnContext(r.Context(), "storage switched", "read_only", *body.ReadOnly)
		}
		on, err := s.store.ReadOnly(r.Context())
		if err != nil {
			return err
		}
		contract.WriteJSON(w, http.StatusOK, storageJSON{ReadOnly: &on})
		return nil
	}
}

// callerAllowed applies the IP filter of PROTOCOL §7.6 to a server-to-server call made for
// the partnership of host and appID: the caller's address (the peer, or X-Forwarded-For
// behind one of the platform's trusted proxies) must be in the host app's allowlist or in the
// miniapp's. The miniapp's list is read only when the host's refuses, so an address in
// neither learns nothing about whether appID exists.
func (s *server) callerAllowed(r *http.Request, host HostApp, appID string) (bool, error) {
	st, err := s.store.GetSettings(r.Context())
	if err != nil {
		return false, err
	}
	proxies, err := contract.ParseIPFilter(st.TrustedProxies)
	if err != nil {
		return false, err
	}
	addr := contract.ClientAddr(r, proxies)
	if f, err := contract.ParseIPFilter(host.IPAllowlist); err == nil && f.Allows(addr) {
		return true, nil
	}
	app, err := s.store.GetMiniapp(r.Context(), appID)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	f, err := contract.ParseIPFilter(app.IPAllowlist)
	return err == nil && f.Allows(addr), nil
}
