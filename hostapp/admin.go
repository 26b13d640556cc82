package hostapp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/gorilla/mux"

	"github.com/boxo-sim/boxo-sim/internal/admin"
	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/userdata"
)

// Simulator-only admin routes under /_sim/ (contract.Plain form: errors are
// {"error","error_description"} with status 400 or 404).

const errInvalidRequest = "invalid_request"

func badRequest(format string, args ...any) error {
	return &contract.Error{Code: errInvalidRequest, Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

func notFound(what string) error {
	return &contract.Error{Code: "not_found", Message: what + " not found", Status: http.StatusNotFound}
}

// decodeStrict reads a JSON object body into dst, rejecting keys dst does not know, so a
// typo in a setup file fails instead of being ignored.
func decodeStrict(w http.ResponseWriter, r *http.Request, dst any) error {
	var raw json.RawMessage
	if err := contract.DecodeJSON(w, r, &raw, errInvalidRequest); err != nil {
		return err
	}
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return badRequest("request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return badRequest("request body: %v", err)
	}
	return nil
}

// isObject reports whether raw is a JSON object.
func isObject(raw json.RawMessage) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(raw, &m) == nil && m != nil
}

// isNull reports whether raw is absent or JSON null.
func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// ---- users

// userJSON is a user as the admin API shows it: never the password hash.
type userJSON struct {
	ID               string          `json:"id"`
	Username         string          `json:"username"`
	Reference        string          `json:"reference"`
	Email            string          `json:"email,omitempty"`
	Phone            string          `json:"phone,omitempty"`
	FirstName        string          `json:"first_name,omitempty"`
	LastName         string          `json:"last_name,omitempty"`
	CustomAttributes json.RawMessage `json:"custom_attributes,omitempty"`
	HasPassword      bool            `json:"has_password"`
	CreatedAt        time.Time       `json:"created_at"`
	UpdatedAt        time.Time       `json:"updated_at"`
}

func toUserJSON(u User) userJSON {
	j := userJSON{
		ID: u.ID, Username: u.Username, Reference: u.Reference, Email: u.Email, Phone: u.Phone,
		FirstName: u.FirstName, LastName: u.LastName, HasPassword: u.PasswordHash != "",
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
	if u.CustomAttributes != "" {
		j.CustomAttributes = json.RawMessage(u.CustomAttributes)
	}
	return j
}

// userPut is the body of PUT /_sim/users/{username}. Only the username and the type of
// custom_attributes are validated: data that breaks the Connect contract (no e-mail nor
// phone, a long reference, a phone that is not E.164) is allowed on purpose, so tests can
// provoke the platform's and the miniapp's checks.
type userPut struct {
	Password         *string         `json:"password"`
	Reference        string          `json:"reference"`
	Email            string          `json:"email"`
	Phone            string          `json:"phone"`
	FirstName        string          `json:"first_name"`
	LastName         string          `json:"last_name"`
	CustomAttributes json.RawMessage `json:"custom_attributes"`
}

func validUsername(name string) error {
	switch {
	case name == "":
		return badRequest("username is empty")
	case contract.Len(name) > 100:
		return badRequest("username is longer than 100 characters")
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return badRequest("username contains control characters")
	}
	return nil
}

// handleListUsers serves GET /_sim/users → {"users": [user...]}.
func handleListUsers(s *server) contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		users, err := s.Store.ListUsers(r.Context())
		if err != nil {
			return err
		}
		out := make([]userJSON, 0, len(users))
		for _, u := range users {
			out = append(out, toUserJSON(u))
		}
		contract.WriteJSON(w, http.StatusOK, map[string]any{"users": out})
		return nil
	}
}

// pathUser is the user the route's {username} names; 404 when unknown.
func (s *server) pathUser(r *http.Request) (User, error) {
	u, err := s.Store.GetUser(r.Context(), mux.Vars(r)["username"])
	if errors.Is(err, ErrNotFound) {
		return User{}, notFound("user")
	}
	return u, err
}

// handleGetUser serves GET /_sim/users/{username}.
func handleGetUser(s *server) contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, err := s.pathUser(r)
		if err != nil {
			return err
		}
		contract.WriteJSON(w, http.StatusOK, toUserJSON(u))
		return nil
	}
}

// handlePutUser serves PUT /_sim/users/{username}: creates or replaces the user (every
// field; an absent password keeps the stored one) and answers 200 with it.
func handlePutUser(s *server) contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		name := mux.Vars(r)["username"]
		if err := validUsername(name); err != nil {
			return err
		}
		var body userPut
		if err := decodeStrict(w, r, &body); err != nil {
			return err
		}
		u := User{
			ID: newUserID(), Username: name, Reference: body.Reference, Email: body.Email, Phone: body.Phone,
			FirstName: body.FirstName, LastName: body.LastName, CreatedAt: s.Now(), UpdatedAt: s.Now(),
		}
		if !isNull(body.CustomAttributes) {
			if !isObject(body.CustomAttributes) {
				return badRequest("custom_attributes must be a JSON object")
			}
			var buf bytes.Buffer
			if err := json.Compact(&buf, body.CustomAttributes); err != nil {
				return badRequest("custom_attributes: %v", err)
			}
			u.CustomAttributes = buf.String()
		}
		if body.Password != nil {
			if *body.Password == "" {
				return badRequest("password is empty; leave it out to keep the stored one")
			}
			hash, err := hashPassword(*body.Password)
			if err != nil {
				return err
			}
			u.PasswordHash = hash
		}
		stored, _, err := s.Store.PutUser(r.Context(), u)
		if err != nil {
			return err
		}
		contract.WriteJSON(w, http.StatusOK, toUserJSON(stored))
		return nil
	}
}

// handleDeleteUser serves DELETE /_sim/users/{username}: 200 {"deleted": true}, 404 when
// unknown. The user's sessions end; its tokens then answer HOSTAPP_USER_NOT_FOUND.
func handleDeleteUser(s *server) contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		err := s.Store.DeleteUser(r.Context(), mux.Vars(r)["username"])
		if errors.Is(err, ErrNotFound) {
			return notFound("user")
		}
		if err != nil {
			return err
		}
		contract.WriteJSON(w, http.StatusOK, map[string]bool{"deleted": true})
		return nil
	}
}

// handleRevokeUserTokens serves POST /_sim/users/{username}/revoke-tokens: every token the
// host issued to the user (access and refresh, every client) is revoked, as when a user signs
// out everywhere. 200 {"revoked": n}, 404 when unknown. The platform's next use of them is
// refused with INVALID_ACCESS_TOKEN or INVALID_REFRESH_TOKEN.
func handleRevokeUserTokens(s *server) contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, err := s.pathUser(r)
		if err != nil {
			return err
		}
		n, err := s.Store.RevokeUserTokens(r.Context(), u.ID, s.Now())
		if err != nil {
			return err
		}
		contract.WriteJSON(w, http.StatusOK, map[string]int{"revoked": n})
		return nil
	}
}

// ---- settings

// settingsJSON is GET /_sim/settings and the body of PUT (absent keys unchanged).
type settingsJSON struct {
	TokenPrefix *string   `json:"token_prefix"`
	IPAllowlist *[]string `json:"ip_allowlist"`
	// EncryptedUserData maps the app_id of each miniapp whose user data is encrypted to its
	// key (PROTOCOL §7.2). GET shows the keys masked; a PUT replaces the whole map, and a
	// masked value equal to the stored key's mask keeps that key.
	EncryptedUserData *map[string]string `json:"encrypted_user_data"`
	// TrustedProxies are the proxies whose X-Forwarded-For the IP filter believes (§7.6).
	TrustedProxies *[]string `json:"trusted_proxies"`
	// Lifetimes are shown, in seconds, and set only when the host app starts (up
	// --auth-code-ttl ...); a PUT may send them back unchanged.
	Lifetimes *lifetimesJSON `json:"lifetimes"`
	// SigningEnabled and SigningSecret: request signing (§7.8); the secret masked in answers.
	SigningEnabled *bool   `json:"signing_enabled"`
	SigningSecret  *string `json:"signing_secret"`
}

// lifetimesJSON are the host app's lifetimes in seconds (PROTOCOL §6.4, §6.8, §9.12, §9.31).
type lifetimesJSON struct {
	AuthCode       int64 `json:"auth_code"`
	ConnectAccess  int64 `json:"connect_access_token"`
	ConnectRefresh int64 `json:"connect_refresh_token"`
	Session        int64 `json:"session"`
	IDToken        int64 `json:"id_token"`
	AccessToken    int64 `json:"access_token"`
	RefreshToken   int64 `json:"refresh_token"`
}

func (s *server) lifetimes() *lifetimesJSON {
	sec := func(d time.Duration) int64 { return int64(d / time.Second) }
	return &lifetimesJSON{AuthCode: sec(s.AuthCodeTTL), ConnectAccess: sec(s.ConnectAccessTTL), ConnectRefresh: sec(s.ConnectRefreshTTL),
		Session: sec(s.SessionTTL), IDToken: sec(s.IDTokenTTL), AccessToken: sec(s.AccessTokenTTL), RefreshToken: sec(s.RefreshTokenTTL)}
}

// toSettingsJSON is the settings as the admin routes show them: secrets masked unless show
// (admin.ShowSecrets).
func toSettingsJSON(st Settings, show bool) settingsJSON {
	list := st.IPAllowlist
	if list == nil {
		list = []string{}
	}
	keys := make(map[string]string, len(st.UserDataKeys))
	for app, k := range st.UserDataKeys {
		keys[app] = k
		if !show {
			keys[app] = userdata.Mask(k)
		}
	}
	proxies := st.TrustedProxies
	if proxies == nil {
		proxies = []string{}
	}
	masked := contract.Mask(st.SigningSecret)
	if show {
		masked = st.SigningSecret
	}
	return settingsJSON{TokenPrefix: &st.TokenPrefix, IPAllowlist: &list, EncryptedUserData: &keys, TrustedProxies: &proxies,
		SigningEnabled: &st.SigningEnabled, SigningSecret: &masked}
}

// userDataKeys validates the encrypted_user_data of a PUT against the stored keys.
func userDataKeys(given, stored map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(given))
	for app, text := range given {
		if app == "" {
			return nil, badRequest("encrypted_user_data: an app_id is empty")
		}
		if old, ok := stored[app]; ok && text == userdata.Mask(old) {
			out[app] = old
			continue
		}
		k, err := userdata.ParseKey(text)
		if err != nil {
			return nil, badRequest("encrypted_user_data[%s]: %v", app, err)
		}
		out[app] = k.Text()
	}
	if len(out) == 0 {
		out = nil
	}
	return out, nil
}

// validPrefix reports whether p can be an Authorization scheme word: one RFC 9110 token.
func validPrefix(p string) bool {
	if p == "" || len(p) > 64 {
		return false
	}
	for _, c := range []byte(p) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// handleGetSettings serves GET /_sim/settings.
func handleGetSettings(s *server) contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		st, err := s.settings(r.Context())
		if err != nil {
			return err
		}
		show, err := admin.ShowSecrets(r)
		if err != nil {
			return err
		}
		out := toSettingsJSON(st, show)
		out.Lifetimes = s.lifetimes()
		contract.WriteJSON(w, http.StatusOK, out)
		return nil
	}
}

// handlePutSettings serves PUT /_sim/settings: merges the given keys into the settings and
// answers with the result. It takes effect on the next request.
func handlePutSettings(s *server) contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var body settingsJSON
		if err := decodeStrict(w, r, &body); err != nil {
			return err
		}
		st, err := s.settings(r.Context())
		if err != nil {
			return err
		}
		if body.TokenPrefix != nil {
			if !validPrefix(*body.TokenPrefix) {
				return badRequest("token_prefix must be one word without spaces (an HTTP token), e.g. Token or Bearer")
			}
			st.TokenPrefix = *body.TokenPrefix
		}
		if body.IPAllowlist != nil {
			list, err := contract.NormalizeAllowlist(*body.IPAllowlist)
			if err != nil {
				return badRequest("ip_allowlist: %v", err)
			}
			if list == nil {
				list = []string{}
			}
			st.IPAllowlist = list
		}
		if body.Lifetimes != nil && *body.Lifetimes != *s.lifetimes() {
			return badRequest("lifetimes are set when the host app starts: use up --auth-code-ttl, --connect-access-ttl, " +
				"--connect-refresh-ttl, --session-ttl, --id-token-ttl, --access-token-ttl, --refresh-token-ttl (or their config keys)")
		}
		if body.TrustedProxies != nil {
			list, err := contract.NormalizeAllowlist(*body.TrustedProxies)
			if err != nil {
				return badRequest("trusted_proxies: %v", err)
			}
			st.TrustedProxies = list
			if len(list) == 0 {
				st.TrustedProxies = nil
			}
		}
		if body.EncryptedUserData != nil {
			keys, err := userDataKeys(*body.EncryptedUserData, st.UserDataKeys)
			if err != nil {
				return err
			}
			st.UserDataKeys = keys
		}
		if body.SigningEnabled != nil {
			st.SigningEnabled = *body.SigningEnabled
		}
		if body.SigningSecret != nil {
			if contract.Len(*body.SigningSecret) > 256 {
				return badRequest("signing_secret: at most 256 characters")
			}
			st.SigningSecret = *body.SigningSecret
		}
		if err := s.Store.PutSettings(r.Context(), st); err != nil {
			return err
		}
		out := toSettingsJSON(st, false)
		out.Lifetimes = s.lifetimes()
		contract.WriteJSON(w, http.StatusOK, out)
		return nil
	}
}

// ---- clients

// clientJSON is an OAuth client as the admin API shows it: never its secret.
type clientJSON struct {
	ClientID      string    `json:"client_id"`
	Name          string    `json:"name"`
	RedirectURIs  []string  `json:"redirect_uris"`
	RedirectMatch string    `json:"redirect_match"`
	Scopes        []string  `json:"scopes"`
	SkipConsent   bool      `json:"skip_consent"`
	AuthMethod    string    `json:"token_endpoint_auth_method"`
	RequirePKCE   bool      `json:"require_pkce"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

func toClientJSON(c Client) clientJSON {
	j := clientJSON{ClientID: c.ID, Name: c.Name, RedirectURIs: c.RedirectURIs, RedirectMatch: c.RedirectMatch,
		Scopes: c.Scopes, SkipConsent: c.SkipConsent, AuthMethod: c.TokenAuthMethod(), RequirePKCE: c.PKCERequired(),
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	if j.RedirectURIs == nil {
		j.RedirectURIs = []string{}
	}
	if j.Scopes == nil {
		j.Scopes = []string{}
	}
	if j.RedirectMatch == "" {
		j.RedirectMatch = RedirectMatchExact
	}
	return j
}

// handleListClients serves GET /_sim/clients → {"clients": [client...]}.
func handleListClients(s *server) contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		clients, err := s.Store.ListClients(r.Context())
		if err != nil {
			return err
		}
		out := make([]clientJSON, 0, len(clients))
		for _, c := range clients {
			out = append(out, toClientJSON(c))
		}
		contract.WriteJSON(w, http.StatusOK, map[string]any{"clients": out})
		return nil
	}
}

// handleHealthz serves GET /healthz.
func handleHealthz() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		contract.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok", "party": contract.PartyHostapp})
	}
}

// clientPut is the body of PUT /_sim/clients/{client_id}. On an existing client absent keys
// keep their values; a new client needs redirect_uris, and secret unless it is public
// (token_endpoint_auth_method none, which has no secret and always requires PKCE).
type clientPut struct {
	Secret        *string   `json:"secret"`
	Name          *string   `json:"name"`
	RedirectURIs  *[]string `json:"redirect_uris"`
	RedirectMatch *string   `json:"redirect_match"`
	Scopes        *[]string `json:"scopes"`
	SkipConsent   *bool     `json:"skip_consent"`
	AuthMethod    *string   `json:"token_endpoint_auth_method"`
	RequirePKCE   *bool     `json:"require_pkce"`
}

// validClientID: 1–64 characters, no control characters, spaces or colons (the id travels
// inside Basic and Connect credentials, split at the first colon).
func validClientID(id string) error {
	if err := contract.CheckID(id); err != nil {
		return badRequest("client_id %v", err)
	}
	return nil
}

// validRedirectURI: an absolute URI without fragment (RFC 6749 §3.1.2); http(s) with a host.
func validRedirectURI(v string) error {
	u, err := url.Parse(v)
	switch {
	case err != nil:
		return badRequest("redirect_uris: %q is not a URI: %v", v, err)
	case u.Scheme == "":
		return badRequest("redirect_uris: %q is not absolute", v)
	case u.Fragment != "" || strings.Contains(v, "#"):
		return badRequest("redirect_uris: %q has a fragment", v)
	case (u.Scheme == "http" || u.Scheme == "https") && u.Host == "":
		return badRequest("redirect_uris: %q has no host", v)
	case len(v) > 2000:
		return badRequest("redirect_uris: %q is longer than 2000 characters", v)
	}
	return nil
}

// validScope: an RFC 6749 §3.3 scope-token.
func validScope(sc string) bool {
	if sc == "" {
		return false
	}
	for _, c := range []byte(sc) {
		if c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e {
			return false
		}
	}
	return true
}

// handleGetClient serves GET /_sim/clients/{client_id}.
func handleGetClient(s *server) contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, err := s.Store.GetClient(r.Context(), mux.Vars(r)["client_id"])
		if errors.Is(err, ErrNotFound) {
			return notFound("client")
		}
		if err != nil {
			return err
		}
		contract.WriteJSON(w, http.StatusOK, toClientJSON(c))
		return nil
	}
}

// handlePutClient serves PUT /_sim/clients/{client_id}: creates or updates the client
// (merge) and answers 200 with it (never its secret).
func handlePutClient(s *server) contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := mux.Vars(r)["client_id"]
		if err := validClientID(id); err != nil {
			return err
		}
		var body clientPut
		if err := decodeStrict(w, r, &body); err != nil {
			return err
		}
		c, err := s.Store.GetClient(r.Context(), id)
		isNew := errors.Is(err, ErrNotFound)
		if err != nil && !isNew {
			return err
		}
		if isNew {
			if body.RedirectURIs == nil {
				return badRequest("a new client needs redirect_uris")
			}
			c = Client{ID: id, RedirectMatch: RedirectMatchExact, CreatedAt: s.Now()}
		}
		if body.AuthMethod != nil {
			switch m := *body.AuthMethod; m {
			case AuthClientSecretBasic, AuthClientSecretPost, AuthNone:
				c.AuthMethod = m
			default:
				return badRequest("token_endpoint_auth_method must be %q, %q or %q", AuthClientSecretBasic, AuthClientSecretPost, AuthNone)
			}
		}
		public := c.TokenAuthMethod() == AuthNone
		switch {
		case public && body.Secret != nil:
			return badRequest("a client with token_endpoint_auth_method none is public and has no secret")
		case public:
			c.SecretHash = "" // a secret kept from before would never be checked
		case body.Secret != nil:
			if *body.Secret == "" || len(*body.Secret) > 256 {
				return badRequest("secret must be 1 to 256 bytes")
			}
			c.SecretHash = contract.Hash(*body.Secret)
		case c.SecretHash == "":
			return badRequest("a client with token_endpoint_auth_method %s needs a secret", c.TokenAuthMethod())
		}
		if body.RequirePKCE != nil {
			if public && !*body.RequirePKCE {
				return badRequest("a public client (token_endpoint_auth_method none) always requires PKCE")
			}
			c.RequirePKCE = *body.RequirePKCE
		}
		if public {
			c.RequirePKCE = true
		}
		if body.Name != nil {
			c.Name = *body.Name
		}
		if body.RedirectURIs != nil {
			if len(*body.RedirectURIs) == 0 {
				return badRequest("redirect_uris is empty")
			}
			for _, u := range *body.RedirectURIs {
				if err := validRedirectURI(u); err != nil {
					return err
				}
			}
			c.RedirectURIs = slices.Compact(slices.Clone(*body.RedirectURIs))
		}
		if body.RedirectMatch != nil {
			if m := *body.RedirectMatch; m != RedirectMatchExact && m != RedirectMatchHost {
				return badRequest("redirect_match must be %q or %q", RedirectMatchExact, RedirectMatchHost)
			}
			c.RedirectMatch = *body.RedirectMatch
		}
		if body.Scopes != nil {
			scopes := []string{}
			for _, sc := range *body.Scopes {
				if !validScope(sc) {
					return badRequest("scopes: %q is not a scope token", sc)
				}
				if !slices.Contains(scopes, sc) {
					scopes = append(scopes, sc)
				}
			}
			c.Scopes = scopes
		}
		if body.SkipConsent != nil {
			c.SkipConsent = *body.SkipConsent
		}
		c.UpdatedAt = s.Now()
		if _, err := s.Store.PutClient(r.Context(), c); err != nil {
			return err
		}
		contract.WriteJSON(w, http.StatusOK, toClientJSON(c))
		return nil
	}
}

// handleDeleteClient serves DELETE /_sim/clients/{client_id}: the client goes with its
// codes, tokens and consents. 200 {"deleted": true}, 404 when unknown.
func handleDeleteClient(s *server) contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		err := s.Store.DeleteClient(r.Context(), mux.Vars(r)["client_id"])
		if errors.Is(err, ErrNotFound) {
			return notFound("client")
		}
		if err != nil {
			return err
		}
		contract.WriteJSON(w, http.StatusOK, map[string]bool{"deleted": true})
		return nil
	}
}
