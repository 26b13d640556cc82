package miniapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/admin"
	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/userdata"
)

// handleHealthz answers GET /healthz → 200 {"status": "ok", "party": "miniapp"}.
func handleHealthz() contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		contract.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok", "party": contract.PartyMiniapp})
		return nil
	}
}

// settingsView is the JSON of GET and PUT /_sim/settings. secret_key is write-only: it is
// accepted by PUT and never shown.
type settingsView struct {
	AppID          string   `json:"app_id"`
	RequiredFields []string `json:"required_fields"`
	IPAllowlist    []string `json:"ip_allowlist"`
	// UserDataKey is shown masked ("" when none is set); PUT takes the full key, or "" to
	// remove it.
	UserDataKey string `json:"user_data_key"`
	// TrustedProxies are the proxies whose X-Forwarded-For the IP filter believes (§7.6).
	TrustedProxies []string `json:"trusted_proxies"`
	SigningEnabled bool     `json:"signing_enabled"` // signing_secret, like secret_key, is write-only
	// SigningSecret is shown only to a GET that asks for secrets (admin.ShowSecrets).
	SigningSecret *string `json:"signing_secret,omitempty"`
}

// viewSettings is the settings as the admin routes show them; show (admin.ShowSecrets) adds
// the secrets the miniapp keeps raw, in full. secret_key is kept as a hash and never shown.
func viewSettings(s Settings, show bool) settingsView {
	v := settingsView{AppID: s.AppID, RequiredFields: s.RequiredFields, IPAllowlist: s.IPAllowlist, SigningEnabled: s.RequestSigning}
	if s.UserDataKey != "" {
		v.UserDataKey = userdata.Mask(s.UserDataKey)
	}
	if show {
		v.UserDataKey = s.UserDataKey
		v.SigningSecret = &s.RequestSigningSecret
	}
	if v.RequiredFields == nil {
		v.RequiredFields = []string{}
	}
	if v.IPAllowlist == nil {
		v.IPAllowlist = []string{}
	}
	v.TrustedProxies = s.TrustedProxies
	if v.TrustedProxies == nil {
		v.TrustedProxies = []string{}
	}
	return v
}

// handleGetSettings answers GET /_sim/settings with settingsView, or 404 {"error":
// "not_found"} before any settings exist.
func handleGetSettings(c Config) contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		s, err := c.Store.Settings(r.Context())
		if errors.Is(err, ErrNotFound) {
			return &contract.Error{Code: "not_found", Message: "the miniapp has no settings yet; PUT app_id and secret_key to create them", Status: http.StatusNotFound}
		}
		if err != nil {
			return fmt.Errorf("load settings: %w", err)
		}
		show, err := admin.ShowSecrets(r)
		if err != nil {
			return err
		}
		contract.WriteJSON(w, http.StatusOK, viewSettings(s, show))
		return nil
	}
}

// settingsPatch is the body of PUT /_sim/settings: a key that is absent or null leaves its
// setting unchanged; [] empties a list.
type settingsPatch struct {
	AppID          *string
	SecretKey      *string
	RequiredFields *[]string
	IPAllowlist    *[]string
	UserDataKey    *string
	TrustedProxies *[]string
	SigningEnabled *bool
	SigningSecret  *string
}

// handlePutSettings answers PUT /_sim/settings {"app_id", "secret_key", "required_fields",
// "ip_allowlist"} with merge semantics (absent or null keys keep their value) and answers the
// resulting settingsView. Before any settings exist, app_id and secret_key are required and
// the rest defaults as in SeedDemo (a new signing key is made). Unknown keys, wrong types and
// invalid values → 400 {"error": "invalid_request"}; nothing is written then.
func handlePutSettings(c Config) contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		p, err := decodeSettingsPatch(w, r)
		if err != nil {
			return err
		}
		apply := func(s Settings) (Settings, error) { return p.apply(s) }
		s, err := c.Store.UpdateSettings(ctx, apply)
		if errors.Is(err, ErrNotFound) {
			if p.AppID == nil || p.SecretKey == nil {
				return contract.Errorf(contract.OAuthInvalidRequest, "the miniapp has no settings yet: app_id and secret_key are required")
			}
			s, err = p.apply(Settings{IPAllowlist: append([]string(nil), contract.DefaultAllowlist...), SigningKey: newSigningKey()})
			if err != nil {
				return err
			}
			err = c.Store.CreateSettings(ctx, s)
			if errors.Is(err, ErrConflict) { // created meanwhile: merge into those
				s, err = c.Store.UpdateSettings(ctx, apply)
			}
		}
		if err != nil {
			var ce *contract.Error
			if errors.As(err, &ce) {
				return ce
			}
			return fmt.Errorf("store settings: %w", err)
		}
		c.logger(r).DebugContext(ctx, "settings updated", "app_id", s.AppID, "secret_key_changed", p.SecretKey != nil,
			"required_fields", s.RequiredFields, "ip_allowlist", s.IPAllowlist)
		contract.WriteJSON(w, http.StatusOK, viewSettings(s, false))
		return nil
	}
}

func decodeSettingsPatch(w http.ResponseWriter, r *http.Request) (settingsPatch, error) {
	var raw map[string]json.RawMessage
	if err := contract.DecodeJSON(w, r, &raw, contract.OAuthInvalidRequest); err != nil {
		return settingsPatch{}, err
	}
	if raw == nil {
		return settingsPatch{}, contract.Errorf(contract.OAuthInvalidRequest, "request body must be a JSON object")
	}
	var p settingsPatch
	targets := map[string]any{
		"app_id": &p.AppID, "secret_key": &p.SecretKey,
		"required_fields": &p.RequiredFields, "ip_allowlist": &p.IPAllowlist,
		"user_data_key": &p.UserDataKey, "trusted_proxies": &p.TrustedProxies,
		"signing_enabled": &p.SigningEnabled, "signing_secret": &p.SigningSecret,
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		dst, ok := targets[k]
		if !ok {
			return settingsPatch{}, contract.Errorf(contract.OAuthInvalidRequest,
				"unknown key %q; known keys are app_id, secret_key, required_fields, ip_allowlist, user_data_key, trusted_proxies, signing_enabled, signing_secret", k)
		}
		if err := json.Unmarshal(raw[k], dst); err != nil {
			return settingsPatch{}, contract.Errorf(contract.OAuthInvalidRequest, "%s has the wrong type", k)
		}
	}
	return p, nil
}

// apply validates the patch and merges it into s.
func (p settingsPatch) apply(s Settings) (Settings, error) {
	bad := func(format string, args ...any) (Settings, error) {
		return Settings{}, contract.Errorf(contract.OAuthInvalidRequest, format, args...)
	}
	if p.AppID != nil {
		if err := validAppID(*p.AppID); err != nil {
			return bad("%v", err)
		}
		s.AppID = *p.AppID
	}
	if p.SecretKey != nil {
		if *p.SecretKey == "" || contract.Len(*p.SecretKey) > contract.MaxTokenLen {
			return bad("secret_key must be 1 to %d characters", contract.MaxTokenLen)
		}
		s.SecretHash = contract.Hash(*p.SecretKey)
	}
	if p.RequiredFields != nil {
		fields := []string{}
		for _, f := range *p.RequiredFields {
			if !contract.IsUserField(f) {
				return bad("required_fields: %q is not one of %s", f, strings.Join(contract.UserFields, ", "))
			}
			if !slices.Contains(fields, f) {
				fields = append(fields, f)
			}
		}
		s.RequiredFields = fields
	}
	if p.SigningEnabled != nil {
		s.RequestSigning = *p.SigningEnabled
	}
	if p.SigningSecret != nil {
		if contract.Len(*p.SigningSecret) > contract.MaxTokenLen {
			return bad("signing_secret must be at most %d characters", contract.MaxTokenLen)
		}
		s.RequestSigningSecret = *p.SigningSecret
	}
	if p.TrustedProxies != nil {
		list, err := contract.NormalizeAllowlist(*p.TrustedProxies)
		if err != nil {
			return bad("trusted_proxies: %v", err)
		}
		s.TrustedProxies = list
	}
	if p.UserDataKey != nil {
		switch k, err := userdata.ParseKey(*p.UserDataKey); {
		case *p.UserDataKey == "":
			s.UserDataKey = ""
		case s.UserDataKey != "" && *p.UserDataKey == userdata.Mask(s.UserDataKey):
			// the masked value of GET sent back: keep the key
		case err != nil:
			return bad("user_data_key: %v", err)
		default:
			s.UserDataKey = k.Text()
		}
	}
	if p.IPAllowlist != nil {
		list, err := contract.NormalizeAllowlist(*p.IPAllowlist)
		if err != nil {
			return bad("ip_allowlist: %v", err)
		}
		s.IPAllowlist = list
	}
	return s, nil
}

// validAppID checks an app_id with the rule every party shares (contract.CheckID).
func validAppID(id string) error {
	if err := contract.CheckID(id); err != nil {
		return fmt.Errorf("app_id %v", err)
	}
	return nil
}

// userView is one user in GET /_sim/users.
type userView struct {
	ID               string          `json:"id"`
	ClientID         string          `json:"client_id"`
	Reference        string          `json:"reference"`
	Email            string          `json:"email,omitempty"`
	Phone            string          `json:"phone,omitempty"`
	FirstName        string          `json:"first_name,omitempty"`
	LastName         string          `json:"last_name,omitempty"`
	CustomAttributes json.RawMessage `json:"custom_attributes,omitempty"`
	CreatedAt        time.Time       `json:"created_at"`
	UpdatedAt        time.Time       `json:"updated_at"`
}

// handleUsers answers GET /_sim/users[?client_id=..&reference=..] with {"users": [userView]},
// oldest first.
func handleUsers(c Config) contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		users, err := c.Store.Users(r.Context(), UserFilter{ClientID: q.Get("client_id"), Reference: q.Get("reference")})
		if err != nil {
			return fmt.Errorf("list users: %w", err)
		}
		out := make([]userView, 0, len(users))
		for _, u := range users {
			out = append(out, userView{ID: u.ID, ClientID: u.ClientID, Reference: u.Reference, Email: u.Email,
				Phone: u.Phone, FirstName: u.FirstName, LastName: u.LastName, CustomAttributes: u.CustomAttributes,
				CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt})
		}
		contract.WriteJSON(w, http.StatusOK, map[string][]userView{"users": out})
		return nil
	}
}
