package platform

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/boxo-sim/boxo-sim/internal/admin"
	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// Admin routes of the Dashboard registry (PROTOCOL §1.3), contract.Plain form. GET answers
// mask secrets with contract.Mask. PUT merges: on an existing record keys absent from the
// body (or null) keep their values; on a new record the required keys must be present and
// the others take their defaults. Unknown keys are refused. A PUT takes effect on the next
// flow: nothing is cached.

// hostAppJSON is a host app on the admin routes.
type hostAppJSON struct {
	ClientID         string   `json:"client_id"`
	Name             string   `json:"name"`
	ConnectEnabled   bool     `json:"connect_enabled"`
	AccessTokenURL   string   `json:"access_token_url"`
	UserDataURL      string   `json:"user_data_url"`
	RefreshTokenURL  string   `json:"refresh_token_url"`
	HostappClientID  string   `json:"hostapp_client_id"`
	HostappSecretKey string   `json:"hostapp_secret_key"`
	TokenPrefix      string   `json:"token_prefix"`
	UserDataMethod   string   `json:"user_data_method"`
	IPAllowlist      []string `json:"ip_allowlist"`
	LegacyLogin      bool     `json:"legacy_login_enabled"`
	UseAccessToken   bool     `json:"use_access_token"`
	SigningEnabled   bool     `json:"signing_enabled"`
	SigningSecret    string   `json:"signing_secret"`
}

// hostAppOut is a host app as the admin routes show it: secrets masked unless show
// (admin.ShowSecrets).
func hostAppOut(h HostApp, show bool) hostAppJSON {
	mask := maskUnless(show)
	return hostAppJSON{
		ClientID: h.ClientID, Name: h.Name, ConnectEnabled: h.ConnectEnabled,
		AccessTokenURL: h.AccessTokenURL, UserDataURL: h.UserDataURL, RefreshTokenURL: h.RefreshTokenURL,
		HostappClientID: h.HostappClientID, HostappSecretKey: mask(h.HostappSecretKey),
		TokenPrefix: h.TokenPrefix, UserDataMethod: h.UserDataMethod, IPAllowlist: nonNil(h.IPAllowlist),
		LegacyLogin:    h.LegacyLogin,
		UseAccessToken: h.UseAccessToken,
		SigningEnabled: h.SigningEnabled, SigningSecret: mask(h.SigningSecret),
	}
}

// maskUnless is contract.Mask, or the secret itself when show.
func maskUnless(show bool) func(string) string {
	if show {
		return func(s string) string { return s }
	}
	return contract.Mask
}

// hostAppPatch is a PUT body; nil means "absent".
type hostAppPatch struct {
	ClientID         *string   `json:"client_id"`
	Name             *string   `json:"name"`
	ConnectEnabled   *bool     `json:"connect_enabled"`
	AccessTokenURL   *string   `json:"access_token_url"`
	UserDataURL      *string   `json:"user_data_url"`
	RefreshTokenURL  *string   `json:"refresh_token_url"`
	HostappClientID  *string   `json:"hostapp_client_id"`
	HostappSecretKey *string   `json:"hostapp_secret_key"`
	TokenPrefix      *string   `json:"token_prefix"`
	UserDataMethod   *string   `json:"user_data_method"`
	IPAllowlist      *[]string `json:"ip_allowlist"`
	LegacyLogin      *bool     `json:"legacy_login_enabled"`
	UseAccessToken   *bool     `json:"use_access_token"`
	SigningEnabled   *bool     `json:"signing_enabled"`
	SigningSecret    *string   `json:"signing_secret"`
}

// apply merges the patch into h (a stored record, or the defaults for a new one) and
// checks the result.
func (p hostAppPatch) apply(h HostApp, exists bool) (HostApp, error) {
	if !exists {
		for _, req := range []struct {
			name    string
			present bool
		}{
			{"name", p.Name != nil}, {"access_token_url", p.AccessTokenURL != nil}, {"user_data_url", p.UserDataURL != nil},
			{"hostapp_client_id", p.HostappClientID != nil}, {"hostapp_secret_key", p.HostappSecretKey != nil},
		} {
			if !req.present {
				return h, invalidField(req.name, "is required for a new host app")
			}
		}
		h.ConnectEnabled = true
		h.TokenPrefix = "Token"
		h.UserDataMethod = http.MethodGet
		h.IPAllowlist = slices.Clone(contract.DefaultAllowlist)
	}
	set(&h.Name, p.Name)
	set(&h.ConnectEnabled, p.ConnectEnabled)
	set(&h.AccessTokenURL, p.AccessTokenURL)
	set(&h.UserDataURL, p.UserDataURL)
	set(&h.RefreshTokenURL, p.RefreshTokenURL)
	set(&h.HostappClientID, p.HostappClientID)
	set(&h.HostappSecretKey, p.HostappSecretKey)
	set(&h.TokenPrefix, p.TokenPrefix)
	set(&h.UserDataMethod, p.UserDataMethod)
	set(&h.IPAllowlist, p.IPAllowlist)
	set(&h.LegacyLogin, p.LegacyLogin)
	set(&h.UseAccessToken, p.UseAccessToken)
	set(&h.SigningEnabled, p.SigningEnabled)
	set(&h.SigningSecret, p.SigningSecret)
	return h, h.check()
}

// check validates a whole host app record, naming the first bad field.
func (h HostApp) check() error {
	if err := checkID("client_id", h.ClientID); err != nil {
		return err
	}
	if err := checkText("name", h.Name, maxNameLen); err != nil {
		return err
	}
	if err := checkURL("access_token_url", h.AccessTokenURL, true); err != nil {
		return err
	}
	if err := checkURL("user_data_url", h.UserDataURL, true); err != nil {
		return err
	}
	if err := checkURL("refresh_token_url", h.RefreshTokenURL, true); err != nil {
		return err
	}
	if err := checkBasicUser("hostapp_client_id", h.HostappClientID); err != nil {
		return err
	}
	if err := checkText("hostapp_secret_key", h.HostappSecretKey, maxSecretLen); err != nil {
		return err
	}
	if err := checkPrefix("token_prefix", h.TokenPrefix); err != nil {
		return err
	}
	if h.UserDataMethod != http.MethodGet && h.UserDataMethod != http.MethodPost {
		return invalidField("user_data_method", "must be GET or POST")
	}
	if contract.Len(h.SigningSecret) > maxSecretLen {
		return invalidField("signing_secret", "is longer than %d characters", maxSecretLen)
	}
	return checkCIDRs("ip_allowlist", h.IPAllowlist)
}

// miniappJSON is a miniapp on the admin routes.
type miniappJSON struct {
	AppID          string                 `json:"app_id"`
	Name           string                 `json:"name"`
	URL            string                 `json:"url"`
	AuthTokenURL   string                 `json:"auth_token_url"`
	SecretKey      string                 `json:"secret_key"`
	RequiredFields []string               `json:"required_fields"`
	IPAllowlist    []string               `json:"ip_allowlist"`
	ConsentLinks   []contract.ConsentLink `json:"consent_links"`
	SigningEnabled bool                   `json:"signing_enabled"`
	SigningSecret  string                 `json:"signing_secret"`
}

func miniappOut(m Miniapp, show bool) miniappJSON {
	mask := maskUnless(show)
	return miniappJSON{
		AppID: m.AppID, Name: m.Name, URL: m.URL, AuthTokenURL: m.AuthTokenURL,
		SecretKey: mask(m.SecretKey), RequiredFields: nonNil(m.RequiredFields), IPAllowlist: nonNil(m.IPAllowlist),
		ConsentLinks:   nonNil(m.ConsentLinks),
		SigningEnabled: m.SigningEnabled, SigningSecret: mask(m.SigningSecret),
	}
}

type miniappPatch struct {
	AppID          *string                 `json:"app_id"`
	Name           *string                 `json:"name"`
	URL            *string                 `json:"url"`
	AuthTokenURL   *string                 `json:"auth_token_url"`
	SecretKey      *string                 `json:"secret_key"`
	RequiredFields *[]string               `json:"required_fields"`
	IPAllowlist    *[]string               `json:"ip_allowlist"`
	ConsentLinks   *[]contract.ConsentLink `json:"consent_links"`
	SigningEnabled *bool                   `json:"signing_enabled"`
	SigningSecret  *string                 `json:"signing_secret"`
}

func (p miniappPatch) apply(m Miniapp, exists bool) (Miniapp, error) {
	if !exists {
		for _, req := range []struct {
			name    string
			present bool
		}{
			{"name", p.Name != nil}, {"url", p.URL != nil}, {"auth_token_url", p.AuthTokenURL != nil}, {"secret_key", p.SecretKey != nil},
		} {
			if !req.present {
				return m, invalidField(req.name, "is required for a new miniapp")
			}
		}
		m.IPAllowlist = slices.Clone(contract.DefaultAllowlist)
	}
	set(&m.Name, p.Name)
	set(&m.URL, p.URL)
	set(&m.AuthTokenURL, p.AuthTokenURL)
	set(&m.SecretKey, p.SecretKey)
	set(&m.RequiredFields, p.RequiredFields)
	set(&m.IPAllowlist, p.IPAllowlist)
	set(&m.ConsentLinks, p.ConsentLinks)
	set(&m.SigningEnabled, p.SigningEnabled)
	set(&m.SigningSecret, p.SigningSecret)
	fields, err := checkFields("required_fields", m.RequiredFields)
	if err != nil {
		return m, err
	}
	m.RequiredFields = fields
	return m, m.check()
}

func (m Miniapp) check() error {
	if err := checkID("app_id", m.AppID); err != nil {
		return err
	}
	if err := checkText("name", m.Name, maxNameLen); err != nil {
		return err
	}
	if err := checkURL("url", m.URL, false); err != nil {
		return err
	}
	if err := checkURL("auth_token_url", m.AuthTokenURL, true); err != nil {
		return err
	}
	if err := checkText("secret_key", m.SecretKey, maxSecretLen); err != nil {
		return err
	}
	if _, err := checkFields("required_fields", m.RequiredFields); err != nil {
		return err
	}
	if contract.Len(m.SigningSecret) > maxSecretLen {
		return invalidField("signing_secret", "is longer than %d characters", maxSecretLen)
	}
	if err := checkConsentLinks(m.ConsentLinks); err != nil {
		return err
	}
	return checkCIDRs("ip_allowlist", m.IPAllowlist)
}

// maxConsentLinks bounds the links a consent prompt shows.
const maxConsentLinks = 10

// checkConsentLinks checks the consent prompt's links (PROTOCOL §3.5): each a title and an
// http(s) URL.
func checkConsentLinks(links []contract.ConsentLink) error {
	if len(links) > maxConsentLinks {
		return invalidField("consent_links", "at most %d links, got %d", maxConsentLinks, len(links))
	}
	for i, l := range links {
		if err := checkText(fmt.Sprintf("consent_links[%d].title", i), l.Title, maxNameLen); err != nil {
			return err
		}
		if err := checkURL(fmt.Sprintf("consent_links[%d].url", i), l.URL, false); err != nil {
			return err
		}
	}
	return nil
}

// partnershipJSON is a partnership on the admin routes.
type partnershipJSON struct {
	ClientID       string `json:"client_id"`
	AppID          string `json:"app_id"`
	ConnectEnabled bool   `json:"connect_enabled"`
	DirectEnabled  bool   `json:"direct_enabled"`
}

func partnershipOut(p Partnership) partnershipJSON {
	return partnershipJSON{ClientID: p.ClientID, AppID: p.AppID, ConnectEnabled: p.ConnectEnabled, DirectEnabled: p.DirectEnabled}
}

type partnershipPatch struct {
	ClientID       *string `json:"client_id"`
	AppID          *string `json:"app_id"`
	ConnectEnabled *bool   `json:"connect_enabled"`
	DirectEnabled  *bool   `json:"direct_enabled"`
}

func (p partnershipPatch) apply(old Partnership, exists bool) Partnership {
	if !exists {
		old.ConnectEnabled = true // a partnership exists to do Connect; Direct is opt-in
	}
	set(&old.ConnectEnabled, p.ConnectEnabled)
	set(&old.DirectEnabled, p.DirectEnabled)
	return old
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

// samePathValue refuses a body key that contradicts the path.
func samePathValue(field string, body *string, path string) error {
	if body != nil && *body != path {
		return invalidField(field, "%q in the body differs from %q in the path", *body, path)
	}
	return nil
}

// storeErr maps a store failure to the admin form: ErrNotFound → 404, a *contract.Error
// from an updater unchanged, anything else is an internal error.
func storeErr(err error, what string) error {
	var ce *contract.Error
	switch {
	case errors.As(err, &ce):
		return ce
	case errors.Is(err, ErrNotFound):
		return notFoundErr("%s does not exist", what)
	}
	return err
}

func (s *server) handleListHostApps() contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		show, err := admin.ShowSecrets(r)
		if err != nil {
			return err
		}
		hs, err := s.store.ListHostApps(r.Context())
		if err != nil {
			return err
		}
		out := make([]hostAppJSON, len(hs))
		for i, h := range hs {
			out[i] = hostAppOut(h, show)
		}
		contract.WriteJSON(w, http.StatusOK, map[string]any{"hostapps": out})
		return nil
	}
}

func (s *server) handleGetHostApp() contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		show, err := admin.ShowSecrets(r)
		if err != nil {
			return err
		}
		id := mux.Vars(r)["client_id"]
		h, err := s.store.GetHostApp(r.Context(), id)
		if err != nil {
			return storeErr(err, "host app "+quote(id))
		}
		contract.WriteJSON(w, http.StatusOK, hostAppOut(h, show))
		return nil
	}
}

func (s *server) handlePutHostApp() contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := mux.Vars(r)["client_id"]
		if err := checkID("client_id", id); err != nil {
			return err
		}
		var p hostAppPatch
		if err := decodeStrict(w, r, &p); err != nil {
			return err
		}
		if err := samePathValue("client_id", p.ClientID, id); err != nil {
			return err
		}
		h, created, err := s.store.UpdateHostApp(r.Context(), id, func(old HostApp, exists bool) (HostApp, error) {
			old.ClientID = id
			return p.apply(old, exists)
		})
		if err != nil {
			return storeErr(err, "host app "+quote(id))
		}
		contract.WriteJSON(w, putStatus(created), hostAppOut(h, false))
		return nil
	}
}

func (s *server) handleDeleteHostApp() contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := mux.Vars(r)["client_id"]
		if err := s.store.DeleteHostApp(r.Context(), id); err != nil {
			return storeErr(err, "host app "+quote(id))
		}
		contract.WriteJSON(w, http.StatusOK, map[string]string{"deleted": id})
		return nil
	}
}

func (s *server) handleListMiniapps() contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		show, err := admin.ShowSecrets(r)
		if err != nil {
			return err
		}
		ms, err := s.store.ListMiniapps(r.Context())
		if err != nil {
			return err
		}
		out := make([]miniappJSON, len(ms))
		for i, m := range ms {
			out[i] = miniappOut(m, show)
		}
		contract.WriteJSON(w, http.StatusOK, map[string]any{"miniapps": out})
		return nil
	}
}

func (s *server) handleGetMiniapp() contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		show, err := admin.ShowSecrets(r)
		if err != nil {
			return err
		}
		id := mux.Vars(r)["app_id"]
		m, err := s.store.GetMiniapp(r.Context(), id)
		if err != nil {
			return storeErr(err, "miniapp "+quote(id))
		}
		contract.WriteJSON(w, http.StatusOK, miniappOut(m, show))
		return nil
	}
}

func (s *server) handlePutMiniapp() contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := mux.Vars(r)["app_id"]
		if err := checkID("app_id", id); err != nil {
			return err
		}
		var p miniappPatch
		if err := decodeStrict(w, r, &p); err != nil {
			return err
		}
		if err := samePathValue("app_id", p.AppID, id); err != nil {
			return err
		}
		m, created, err := s.store.UpdateMiniapp(r.Context(), id, func(old Miniapp, exists bool) (Miniapp, error) {
			old.AppID = id
			return p.apply(old, exists)
		})
		if err != nil {
			return storeErr(err, "miniapp "+quote(id))
		}
		contract.WriteJSON(w, putStatus(created), miniappOut(m, false))
		return nil
	}
}

func (s *server) handleDeleteMiniapp() contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := mux.Vars(r)["app_id"]
		if err := s.store.DeleteMiniapp(r.Context(), id); err != nil {
			return storeErr(err, "miniapp "+quote(id))
		}
		contract.WriteJSON(w, http.StatusOK, map[string]string{"deleted": id})
		return nil
	}
}

func (s *server) handleListPartnerships() contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ps, err := s.store.ListPartnerships(r.Context())
		if err != nil {
			return err
		}
		out := make([]partnershipJSON, len(ps))
		for i, p := range ps {
			out[i] = partnershipOut(p)
		}
		contract.WriteJSON(w, http.StatusOK, map[string]any{"partnerships": out})
		return nil
	}
}

func (s *server) handleGetPartnership() contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v := mux.Vars(r)
		p, err := s.store.GetPartnership(r.Context(), v["client_id"], v["app_id"])
		if err != nil {
			return storeErr(err, "partnership "+quote(v["client_id"])+"/"+quote(v["app_id"]))
		}
		contract.WriteJSON(w, http.StatusOK, partnershipOut(p))
		return nil
	}
}

func (s *server) handlePutPartnership() contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v := mux.Vars(r)
		clientID, appID := v["client_id"], v["app_id"]
		var p partnershipPatch
		if err := decodeStrict(w, r, &p); err != nil {
			return err
		}
		if err := samePathValue("client_id", p.ClientID, clientID); err != nil {
			return err
		}
		if err := samePathValue("app_id", p.AppID, appID); err != nil {
			return err
		}
		if err := s.mustExist(r.Context(), clientID, appID); err != nil {
			return err
		}
		out, created, err := s.store.UpdatePartnership(r.Context(), clientID, appID, func(old Partnership, exists bool) (Partnership, error) {
			return p.apply(old, exists), nil
		})
		if errors.Is(err, ErrNotFound) { // deleted between the check and the update
			return invalidField("client_id", "host app or miniapp does not exist")
		}
		if err != nil {
			return storeErr(err, "partnership")
		}
		contract.WriteJSON(w, putStatus(created), partnershipOut(out))
		return nil
	}
}

// mustExist names the missing side of a partnership being created.
func (s *server) mustExist(ctx context.Context, clientID, appID string) error {
	if _, err := s.store.GetHostApp(ctx, clientID); errors.Is(err, ErrNotFound) {
		return invalidField("client_id", "no host app %q", clientID)
	} else if err != nil {
		return err
	}
	if _, err := s.store.GetMiniapp(ctx, appID); errors.Is(err, ErrNotFound) {
		return invalidField("app_id", "no miniapp %q", appID)
	} else if err != nil {
		return err
	}
	return nil
}

func (s *server) handleDeletePartnership() contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v := mux.Vars(r)
		if err := s.store.DeletePartnership(r.Context(), v["client_id"], v["app_id"]); err != nil {
			return storeErr(err, "partnership "+quote(v["client_id"])+"/"+quote(v["app_id"]))
		}
		contract.WriteJSON(w, http.StatusOK, map[string]string{"deleted": v["client_id"] + "/" + v["app_id"]})
		return nil
	}
}

func putStatus(created bool) int {
	if created {
		return http.StatusCreated
	}
	return http.StatusOK
}

func quote(s string) string { return strconv.Quote(s) }
