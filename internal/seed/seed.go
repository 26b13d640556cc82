// Package seed is boxo-sim's seed file: one YAML file that declares a stack's setup — host
// app users, the platform's Dashboard records (host apps, miniapps, partnerships), the
// parties' own settings, the OAuth clients of the host's authorization server and faults —
// loaded strictly (unknown keys are errors naming file and line), applied to a running stack
// over the parties' /_sim/ admin API (Apply), and written back from one (Export). Scenario
// files declare their setup with the same types, so there is one vocabulary.
//
// Applying merges, with the admin API's PUT semantics: every record named is created or
// updated, keys left out keep their value (or take their default on a new record), records
// not named are left alone. Applying a file twice gives the same state.
//
// seed.schema.json is the JSON Schema of the format, generated from the Go types below (go
// generate; a test fails when it is stale).
package seed

import (
	"go.yaml.in/yaml/v3"

	"github.com/boxo-sim/boxo-sim/internal/fault"
)

//go:generate go run gen_schema.go

// File is one seed file.
type File struct {
	Users     []User            `yaml:"users,omitempty" json:"users,omitempty" doc:"Host app users to create or replace (hostapp PUT /_sim/users/{username}). The demo users alice (e-mail only), bob (phone only) and carol (every field) always exist."`
	Dashboard Dashboard         `yaml:"dashboard,omitempty" json:"dashboard,omitempty" doc:"The platform's registry: host apps, miniapps and partnerships (contract §1.3)."`
	Hostapp   *HostSettings     `yaml:"hostapp,omitempty" json:"hostapp,omitempty" doc:"The host backend's own settings (hostapp PUT /_sim/settings)."`
	Miniapp   *MiniSettings     `yaml:"miniapp,omitempty" json:"miniapp,omitempty" doc:"The miniapp backend's own settings (miniapp PUT /_sim/settings)."`
	Platform  *PlatformSettings `yaml:"platform,omitempty" json:"platform,omitempty" doc:"The platform's own settings (platform PUT /_sim/settings)."`
	Clients   []Client          `yaml:"clients,omitempty" json:"clients,omitempty" doc:"OAuth clients of the host app's authorization server (hostapp PUT /_sim/clients/{client_id})."`
	Faults    *[]fault.Fault    `yaml:"faults,omitempty" json:"faults,omitempty" doc:"The faults of every party's fault table: given (even []), each table is emptied and these set (PUT /_sim/faults); left out, the tables are left alone."`

	src  string     // the file it was loaded from, for messages
	root *yaml.Node // its document, for the lines of messages
}

// User is a host app user (hostapp PUT /_sim/users/{username}): the whole user is replaced.
type User struct {
	Username         string         `yaml:"username" json:"username" required:"true" doc:"The sign-in name; actions name users by it."`
	Password         string         `yaml:"password,omitempty" json:"password,omitempty" doc:"The sign-in password. Left out: an existing user keeps its password, a new one gets <username>-password. The host keeps only a hash, so export cannot write it."`
	Reference        string         `yaml:"reference" json:"reference" required:"true" doc:"The user's key in the host system (contract §3.10 reference). In a scenario against a running up the runner appends a run suffix, so a new-user scenario finds a new user every run."`
	Email            string         `yaml:"email,omitempty" json:"email,omitempty"`
	Phone            string         `yaml:"phone,omitempty" json:"phone,omitempty" doc:"E.164 is not checked here: a test may give a bad number on purpose."`
	FirstName        string         `yaml:"first_name,omitempty" json:"first_name,omitempty"`
	LastName         string         `yaml:"last_name,omitempty" json:"last_name,omitempty"`
	CustomAttributes map[string]any `yaml:"custom_attributes,omitempty" json:"custom_attributes,omitempty"`
}

// Dashboard is what the file sets in the platform's registry. Absent keys keep their value;
// an empty string or list is a value (refresh_token_url: "" switches refresh off).
type Dashboard struct {
	Hostapps     []DashboardHostapp `yaml:"hostapps,omitempty" json:"hostapps,omitempty" doc:"Host app records, each named by client_id (platform PUT /_sim/hostapps/{client_id}). A new one needs name, access_token_url, user_data_url, hostapp_client_id and hostapp_secret_key."`
	Miniapps     []DashboardMiniapp `yaml:"miniapps,omitempty" json:"miniapps,omitempty" doc:"Miniapp records, each named by app_id (platform PUT /_sim/miniapps/{app_id}). A new one needs name, url, auth_token_url and secret_key."`
	Partnerships []Partnership      `yaml:"partnerships,omitempty" json:"partnerships,omitempty" doc:"Partnerships, each named by client_id and app_id (platform PUT /_sim/partnerships/{client_id}/{app_id}); both records must exist or be declared here."`
	Hostapp      *DashboardHostapp  `yaml:"hostapp,omitempty" json:"hostapp,omitempty" doc:"The demo host app's record, 352131: a shorthand for its entry in hostapps, without client_id."`
	Miniapp      *DashboardMiniapp  `yaml:"miniapp,omitempty" json:"miniapp,omitempty" doc:"The demo miniapp's record, app16973: a shorthand for its entry in miniapps, without app_id."`
	Partnership  *Partnership       `yaml:"partnership,omitempty" json:"partnership,omitempty" doc:"The demo partnership 352131/app16973: a shorthand for its entry in partnerships, without client_id and app_id."`
}

// DashboardHostapp is a host app's Dashboard record (PROTOCOL §1.3).
type DashboardHostapp struct {
	ClientID         string    `yaml:"client_id,omitempty" json:"client_id,omitempty" doc:"The host app's id at the platform, which the SDK is configured with (contract §1.3). Required in hostapps."`
	Name             *string   `yaml:"name,omitempty" json:"name,omitempty"`
	ConnectEnabled   *bool     `yaml:"connect_enabled,omitempty" json:"connect_enabled,omitempty" doc:"Single sign-on switched on for the host app (default true); false gives FEATURE_DISABLED_IN_HOSTAPP at step 5."`
	TokenPrefix      *string   `yaml:"token_prefix,omitempty" json:"token_prefix,omitempty" doc:"The scheme word the platform sends to the host (contract §9.5; default Token); set hostapp.token_prefix too, or the host answers ACCESS_DENIED."`
	HostappClientID  *string   `yaml:"hostapp_client_id,omitempty" json:"hostapp_client_id,omitempty" doc:"The Boxo-facing client id the platform authenticates to the host with (Basic)."`
	HostappSecretKey *string   `yaml:"hostapp_secret_key,omitempty" json:"hostapp_secret_key,omitempty" secret:"true" doc:"A wrong value gives ACCESS_DENIED from the host at step 7."`
	AccessTokenURL   *string   `yaml:"access_token_url,omitempty" json:"access_token_url,omitempty" doc:"The host's access-token endpoint (step 6), an absolute http(s) URL."`
	UserDataURL      *string   `yaml:"user_data_url,omitempty" json:"user_data_url,omitempty" doc:"The host's user-data endpoint (step 8), an absolute http(s) URL."`
	RefreshTokenURL  *string   `yaml:"refresh_token_url,omitempty" json:"refresh_token_url,omitempty" doc:"\"\" switches the platform's refresh-and-retry off (contract §5.2)."`
	UserDataMethod   *string   `yaml:"user_data_method,omitempty" json:"user_data_method,omitempty" enum:"GET,POST" doc:"Default GET."`
	IPAllowlist      *[]string `yaml:"ip_allowlist,omitempty" json:"ip_allowlist,omitempty" doc:"CIDRs or addresses the platform accepts the host app's server calls from (contract §7.6)."`
	LegacyLogin      *bool     `yaml:"legacy_login_enabled,omitempty" json:"legacy_login_enabled,omitempty" doc:"Switches on the legacy payload login POST /api/v1/partner/login/ (contract §7.10); off, it answers FEATURE_DISABLED_IN_HOSTAPP at step 5."`
	UseAccessToken   *bool     `yaml:"use_access_token,omitempty" json:"use_access_token,omitempty" doc:"\"Use access token\" for Boxo Payments (contract §7.9): the step-7 access token would also authorize Payments calls; the trace notes it at step 7."`
	SigningEnabled   *bool     `yaml:"signing_enabled,omitempty" json:"signing_enabled,omitempty" doc:"Request signing (contract §7.8): the platform signs its calls to the host and requires the host's Direct calls signed. Set hostapp.signing_enabled and the same secret too."`
	SigningSecret    *string   `yaml:"signing_secret,omitempty" json:"signing_secret,omitempty" secret:"true" doc:"The HMAC secret of request signing; a value other than the host's own gives INVALID_SIGNATURE."`
}

// DashboardMiniapp is a miniapp's Dashboard record (PROTOCOL §1.3).
type DashboardMiniapp struct {
	AppID          string         `yaml:"app_id,omitempty" json:"app_id,omitempty" doc:"The miniapp's id at the platform, which the SDK opens (contract §1.3). Required in miniapps."`
	Name           *string        `yaml:"name,omitempty" json:"name,omitempty"`
	URL            *string        `yaml:"url,omitempty" json:"url,omitempty" doc:"The miniapp's page, an absolute http(s) URL."`
	SecretKey      *string        `yaml:"secret_key,omitempty" json:"secret_key,omitempty" secret:"true" doc:"A wrong value gives ACCESS_DENIED from the miniapp at step 11."`
	AuthTokenURL   *string        `yaml:"auth_token_url,omitempty" json:"auth_token_url,omitempty" doc:"The miniapp backend's Get Auth Token endpoint (step 10), an absolute http(s) URL."`
	RequiredFields *[]string      `yaml:"required_fields,omitempty" json:"required_fields,omitempty" enum:"email,phone,first_name,last_name,custom_attributes" doc:"Fields the platform requires in the host's user data; a missing one gives RESPONSE_ATTRIBUTE_MISSING at step 9."`
	IPAllowlist    *[]string      `yaml:"ip_allowlist,omitempty" json:"ip_allowlist,omitempty"`
	ConsentLinks   *[]ConsentLink `yaml:"consent_links,omitempty" json:"consent_links,omitempty" doc:"Links the SDK shows on its consent prompt at step 4 (contract §3.5), e.g. terms and privacy policy."`
	SigningEnabled *bool          `yaml:"signing_enabled,omitempty" json:"signing_enabled,omitempty" doc:"Request signing (contract §7.8): the platform signs its Get Auth Token calls. Set miniapp.signing_enabled and the same secret too."`
	SigningSecret  *string        `yaml:"signing_secret,omitempty" json:"signing_secret,omitempty" secret:"true" doc:"The HMAC secret of request signing for the miniapp."`
}

// ConsentLink is one link of the SDK's consent prompt.
type ConsentLink struct {
	Title string `yaml:"title" json:"title" required:"true" doc:"The link's text."`
	URL   string `yaml:"url" json:"url" required:"true" doc:"An http(s) URL."`
}

// Partnership is the Dashboard's partnership record.
type Partnership struct {
	ClientID       string `yaml:"client_id,omitempty" json:"client_id,omitempty" doc:"The host app's client_id. Required in partnerships."`
	AppID          string `yaml:"app_id,omitempty" json:"app_id,omitempty" doc:"The miniapp's app_id. Required in partnerships."`
	ConnectEnabled *bool  `yaml:"connect_enabled,omitempty" json:"connect_enabled,omitempty" doc:"Default true; false gives FEATURE_DISABLED_IN_INTEGRATION at step 5."`
	DirectEnabled  *bool  `yaml:"direct_enabled,omitempty" json:"direct_enabled,omitempty" doc:"Connect Direct switched on for the pair (default false; on in the demo); false gives FEATURE_DISABLED_IN_INTEGRATION at Direct's step 6 (contract §7.3)."`
}

// HostSettings are the host backend's own settings.
type HostSettings struct {
	TokenPrefix       *string            `yaml:"token_prefix,omitempty" json:"token_prefix,omitempty" doc:"The scheme word the host expects from the platform (default Token)."`
	IPAllowlist       *[]string          `yaml:"ip_allowlist,omitempty" json:"ip_allowlist,omitempty" doc:"Where the host accepts platform calls from; others get 403 NOT_A_WHITELISTED_IP, which the platform reports as UNEXPECTED_RESPONSE_ERROR (contract §7.6)."`
	TrustedProxies    *[]string          `yaml:"trusted_proxies,omitempty" json:"trusted_proxies,omitempty" doc:"Proxies (CIDRs) whose X-Forwarded-For the host's IP filter believes (contract §7.6)."`
	EncryptedUserData *map[string]string `yaml:"encrypted_user_data,omitempty" json:"encrypted_user_data,omitempty" secret:"true" doc:"Encrypted user_data (contract §7.2): app_id → the key (32 bytes, base64) the host encrypts that miniapp's user data with; {} switches encryption off. Make a key with 'boxo-sim userdata key'."`
	SigningEnabled    *bool              `yaml:"signing_enabled,omitempty" json:"signing_enabled,omitempty" doc:"The host requires the platform's calls signed and signs its Direct calls (contract §7.8)."`
	SigningSecret     *string            `yaml:"signing_secret,omitempty" json:"signing_secret,omitempty" secret:"true" doc:"The host's copy of the HMAC secret."`
}

// MiniSettings are the miniapp backend's own settings.
type MiniSettings struct {
	AppID          *string   `yaml:"app_id,omitempty" json:"app_id,omitempty" doc:"The app_id the miniapp backend answers for."`
	SecretKey      *string   `yaml:"secret_key,omitempty" json:"secret_key,omitempty" secret:"true" doc:"The secret_key the backend accepts from the platform (Basic). The backend keeps only a hash, so export cannot write it."`
	RequiredFields *[]string `yaml:"required_fields,omitempty" json:"required_fields,omitempty" enum:"email,phone,first_name,last_name,custom_attributes" doc:"Fields the miniapp itself requires at step 10; a missing one gives INVALID_USER_DATA from the miniapp."`
	IPAllowlist    *[]string `yaml:"ip_allowlist,omitempty" json:"ip_allowlist,omitempty"`
	TrustedProxies *[]string `yaml:"trusted_proxies,omitempty" json:"trusted_proxies,omitempty" doc:"Proxies (CIDRs) whose X-Forwarded-For the miniapp's IP filter believes (contract §7.6)."`
	UserDataKey    *string   `yaml:"user_data_key,omitempty" json:"user_data_key,omitempty" secret:"true" doc:"The key the miniapp decrypts encrypted user_data with (contract §7.2); \"\" removes it, and encrypted user data is then refused with INVALID_USER_DATA."`
	SigningEnabled *bool     `yaml:"signing_enabled,omitempty" json:"signing_enabled,omitempty" doc:"The miniapp requires the platform's Get Auth Token calls signed (contract §7.8)."`
	SigningSecret  *string   `yaml:"signing_secret,omitempty" json:"signing_secret,omitempty" secret:"true" doc:"The miniapp's copy of the HMAC secret."`
}

// PlatformSettings are the platform's own settings.
type PlatformSettings struct {
	TrustedProxies *[]string `yaml:"trusted_proxies,omitempty" json:"trusted_proxies,omitempty" doc:"Proxies (CIDRs) whose X-Forwarded-For the platform's IP filter believes (contract §7.6)."`
}

// Client is an OAuth client of the host app's authorization server.
type Client struct {
	ClientID      string    `yaml:"client_id" json:"client_id,omitempty" required:"true" doc:"The client's id."`
	Secret        *string   `yaml:"secret,omitempty" json:"secret,omitempty" secret:"true" doc:"The client secret; needed by a new client unless token_endpoint_auth_method is none. The host keeps only a hash, so export cannot write it."`
	Name          *string   `yaml:"name,omitempty" json:"name,omitempty"`
	RedirectURIs  *[]string `yaml:"redirect_uris,omitempty" json:"redirect_uris,omitempty" doc:"Absolute redirect URIs without fragment; a new client needs at least one."`
	RedirectMatch *string   `yaml:"redirect_match,omitempty" json:"redirect_match,omitempty" enum:"exact,host" doc:"exact (default): the redirect_uri must be one of redirect_uris; host: any path on their hosts."`
	Scopes        *[]string `yaml:"scopes,omitempty" json:"scopes,omitempty" doc:"The scopes the client may ask for."`
	SkipConsent   *bool     `yaml:"skip_consent,omitempty" json:"skip_consent,omitempty" doc:"The authorization server asks the user no consent for this client."`
	AuthMethod    *string   `yaml:"token_endpoint_auth_method,omitempty" json:"token_endpoint_auth_method,omitempty" enum:"client_secret_basic,client_secret_post,none" doc:"How the client authenticates at the token endpoint; none is a public client (no secret, PKCE required)."`
	RequirePKCE   *bool     `yaml:"require_pkce,omitempty" json:"require_pkce,omitempty"`
}

// TypeDocs describe the definitions of the schema, by Go type name.
var TypeDocs = map[string]string{
	"File":             "A boxo-sim seed file.",
	"User":             "A host app user.",
	"Dashboard":        "The platform's registry: host apps, miniapps and partnerships.",
	"DashboardHostapp": "A host app's Dashboard record; absent keys keep their value (or take the default on a new record).",
	"DashboardMiniapp": "A miniapp's Dashboard record; absent keys keep their value (or take the default on a new record).",
	"ConsentLink":      "A link of the SDK's consent prompt.",
	"Partnership":      "A partnership of a host app and a miniapp.",
	"HostSettings":     "The host backend's own settings.",
	"MiniSettings":     "The miniapp backend's own settings.",
	"PlatformSettings": "The platform's own settings.",
	"Client":           "An OAuth client of the host app's authorization server; absent keys keep their value.",
}
