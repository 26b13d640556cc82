// Package scenarios is boxo-sim's scenario system: YAML files that describe a situation (users,
// Dashboard and party settings), the faults to inject, the actions to run and the outcome to
// expect; a strict loader that rejects a malformed file with file, line and reason before
// anything starts; a runner that plays each file on its own in-process stack or against a
// running `boxo-sim up`, over the parties' HTTP APIs only; and JUnit XML and JSON reports.
//
// The shipped library lives in library/*.yaml, one file per case, named <area>-<case>.yaml
// (STYLE.md "Scenarios"). scenario.schema.json is the JSON Schema of the format, generated from
// the Go types below (go generate; a test fails when it is stale).
package scenarios

import (
	"github.com/boxo-sim/boxo-sim/internal/fault"
	"github.com/boxo-sim/boxo-sim/internal/seed"
)

//go:generate go run gen_schema.go

// Scenario is one scenario file.
type Scenario struct {
	Name        string        `yaml:"name" json:"name" required:"true" doc:"The scenario's name, equal to the file name without .yaml: <area>-<case>, lower case, digits and dashes. It is the test name in reports."`
	Description string        `yaml:"description,omitempty" json:"description,omitempty" doc:"What the scenario shows, in a sentence or two; cite contract sections (boxo-sim contract)."`
	Setup       Setup         `yaml:"setup,omitempty" json:"setup,omitempty" doc:"The situation before the first action: users, Dashboard and party settings. Everything not named keeps the seeded demo values."`
	Faults      []fault.Fault `yaml:"faults,omitempty" json:"faults,omitempty" doc:"Faults set on the parties' fault tables (PUT /_sim/faults) before the first action."`
	Actions     []Action      `yaml:"actions" json:"actions" required:"true" doc:"What happens, in order. An action without an expectation must succeed; the run of a scenario stops at its first unmet expectation."`
	Expect      *Expect       `yaml:"expect,omitempty" json:"expect,omitempty" doc:"The expectation of the last action (the same as giving it on that action)."`

	// File is where the scenario was loaded from.
	File string `yaml:"-" json:"-"`
	// Warnings are what loading found worth saying but not wrong, such as an earlier
	// boxo-sim error code name (contract §5.1).
	Warnings []Issue `yaml:"-" json:"-"`
}

// Setup is the situation a scenario starts from, in the vocabulary of seed files (the same
// types, keys and checks) plus what only a scenario has: the call timeout, the fake SDK's
// configuration and stubs. Each part goes through a party's admin API over HTTP; against a
// running up the runner puts back what it changed afterwards.
type Setup struct {
	CallTimeout fault.Duration         `yaml:"call_timeout,omitempty" json:"call_timeout,omitempty" doc:"How long the platform waits for the host app and the miniapp (contract §2.11: 10s), for the in-process stack only; a running up keeps its own. Lets a timeout scenario stay fast, e.g. 500ms with an 11s delay fault."`
	Users       []seed.User            `yaml:"users,omitempty" json:"users,omitempty" doc:"Host app users to create or replace (hostapp PUT /_sim/users/{username}). The demo users alice (e-mail only), bob (phone only) and carol (every field) always exist."`
	Dashboard   seed.Dashboard         `yaml:"dashboard,omitempty" json:"dashboard,omitempty" doc:"The platform's registry (contract §1.3): the demo host app 352131, miniapp app16973 and their partnership by the shorthands hostapp, miniapp and partnership, others in hostapps, miniapps and partnerships."`
	Hostapp     *seed.HostSettings     `yaml:"hostapp,omitempty" json:"hostapp,omitempty" doc:"The host backend's own settings (hostapp PUT /_sim/settings)."`
	Miniapp     *seed.MiniSettings     `yaml:"miniapp,omitempty" json:"miniapp,omitempty" doc:"The miniapp backend's own settings (miniapp PUT /_sim/settings)."`
	Platform    *seed.PlatformSettings `yaml:"platform,omitempty" json:"platform,omitempty" doc:"The platform's own settings (platform PUT /_sim/settings)."`
	Clients     []seed.Client          `yaml:"clients,omitempty" json:"clients,omitempty" doc:"OAuth clients of the host app's authorization server (hostapp PUT /_sim/clients/{client_id})."`
	SDK         *SDKSetup              `yaml:"sdk,omitempty" json:"sdk,omitempty" doc:"How the host app configures the fake SDK (contract §4.6 configure)."`
	Stubs       []Stub                 `yaml:"stubs,omitempty" json:"stubs,omitempty" doc:"Canned answers: the runner serves each on 127.0.0.1 and points the Dashboard URL of that step there, for answers no fault produces (e.g. a token and an error_code in one answer, contract §9.9). Against a running up, the platform must run on the runner's machine."`
}

// scenarioOnly are the Setup keys a seed file has no use for: they configure the run, not
// the stack's state.
var scenarioOnly = []string{"call_timeout", "sdk", "stubs"}

// Seed is the state part of the setup, with the scenario's faults, as a seed file.
func (s Setup) Seed(faults []fault.Fault) *seed.File {
	f := &seed.File{Users: s.Users, Dashboard: s.Dashboard, Hostapp: s.Hostapp, Miniapp: s.Miniapp, Platform: s.Platform, Clients: s.Clients}
	if faults != nil {
		f.Faults = &faults
	}
	return f
}

// The setup types are the seed file's.
type (
	User             = seed.User
	Dashboard        = seed.Dashboard
	DashboardHostapp = seed.DashboardHostapp
	DashboardMiniapp = seed.DashboardMiniapp
	ConsentLink      = seed.ConsentLink
	Partnership      = seed.Partnership
	HostSettings     = seed.HostSettings
	MiniSettings     = seed.MiniSettings
)

// SDKSetup configures the fake SDK.
type SDKSetup struct {
	ClientID           string `yaml:"client_id,omitempty" json:"client_id,omitempty" doc:"The host app's client_id at the platform; default 352131. An unknown one gives HOSTAPP_NOT_FOUND at step 1."`
	SkipGrantedConsent bool   `yaml:"skip_granted_consent,omitempty" json:"skip_granted_consent,omitempty" doc:"The SDK's prompt-skip switch (contract §7.4): for a connect with user_reference the SDK asks get_consent at step 4 and skips the prompt when the user allowed before; a get_consent error stops the flow at step 4."`
}

// Stub is a canned answer served in place of a party's endpoint.
type Stub struct {
	Step    int            `yaml:"step,omitempty" json:"step,omitempty" enum:"7,9,11" doc:"The answer step the stub replaces: 7 (host access token), 9 (host user data) or 11 (miniapp auth token). Give step or refresh."`
	Refresh bool           `yaml:"refresh,omitempty" json:"refresh,omitempty" doc:"The stub replaces the host's refresh-token endpoint (contract §7.1)."`
	Status  int            `yaml:"status,omitempty" json:"status,omitempty" doc:"HTTP status; default 200."`
	JSON    map[string]any `yaml:"json,omitempty" json:"json,omitempty" doc:"The JSON object answered."`
	Text    string         `yaml:"text,omitempty" json:"text,omitempty" doc:"A raw body answered instead of json."`
}

// Action names.
const (
	ActConnect       = "connect"
	ActConnectAgain  = "connect_again"
	ActRefresh       = "refresh"
	ActLogout        = "logout"
	ActAdvanceClock  = "advance_clock"
	ActRevokeConsent = "revoke_consent"
	ActConnectDirect = "connect_direct"
	ActDeleteUser    = "delete_user"
	ActRevokeTokens  = "revoke_tokens"
	ActRemovePartner = "remove_partnership"
	ActReadOnly      = "read_only_storage"
	ActRequest       = "request"
)

// ActionNames lists every action, in the order the docs give them.
var ActionNames = []string{ActConnect, ActConnectAgain, ActRefresh, ActLogout, ActAdvanceClock, ActRevokeConsent, ActConnectDirect,
	ActDeleteUser, ActRevokeTokens, ActRemovePartner, ActReadOnly, ActRequest}

// Action is one step of a scenario. A bare name (`- connect`) is an action with its defaults.
type Action struct {
	Do            string            `yaml:"do" json:"do" required:"true" enum:"connect,connect_again,refresh,logout,advance_clock,revoke_consent,connect_direct,delete_user,revoke_tokens,remove_partnership,read_only_storage,request" doc:"connect: the 16 steps for a user; connect_direct: the 12 steps of Connect Direct (contract §7.3), step numbers as its table; connect_again: the same user (and options) again; refresh: the miniapp frontend renews its session (contract §7.1); logout: the host app's SDK logout (§7.5); advance_clock: move every party's clock; revoke_consent: the platform's consent for the user is revoked and the SDK drops the miniapp's tokens (§7.4); delete_user: the host deletes a setup user (its tokens stay, and then name no user); revoke_tokens: the host revokes every token it issued to the user; remove_partnership: the Dashboard loses the partnership of the host app and the miniapp; read_only_storage: the platform's database refuses every write from now on; request: one raw HTTP request to a party's contract endpoint, as a broken client would send it, judged by the answer's error_code."`
	User          string            `yaml:"user,omitempty" json:"user,omitempty" doc:"The host user (connect, refresh, logout, revoke_consent); default: the user of the previous action, else carol."`
	Password      string            `yaml:"password,omitempty" json:"password,omitempty" doc:"connect: the password typed at the host; default the user's own. A wrong one gives NO_AUTH_CODE at step 5."`
	AppID         string            `yaml:"app_id,omitempty" json:"app_id,omitempty" doc:"The miniapp; default app16973. An unknown one gives MINIAPP_NOT_FOUND at step 1."`
	Consent       string            `yaml:"consent,omitempty" json:"consent,omitempty" enum:"allow,deny" doc:"connect, connect_again: the user's answer at step 4; default allow."`
	UserReference string            `yaml:"user_reference,omitempty" json:"user_reference,omitempty" doc:"connect: the host user id the SDK is configured with, sent as user_reference (contract §3.6); the platform then records consent."`
	LegacyLogin   bool              `yaml:"legacy_login,omitempty" json:"legacy_login,omitempty" doc:"connect: the legacy payload login of older SDKs instead of Connect (contract §4.3 b, §7.10): the host app opens the miniapp with an auth payload (payload, else a code it mints), the SDK's confirm box is step 4, the miniapp frontend posts to /api/v1/partner/login/ (5, answered at 12) and hands the SDK the token with AppBoxoWebAppSaveToken (13)."`
	TrySavedToken bool              `yaml:"try_saved_token,omitempty" json:"try_saved_token,omitempty" doc:"connect, connect_direct: the miniapp tries the token the SDK saved for the user at its backend first and logs in only when it is refused (contract §3.3); connect_again repeats it. Default: every connect logs in."`
	Payload       string            `yaml:"payload,omitempty" json:"payload,omitempty" doc:"connect: the auth payload the host app opens the miniapp with, handed over by GetInitData (contract §3.2, §7.10)."`
	Data          map[string]any    `yaml:"data,omitempty" json:"data,omitempty" doc:"connect: the data object the host app opens the miniapp with, handed over by GetInitData (contract §3.2)."`
	SandboxMode   bool              `yaml:"sandbox_mode,omitempty" json:"sandbox_mode,omitempty" doc:"connect: GetInitData's sandbox_mode (contract §3.2)."`
	By            fault.Duration    `yaml:"by,omitempty" json:"by,omitempty" doc:"advance_clock: how far, e.g. 11m or 2h."`
	BeforeStep    int               `yaml:"before_step,omitempty" json:"before_step,omitempty" enum:"6,7,8,10" doc:"delete_user, revoke_tokens, remove_partnership: run during the next connect or connect_direct, just before the platform sends step N, instead of now: 6 (access token), 8 (user data, and its refresh-and-retry) or 10 (miniapp) of connect; 7 (miniapp) of connect_direct. The runner passes that call through a relay on 127.0.0.1 that acts first (the platform must run on the runner's machine; not with request signing on)."`
	Party         string            `yaml:"party,omitempty" json:"party,omitempty" enum:"platform,hostapp,miniapp" doc:"request: the party the request goes to; default platform."`
	Method        string            `yaml:"method,omitempty" json:"method,omitempty" enum:"GET,POST,PUT,PATCH,DELETE" doc:"request: the HTTP method; default POST with a body, else GET."`
	Path          string            `yaml:"path,omitempty" json:"path,omitempty" doc:"request: the path and query, e.g. /api/v1/connect/ or /api/v1/accounts/consent/get_consent/?client_id=352131&app_id=app16973 (not /_sim/)."`
	Headers       map[string]string `yaml:"headers,omitempty" json:"headers,omitempty" doc:"request: the headers sent, exactly (Content-Type: application/json is added to a body unless given). Leave one out to show a party refusing its absence."`
	Body          *string           `yaml:"body,omitempty" json:"body,omitempty" doc:"request: the body, sent as written: it may be broken JSON on purpose."`
	Expect        *Expect           `yaml:"expect,omitempty" json:"expect,omitempty" doc:"What the action must lead to; default: it succeeds."`

	// Line is where the action starts in its file.
	Line int `yaml:"-" json:"-"`
}

// Expect is what an action must lead to. Unless it says succeeds: false or gives fails_at,
// error_code or party, the action must succeed.
type Expect struct {
	Succeeds       *bool         `yaml:"succeeds,omitempty" json:"succeeds,omitempty" doc:"true: connect reaches step 16 (refresh, logout: they work). false: the action fails, anywhere."`
	FailsAt        int           `yaml:"fails_at,omitempty" json:"fails_at,omitempty" doc:"The step (1–16) at which the flow stops, as the SDK reports it: e.g. 7 for the host's access-token answer, 9 for user data, 11 for the miniapp, 5 for the platform's own checks, 4 for a declined consent."`
	ErrorCode      string        `yaml:"error_code,omitempty" json:"error_code,omitempty" doc:"The error code the flow stops with: contract §5.1, the SDK's own (USER_DENIED, NO_AUTH_CODE, PLATFORM_UNAVAILABLE, NO_AUTH_TOKEN, ME_FAILED), or the miniapp frontend API's invalid_grant / invalid_token."`
	Party          string        `yaml:"party,omitempty" json:"party,omitempty" enum:"hostapp,platform,miniapp,sdk" doc:"The party that reported the error (custom_attributes.source, or the SDK itself)."`
	MiniappUser    string        `yaml:"miniapp_user,omitempty" json:"miniapp_user,omitempty" enum:"created,existing,none" doc:"created / existing: the miniapp created the user at step 11 or found it (connect must succeed). none: the miniapp holds no user with this user's reference."`
	Me             *MeExpect     `yaml:"me,omitempty" json:"me,omitempty" doc:"What the miniapp's GET /api/me answers with the token the SDK holds for the user after the action (or the last one it held, after logout or revoke_consent)."`
	Consent        *bool         `yaml:"consent,omitempty" json:"consent,omitempty" doc:"What the platform's get_consent says for the user's reference after the action (contract §7.4)."`
	SavedToken     *bool         `yaml:"saved_token,omitempty" json:"saved_token,omitempty" doc:"connect, connect_direct: true when the miniapp signed in with the saved token and no new login ran (contract §3.3); false when it logged in."`
	ConsentSkipped *bool         `yaml:"consent_skipped,omitempty" json:"consent_skipped,omitempty" doc:"connect: true when get_consent found the user's consent and the SDK showed no prompt (contract §7.4)."`
	Trace          []TraceExpect `yaml:"trace,omitempty" json:"trace,omitempty" doc:"Steps the flow's trace must contain (connect actions)."`

	// Line is where the expectation starts in its file.
	Line int `yaml:"-" json:"-"`
}

// MeExpect is the expected answer of GET /api/me (PROTOCOL §3.15). Only the keys given are
// compared.
type MeExpect struct {
	Status           int            `yaml:"status,omitempty" json:"status,omitempty" doc:"HTTP status; default 200. 401 means the token is refused."`
	Reference        string         `yaml:"reference,omitempty" json:"reference,omitempty"`
	ClientID         string         `yaml:"client_id,omitempty" json:"client_id,omitempty"`
	Email            string         `yaml:"email,omitempty" json:"email,omitempty"`
	Phone            string         `yaml:"phone,omitempty" json:"phone,omitempty"`
	FirstName        string         `yaml:"first_name,omitempty" json:"first_name,omitempty"`
	LastName         string         `yaml:"last_name,omitempty" json:"last_name,omitempty"`
	CustomAttributes map[string]any `yaml:"custom_attributes,omitempty" json:"custom_attributes,omitempty" doc:"Compared as JSON: every key given must be there with that value."`
	Created          *bool          `yaml:"created,omitempty" json:"created,omitempty" doc:"Whether the session's login created the miniapp user."`
}

// TraceExpect is a step the flow's trace must contain.
type TraceExpect struct {
	Step      int    `yaml:"step" json:"step" required:"true" doc:"The step number, 1–16."`
	ErrorCode string `yaml:"error_code,omitempty" json:"error_code,omitempty" doc:"The step carries this error code."`
	Outcome   string `yaml:"outcome,omitempty" json:"outcome,omitempty" enum:"ok,failed"`
	Call      string `yaml:"call,omitempty" json:"call,omitempty" doc:"Text the step's call contains, e.g. /boxo/connect/refresh-token."`
	Note      string `yaml:"note,omitempty" json:"note,omitempty" doc:"Text the step's note contains."`
}
