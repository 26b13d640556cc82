package scenarios

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/fault"
	"github.com/boxo-sim/boxo-sim/internal/seed"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

// ActionResult is what one action did.
type ActionResult struct {
	Do     string `json:"do"`
	User   string `json:"user,omitempty"`
	Line   int    `json:"line,omitempty"`
	OK     bool   `json:"ok"`
	FlowID string `json:"flow_id,omitempty"`
	// Error is where the action stopped, when it did.
	Error *sdkstub.Error `json:"error,omitempty"`
	// Steps are the flow's steps (connect actions).
	Steps []sdkstub.Step `json:"steps,omitempty"`
	// Note says what an action that runs no flow did, e.g. what a request was answered.
	Note       string  `json:"note,omitempty"`
	DurationMS float64 `json:"duration_ms"`
}

// play runs a scenario's actions on a prepared env, checking each expectation. It returns the
// actions' results and the first unmet expectation; an error means the scenario could not be
// run (an admin call or the SDK failed to work at all).
func play(ctx context.Context, e *env, sc *Scenario, sdk *sdkstub.SDK, clientID string) ([]ActionResult, *Failure, error) {
	p := &player{e: e, sc: sc, sdk: sdk, clientID: clientID, user: demo.DefaultUser,
		held: map[tokenKey]string{}, userRefs: map[string]string{}}
	var results []ActionResult
	for i := range sc.Actions {
		a := &sc.Actions[i]
		r, out, err := p.do(ctx, a)
		if err != nil {
			return results, nil, fmt.Errorf("actions[%d] (%s, line %d): %w", i, a.Do, a.Line, err)
		}
		r.Line = a.Line
		results = append(results, r)
		if f := p.unfired(ctx, i, out); f != nil {
			return results, f, nil
		}
		if f := p.check(ctx, i, a, out); f != nil {
			return results, f, nil
		}
	}
	return results, nil, nil
}

type tokenKey struct{ user, appID string }

type player struct {
	e        *env
	sc       *Scenario
	sdk      *sdkstub.SDK
	clientID string

	user     string              // the current user: the last one named
	last     *Action             // the last connect, for connect_again
	lastUser string              // and the user it signed in
	held     map[tokenKey]string // the last miniapp token the SDK held per user and miniapp
	userRefs map[string]string   // user_reference the SDK was configured with, per user
	hooks    []hook              // actions waiting for a step of the next flow (before_step)
}

// outcome is what an action led to, for the expectations.
type outcome struct {
	action *Action
	user   string
	appID  string
	res    *sdkstub.Result // connect actions
	err    *sdkstub.Error  // where it stopped
	ok     bool
	detail string // extra words on what happened
	// missed are the before_step actions the flow never reached the step of.
	missed []hook
}

func (p *player) do(ctx context.Context, a *Action) (r ActionResult, out *outcome, err error) {
	started := time.Now()
	user := a.User
	if user == "" {
		user = p.user
	}
	appID := a.AppID
	if appID == "" {
		appID = demo.AppID
	}
	if a.Do == ActConnectAgain && p.last != nil {
		user, appID = p.lastUser, p.appOf(p.last)
	}
	userless := slices.Contains([]string{ActAdvanceClock, ActRemovePartner, ActReadOnly, ActRequest}, a.Do)
	if !userless {
		p.user = user
	}
	out = &outcome{action: a, user: user, appID: appID}
	r = ActionResult{Do: a.Do, User: user}
	if userless {
		r.User = ""
	}
	key := tokenKey{user, appID}
	if a.BeforeStep != 0 {
		p.hooks = append(p.hooks, hook{action: a, user: user, appID: appID})
		out.ok, out.detail = true, fmt.Sprintf("it waits for step %d of the next flow", a.BeforeStep)
		r.OK, r.Note = true, out.detail
		return r, out, nil
	}
	if slices.Contains(flowActions, a.Do) && len(p.hooks) > 0 {
		relays, rerr := p.relay(ctx, appID)
		if rerr != nil {
			return r, nil, rerr
		}
		defer func() {
			missed, notes, uerr := p.unrelay(ctx, relays)
			if uerr != nil {
				err = errors.Join(err, uerr)
			} else if out != nil {
				out.missed = missed
				r.Note = strings.Join(notes, "; ")
			}
		}()
	}
	switch a.Do {
	case ActConnect, ActConnectAgain:
		c := *a
		if a.Do == ActConnectAgain {
			c = *p.last
			if a.Consent != "" {
				c.Consent = a.Consent
			}
		} else {
			p.last, p.lastUser = a, user
		}
		o := sdkstub.Options{User: user, Password: c.Password, AppID: appID, Deny: c.Consent == "deny",
			TrySavedToken: c.TrySavedToken, Payload: c.Payload, SandboxMode: c.SandboxMode, LegacyLogin: c.LegacyLogin}
		if c.Data != nil {
			b, err := json.Marshal(c.Data)
			if err != nil {
				return r, nil, fmt.Errorf("data: %w", err)
			}
			o.Data = b
		}
		if o.Password == "" {
			o.Password = p.password(user)
		}
		if c.UserReference != "" {
			o.UserReference = p.e.ref(c.UserReference)
			p.userRefs[user] = o.UserReference
		}
		res, err := p.sdk.Connect(ctx, o)
		if ok, err := p.flowEnded(&r, out, key, res, err); !ok {
			return r, nil, err
		}
	case ActConnectDirect:
		o := sdkstub.Options{User: user, Password: a.Password, AppID: appID, Deny: a.Consent == "deny", TrySavedToken: a.TrySavedToken}
		if o.Password == "" {
			o.Password = p.password(user)
		}
		res, err := p.sdk.ConnectDirect(ctx, o)
		if ok, err := p.flowEnded(&r, out, key, res, err); !ok {
			return r, nil, err
		}
	case ActRefresh:
		pl, err := p.sdk.Refresh(ctx, user, appID)
		var fe *sdkstub.Error
		switch {
		case errors.As(err, &fe):
			out.err = fe
		case errors.Is(err, sdkstub.ErrNoTokens):
			out.err = &sdkstub.Error{Step: 14, Party: contract.PartySDK, Code: sdkstub.CodeNoAuthToken, Message: err.Error()}
		case err != nil:
			out.err = &sdkstub.Error{Step: 14, Party: contract.PartyMiniapp, Code: sdkstub.CodeMeFailed, Message: err.Error()}
		default:
			p.held[key] = pl.Token
			out.ok = true
		}
	case ActLogout:
		if err := p.sdk.Logout(ctx, user); err != nil {
			out.err = &sdkstub.Error{Party: contract.PartyMiniapp, Code: sdkstub.CodeMeFailed, Message: err.Error()}
		} else {
			out.ok = true
		}
	case ActAdvanceClock:
		if err := p.e.advanceClock(ctx, time.Duration(a.By)); err != nil {
			return r, nil, err
		}
		out.ok = true
	case ActRevokeConsent:
		body := map[string]string{"client_id": p.clientID, "app_id": appID, "user_reference": p.referenceOf(user)}
		var ans struct {
			Revoked bool `json:"revoked"`
		}
		if err := p.e.admin(ctx, http.MethodPost, p.e.platformURL+"/_sim/consent/revoke", body, &ans); err != nil {
			return r, nil, err
		}
		// The SDK clears that miniapp's stored tokens (PROTOCOL §7.4).
		p.sdk.Forget(user, appID)
		out.ok = true
		out.detail = fmt.Sprintf("the platform answered revoked: %t", ans.Revoked)
	case ActDeleteUser, ActRevokeTokens, ActRemovePartner, ActReadOnly:
		detail, err := p.act(ctx, hook{action: a, user: user, appID: appID})
		if err != nil {
			return r, nil, err
		}
		out.ok, out.detail = true, detail
	case ActRequest:
		if err := p.request(ctx, a, out); err != nil {
			return r, nil, err
		}
	}
	if out.err != nil {
		r.Error = out.err
	}
	r.OK, r.Note = out.ok, out.detail
	r.DurationMS = float64(time.Since(started).Microseconds()) / 1000
	return r, out, nil
}

// flowEnded puts the result of a Connect or Direct flow on r and out and keeps the miniapp
// token a success leaves the SDK holding. It reports false, with err, when there is no result
// to check: none at all, or an error other than where the flow stopped.
func (p *player) flowEnded(r *ActionResult, out *outcome, key tokenKey, res *sdkstub.Result, err error) (bool, error) {
	if res == nil {
		return false, err
	}
	var fe *sdkstub.Error
	if err != nil && !errors.As(err, &fe) {
		return false, err
	}
	out.res, out.err, out.ok = res, fe, fe == nil && res.OK
	r.FlowID, r.Steps, r.Error, r.OK = res.FlowID, res.Steps, fe, out.ok
	if out.ok {
		p.held[key] = res.Token
	}
	return true, nil
}

func (p *player) appOf(a *Action) string {
	if a.AppID != "" {
		return a.AppID
	}
	return demo.AppID
}

// password is a user's password: the setup's, its default, or the demo user's.
func (p *player) password(user string) string {
	for _, u := range p.sc.Setup.Users {
		if u.Username == user {
			if u.Password != "" {
				return u.Password
			}
			return seed.DefaultPassword(u.Username)
		}
	}
	return "" // sdkstub knows the demo users'
}

// referenceOf is the reference the platform knows the user by for consent: the
// user_reference the SDK was configured with, else the host's reference.
func (p *player) referenceOf(user string) string {
	if r, ok := p.userRefs[user]; ok {
		return r
	}
	for _, u := range p.sc.Setup.Users {
		if u.Username == user {
			return p.e.ref(u.Reference)
		}
	}
	if u, ok := demo.FindUser(user); ok {
		return u.Reference
	}
	return ""
}

// token is the miniapp token to present for the user: the one the SDK holds, else the last one
// it held.
func (p *player) token(key tokenKey) string {
	if pl, ok := p.sdk.Tokens(key.user, key.appID); ok {
		return pl.Token
	}
	return p.held[key]
}

// check compares an outcome with the action's expectation (default: it succeeds).
func (p *player) check(ctx context.Context, i int, a *Action, out *outcome) *Failure {
	e := a.Expect
	if e == nil {
		switch a.Do {
		case ActAdvanceClock, ActRevokeConsent:
			return nil
		}
		e = &Expect{}
	}
	fail := func(expected, got string) *Failure {
		f := &Failure{Action: i, Do: a.Do, User: out.user, Line: a.Line, Expected: expected, Got: got}
		if e.Line != 0 {
			f.Line = e.Line
		}
		if out.res != nil {
			f.FlowID = out.res.FlowID
			f.Trace = p.trace(ctx, out)
		}
		return f
	}
	failure := e.FailsAt != 0 || e.ErrorCode != "" || e.Party != ""
	wantOK := !failure && (e.Succeeds == nil || *e.Succeeds)
	switch {
	case wantOK && !out.ok:
		return fail(describeSuccess(a), describe(out))
	case !wantOK && out.ok:
		return fail(describeFailure(e), describe(out))
	case failure:
		fe := out.err
		if fe == nil || (e.FailsAt != 0 && fe.Step != e.FailsAt) || (e.ErrorCode != "" && !CodeMatches(e.ErrorCode, fe.Code)) || (e.Party != "" && fe.Party != e.Party) {
			return fail(describeFailure(e), describe(out))
		}
	}
	if e.MiniappUser == "created" || e.MiniappUser == "existing" {
		want := e.MiniappUser == "created"
		if out.res == nil || out.res.Me == nil {
			return fail("the miniapp "+e.MiniappUser+" user", "no /api/me answer in the flow")
		}
		if got := out.res.Me.Created; got == nil || *got != want {
			was := "of unknown origin"
			if got != nil && *got {
				was = "created"
			} else if got != nil {
				was = "existing"
			}
			return fail("the miniapp user to be "+e.MiniappUser+" (created: "+fmt.Sprint(want)+")", "it was "+was+" (created: "+out.res.Me.CreatedText()+")")
		}
	}
	if e.MiniappUser == "none" {
		ref := p.referenceOf(out.user)
		var users struct {
			Users []json.RawMessage `json:"users"`
		}
		q := url.Values{"client_id": {p.clientID}, "reference": {ref}}
		if err := p.e.admin(ctx, http.MethodGet, p.e.miniappURL+"/_sim/users?"+q.Encode(), nil, &users); err != nil {
			return fail("no miniapp user for reference "+ref, "could not list the miniapp's users: "+err.Error())
		}
		if len(users.Users) != 0 {
			return fail("no miniapp user for reference "+ref, fmt.Sprintf("the miniapp holds %d: %s", len(users.Users), users.Users[0]))
		}
	}
	if e.Me != nil {
		if expected, got, ok := p.checkMe(ctx, out, e.Me); !ok {
			return fail(expected, got)
		}
	}
	if e.Consent != nil {
		ref := p.referenceOf(out.user)
		q := url.Values{"client_id": {p.clientID}, "app_id": {out.appID}, "user_reference": {ref}}
		var c struct {
			Consent bool `json:"consent"`
		}
		u := p.e.platformURL + "/api/v1/accounts/consent/get_consent/?" + q.Encode()
		if err := p.e.admin(ctx, http.MethodGet, u, nil, &c); err != nil {
			return fail(fmt.Sprintf("get_consent for %s to say consent: %t", ref, *e.Consent), err.Error())
		}
		if c.Consent != *e.Consent {
			return fail(fmt.Sprintf("get_consent for %s to say consent: %t", ref, *e.Consent), fmt.Sprintf("consent: %t", c.Consent))
		}
	}
	for _, w := range []struct {
		name      string
		want, got *bool
	}{{"saved_token", e.SavedToken, savedToken(out)}, {"consent_skipped", e.ConsentSkipped, consentSkipped(out)}} {
		if w.want != nil && (w.got == nil || *w.got != *w.want) {
			got := "no flow result"
			if w.got != nil {
				got = fmt.Sprintf("%s: %t", w.name, *w.got)
			}
			return fail(fmt.Sprintf("%s: %t", w.name, *w.want), got)
		}
	}
	for _, t := range e.Trace {
		if !traceHas(out.res, t) {
			return fail("the trace to hold "+describeTrace(t), "no such step")
		}
	}
	return nil
}

// checkMe asks the miniapp's GET /api/me with the user's token and compares the answer.
func (p *player) checkMe(ctx context.Context, out *outcome, m *MeExpect) (expected, got string, ok bool) {
	want := m.Status
	if want == 0 {
		want = http.StatusOK
	}
	expected = fmt.Sprintf("GET /api/me to answer %d", want)
	key := tokenKey{out.user, out.appID}
	tok := p.token(key)
	if tok == "" {
		return expected, fmt.Sprintf("the SDK never held a miniapp token for %s and %s", key.user, key.appID), false
	}
	var me contract.Me
	status, body, err := p.e.call(ctx, http.MethodGet, p.e.miniappURL+"/api/me", nil, &me, "Authorization", "Bearer "+tok)
	if err != nil {
		return expected, err.Error(), false
	}
	if status != want {
		return expected, fmt.Sprintf("%d %s", status, strings.TrimSpace(string(body))), false
	}
	if want != http.StatusOK {
		return "", "", true
	}
	var diffs []string
	cmp := func(name, want, got string) {
		if want != "" && want != got {
			diffs = append(diffs, fmt.Sprintf("%s %q (want %q)", name, got, want))
		}
	}
	cmp("reference", p.e.ref(m.Reference), me.Reference)
	cmp("client_id", m.ClientID, me.ClientID)
	cmp("email", m.Email, me.Email)
	cmp("phone", m.Phone, me.Phone)
	cmp("first_name", m.FirstName, me.FirstName)
	cmp("last_name", m.LastName, me.LastName)
	if m.Created != nil && (me.Created == nil || *m.Created != *me.Created) {
		diffs = append(diffs, fmt.Sprintf("created %s (want %t)", me.CreatedText(), *m.Created))
	}
	if m.CustomAttributes != nil {
		var gotCA map[string]any
		_ = json.Unmarshal(me.CustomAttributes, &gotCA)
		for k, w := range m.CustomAttributes {
			if !jsonEqual(w, gotCA[k]) {
				diffs = append(diffs, fmt.Sprintf("custom_attributes.%s %s (want %s)", k, jsonText(gotCA[k]), jsonText(w)))
			}
		}
	}
	if len(diffs) > 0 {
		return "GET /api/me to answer " + describeMe(p.e, m), strings.Join(diffs, ", "), false
	}
	return "", "", true
}

// jsonEqual compares two values as JSON (YAML's ints and JSON's floats alike).
func jsonEqual(a, b any) bool {
	var x, y any
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	_ = json.Unmarshal(ja, &x)
	_ = json.Unmarshal(jb, &y)
	return reflect.DeepEqual(x, y)
}

func jsonText(v any) string {
	if v == nil {
		return "absent"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func traceHas(res *sdkstub.Result, t TraceExpect) bool {
	if res == nil {
		return false
	}
	for _, s := range res.Steps {
		if s.Number != t.Step || (t.ErrorCode != "" && !CodeMatches(t.ErrorCode, s.ErrorCode)) {
			continue
		}
		if t.Outcome == contract.OutcomeOK && !s.OK || t.Outcome == contract.OutcomeFailed && s.OK {
			continue
		}
		if !strings.Contains(s.Call, t.Call) || !strings.Contains(s.Note, t.Note) {
			continue
		}
		return true
	}
	return false
}

func describeSuccess(a *Action) string {
	switch a.Do {
	case ActConnect, ActConnectAgain:
		return "the flow succeeds (step 16 reached)"
	case ActConnectDirect:
		return "the Direct flow succeeds (step 12 reached)"
	case ActRefresh:
		return "the miniapp session is refreshed"
	case ActLogout:
		return "the logout works"
	case ActRequest:
		return "a 2xx answer without error_code"
	}
	return a.Do + " works"
}

func describeFailure(e *Expect) string {
	if e.FailsAt == 0 && e.ErrorCode == "" && e.Party == "" {
		return "the action fails"
	}
	s := "fails"
	if e.FailsAt != 0 {
		s += fmt.Sprintf(" at step %d", e.FailsAt)
	}
	if e.ErrorCode != "" {
		s += " with " + e.ErrorCode
	}
	if e.Party != "" {
		s += " from " + e.Party
	}
	return s
}

func describe(out *outcome) string {
	if out.ok {
		switch out.action.Do {
		case ActConnect, ActConnectAgain, ActConnectDirect:
			s := "succeeded (the last step reached)"
			if out.res != nil && out.res.Me != nil {
				s += fmt.Sprintf(", miniapp user %s created: %s", out.res.Me.ID, out.res.Me.CreatedText())
			}
			return s
		}
		if out.detail != "" {
			return "it worked; " + out.detail
		}
		return "it worked"
	}
	fe := out.err
	if fe == nil {
		return "it stopped short of step 16 without an error"
	}
	s := "failed"
	if fe.Step != 0 {
		s += fmt.Sprintf(" at step %d", fe.Step)
	}
	if fe.Code != "" {
		s += " with " + fe.Code
	}
	if fe.Party != "" {
		s += " from " + fe.Party
	}
	if fe.Message != "" && fe.Message != fe.Code {
		s += ": " + fe.Message
	}
	return s
}

func describeTrace(t TraceExpect) string {
	s := fmt.Sprintf("step %d", t.Step)
	if t.Outcome != "" {
		s += " " + t.Outcome
	}
	if t.ErrorCode != "" {
		s += " with " + t.ErrorCode
	}
	if t.Call != "" {
		s += fmt.Sprintf(", call containing %q", t.Call)
	}
	if t.Note != "" {
		s += fmt.Sprintf(", note containing %q", t.Note)
	}
	return s
}

func describeMe(e *env, m *MeExpect) string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+" "+v)
		}
	}
	add("reference", e.ref(m.Reference))
	add("client_id", m.ClientID)
	add("email", m.Email)
	add("phone", m.Phone)
	add("first_name", m.FirstName)
	add("last_name", m.LastName)
	if m.Created != nil {
		parts = append(parts, fmt.Sprintf("created %t", *m.Created))
	}
	if m.CustomAttributes != nil {
		parts = append(parts, "custom_attributes "+jsonText(m.CustomAttributes))
	}
	return strings.Join(parts, ", ")
}

func savedToken(out *outcome) *bool {
	if out.res == nil {
		return nil
	}
	return &out.res.SavedToken
}

func consentSkipped(out *outcome) *bool {
	if out.res == nil {
		return nil
	}
	return &out.res.ConsentSkipped
}

// act does what a state-changing action does, now: delete_user, revoke_tokens,
// remove_partnership, read_only_storage. Against a running up it arranges for the change to
// be put back afterwards. It returns words on what it did.
func (p *player) act(ctx context.Context, h hook) (string, error) {
	e := p.e
	switch h.action.Do {
	case ActDeleteUser:
		base := e.hostURL + "/_sim/users/" + url.PathEscape(h.user)
		if e.remote {
			var prev seed.UserBody
			if err := e.admin(ctx, http.MethodGet, base, nil, &prev); err != nil {
				return "", err
			}
			prev.Password = p.password(h.user)
			e.onUndo(func(ctx context.Context) error { return e.admin(ctx, http.MethodPut, base, prev, nil) })
		}
		if err := e.admin(ctx, http.MethodDelete, base, nil, nil); err != nil {
			return "", err
		}
		return "the host deleted user " + h.user, nil
	case ActRevokeTokens:
		var ans struct {
			Revoked int `json:"revoked"`
		}
		u := e.hostURL + "/_sim/users/" + url.PathEscape(h.user) + "/revoke-tokens"
		if err := e.admin(ctx, http.MethodPost, u, struct{}{}, &ans); err != nil {
			return "", err
		}
		return fmt.Sprintf("the host revoked %d tokens of %s", ans.Revoked, h.user), nil
	case ActRemovePartner:
		u := e.platformURL + "/_sim/partnerships/" + url.PathEscape(demo.ClientID) + "/" + url.PathEscape(h.appID)
		var prev map[string]any
		if err := e.admin(ctx, http.MethodGet, u, nil, &prev); err != nil {
			return "", fmt.Errorf("no partnership of %s and %s to remove: %w", demo.ClientID, h.appID, err)
		}
		e.onUndo(func(ctx context.Context) error { return e.admin(ctx, http.MethodPut, u, prev, nil) })
		if err := e.admin(ctx, http.MethodDelete, u, nil, nil); err != nil {
			return "", err
		}
		return fmt.Sprintf("the Dashboard removed the partnership of %s and %s", demo.ClientID, h.appID), nil
	case ActReadOnly:
		u := e.platformURL + "/_sim/storage"
		e.onUndo(func(ctx context.Context) error {
			return e.admin(ctx, http.MethodPut, u, map[string]bool{"read_only": false}, nil)
		})
		if err := e.admin(ctx, http.MethodPut, u, map[string]bool{"read_only": true}, nil); err != nil {
			return "", err
		}
		return "the platform's database refuses writes", nil
	}
	return "", fmt.Errorf("%s is not a state-changing action", h.action.Do)
}

// request sends a request action's raw request and reads the answer as the contract's error
// forms put it: error_code (the platform's envelope with custom_attributes.source and step, or
// a host's or miniapp's always-200 body), else an OAuth error. The step of an answer without
// one is the answer step of the endpoint (7, 9, 11).
func (p *player) request(ctx context.Context, a *Action, out *outcome) error {
	party := a.Party
	if party == "" {
		party = contract.PartyPlatform
	}
	method := a.Method
	if method == "" {
		method = http.MethodGet
		if a.Body != nil {
			method = http.MethodPost
		}
	}
	var body io.Reader
	if a.Body != nil {
		body = strings.NewReader(*a.Body)
	}
	var header []string
	for k, v := range a.Headers {
		header = append(header, k, v)
	}
	status, raw, err := p.e.send(ctx, method, p.e.partyURL(party)+a.Path, body, header...)
	if err != nil {
		return err
	}
	var ans struct {
		contract.ErrorEnvelope
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	_ = json.Unmarshal(raw, &ans) // a body that is not JSON carries no code
	out.detail = fmt.Sprintf("%s %s answered %d", method, a.Path, status)
	code, msg := ans.ErrorCode, ans.ErrorMessage
	if code == "" && status >= 400 {
		code, msg = ans.Error, ans.ErrorDescription
	}
	if code == "" && status >= 200 && status < 300 {
		out.ok = true
		return nil
	}
	fe := &sdkstub.Error{Step: ans.Step(), Party: ans.Source(), Code: code,
		Message: fmt.Sprintf("%s answered %d: %s", a.Path, status, strings.TrimSpace(string(raw)))}
	if msg != "" {
		fe.Message = fmt.Sprintf("%s answered %d: %s", a.Path, status, msg)
	}
	if fe.Party == "" {
		fe.Party = party
	}
	if fe.Step == 0 {
		fe.Step = answerStep(party, a.Path)
	}
	out.err = fe
	return nil
}

// answerStep is the flow step that answers a party's endpoint: the higher of a request step
// and its answer (7 for the host's access token, 9 user data, 11 the miniapp's auth token);
// 0 for another path.
func answerStep(party, path string) int {
	path, _, _ = strings.Cut(path, "?")
	step := 0
	for n, t := range fault.Steps {
		if t.Party == party && strings.TrimRight(t.Endpoint, "/") == strings.TrimRight(path, "/") && n > step {
			step = n
		}
	}
	return step
}
