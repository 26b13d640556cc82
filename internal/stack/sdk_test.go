package stack_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/stack"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

func resultSteps(res *sdkstub.Result) []int {
	var n []int
	for _, s := range res.Steps {
		n = append(n, s.Number)
	}
	return n
}

func findStep(res *sdkstub.Result, n int) (sdkstub.Step, bool) {
	for _, s := range res.Steps {
		if s.Number == n {
			return s, true
		}
	}
	return sdkstub.Step{}, false
}

var allSteps = []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}

// TestSavedTokenFirst: a second SDK on the same token file (a second process) hands the
// saved token to the miniapp, which uses it without a new login (PROTOCOL §3.3); once the
// miniapp's backend refuses it, the miniapp logs in anew.
func TestSavedTokenFirst(t *testing.T) {
	t.Parallel()
	st, clk := startStack(t)
	file := filepath.Join(t.TempDir(), sdkstub.TokenFileName)
	withFile := func(c *sdkstub.Config) { c.TokenFile = file }

	first := newSDK(t, st, withFile)
	res, fe := connect(t, first, sdkstub.Options{User: "carol", TrySavedToken: true})
	mustSucceed(t, res, fe)
	if res.SavedToken || !slices.Equal(resultSteps(res), allSteps) {
		t.Fatalf("first flow: saved_token %t, steps %v; want a whole login", res.SavedToken, resultSteps(res))
	}
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v, want mode 0600", err, fi)
	}
	raw, _ := os.ReadFile(file)
	if !strings.Contains(string(raw), res.Token) {
		t.Fatalf("the token file lacks the flow's token")
	}

	second := newSDK(t, st, withFile)
	res2, fe := connect(t, second, sdkstub.Options{User: "carol", TrySavedToken: true})
	mustSucceed(t, res2, fe)
	if !res2.SavedToken || !slices.Equal(resultSteps(res2), []int{1, 2, 14, 15, 16}) || res2.Token != res.Token {
		t.Fatalf("second flow: saved_token %t, steps %v; want the saved token used at steps 14-15", res2.SavedToken, resultSteps(res2))
	}
	if res2.InitData == nil || res2.InitData.Token != contract.Mask(res.Token) {
		t.Errorf("GetInitData did not carry the saved token (masked in the result): %+v", res2.InitData)
	}
	// The platform saw no authorize for the second flow.
	status, body := call(t, http.MethodGet, st.PlatformURL+"/_sim/flows/"+res2.FlowID, nil)
	if status == http.StatusOK && strings.Contains(string(body), "/api/v1/authorize/") {
		t.Errorf("the platform's flow log shows an authorize for the saved-token flow: %s", body)
	}

	// Without TrySavedToken every Connect logs in anew.
	res3, fe := connect(t, second, sdkstub.Options{User: "carol"})
	mustSucceed(t, res3, fe)
	if res3.SavedToken || !slices.Equal(resultSteps(res3), allSteps) {
		t.Errorf("without TrySavedToken: saved_token %t, steps %v", res3.SavedToken, resultSteps(res3))
	}

	// The miniapp token (1 h) expires: /api/me refuses it and the miniapp logs in.
	clk.Advance(2 * time.Hour)
	res4, fe := connect(t, newSDK(t, st, withFile), sdkstub.Options{User: "carol", TrySavedToken: true})
	mustSucceed(t, res4, fe)
	s2, _ := findStep(res4, 2)
	if res4.SavedToken || !slices.Equal(resultSteps(res4), allSteps) || !strings.Contains(s2.Note, "refused the saved token (401)") {
		t.Errorf("expired saved token: saved_token %t, steps %v, step 2 %q; want a new login after a refusal", res4.SavedToken, resultSteps(res4), s2.Note)
	}

	// Logout empties the file's sessions for the user.
	if err := newSDK(t, st, withFile).Logout(t.Context(), "carol"); err != nil {
		t.Fatal(err)
	}
	if _, ok := newSDK(t, st, withFile).Tokens("carol", demo.AppID); ok {
		t.Error("a token survived logout in the token file")
	}
}

// TestEndSession: ending one miniapp session drops its pair from the token file (the user's
// other sessions stay) and ends it at the miniapp backend, which then refuses its tokens.
func TestEndSession(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t)
	file := filepath.Join(t.TempDir(), sdkstub.TokenFileName)
	withFile := func(c *sdkstub.Config) { c.TokenFile = file }
	sdk := newSDK(t, st, withFile)
	for _, u := range []string{"carol", "bob"} {
		res, fe := connect(t, sdk, sdkstub.Options{User: u})
		mustSucceed(t, res, fe)
	}
	held, _ := sdk.Tokens("carol", demo.AppID)

	if err := newSDK(t, st, withFile).EndSession(t.Context(), "carol", demo.AppID); err != nil {
		t.Fatal(err)
	}
	again := newSDK(t, st, withFile)
	if _, ok := again.Tokens("carol", demo.AppID); ok {
		t.Error("the ended session is still in the token file")
	}
	if _, ok := again.Tokens("bob", demo.AppID); !ok {
		t.Error("ending carol's session dropped bob's")
	}
	if _, err := again.Refresh(t.Context(), "carol", demo.AppID); !errors.Is(err, sdkstub.ErrNoTokens) {
		t.Errorf("refresh after the end: %v, want ErrNoTokens", err)
	}
	if err := again.EndSession(t.Context(), "carol", demo.AppID); !errors.Is(err, sdkstub.ErrNoTokens) {
		t.Errorf("a second end: %v, want ErrNoTokens", err)
	}
	// The backend ended it: the old refresh token is refused, with the backend's code.
	status, body := call(t, http.MethodPost, st.MiniappURL+"/api/auth/refresh", map[string]string{"refresh_token": held.RefreshToken})
	if status != http.StatusUnauthorized || !strings.Contains(string(body), "invalid_grant") {
		t.Errorf("the ended session's refresh token: %d %s, want 401 invalid_grant", status, body)
	}
}

func TestTokenFileErrors(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), sdkstub.TokenFileName)
	if err := os.WriteFile(file, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := sdkstub.New(sdkstub.Config{PlatformURL: "http://127.0.0.1:1", TokenFile: file})
	if err == nil || !strings.Contains(err.Error(), "delete it") {
		t.Errorf("a corrupt token file: %v, want an error saying how to fix it", err)
	}
}

// TestConsentMemory: with the prompt-skip switch on and a user_reference, the SDK asks
// get_consent and skips the prompt once the user allowed the miniapp (PROTOCOL §7.4); off, or
// without a reference, the prompt always shows. A get_consent error stops the flow at step 4.
func TestConsentMemory(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t)
	skip := newSDK(t, st, func(c *sdkstub.Config) { c.SkipGrantedConsent = true })
	plain := newSDK(t, st)
	ref := "u-1003"

	// No record yet: the SDK asks, then prompts; the user declines.
	res, fe := connect(t, skip, sdkstub.Options{User: "carol", UserReference: ref, Deny: true})
	if fe == nil || fe.Code != sdkstub.CodeUserDenied || fe.Step != 4 {
		t.Fatalf("declined prompt: %v", fe)
	}
	s4 := res.Steps[len(res.Steps)-1]
	if s4.Number != 4 || !strings.Contains(s4.Call, "consent prompt") {
		t.Errorf("no prompt after get_consent found no record: %+v", res.Steps)
	}
	// Allowed once: the platform records consent.
	res, fe = connect(t, skip, sdkstub.Options{User: "carol", UserReference: ref})
	mustSucceed(t, res, fe)
	if res.ConsentSkipped {
		t.Error("the prompt was skipped before any consent was recorded")
	}
	// Now the prompt is skipped, even for a user who would decline it.
	res, fe = connect(t, skip, sdkstub.Options{User: "carol", UserReference: ref, Deny: true})
	mustSucceed(t, res, fe)
	s4, _ = findStep(res, 4)
	if !res.ConsentSkipped || !strings.Contains(s4.Call, "get_consent") || !strings.Contains(s4.Note, "prompt skipped") {
		t.Errorf("consent recorded: skipped %t, step 4 %+v; want the prompt skipped", res.ConsentSkipped, s4)
	}
	// Switch off: the prompt shows.
	if _, fe = connect(t, plain, sdkstub.Options{User: "carol", UserReference: ref, Deny: true}); fe == nil || fe.Code != sdkstub.CodeUserDenied {
		t.Errorf("switch off: %v, want the prompt declined", fe)
	}
	// No user_reference: nothing to ask about.
	if _, fe = connect(t, skip, sdkstub.Options{User: "carol", Deny: true}); fe == nil || fe.Code != sdkstub.CodeUserDenied {
		t.Errorf("no user_reference: %v, want the prompt declined", fe)
	}
	// get_consent refused: neither the host app's nor the miniapp's allowlist lists the SDK's
	// address (either one listing it is enough).
	admin(t, http.MethodPut, st.PlatformURL+"/_sim/hostapps/"+demo.ClientID, map[string]any{"ip_allowlist": []string{"192.0.2.0/24"}})
	admin(t, http.MethodPut, st.PlatformURL+"/_sim/miniapps/"+demo.AppID, map[string]any{"ip_allowlist": []string{"192.0.2.0/24"}})
	res, fe = connect(t, skip, sdkstub.Options{User: "carol", UserReference: ref})
	if fe == nil || fe.Code != contract.CodeNotAWhitelistedIP || fe.Step != 4 || fe.Party != contract.PartyPlatform {
		t.Fatalf("get_consent refused: %v, want step 4 platform %s", fe, contract.CodeNotAWhitelistedIP)
	}
	if s4, _ := findStep(res, 4); s4.ErrorCode != contract.CodeNotAWhitelistedIP {
		t.Errorf("step 4 = %+v", s4)
	}
}

// TestConsentLinksAndInitData: the Dashboard's consent links appear on the SDK's prompt
// (PROTOCOL §3.5), and the host app's payload, data and sandbox flag reach the miniapp in
// GetInitData (§3.2).
func TestConsentLinksAndInitData(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t)
	admin(t, http.MethodPut, st.PlatformURL+"/_sim/miniapps/"+demo.AppID, map[string]any{
		"consent_links": []map[string]string{{"title": "Terms", "url": "https://example.com/terms"}}})
	sdk := newSDK(t, st)
	res, fe := connect(t, sdk, sdkstub.Options{User: "carol", Payload: "legacy-payload", Data: json.RawMessage(`{"screen":"checkout"}`), SandboxMode: true})
	mustSucceed(t, res, fe)
	s4, _ := findStep(res, 4)
	if !strings.Contains(s4.Call, "Terms <https://example.com/terms>") {
		t.Errorf("step 4 = %q, want the consent link", s4.Call)
	}
	in := res.InitData
	if in == nil || in.Payload != contract.Mask("legacy-payload") || string(in.Data) != `{"screen":"checkout"}` || !in.SandboxMode {
		t.Errorf("init data = %+v", in)
	}
	if _, err := sdk.Connect(t.Context(), sdkstub.Options{Data: json.RawMessage(`[1]`)}); err == nil || !strings.Contains(err.Error(), "JSON object") {
		t.Errorf("data not an object: %v", err)
	}
}

// TestLegacyPayloadLogin: with the host app's switch on, the SDK's legacy path signs the user
// in through /api/v1/partner/login/ with a payload the host app minted (PROTOCOL §7.10) and
// saves the token the miniapp hands it; with the switch off the platform refuses at step 5.
func TestLegacyPayloadLogin(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t)
	sdk := newSDK(t, st)
	res, fe := connect(t, sdk, sdkstub.Options{User: "alice", LegacyLogin: true})
	if fe == nil || fe.Code != contract.CodeFeatureDisabledInHostapp || fe.Step != 5 || fe.Party != contract.PartyPlatform {
		t.Fatalf("switch off: %v, want step 5 platform %s", fe, contract.CodeFeatureDisabledInHostapp)
	}
	admin(t, http.MethodPut, st.PlatformURL+"/_sim/hostapps/"+demo.ClientID, map[string]any{"legacy_login_enabled": true})
	res, fe = connect(t, sdk, sdkstub.Options{User: "alice", LegacyLogin: true})
	mustSucceed(t, res, fe)
	if !slices.Equal(resultSteps(res), allSteps) || res.Me == nil || res.Me.Reference != "u-1001" {
		t.Fatalf("legacy login: steps %v, me %+v", resultSteps(res), res.Me)
	}
	s3, _ := findStep(res, 3)
	s13, _ := findStep(res, 13)
	s12, _ := findStep(res, 12)
	if !strings.Contains(s3.Call, sdkstub.HandlerShowAuthConfirmBox) || !strings.Contains(s13.Call, sdkstub.HandlerSaveToken) || !strings.Contains(s12.Call, "/api/v1/partner/login/") {
		t.Errorf("legacy steps: 3 %q, 12 %q, 13 %q", s3.Call, s12.Call, s13.Call)
	}
	if p, ok := sdk.Tokens("alice", demo.AppID); !ok || p.Token != res.Token {
		t.Error("the SDK did not save the token the miniapp handed it")
	}
	// A payload the host app never issued is refused by the host at step 7.
	_, fe = connect(t, sdk, sdkstub.Options{User: "alice", LegacyLogin: true, Payload: "not-a-code-the-host-issued"})
	if fe == nil || fe.Step != 7 || fe.Party != contract.PartyHostapp {
		t.Errorf("unknown payload: %v, want the host's refusal at step 7", fe)
	}
	// The user declines the confirm box: nothing reaches the platform.
	res, fe = connect(t, sdk, sdkstub.Options{User: "alice", LegacyLogin: true, Deny: true})
	if fe == nil || fe.Code != sdkstub.CodeUserDenied || fe.Step != 4 {
		t.Errorf("declined: %v", fe)
	}
	if _, ok := findStep(res, 5); ok {
		t.Error("a declined legacy login reached the platform")
	}
}

// TestResetDropsSavedTokens: up --reset ends every miniapp session, so the SDK's saved tokens
// in the data directory go with the databases.
func TestResetDropsSavedTokens(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, sdkstub.TokenFileName)
	if err := os.WriteFile(file, []byte(`{"sessions":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := stack.RemoveDatabases(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(file); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the token file survived the reset: %v", err)
	}
}

// TestTokenFileKeepsOtherSessions: two connect processes that started together each write only
// their own session, and a session of another platform in the same data directory stays.
func TestTokenFileKeepsOtherSessions(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t)
	file := filepath.Join(t.TempDir(), sdkstub.TokenFileName)
	other := `{"sessions":[{"platform_url":"http://127.0.0.1:1","client_id":"352131","user":"carol","app_id":"app16973","token":"elsewhere","miniapp_base":"http://127.0.0.1:2"}]}`
	if err := os.WriteFile(file, []byte(other), 0o600); err != nil {
		t.Fatal(err)
	}
	withFile := func(c *sdkstub.Config) { c.TokenFile = file }
	a, b := newSDK(t, st, withFile), newSDK(t, st, withFile)
	res, fe := connect(t, a, sdkstub.Options{User: "carol"})
	mustSucceed(t, res, fe)
	res, fe = connect(t, b, sdkstub.Options{User: "bob"})
	mustSucceed(t, res, fe)
	c := newSDK(t, st, withFile)
	for _, u := range []string{"carol", "bob"} {
		if _, ok := c.Tokens(u, demo.AppID); !ok {
			t.Errorf("the token file lost %s's session", u)
		}
	}
	raw, _ := os.ReadFile(file)
	if !strings.Contains(string(raw), `"token": "elsewhere"`) {
		t.Errorf("the other platform's session is gone: %s", raw)
	}
}
