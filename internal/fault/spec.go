// Package fault is the simulator's fault injection: a table of faults per party, addressed by
// flow step or endpoint, set at run time over /_sim/faults or from a scenario, and applied to
// the party's HTTP traffic (DESIGN.md "Scenarios and faults").
package fault

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// Kinds of fault.
const (
	// KindErrorCode answers with ErrorCode in the endpoint's error form (always-200 endpoints:
	// 200 {"error_code"}; the platform: its 400 envelope; the miniapp's /api/me: 401
	// {"error": "invalid_token"}).
	KindErrorCode = "error_code"
	// KindDelay holds the answer back for Delay (past the platform's 10 s timeout if asked).
	KindDelay = "delay"
	// KindStatus answers with HTTP Status (e.g. 500, 502) and a short JSON body.
	KindStatus = "status"
	// KindMalformed answers 200 with a broken body: Body is "non-json", "truncated" or
	// "wrong-types".
	KindMalformed = "malformed"
	// KindLongToken answers with a token of contract.MaxTokenLen+1 characters.
	KindLongToken = "long_token"
	// KindMissingField removes Field from the endpoint's successful JSON answer (a dotted path
	// such as "user_data.email" reaches into objects).
	KindMissingField = "missing_field"
	// KindReset drops the connection without an answer, with a TCP reset.
	KindReset = "reset"
	// KindReplayCode makes the host's access-token endpoint (step 6) receive an auth code it
	// has already redeemed: the call is handled twice and the second answer is sent
	// (INVALID_AUTH_CODE; the host also revokes the tokens of the first redemption).
	KindReplayCode = "replay_code"
	// KindExpire moves the shared clock past the lifetime of what the call presents (auth code
	// at step 6, access token at step 8, miniapp token at step 14, refresh token on the refresh
	// endpoints) before it is handled; see ExpireBy. Every firing moves the clock again, so
	// "expire the access token, then let the refresh-and-retry succeed" needs Nth 1.
	KindExpire = "expire"
)

// Kinds lists every fault kind.
var Kinds = []string{KindErrorCode, KindDelay, KindStatus, KindMalformed, KindLongToken, KindMissingField, KindReset, KindReplayCode, KindExpire}

// Malformed bodies.
var MalformedBodies = []string{"non-json", "truncated", "wrong-types"}

// Steps a fault can address, and the party and endpoint each one belongs to. A request step
// and its answer step (6/7, 8/9, 10/11) address the same endpoint.
var Steps = map[int]Target{
	1:  {Party: contract.PartyPlatform, Endpoint: "/api/v1/miniapps/{app_id}/settings/"},
	5:  {Party: contract.PartyPlatform, Endpoint: "/api/v1/authorize/"},
	6:  {Party: contract.PartyHostapp, Endpoint: "/boxo/connect/access-token"},
	7:  {Party: contract.PartyHostapp, Endpoint: "/boxo/connect/access-token"},
	8:  {Party: contract.PartyHostapp, Endpoint: "/boxo/connect/user-data"},
	9:  {Party: contract.PartyHostapp, Endpoint: "/boxo/connect/user-data"},
	10: {Party: contract.PartyMiniapp, Endpoint: "/boxo/auth-token"},
	11: {Party: contract.PartyMiniapp, Endpoint: "/boxo/auth-token"},
	12: {Party: contract.PartyPlatform, Endpoint: "/api/v1/authorize/"},
	14: {Party: contract.PartyMiniapp, Endpoint: "/api/me"},
	15: {Party: contract.PartyMiniapp, Endpoint: "/api/me"},
}

// Target is where a step's traffic is served.
type Target struct{ Party, Endpoint string }

// Fault is one entry of a party's fault table. Exactly one of Step and Endpoint says which
// calls it matches; Nth, Probability or neither says which of those it fires on.
type Fault struct {
	// ID is assigned by the table when the fault is added.
	ID string `json:"id,omitempty" yaml:"-"`
	// Party is the party whose traffic the fault changes: hostapp, platform or miniapp. With
	// Step it may be left empty and is taken from Steps.
	Party string `json:"party,omitempty" yaml:"party,omitempty"`
	// Step addresses the endpoint serving that flow step (see Steps).
	Step int `json:"step,omitempty" yaml:"step,omitempty"`
	// Endpoint addresses a path on the party instead, e.g. /boxo/connect/refresh-token.
	Endpoint string `json:"endpoint,omitempty" yaml:"endpoint,omitempty"`
	Kind     string `json:"kind" yaml:"kind"`

	ErrorCode string   `json:"error_code,omitempty" yaml:"error_code,omitempty"` // KindErrorCode
	Status    int      `json:"status,omitempty" yaml:"status,omitempty"`         // KindStatus
	Delay     Duration `json:"delay,omitempty" yaml:"delay,omitempty"`           // KindDelay
	Body      string   `json:"body,omitempty" yaml:"body,omitempty"`             // KindMalformed
	Field     string   `json:"field,omitempty" yaml:"field,omitempty"`           // KindMissingField

	// Nth fires the fault on the Nth matching call only (1-based); 0 means every call.
	Nth int `json:"nth,omitempty" yaml:"nth,omitempty"`
	// Probability fires the fault on each matching call with this chance, drawn from a
	// generator seeded with Seed, so a run can be repeated; 0 means always.
	Probability float64 `json:"probability,omitempty" yaml:"probability,omitempty"`
	Seed        int64   `json:"seed,omitempty" yaml:"seed,omitempty"`

	// Matched and Fired count matching calls and firings; read-only.
	Matched int `json:"matched" yaml:"-"`
	Fired   int `json:"fired" yaml:"-"`

	// deprecation is Validate's warning about an earlier boxo-sim name in ErrorCode.
	deprecation string
}

// Deprecation is the warning Validate left when ErrorCode was an earlier boxo-sim name it
// replaced with Boxo's code (contract §5.1), "" otherwise.
func (f Fault) Deprecation() string { return f.deprecation }

// Validate checks a fault and fills Party from Step. Messages name the field at fault.
func (f *Fault) Validate() error {
	if f.Step != 0 && f.Endpoint != "" {
		return fmt.Errorf("give step or endpoint, not both")
	}
	switch {
	case f.Step != 0:
		t, ok := Steps[f.Step]
		if !ok {
			return fmt.Errorf("step %d cannot carry a fault: use one of %s", f.Step, stepList())
		}
		if f.Party == "" {
			f.Party = t.Party
		} else if f.Party != t.Party {
			return fmt.Errorf("step %d is served by %s, not %s", f.Step, t.Party, f.Party)
		}
	case f.Endpoint != "":
		if !strings.HasPrefix(f.Endpoint, "/") {
			return fmt.Errorf("endpoint %q must be a path starting with /", f.Endpoint)
		}
		if f.Party == "" {
			return fmt.Errorf("a fault addressed by endpoint needs a party")
		}
		if paths, ok := Endpoints[f.Party]; ok && !Serves(f.Party, f.Endpoint) {
			return fmt.Errorf("endpoint %s: the simulated %s does not serve it; it serves %s", f.Endpoint, f.Party, strings.Join(paths, ", "))
		}
	default:
		return fmt.Errorf("a fault needs a step (%s) or an endpoint", stepList())
	}
	switch f.Party {
	case contract.PartyHostapp, contract.PartyPlatform, contract.PartyMiniapp:
	default:
		return fmt.Errorf("party %q: use hostapp, platform or miniapp", f.Party)
	}
	if err := f.checkKindFields(); err != nil {
		return err
	}
	switch f.Kind {
	case KindErrorCode:
		if f.ErrorCode == "" {
			return fmt.Errorf("kind error_code needs error_code")
		}
		if w := contract.DeprecationWarning(f.ErrorCode); w != "" {
			f.deprecation = w
			f.ErrorCode, _ = contract.Replacement(f.ErrorCode)
		}
		if !contract.IsKnownCode(f.ErrorCode) && !contract.IsBoxoCode(f.ErrorCode) {
			return fmt.Errorf("error_code %q is not a code of contract §5.1: %s", f.ErrorCode, strings.Join(contract.Codes, ", "))
		}
	case KindDelay:
		if f.Delay <= 0 {
			return fmt.Errorf("kind delay needs a positive delay such as 11s")
		}
	case KindStatus:
		if f.Status < 201 || f.Status > 599 {
			return fmt.Errorf("kind status needs an HTTP status from 201 to 599 (not 200), got %d", f.Status)
		}
	case KindMalformed:
		if f.Body == "" {
			f.Body = "non-json"
		}
		if !slices.Contains(MalformedBodies, f.Body) {
			return fmt.Errorf("body %q: use one of %s", f.Body, strings.Join(MalformedBodies, ", "))
		}
	case KindMissingField:
		if f.Field == "" {
			return fmt.Errorf("kind missing_field needs field")
		}
		if slices.Contains(strings.Split(f.Field, "."), "") {
			return fmt.Errorf("field %q: a dotted path such as user_data.email, without empty segments", f.Field)
		}
	case KindLongToken, KindReset:
	case KindReplayCode:
		if f.Party != contract.PartyHostapp || (f.Step != 0 && f.Step != 6 && f.Step != 7) {
			return fmt.Errorf("kind replay_code applies to step 6 (the host's access-token endpoint)")
		}
	case KindExpire:
		if _, ok := ExpireBy(*f); !ok {
			if f.Step != 0 {
				return fmt.Errorf("kind expire applies to steps 6, 8 and 14")
			}
			return fmt.Errorf("kind expire on endpoint %s of %s: nothing there expires; use steps 6, 8, 14, "+
				"or the refresh endpoints (hostapp %s, miniapp %s)", f.Endpoint, f.Party, hostRefreshPath, miniappRefreshPath)
		}
	case "":
		return fmt.Errorf("a fault needs a kind: one of %s", strings.Join(Kinds, ", "))
	default:
		return fmt.Errorf("kind %q: use one of %s", f.Kind, strings.Join(Kinds, ", "))
	}
	if f.Nth < 0 {
		return fmt.Errorf("nth %d must be 1 or more (or 0 for every call)", f.Nth)
	}
	if f.Probability < 0 || f.Probability > 1 {
		return fmt.Errorf("probability %v must be between 0 and 1", f.Probability)
	}
	if f.Nth != 0 && f.Probability != 0 {
		return fmt.Errorf("give nth or probability, not both")
	}
	return nil
}

// KindField is the one Fault field each kind takes (by its JSON name), for the kinds that
// take one.
var KindField = map[string]string{
	KindErrorCode:    "error_code",
	KindDelay:        "delay",
	KindStatus:       "status",
	KindMalformed:    "body",
	KindMissingField: "field",
}

// SetKindFields returns the JSON names of the kind-specific fields set on f, in a fixed order.
func (f Fault) SetKindFields() []string {
	var set []string
	for _, x := range []struct {
		name string
		set  bool
	}{{"error_code", f.ErrorCode != ""}, {"delay", f.Delay != 0}, {"status", f.Status != 0}, {"body", f.Body != ""}, {"field", f.Field != ""}} {
		if x.set {
			set = append(set, x.name)
		}
	}
	return set
}

// checkKindFields refuses a kind-specific field that does not belong to the fault's kind
// (status 500 with an error_code would otherwise silently drop the code).
func (f Fault) checkKindFields() error {
	if !slices.Contains(Kinds, f.Kind) {
		return nil // the kind switch says what is wrong
	}
	own := KindField[f.Kind]
	for _, name := range f.SetKindFields() {
		if name == own {
			continue
		}
		if own == "" {
			return fmt.Errorf("%s does not belong to kind %s, which takes no value", name, f.Kind)
		}
		return fmt.Errorf("%s does not belong to kind %s, which takes only %s", name, f.Kind, own)
	}
	return nil
}

// StepList lists the steps a fault can address, e.g. "1, 5, 6, ..., 15".
func StepList() string { return stepList() }

func stepList() string {
	var s []string
	for _, n := range stepNumbers {
		s = append(s, fmt.Sprint(n))
	}
	return strings.Join(s, ", ")
}

// Endpoints lists the paths each simulated party serves (their routes.go; {x} is any one
// segment, a trailing slash is ignored). A fault addressed by endpoint must name one of them:
// any other path would never match. The /_sim/faults and /_sim/clock control routes are
// answered before the fault table and are not listed.
var Endpoints = map[string][]string{
	contract.PartyHostapp: {
		"/boxo/connect/access-token", "/boxo/connect/user-data", "/boxo/connect/refresh-token",
		"/auth/v1/login", "/auth/v1/logout", "/auth/v1/authorize", "/auth/v1/token", "/auth/v1/userinfo",
		"/auth/v1/revoke", "/auth/v1/jwks", "/.well-known/openid-configuration", "/boxo/callback",
		"/v1/oauth/authorize", "/v1/oauth/access_token", "/v1/oauth/{access_token}",
		"/demo", "/demo/callback", "/demo/v1/callback", "/", "/healthz",
		"/_sim/users", "/_sim/users/{username}", "/_sim/settings", "/_sim/clients", "/_sim/clients/{client_id}",
	},
	contract.PartyPlatform: {
		"/api/v1/miniapps/{app_id}/settings/", "/api/v1/authorize/", "/api/v1/accounts/consent/get_consent/",
		"/healthz", "/_sim/hostapps", "/_sim/hostapps/{client_id}", "/_sim/miniapps", "/_sim/miniapps/{app_id}",
		"/_sim/partnerships", "/_sim/partnerships/{client_id}/{app_id}", "/_sim/consent/revoke",
		"/_sim/flows", "/_sim/flows/latest", "/_sim/flows/{id}", "/_sim/flows/{id}/steps",
	},
	contract.PartyMiniapp: {
		"/boxo/auth-token", "/api/me", "/api/auth/refresh", "/api/auth/logout", "/", "/healthz",
		"/_sim/settings", "/_sim/users",
	},
}

// Serves reports whether the simulated party serves path (see Endpoints).
func Serves(party, path string) bool {
	for _, p := range Endpoints[party] {
		if matchPath(p, path) {
			return true
		}
	}
	return false
}

// Duration is a time.Duration written as text ("11s", "250ms") in JSON and YAML.
type Duration time.Duration

// MarshalJSON writes the duration as text.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "11s" or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int64
		if err2 := json.Unmarshal(b, &n); err2 != nil {
			return fmt.Errorf("duration must be text such as \"11s\"")
		}
		*d = Duration(n)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %v", s, err)
	}
	*d = Duration(v)
	return nil
}

// MarshalText and UnmarshalText make Duration text in YAML too.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads "11s".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("duration %q: use a number with a unit, such as 11s or 250ms", b)
	}
	*d = Duration(v)
	return nil
}

// Lifetimes an expire fault moves the clock past: the simulated parties' defaults, plus one
// second (hostapp.DefaultAuthCodeTTL, DefaultConnectAccessTTL, DefaultConnectRefreshTTL;
// miniapp.DefaultAuthTokenTTL, DefaultRefreshTokenTTL).
const (
	authCodeLifetime     = 10 * time.Minute
	accessTokenLifetime  = time.Hour
	refreshTokenLifetime = 30 * 24 * time.Hour
	miniappTokenLifetime = time.Hour

	hostRefreshPath    = "/boxo/connect/refresh-token"
	miniappRefreshPath = "/api/auth/refresh"
)

// ExpireBy says how far a KindExpire fault moves the shared clock before the call is handled:
// past the auth code's lifetime at steps 6/7 (10 min + 1 s), the Connect access token's at 8/9
// (1 h + 1 s), the miniapp auth_token's at 14/15 (1 h + 1 s), and a refresh token's (30 days
// + 1 s) on the host's /boxo/connect/refresh-token or the miniapp's /api/auth/refresh. An
// endpoint-addressed fault takes the lifetime of the step served there. ok is false when
// nothing the call presents expires.
func ExpireBy(f Fault) (d time.Duration, ok bool) { return Lifetimes{}.ExpireBy(f) }

// Lifetimes are the host app's lifetimes an expire fault moves the clock past, when a stack
// configures them (up --auth-code-ttl, --connect-access-ttl, --connect-refresh-ttl); zero
// fields mean the defaults.
type Lifetimes struct {
	AuthCode, ConnectAccess, ConnectRefresh time.Duration
}

// ExpireBy is the package's ExpireBy with the host app's lifetimes of l.
func (l Lifetimes) ExpireBy(f Fault) (d time.Duration, ok bool) {
	or := func(v, def time.Duration) time.Duration {
		if v > 0 {
			return v
		}
		return def
	}
	authCode, access := or(l.AuthCode, authCodeLifetime), or(l.ConnectAccess, accessTokenLifetime)
	hostRefresh := or(l.ConnectRefresh, refreshTokenLifetime)
	step := f.Step
	if step == 0 {
		switch {
		case f.Party == contract.PartyHostapp && matchPath(hostRefreshPath, f.Endpoint):
			return hostRefresh + time.Second, true
		case f.Party == contract.PartyMiniapp && matchPath(miniappRefreshPath, f.Endpoint):
			return refreshTokenLifetime + time.Second, true
		}
		step = stepAt(f.Party, f.Endpoint)
	}
	switch step {
	case 6, 7:
		return authCode + time.Second, true
	case 8, 9:
		return access + time.Second, true
	case 14, 15:
		return miniappTokenLifetime + time.Second, true
	}
	return 0, false
}

// stepAt returns the first step whose endpoint at party matches path, or 0.
func stepAt(party, path string) int {
	for _, n := range stepNumbers {
		if t := Steps[n]; t.Party == party && matchPath(t.Endpoint, path) {
			return n
		}
	}
	return 0
}

var stepNumbers = []int{1, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15}

// matchPath reports whether path is served by pattern. A segment in braces, such as
// {app_id}, matches any one segment; a trailing slash is ignored on both sides (PROTOCOL
// §2.8 serves both forms).
func matchPath(pattern, path string) bool {
	pattern, path = strings.TrimSuffix(pattern, "/"), strings.TrimSuffix(path, "/")
	if !strings.Contains(pattern, "{") {
		return pattern == path
	}
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i, p := range ps {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			if xs[i] == "" {
				return false
			}
			continue
		}
		if p != xs[i] {
			return false
		}
	}
	return true
}

// Matches reports whether a call to path at the fault's party is one the fault addresses.
func (f Fault) Matches(path string) bool {
	if f.Step != 0 {
		return matchPath(Steps[f.Step].Endpoint, path)
	}
	return matchPath(f.Endpoint, path)
}

// String describes the fault in one line, e.g. "f1 hostapp step 7: status 500, every call".
func (f Fault) String() string {
	var b strings.Builder
	if f.ID != "" {
		b.WriteString(f.ID + " ")
	}
	b.WriteString(f.Party)
	if f.Step != 0 {
		fmt.Fprintf(&b, " step %d", f.Step)
	} else {
		b.WriteString(" " + f.Endpoint)
	}
	b.WriteString(": " + f.Kind)
	switch f.Kind {
	case KindErrorCode:
		b.WriteString(" " + f.ErrorCode)
	case KindDelay:
		b.WriteString(" " + time.Duration(f.Delay).String())
	case KindStatus:
		fmt.Fprintf(&b, " %d", f.Status)
	case KindMalformed:
		b.WriteString(" " + f.Body)
	case KindMissingField:
		b.WriteString(" " + f.Field)
	}
	switch {
	case f.Nth != 0:
		fmt.Fprintf(&b, ", call %d only", f.Nth)
	case f.Probability != 0:
		fmt.Fprintf(&b, ", probability %g (seed %d)", f.Probability, f.Seed)
	default:
		b.WriteString(", every call")
	}
	return b.String()
}
