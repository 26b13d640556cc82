package stack_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/signing"
	"github.com/boxo-sim/boxo-sim/internal/stack"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

// hostBrowser signs a demo user in to the host app and returns a client holding the session.
func hostBrowser(t *testing.T, st *stack.Stack, user string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	u, _ := demo.FindUser(user)
	res, err := c.PostForm(st.HostURL+"/auth/v1/login", url.Values{"username": {user}, "password": {u.Password}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound {
		t.Fatalf("sign-in of %s: %d", user, res.StatusCode)
	}
	return c
}

// directTokens is step 5 of Direct: the host app asks its backend for the miniapp's tokens.
func directTokens(t *testing.T, c *http.Client, st *stack.Stack, flowID string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, st.HostURL+"/boxo/direct/tokens", strings.NewReader(`{"app_id":"`+demo.AppID+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(contract.HeaderFlowID, flowID)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("answer %s: %v", b, err)
	}
	return res.StatusCode, m
}

// Connect Direct through the three real parties: the host backend's /boxo/direct/tokens, the
// platform's /api/v1/connect/, the miniapp's Get Auth Token; the token reads the user from the
// miniapp, and the flow log holds the platform's steps 6–9 under mode direct.
func TestDirectEndToEnd(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t)
	c := hostBrowser(t, st, "carol")
	status, got := directTokens(t, c, st, "flow_e2e_direct")
	token, _ := got["token"].(string)
	if status != http.StatusOK || token == "" || got["refresh_token"] == nil {
		t.Fatalf("direct tokens: %d %v", status, got)
	}
	s, b := call(t, http.MethodGet, st.MiniappURL+"/api/me", nil, "Authorization", "Bearer "+token)
	me := decode[contract.Me](t, b)
	if s != http.StatusOK || me.Reference != "u-1003" || me.ClientID != demo.ClientID {
		t.Fatalf("/api/me: %d %s", s, b)
	}
	f := decode[contract.Flow](t, admin(t, http.MethodGet, st.PlatformURL+"/_sim/flows/flow_e2e_direct", nil))
	if f.Mode != "direct" || f.Outcome != contract.OutcomeOK || len(f.Steps) != 4 {
		t.Fatalf("flow log: %+v", f)
	}
	q := url.Values{"client_id": {demo.ClientID}, "app_id": {demo.AppID}, "user_reference": {"u-1003"}}
	consent := decode[map[string]any](t, admin(t, http.MethodGet, st.PlatformURL+"/api/v1/accounts/consent/get_consent/?"+q.Encode(), nil))
	if consent["consent"] != true {
		t.Errorf("no consent recorded: %v", consent)
	}

	// Direct switched off for the partnership: the platform's envelope reaches the host app.
	admin(t, http.MethodPut, st.PlatformURL+"/_sim/partnerships/"+demo.ClientID+"/"+demo.AppID, map[string]any{"direct_enabled": false})
	status, got = directTokens(t, c, st, "flow_e2e_direct_off")
	if status != http.StatusBadRequest || got["error_code"] != contract.CodeFeatureDisabledInIntegration {
		t.Errorf("Direct off: %d %v", status, got)
	}
}

// With request signing on at every party (PROTOCOL §7.8), both flows verify end to end; a
// secret that differs between the Dashboard and a party fails the flow at that party with
// INVALID_SIGNATURE.
func TestSigningEndToEnd(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t)
	admin(t, http.MethodPut, st.PlatformURL+"/_sim/hostapps/"+demo.ClientID, map[string]any{"signing_enabled": true, "signing_secret": "host-sign-1"})
	admin(t, http.MethodPut, st.PlatformURL+"/_sim/miniapps/"+demo.AppID, map[string]any{"signing_enabled": true, "signing_secret": "mini-sign-1"})
	admin(t, http.MethodPut, st.HostURL+"/_sim/settings", map[string]any{"signing_enabled": true, "signing_secret": "host-sign-1"})
	admin(t, http.MethodPut, st.MiniappURL+"/_sim/settings", map[string]any{"signing_enabled": true, "signing_secret": "mini-sign-1"})

	sdk := newSDK(t, st)
	res, fe := connect(t, sdk, sdkstub.Options{User: "alice"})
	mustSucceed(t, res, fe)
	f := decode[contract.Flow](t, admin(t, http.MethodGet, st.PlatformURL+"/_sim/flows/"+res.FlowID, nil))
	for _, s := range f.Steps {
		if (s.Step == 6 || s.Step == 8 || s.Step == 10) && s.Request.Headers["X-Signature"] == "" {
			t.Errorf("step %d went unsigned: %v", s.Step, s.Request.Headers)
		}
	}
	c := hostBrowser(t, st, "carol")
	if status, got := directTokens(t, c, st, "flow_signed_direct"); status != http.StatusOK {
		t.Fatalf("signed Direct: %d %v", status, got)
	}

	// The miniapp's copy of the secret differs: step 11 fails at the miniapp.
	admin(t, http.MethodPut, st.MiniappURL+"/_sim/settings", map[string]any{"signing_secret": "mini-sign-2"})
	_, fe = connect(t, sdk, sdkstub.Options{User: "alice"})
	if fe == nil || fe.Code != contract.CodeInvalidSignature || fe.Party != contract.PartyMiniapp || fe.Step != 11 {
		t.Errorf("miniapp secret differs: %v", fe)
	}
	// The host's copy differs: step 7 fails at the host, and its Direct call fails at the
	// platform (step 6).
	admin(t, http.MethodPut, st.MiniappURL+"/_sim/settings", map[string]any{"signing_secret": "mini-sign-1"})
	admin(t, http.MethodPut, st.HostURL+"/_sim/settings", map[string]any{"signing_secret": "host-sign-2"})
	_, fe = connect(t, sdk, sdkstub.Options{User: "alice"})
	if fe == nil || fe.Code != contract.CodeInvalidSignature || fe.Party != contract.PartyHostapp || fe.Step != 7 {
		t.Errorf("host secret differs: %v", fe)
	}
	status, got := directTokens(t, c, st, "flow_signed_direct_bad")
	if status != http.StatusBadRequest || got["error_code"] != contract.CodeInvalidSignature {
		t.Errorf("Direct with the host's secret differing: %d %v", status, got)
	}
}

// The fake SDK runs the 12 Direct steps: each numbered as PROTOCOL §7.3's table, the
// platform's 6–9 read back from the flow log; refusals stop at the party and step that made
// them.
func TestConnectDirectTwelveSteps(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t)
	sdk := newSDK(t, st)
	res, err := sdk.ConnectDirect(t.Context(), sdkstub.Options{User: "bob"})
	if err != nil {
		t.Fatalf("direct: %v\n%+v", err, res)
	}
	if len(res.Steps) != 12 {
		t.Fatalf("%d steps, want 12: %+v", len(res.Steps), res.Steps)
	}
	for i, s := range res.Steps {
		if s.Number != i+1 || !s.OK {
			t.Errorf("step %d: %+v", i+1, s)
		}
	}
	if res.Me == nil || res.Me.Reference != "u-1002" || !res.OK {
		t.Errorf("me = %+v", res.Me)
	}
	f := decode[contract.Flow](t, admin(t, http.MethodGet, st.PlatformURL+"/_sim/flows/"+res.FlowID, nil))
	if f.Mode != "direct" || f.Outcome != contract.OutcomeOK || len(f.Steps) != 12 || f.Note != "" {
		t.Errorf("flow log: mode %s outcome %s, %d steps, note %q", f.Mode, f.Outcome, len(f.Steps), f.Note)
	}

	_, err = sdk.ConnectDirect(t.Context(), sdkstub.Options{User: "bob", Deny: true})
	if fe, ok := err.(*sdkstub.Error); !ok || fe.Step != 4 || fe.Code != sdkstub.CodeUserDenied {
		t.Errorf("denied: %v", err)
	}
	admin(t, http.MethodPut, st.PlatformURL+"/_sim/partnerships/"+demo.ClientID+"/"+demo.AppID, map[string]any{"direct_enabled": false})
	res, err = sdk.ConnectDirect(t.Context(), sdkstub.Options{User: "bob"})
	if fe, ok := err.(*sdkstub.Error); !ok || fe.Step != 6 || fe.Party != contract.PartyPlatform || fe.Code != contract.CodeFeatureDisabledInIntegration {
		t.Errorf("Direct off: %v", err)
	}
	f = decode[contract.Flow](t, admin(t, http.MethodGet, st.PlatformURL+"/_sim/flows/"+res.FlowID, nil))
	if f.Outcome != contract.OutcomeFailed || f.ErrorCode != contract.CodeFeatureDisabledInIntegration {
		t.Errorf("failed flow log: %s %s", f.Outcome, f.ErrorCode)
	}
}

// Direct tries the saved token first, as the OAuth flow does (PROTOCOL §3.3): a second run
// with the token of the first (another SDK on the same token file, as a second process) signs
// in at the miniapp's backend with no new Direct login; once that backend refuses the token,
// the miniapp logs in anew through the 12 steps.
func TestConnectDirectSavedTokenFirst(t *testing.T) {
	t.Parallel()
	st, clk := startStack(t)
	file := filepath.Join(t.TempDir(), sdkstub.TokenFileName)
	withFile := func(c *sdkstub.Config) { c.TokenFile = file }
	direct := func(sdk *sdkstub.SDK) *sdkstub.Result {
		t.Helper()
		res, err := sdk.ConnectDirect(t.Context(), sdkstub.Options{User: "bob", TrySavedToken: true})
		if err != nil || !res.OK {
			t.Fatalf("direct: %v\n%+v", err, res)
		}
		return res
	}
	twelve := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}

	first := direct(newSDK(t, st, withFile))
	if first.SavedToken || !slices.Equal(resultSteps(first), twelve) {
		t.Fatalf("first run: saved_token %t, steps %v; want a whole Direct login", first.SavedToken, resultSteps(first))
	}

	second := direct(newSDK(t, st, withFile))
	if !second.SavedToken || !slices.Equal(resultSteps(second), []int{1, 2, 11, 12}) || second.Token != first.Token {
		t.Fatalf("second run: saved_token %t, steps %v; want the saved token used at step 11", second.SavedToken, resultSteps(second))
	}
	if second.Me == nil || second.Me.Reference != "u-1002" {
		t.Errorf("second run read %+v", second.Me)
	}
	f := decode[contract.Flow](t, admin(t, http.MethodGet, st.PlatformURL+"/_sim/flows/"+second.FlowID, nil))
	for _, s := range f.Steps {
		if s.Step >= 3 && s.Step <= 10 {
			t.Errorf("the saved-token run has step %d in the flow log: %s", s.Step, s.Call)
		}
	}

	// The miniapp token (1 h) expires: /api/me refuses it and Direct logs in anew.
	clk.Advance(2 * time.Hour)
	third := direct(newSDK(t, st, withFile))
	s2, _ := findStep(third, 2)
	if third.SavedToken || !slices.Equal(resultSteps(third), twelve) || !strings.Contains(s2.Note, "refused the saved token (401)") {
		t.Errorf("expired saved token: saved_token %t, steps %v, step 2 %q; want a new login after the refusal", third.SavedToken, resultSteps(third), s2.Note)
	}
	if third.Token == first.Token {
		t.Error("the new login handed back the refused token")
	}
}

// TestConsentMemorySigned: with request signing on for the host app, get_consent takes signed
// calls only (PROTOCOL §7.4, §7.8), so the SDK's prompt-skip switch asks through the host
// backend, which holds the secret: the prompt is skipped once the user allowed, in both flows.
// A get_consent that is unsigned, or signed with another secret, is refused with
// INVALID_SIGNATURE.
func TestConsentMemorySigned(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t)
	admin(t, http.MethodPut, st.PlatformURL+"/_sim/hostapps/"+demo.ClientID, map[string]any{"signing_enabled": true, "signing_secret": "host-sign-1"})
	admin(t, http.MethodPut, st.HostURL+"/_sim/settings", map[string]any{"signing_enabled": true, "signing_secret": "host-sign-1"})
	skip := newSDK(t, st, func(c *sdkstub.Config) { c.SkipGrantedConsent = true })

	res, fe := connect(t, skip, sdkstub.Options{User: "carol", UserReference: "u-1003"})
	mustSucceed(t, res, fe)
	if res.ConsentSkipped {
		t.Fatal("the prompt was skipped before any consent was recorded")
	}
	res, fe = connect(t, skip, sdkstub.Options{User: "carol", UserReference: "u-1003", Deny: true})
	mustSucceed(t, res, fe)
	if s4, _ := findStep(res, 4); !res.ConsentSkipped || !strings.Contains(s4.Call, "/boxo/consent") {
		t.Errorf("signed get_consent: skipped %t, step 4 %+v; want the prompt skipped through the host backend", res.ConsentSkipped, s4)
	}
	dres, err := skip.ConnectDirect(t.Context(), sdkstub.Options{User: "carol", UserReference: "u-1003", Deny: true})
	if err != nil || !dres.ConsentSkipped {
		t.Errorf("Direct with consent recorded: %v, skipped %t", err, dres != nil && dres.ConsentSkipped)
	}

	q := url.Values{"client_id": {demo.ClientID}, "app_id": {demo.AppID}, "user_reference": {"u-1003"}}
	u := st.PlatformURL + "/api/v1/accounts/consent/get_consent/?" + q.Encode()
	h := signing.Sign("not-the-host-secret", http.MethodGet, u, nil, time.Now(), "")
	for name, hdr := range map[string][]string{
		"unsigned":          nil,
		"another secret's":  {signing.HeaderSignature, h.Signature, signing.HeaderTimestamp, h.Timestamp, signing.HeaderNonce, h.Nonce},
		"a signature alone": {signing.HeaderSignature, h.Signature},
	} {
		status, b := call(t, http.MethodGet, u, nil, hdr...)
		env := decode[contract.ErrorEnvelope](t, b)
		if status != http.StatusBadRequest || env.ErrorCode != contract.CodeInvalidSignature || env.Step() != 4 {
			t.Errorf("%s get_consent: %d %s, want 400 %s at step 4", name, status, b, contract.CodeInvalidSignature)
		}
	}

	// The host's copy of the secret differs: its signed lookup is refused, the flow stops at 4.
	admin(t, http.MethodPut, st.HostURL+"/_sim/settings", map[string]any{"signing_secret": "host-sign-2"})
	_, fe = connect(t, skip, sdkstub.Options{User: "carol", UserReference: "u-1003"})
	if fe == nil || fe.Code != contract.CodeInvalidSignature || fe.Step != 4 || fe.Party != contract.PartyPlatform {
		t.Errorf("host secret differs: %v, want step 4 platform %s", fe, contract.CodeInvalidSignature)
	}
}
