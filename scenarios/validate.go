package scenarios

import (
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/seed"
	"github.com/boxo-sim/boxo-sim/internal/strictyaml"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

// SDKCodes are the codes the fake SDK reports itself (PROTOCOL §4.4), and MiniappAPICodes
// those of the miniapp frontend API (§3.15, §7.1), which refresh and /api/me fail with.
var (
	SDKCodes        = []string{sdkstub.CodeUserDenied, sdkstub.CodeNoAuthCode, sdkstub.CodePlatformUnavailable, sdkstub.CodeNoAuthToken, sdkstub.CodeMeFailed}
	MiniappAPICodes = []string{contract.OAuthInvalidGrant, contract.OAuthInvalidToken}
)

// KnownCode reports whether a scenario may expect code: contract §5.1 (an earlier boxo-sim
// name included, with a warning), the SDK's own codes or the miniapp frontend API's.
func KnownCode(code string) bool {
	_, deprecated := contract.Deprecated[code]
	return contract.IsKnownCode(code) || deprecated || slices.Contains(SDKCodes, code) || slices.Contains(MiniappAPICodes, code)
}

// CodeMatches reports whether got meets an expected code: equal, or one of the codes that
// replace an earlier boxo-sim name (contract §5.1).
func CodeMatches(want, got string) bool {
	return want == got || slices.Contains(contract.Deprecated[want], got)
}

// deprecatedCode warns, at line, about an earlier boxo-sim code name.
func (v *validator) deprecatedCode(line int, what, code string) {
	if w := contract.DeprecationWarning(code); w != "" {
		v.sc.Warnings = append(v.sc.Warnings, Issue{File: v.File, Line: line, Msg: what + ": " + w})
	}
}

func knownCodes() string {
	return strings.Join(slices.Concat(contract.Codes, SDKCodes, MiniappAPICodes), ", ")
}

// Parties that can report an error.
var Parties = []string{contract.PartyHostapp, contract.PartyPlatform, contract.PartyMiniapp, contract.PartySDK}

var (
	nameRE = regexp.MustCompile(`^[a-z0-9]+(?:[-_][a-z0-9]+)*$`)
)

// validator checks what the types cannot say: registries, ranges, and which options and
// expectations each action takes.
type validator struct {
	*parser
	root *yaml.Node
	sc   *Scenario
}

func (v *validator) at(path ...any) int { return lineAt(v.root, path...) }

func (v *validator) validate() {
	sc := v.sc
	switch {
	case sc.Name == "":
		v.add(v.at("name"), "name is missing: give the scenario's name, the file name without .yaml")
	case !nameRE.MatchString(sc.Name) || len(sc.Name) > 100:
		v.add(v.at("name"), "name %q: use lower-case words, digits and dashes, <area>-<case>, such as connect-new-user", sc.Name)
	default:
		if base, ok := fileName(v.File); ok && base != sc.Name {
			v.add(v.at("name"), "name %q differs from the file name %q: name the file %s.yaml, or the scenario %s", sc.Name, base, sc.Name, base)
		}
	}
	v.setup()
	v.actions()
}

// fileName is the scenario name a file's name asks for.
func fileName(file string) (string, bool) {
	base := filepath.Base(file)
	for _, ext := range []string{".yaml", ".yml"} {
		if strings.HasSuffix(base, ext) {
			return strings.TrimSuffix(base, ext), true
		}
	}
	return "", false
}

func (v *validator) setup() {
	s := v.sc.Setup
	if d := time.Duration(s.CallTimeout); hasKey(v.root, "call_timeout", "setup") && (d <= 0 || d > 2*time.Minute) {
		v.add(v.at("setup", "call_timeout"), "setup.call_timeout %s: use a positive duration up to 2m, such as 500ms", d)
	}
	c := &seed.Checker{Parser: v.Parser, Root: v.root}
	c.Users(s.Users, "setup", "users")
	c.Dashboard(s.Dashboard, "setup", "dashboard")
	c.HostSettings(s.Hostapp, "setup", "hostapp")
	c.MiniSettings(s.Miniapp, "setup", "miniapp")
	c.PlatformSettings(s.Platform, "setup", "platform")
	c.Clients(s.Clients, "setup", "clients")
	c.Faults(v.sc.Faults, "faults")
	v.sc.Warnings = append(v.sc.Warnings, c.Warnings...)
	if s.SDK != nil && hasKey(v.root, "client_id", "setup", "sdk") && s.SDK.ClientID == "" {
		v.add(v.at("setup", "sdk", "client_id"), "setup.sdk.client_id is empty: leave it out for the demo host app %s", demo.ClientID)
	}
	targets := map[string]int{}
	for i, st := range s.Stubs {
		name := stubTarget(st)
		switch {
		case st.Refresh && st.Step != 0:
			v.add(v.at("setup", "stubs", i), "setup.stubs[%d]: give step or refresh, not both", i)
		case !st.Refresh && st.Step != 7 && st.Step != 9 && st.Step != 11:
			v.add(v.at("setup", "stubs", i, "step"), "setup.stubs[%d].step %d: a stub answers step 7 (host access token), 9 (host user data) or 11 (miniapp auth token), or give refresh: true", i, st.Step)
		}
		if prev, ok := targets[name]; ok {
			v.add(v.at("setup", "stubs", i), "setup.stubs[%d] replaces the %s like setup.stubs[%d]: one stub per endpoint", i, name, prev)
		}
		targets[name] = i
		if st.Status != 0 && (st.Status < 100 || st.Status > 599) {
			v.add(v.at("setup", "stubs", i, "status"), "setup.stubs[%d].status %d: use an HTTP status from 100 to 599", i, st.Status)
		}
		if st.JSON != nil && st.Text != "" {
			v.add(v.at("setup", "stubs", i), "setup.stubs[%d]: give json or text, not both", i)
		}
		if st.JSON == nil && !hasKey(v.root, "text", "setup", "stubs", i) {
			v.add(v.at("setup", "stubs", i), "setup.stubs[%d]: give the answer as json (an object) or text", i)
		}
	}
}

func stubTarget(s Stub) string {
	switch {
	case s.Refresh:
		return "host's refresh-token endpoint"
	case s.Step == 7:
		return "host's access-token endpoint"
	case s.Step == 9:
		return "host's user-data endpoint"
	}
	return "miniapp's auth-token endpoint"
}

// options each action takes, besides do and expect.
var actionOptions = map[string][]string{
	ActConnect:       {"user", "password", "app_id", "consent", "user_reference", "try_saved_token", "payload", "data", "sandbox_mode", "legacy_login"},
	ActConnectAgain:  {"consent"},
	ActRefresh:       {"user", "app_id"},
	ActLogout:        {"user"},
	ActAdvanceClock:  {"by"},
	ActRevokeConsent: {"user", "app_id"},
	ActConnectDirect: {"user", "password", "app_id", "consent", "try_saved_token"},
	ActDeleteUser:    {"user", "before_step"},
	ActRevokeTokens:  {"user", "before_step"},
	ActRemovePartner: {"app_id", "before_step"},
	ActReadOnly:      {},
	ActRequest:       {"party", "method", "path", "headers", "body"},
}

// expectations each action can be given.
var actionExpects = map[string][]string{
	ActConnect:       {"succeeds", "fails_at", "error_code", "party", "miniapp_user", "me", "consent", "saved_token", "consent_skipped", "trace"},
	ActConnectAgain:  {"succeeds", "fails_at", "error_code", "party", "miniapp_user", "me", "consent", "saved_token", "consent_skipped", "trace"},
	ActRefresh:       {"succeeds", "fails_at", "error_code", "party", "miniapp_user", "me", "consent"},
	ActLogout:        {"succeeds", "miniapp_user", "me", "consent"},
	ActAdvanceClock:  {"miniapp_user", "me", "consent"},
	ActRevokeConsent: {"succeeds", "miniapp_user", "me", "consent"},
	ActConnectDirect: {"succeeds", "fails_at", "error_code", "party", "miniapp_user", "me", "consent", "saved_token", "trace"},
	ActDeleteUser:    {"miniapp_user", "me", "consent"},
	ActRevokeTokens:  {"miniapp_user", "me", "consent"},
	ActRemovePartner: {"miniapp_user", "me", "consent"},
	ActReadOnly:      {"miniapp_user", "me", "consent"},
	ActRequest:       {"succeeds", "fails_at", "error_code", "party"},
}

func (v *validator) actions() {
	sc := v.sc
	if len(sc.Actions) == 0 {
		v.add(v.at("actions"), "actions is missing or empty: list what happens, e.g. actions: [connect]")
		return
	}
	users := map[string]bool{}
	for _, u := range demo.Users {
		users[u.Username] = true
	}
	for _, u := range sc.Setup.Users {
		users[u.Username] = true
	}
	connected := false
	last := len(sc.Actions) - 1
	if sc.Expect != nil {
		if sc.Actions[last].Expect != nil {
			v.add(v.at("expect"), "expect is given both here and on the last action (line %d): give it once", sc.Actions[last].Line)
		} else {
			sc.Actions[last].Expect = sc.Expect
			sc.Expect.Line = v.at("expect")
		}
	}
	for i := range sc.Actions {
		a := &sc.Actions[i]
		path := []any{"actions", i}
		if !slices.Contains(ActionNames, a.Do) {
			v.add(a.Line, "actions[%d]: unknown action %q: use one of %s", i, a.Do, strings.Join(ActionNames, ", "))
			continue
		}
		allowed := actionOptions[a.Do]
		for _, opt := range []string{"user", "password", "app_id", "consent", "user_reference", "try_saved_token", "payload", "data", "sandbox_mode", "legacy_login", "by",
			"before_step", "party", "method", "path", "headers", "body"} {
			if hasKey(v.root, opt, path...) && !slices.Contains(allowed, opt) {
				hint := ""
				if a.Do == ActConnectAgain {
					hint = " (it repeats the previous connect; use connect to change user, password, app_id, user_reference or what the miniapp is opened with)"
				}
				v.add(v.at(cat(path, opt)...), "actions[%d]: %s takes no %s%s", i, a.Do, opt, hint)
			}
		}
		if a.Consent != "" && a.Consent != "allow" && a.Consent != "deny" {
			v.add(v.at(cat(path, "consent")...), "actions[%d].consent %q: use allow or deny", i, a.Consent)
		}
		if hasKey(v.root, "app_id", path...) && a.AppID == "" {
			v.add(v.at(cat(path, "app_id")...), "actions[%d].app_id is empty: leave it out for the demo miniapp %s", i, demo.AppID)
		}
		switch a.Do {
		case ActConnect, ActConnectDirect:
			if a.User != "" && !users[a.User] && a.Password == "" {
				v.add(v.at(cat(path, "user")...), "actions[%d]: user %q is neither a demo user (alice, bob, carol) nor in setup.users: define it there, or give its password", i, a.User)
			}
			connected = true
		case ActConnectAgain:
			if !connected {
				v.add(a.Line, "actions[%d]: connect_again repeats an earlier connect, and there is none before it", i)
			}
		case ActAdvanceClock:
			if a.By <= 0 {
				v.add(a.Line, "actions[%d]: advance_clock needs by, a positive duration such as 11m or 2h", i)
			}
		case ActRequest:
			v.request(a, path, i)
		case ActDeleteUser:
			if u := a.User; u != "" && !slices.ContainsFunc(sc.Setup.Users, func(s User) bool { return s.Username == u }) {
				v.add(v.at(cat(path, "user")...), "actions[%d]: delete_user deletes a user of setup.users, so the demo users stay: %q is not one", i, u)
			} else if u == "" && len(sc.Setup.Users) == 0 {
				v.add(a.Line, "actions[%d]: delete_user deletes a user of setup.users, so the demo users stay: define one there and name it with user", i)
			}
		default:
			if a.User != "" && !users[a.User] {
				v.add(v.at(cat(path, "user")...), "actions[%d]: user %q is neither a demo user (alice, bob, carol) nor in setup.users", i, a.User)
			}
		}
		if a.BeforeStep != 0 {
			v.beforeStep(i, path)
		}
		if a.Expect != nil {
			epath := cat(path, "expect")
			if a.Expect.Line == 0 {
				a.Expect.Line = v.at(epath...)
			}
			if i == last && sc.Expect == a.Expect {
				epath = []any{"expect"}
			}
			v.expect(a, epath)
		}
	}
}

func (v *validator) expect(a *Action, path []any) {
	e := a.Expect
	name := strictyaml.Dotted(path)
	n := valueAt(v.root, path...)
	if n == nil || n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		v.add(e.Line, "%s says nothing: give succeeds, fails_at, error_code, party, miniapp_user, me, consent or trace, or leave it out", name)
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i].Value; !slices.Contains(actionExpects[a.Do], k) {
			v.add(n.Content[i].Line, "%s: %s cannot be expected of %s: use %s", name, k, a.Do, strings.Join(actionExpects[a.Do], ", "))
		}
	}
	failure := e.FailsAt != 0 || e.ErrorCode != "" || e.Party != ""
	if e.Succeeds != nil && *e.Succeeds && failure {
		v.add(v.at(cat(path, "succeeds")...), "%s: succeeds: true contradicts fails_at, error_code and party", name)
	}
	if (e.MiniappUser == "created" || e.MiniappUser == "existing") && (failure || (e.Succeeds != nil && !*e.Succeeds)) {
		v.add(v.at(cat(path, "miniapp_user")...), "%s: miniapp_user %s needs a flow that succeeds", name, e.MiniappUser)
	}
	if hasKey(v.root, "fails_at", path...) && (e.FailsAt < 1 || e.FailsAt > 16) {
		v.add(v.at(cat(path, "fails_at")...), "%s.fails_at %d: a flow step is 1 to 16 (contract §3.1)", name, e.FailsAt)
	}
	if hasKey(v.root, "error_code", path...) && !KnownCode(e.ErrorCode) {
		v.add(v.at(cat(path, "error_code")...), "%s.error_code %q is not a known code: use one of %s", name, e.ErrorCode, knownCodes())
	}
	v.deprecatedCode(v.at(cat(path, "error_code")...), name+".error_code", e.ErrorCode)
	if hasKey(v.root, "party", path...) && !slices.Contains(Parties, e.Party) {
		v.add(v.at(cat(path, "party")...), "%s.party %q: use one of %s", name, e.Party, strings.Join(Parties, ", "))
	}
	if hasKey(v.root, "miniapp_user", path...) && !slices.Contains([]string{"created", "existing", "none"}, e.MiniappUser) {
		v.add(v.at(cat(path, "miniapp_user")...), "%s.miniapp_user %q: use created, existing or none", name, e.MiniappUser)
	}
	if m := e.Me; m != nil {
		mp := cat(path, "me")
		if hasKey(v.root, "status", mp...) && (m.Status < 100 || m.Status > 599) {
			v.add(v.at(cat(mp, "status")...), "%s.me.status %d: use an HTTP status such as 200 or 401", name, m.Status)
		}
		if m.Status != 0 && m.Status != 200 {
			mn := valueAt(v.root, mp...)
			if mn != nil && len(mn.Content) > 2 {
				v.add(v.at(mp...), "%s.me: with status %d /api/me answers no user: give no other keys", name, m.Status)
			}
		}
	}
	for i, t := range e.Trace {
		tp := cat(path, "trace", i)
		if t.Step < 1 || t.Step > 16 {
			v.add(v.at(tp...), "%s.trace[%d].step %d: a flow step is 1 to 16", name, i, t.Step)
		}
		if t.ErrorCode != "" && !KnownCode(t.ErrorCode) {
			v.add(v.at(cat(tp, "error_code")...), "%s.trace[%d].error_code %q is not a known code: use one of %s", name, i, t.ErrorCode, knownCodes())
		}
		v.deprecatedCode(v.at(cat(tp, "error_code")...), fmt.Sprintf("%s.trace[%d].error_code", name, i), t.ErrorCode)
		if t.Outcome != "" && t.Outcome != contract.OutcomeOK && t.Outcome != contract.OutcomeFailed {
			v.add(v.at(cat(tp, "outcome")...), "%s.trace[%d].outcome %q: use ok or failed", name, i, t.Outcome)
		}
	}
}

// cat is a new path made of path and more, never sharing path's array.
var cat = strictyaml.Cat

// flowActions are the actions that run a flow, which before_step hooks into.
var flowActions = []string{ActConnect, ActConnectAgain, ActConnectDirect}

// beforeStep checks an action that waits for a step of the next flow: a flow follows, and it
// sends that step.
func (v *validator) beforeStep(i int, path []any) {
	a := &v.sc.Actions[i]
	line := v.at(cat(path, "before_step")...)
	var next *Action
	for j := i + 1; j < len(v.sc.Actions) && next == nil; j++ {
		if slices.Contains(flowActions, v.sc.Actions[j].Do) {
			next = &v.sc.Actions[j]
		}
	}
	switch {
	case next == nil:
		v.add(line, "actions[%d].before_step %d: no connect or connect_direct follows, so no flow reaches the step; put the flow after this action", i, a.BeforeStep)
	case next.Do == ActConnectDirect && a.BeforeStep != 7:
		v.add(line, "actions[%d].before_step %d: the next flow is connect_direct (line %d), whose only platform call before its answer is step 7 (the miniapp); use 7", i, a.BeforeStep, next.Line)
	case next.Do != ActConnectDirect && !slices.Contains([]int{6, 8, 10}, a.BeforeStep):
		v.add(line, "actions[%d].before_step %d: the next flow is %s (line %d): use 6 (access token), 8 (user data) or 10 (miniapp)", i, a.BeforeStep, next.Do, next.Line)
	}
}

// request checks a raw request: where it goes and what it sends.
func (v *validator) request(a *Action, path []any, i int) {
	switch {
	case a.Path == "":
		v.add(a.Line, "actions[%d]: request needs path, the endpoint and query, e.g. /api/v1/connect/", i)
	case !strings.HasPrefix(a.Path, "/"):
		v.add(v.at(cat(path, "path")...), "actions[%d].path %q: a path starting with /, e.g. /api/v1/connect/", i, a.Path)
	case strings.HasPrefix(a.Path, "/_sim/") || a.Path == "/_sim":
		v.add(v.at(cat(path, "path")...), "actions[%d].path %q: request is for contract endpoints; /_sim/ is the simulator's own API", i, a.Path)
	default:
		if _, err := url.ParseRequestURI(a.Path); err != nil {
			v.add(v.at(cat(path, "path")...), "actions[%d].path %q is not a valid path and query: %v", i, a.Path, err)
		}
	}
	if a.Party != "" && !slices.Contains([]string{contract.PartyPlatform, contract.PartyHostapp, contract.PartyMiniapp}, a.Party) {
		v.add(v.at(cat(path, "party")...), "actions[%d].party %q: use platform, hostapp or miniapp", i, a.Party)
	}
	if a.Method != "" && !slices.Contains(requestMethods, a.Method) {
		v.add(v.at(cat(path, "method")...), "actions[%d].method %q: use one of %s", i, a.Method, strings.Join(requestMethods, ", "))
	}
	for k, val := range a.Headers {
		if !seed.TokenRE.MatchString(k) || strings.ContainsAny(val, "\r\n") {
			v.add(v.at(cat(path, "headers", k)...), "actions[%d].headers %q: a header name is one token, and its value one line", i, k)
		}
	}
}

// requestMethods are the methods a request action may use.
var requestMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}
