package stack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/stack"
	"github.com/boxo-sim/boxo-sim/internal/testkit"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

func TestConnectEachDemoUser(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t)
	sdk := newSDK(t, st)
	for _, u := range demo.Users {
		t.Run(u.Username, func(t *testing.T) {
			res, fe := connect(t, sdk, sdkstub.Options{User: u.Username})
			mustSucceed(t, res, fe)
			for i, s := range res.Steps {
				if s.Number != i+1 {
					t.Fatalf("step %d is numbered %d; all steps: %+v", i+1, s.Number, res.Steps)
				}
				if !s.OK {
					t.Errorf("step %d (%s) not ok: %s", s.Number, s.Call, s.ErrorCode)
				}
			}
			if len(res.Steps) != 16 {
				t.Fatalf("got %d steps, want 16: %+v", len(res.Steps), res.Steps)
			}
			me := res.Me
			if me == nil || me.Reference != u.Reference || me.Email != u.Email || me.Phone != u.Phone ||
				me.FirstName != u.FirstName || me.LastName != u.LastName || me.ClientID != demo.ClientID {
				t.Fatalf("/api/me = %+v, want the fields of %+v", me, u)
			}
			if u.CustomAttributes != "" {
				var got, want map[string]any
				_ = json.Unmarshal(me.CustomAttributes, &got)
				_ = json.Unmarshal([]byte(u.CustomAttributes), &want)
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("custom_attributes = %s, want %s", me.CustomAttributes, u.CustomAttributes)
				}
			}
			if me.CreatedText() != "true" {
				t.Errorf("first login: created = false, want true")
			}
			if res.Token == "" || res.RefreshToken == "" {
				t.Errorf("no miniapp token pair reached the miniapp (token %q, refresh %q)", contract.Mask(res.Token), contract.Mask(res.RefreshToken))
			}

			again, fe := connect(t, sdk, sdkstub.Options{User: u.Username})
			mustSucceed(t, again, fe)
			if again.Me.CreatedText() == "true" || again.Me.ID != me.ID {
				t.Fatalf("second login: id %s created %s, want id %s created false", again.Me.ID, again.Me.CreatedText(), me.ID)
			}
		})
	}
}

func TestFlowLogHoldsAllSixteenSteps(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t)
	res, fe := connect(t, newSDK(t, st), sdkstub.Options{User: "alice"})
	mustSucceed(t, res, fe)
	fl := decode[contract.Flow](t, admin(t, http.MethodGet, st.PlatformURL+"/_sim/flows/"+res.FlowID, nil))
	seen := map[int]bool{}
	for _, s := range fl.Steps {
		seen[s.Step] = true
	}
	for n := 1; n <= 16; n++ {
		if !seen[n] {
			t.Errorf("flow log lacks step %d; steps: %+v", n, fl.Steps)
		}
	}
	if fl.Outcome != contract.OutcomeOK || fl.ClientID != demo.ClientID || fl.AppID != demo.AppID {
		t.Errorf("flow = outcome %q client %q app %q", fl.Outcome, fl.ClientID, fl.AppID)
	}
	latest := decode[contract.Flow](t, admin(t, http.MethodGet, st.PlatformURL+"/_sim/flows/latest", nil))
	if latest.ID != res.FlowID {
		t.Errorf("latest flow = %s, want %s", latest.ID, res.FlowID)
	}
}

func TestConsentDenied(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t)
	res, fe := connect(t, newSDK(t, st), sdkstub.Options{User: "alice", Deny: true})
	if fe == nil || fe.Step != 4 || fe.Party != contract.PartySDK || fe.Code != sdkstub.CodeUserDenied {
		t.Fatalf("got %v, want step 4 sdk USER_DENIED", fe)
	}
	if last := res.Steps[len(res.Steps)-1]; last.Number != 4 {
		t.Fatalf("flow went on after the denial: last step %d", last.Number)
	}
	if users := miniappUsers(t, st); len(users) != 0 {
		t.Fatalf("miniapp has %d users after a denied consent, want 0", len(users))
	}
}

// want is where a failing flow must stop.
type want struct {
	step  int
	party string
	code  string
}

func expectFailure(t *testing.T, res *sdkstub.Result, fe *sdkstub.Error, w want) {
	t.Helper()
	if fe == nil {
		t.Fatalf("flow %s succeeded, want step %d %s %s", res.FlowID, w.step, w.party, w.code)
	}
	if fe.Step != w.step || fe.Party != w.party || fe.Code != w.code {
		t.Fatalf("flow %s stopped at step %d by %s with %s (%s), want step %d by %s with %s",
			res.FlowID, fe.Step, fe.Party, fe.Code, fe.Message, w.step, w.party, w.code)
	}
}

func TestConnectErrors(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("r", 101)
	cases := []struct {
		name  string
		user  string
		setup func(t *testing.T, st *stack.Stack, o *sdkstub.Options, cfg *sdkstub.Config)
		want  want
	}{
		{"wrong host secret", "alice", func(t *testing.T, st *stack.Stack, _ *sdkstub.Options, _ *sdkstub.Config) {
			admin(t, http.MethodPut, st.PlatformURL+"/_sim/hostapps/"+demo.ClientID, map[string]any{"hostapp_secret_key": "not-the-secret"})
		}, want{7, contract.PartyHostapp, contract.CodeAccessDenied}},
		{"wrong token prefix", "alice", func(t *testing.T, st *stack.Stack, _ *sdkstub.Options, _ *sdkstub.Config) {
			admin(t, http.MethodPut, st.PlatformURL+"/_sim/hostapps/"+demo.ClientID, map[string]any{"token_prefix": "Bearer"})
		}, want{7, contract.PartyHostapp, contract.CodeAccessDenied}},
		{"user data with neither email nor phone", "dave", func(t *testing.T, st *stack.Stack, _ *sdkstub.Options, _ *sdkstub.Config) {
			admin(t, http.MethodPut, st.HostURL+"/_sim/users/dave", map[string]any{"password": "dave-password", "reference": "u-2001", "first_name": "Dave"})
		}, want{9, contract.PartyPlatform, contract.CodeInvalidUserData}},
		{"reference over 100", "erin", func(t *testing.T, st *stack.Stack, _ *sdkstub.Options, _ *sdkstub.Config) {
			admin(t, http.MethodPut, st.HostURL+"/_sim/users/erin", map[string]any{"password": "erin-password", "reference": long, "email": "erin@example.com"})
		}, want{9, contract.PartyPlatform, contract.CodeInvalidUserData}},
		{"missing required field", "alice", func(t *testing.T, st *stack.Stack, _ *sdkstub.Options, _ *sdkstub.Config) {
			admin(t, http.MethodPut, st.PlatformURL+"/_sim/miniapps/"+demo.AppID, map[string]any{"required_fields": []string{"phone"}})
		}, want{9, contract.PartyPlatform, contract.CodeResponseAttributeMissing}},
		{"wrong miniapp secret", "alice", func(t *testing.T, st *stack.Stack, _ *sdkstub.Options, _ *sdkstub.Config) {
			admin(t, http.MethodPut, st.PlatformURL+"/_sim/miniapps/"+demo.AppID, map[string]any{"secret_key": "not-the-secret"})
		}, want{11, contract.PartyMiniapp, contract.CodeAccessDenied}},
		{"bad E.164 phone", "frank", func(t *testing.T, st *stack.Stack, _ *sdkstub.Options, _ *sdkstub.Config) {
			admin(t, http.MethodPut, st.HostURL+"/_sim/users/frank", map[string]any{"password": "frank-password", "reference": "u-2003", "email": "frank@example.com", "phone": "91234567"})
		}, want{11, contract.PartyMiniapp, contract.CodeInvalidUserData}},
		{"unknown client", "alice", func(_ *testing.T, _ *stack.Stack, _ *sdkstub.Options, cfg *sdkstub.Config) {
			cfg.ClientID = "999999"
		}, want{1, contract.PartyPlatform, contract.CodeHostappNotFound}},
		{"unknown miniapp", "alice", func(_ *testing.T, _ *stack.Stack, o *sdkstub.Options, _ *sdkstub.Config) {
			o.AppID = "app00000"
		}, want{1, contract.PartyPlatform, contract.CodeMiniappNotFound}},
		{"Connect disabled for the partnership", "alice", func(t *testing.T, st *stack.Stack, _ *sdkstub.Options, _ *sdkstub.Config) {
			admin(t, http.MethodPut, st.PlatformURL+"/_sim/partnerships/"+demo.ClientID+"/"+demo.AppID, map[string]any{"connect_enabled": false})
		}, want{5, contract.PartyPlatform, contract.CodeFeatureDisabledInIntegration}},
		{"Connect disabled for the host app", "alice", func(t *testing.T, st *stack.Stack, _ *sdkstub.Options, _ *sdkstub.Config) {
			admin(t, http.MethodPut, st.PlatformURL+"/_sim/hostapps/"+demo.ClientID, map[string]any{"connect_enabled": false})
		}, want{5, contract.PartyPlatform, contract.CodeFeatureDisabledInHostapp}},
		{"wrong host password", "alice", func(_ *testing.T, _ *stack.Stack, o *sdkstub.Options, _ *sdkstub.Config) {
			o.Password = "wrong"
		}, want{5, contract.PartyHostapp, sdkstub.CodeNoAuthCode}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st, _ := startStack(t)
			o := sdkstub.Options{User: tc.user}
			if _, ok := demo.FindUser(tc.user); !ok {
				o.Password = tc.user + "-password"
			}
			var cfg sdkstub.Config
			tc.setup(t, st, &o, &cfg)
			sdk := newSDK(t, st, func(c *sdkstub.Config) {
				if cfg.ClientID != "" {
					c.ClientID = cfg.ClientID
				}
			})
			res, fe := connect(t, sdk, o)
			expectFailure(t, res, fe, tc.want)
			if tc.want.step > 1 && tc.want.code != sdkstub.CodeNoAuthCode {
				fl := decode[contract.Flow](t, admin(t, http.MethodGet, st.PlatformURL+"/_sim/flows/"+res.FlowID, nil))
				if fl.Outcome != contract.OutcomeFailed || fl.ErrorCode != tc.want.code {
					t.Errorf("flow log: outcome %q code %q, want failed %s", fl.Outcome, fl.ErrorCode, tc.want.code)
				}
			}
			if tc.want.step <= 11 {
				if users := miniappUsers(t, st); len(users) != 0 {
					t.Errorf("a flow that failed at step %d left %d miniapp users", tc.want.step, len(users))
				}
			}
		})
	}
}

func TestMissingRequiredFieldsListsThem(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t)
	admin(t, http.MethodPut, st.PlatformURL+"/_sim/miniapps/"+demo.AppID, map[string]any{"required_fields": []string{"phone", "first_name"}})
	sdk := newSDK(t, st)
	code, err := sdk.HostAuthCode("alice", "")(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	status, b := call(t, http.MethodPost, st.PlatformURL+"/api/v1/authorize/", contract.AuthorizeRequest{AuthCode: code, ClientID: demo.ClientID, AppID: demo.AppID})
	env := decode[contract.ErrorEnvelope](t, b)
	if status != http.StatusBadRequest || env.ErrorCode != contract.CodeResponseAttributeMissing {
		t.Fatalf("status %d body %s, want 400 RESPONSE_ATTRIBUTE_MISSING", status, b)
	}
	missing := fmt.Sprint(env.CustomAttributes["missing"])
	if !strings.Contains(missing, "phone") || !strings.Contains(missing, "first_name") {
		t.Errorf("custom_attributes.missing = %v, want phone and first_name", env.CustomAttributes["missing"])
	}
}

func TestAuthCodeReusedAndExpired(t *testing.T) {
	t.Parallel()
	t.Run("reused", func(t *testing.T) {
		t.Parallel()
		st, _ := startStack(t)
		sdk := newSDK(t, st)
		var code string
		first, fe := connect(t, sdk, sdkstub.Options{User: "alice", AuthCode: func(ctx context.Context) (string, error) {
			c, err := sdk.HostAuthCode("alice", "")(ctx)
			code = c
			return c, err
		}})
		mustSucceed(t, first, fe)
		res, fe := connect(t, sdk, sdkstub.Options{User: "alice", AuthCode: func(context.Context) (string, error) { return code, nil }})
		expectFailure(t, res, fe, want{7, contract.PartyHostapp, contract.CodeInvalidAuthCode})
	})
	t.Run("expired", func(t *testing.T) {
		t.Parallel()
		st, clk := startStack(t)
		sdk := newSDK(t, st)
		res, fe := connect(t, sdk, sdkstub.Options{User: "bob", AuthCode: func(ctx context.Context) (string, error) {
			c, err := sdk.HostAuthCode("bob", "")(ctx)
			clk.Advance(10*time.Minute + time.Second)
			return c, err
		}})
		expectFailure(t, res, fe, want{7, contract.PartyHostapp, contract.CodeExpiredAuthCode})
	})
	t.Run("just before expiry", func(t *testing.T) {
		t.Parallel()
		st, clk := startStack(t)
		sdk := newSDK(t, st)
		res, fe := connect(t, sdk, sdkstub.Options{User: "bob", AuthCode: func(ctx context.Context) (string, error) {
			c, err := sdk.HostAuthCode("bob", "")(ctx)
			clk.Advance(10*time.Minute - time.Second)
			return c, err
		}})
		mustSucceed(t, res, fe)
	})
}

// userDataProxy sits between the platform and the host's user-data endpoint and lets a test
// act before each call is forwarded.
func userDataProxy(t *testing.T, st *stack.Stack, before func(n int, r *http.Request)) {
	t.Helper()
	target, err := url.Parse(st.HostURL)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		before(int(n.Add(1)), r)
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	admin(t, http.MethodPut, st.PlatformURL+"/_sim/hostapps/"+demo.ClientID, map[string]any{"user_data_url": srv.URL + demo.UserDataPath})
}

func TestAccessTokenProblems(t *testing.T) {
	t.Parallel()
	t.Run("unknown access token", func(t *testing.T) {
		t.Parallel()
		st, _ := startStack(t)
		userDataProxy(t, st, func(_ int, r *http.Request) { r.Header.Set("Authorization", "Token not-a-token-the-host-issued") })
		res, fe := connect(t, newSDK(t, st), sdkstub.Options{User: "carol"})
		expectFailure(t, res, fe, want{9, contract.PartyHostapp, contract.CodeInvalidAccessToken})
	})
	t.Run("expired access token is refreshed once and retried", func(t *testing.T) {
		t.Parallel()
		st, clk := startStack(t)
		userDataProxy(t, st, func(n int, _ *http.Request) {
			if n == 1 {
				clk.Advance(2 * time.Hour)
			}
		})
		res, fe := connect(t, newSDK(t, st), sdkstub.Options{User: "carol"})
		mustSucceed(t, res, fe)
		fl := decode[contract.Flow](t, admin(t, http.MethodGet, st.PlatformURL+"/_sim/flows/"+res.FlowID, nil))
		var refreshed, retried bool
		for _, s := range fl.Steps {
			if s.Step == 8 && strings.Contains(s.Call, demo.RefreshTokenPath) {
				refreshed = true
			}
			if s.Step == 9 && strings.Contains(s.Note, contract.CodeExpiredAccessToken) {
				retried = true
			}
		}
		if !refreshed || !retried {
			t.Errorf("flow log does not show the refresh (%t) after EXPIRED_ACCESS_TOKEN (%t): %+v", refreshed, retried, fl.Steps)
		}
	})
	t.Run("expired access token without refresh URL", func(t *testing.T) {
		t.Parallel()
		st, clk := startStack(t)
		admin(t, http.MethodPut, st.PlatformURL+"/_sim/hostapps/"+demo.ClientID, map[string]any{"refresh_token_url": ""})
		userDataProxy(t, st, func(n int, _ *http.Request) {
			if n == 1 {
				clk.Advance(2 * time.Hour)
			}
		})
		res, fe := connect(t, newSDK(t, st), sdkstub.Options{User: "carol"})
		expectFailure(t, res, fe, want{9, contract.PartyHostapp, contract.CodeExpiredAccessToken})
	})
	t.Run("user deleted between token and user data", func(t *testing.T) {
		t.Parallel()
		st, _ := startStack(t)
		admin(t, http.MethodPut, st.HostURL+"/_sim/users/gina", map[string]any{"password": "gina-password", "reference": "u-2004", "email": "gina@example.com"})
		userDataProxy(t, st, func(_ int, _ *http.Request) {
			admin(t, http.MethodDelete, st.HostURL+"/_sim/users/gina", nil)
		})
		res, fe := connect(t, newSDK(t, st), sdkstub.Options{User: "gina", Password: "gina-password"})
		expectFailure(t, res, fe, want{9, contract.PartyHostapp, contract.CodeHostappUserNotFound})
	})
}

// misbehave answers every request in one broken way.
func misbehave(kind string, release <-chan struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		switch kind {
		case "500":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"error_code":"UNKNOWN_ERROR"}`)
		case "non-JSON":
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html><body>Bad gateway</body></html>")
		case "timeout":
			select {
			case <-r.Context().Done():
			case <-release:
			}
		case "over-long token":
			w.Header().Set("Content-Type", "application/json")
			tok := strings.Repeat("t", contract.MaxTokenLen+1)
			fmt.Fprintf(w, `{"access_token":%q,"auth_token":%q}`, tok, tok)
		case "empty object":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{}`)
		case "token and error":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"access_token":"tok","auth_token":"tok","error_code":"SOMETHING_WRONG"}`)
		}
	}
}

func TestBrokenBackends(t *testing.T) {
	t.Parallel()
	for _, party := range []string{contract.PartyHostapp, contract.PartyMiniapp} {
		for _, kind := range []string{"500", "non-JSON", "timeout", "over-long token", "empty object", "token and error"} {
			t.Run(party+" "+kind, func(t *testing.T) {
				t.Parallel()
				st, _ := startStack(t, stackOpts{callTimeout: 300 * time.Millisecond})
				release := make(chan struct{})
				bad := httptest.NewServer(misbehave(kind, release))
				t.Cleanup(func() { close(release); bad.Close() })
				code := map[string]string{"non-JSON": contract.CodeInvalidResponseContentType, "empty object": contract.CodeResponseAttributeMissing}[kind]
				if code == "" || (code == contract.CodeResponseAttributeMissing && party == contract.PartyMiniapp) {
					code = contract.CodeUnexpectedResponseError // §3.12: a miniapp answer without auth_token
				}
				w := want{7, contract.PartyPlatform, code}
				if party == contract.PartyHostapp {
					admin(t, http.MethodPut, st.PlatformURL+"/_sim/hostapps/"+demo.ClientID, map[string]any{"access_token_url": bad.URL + "/token"})
				} else {
					admin(t, http.MethodPut, st.PlatformURL+"/_sim/miniapps/"+demo.AppID, map[string]any{"auth_token_url": bad.URL + "/auth-token"})
					w = want{11, contract.PartyPlatform, code}
				}
				if kind == "token and error" {
					w.party, w.code = party, "SOMETHING_WRONG" // error wins, passed through unchanged
				}
				res, fe := connect(t, newSDK(t, st), sdkstub.Options{User: "alice"})
				expectFailure(t, res, fe, w)
			})
		}
	}
}

func TestAuthorizeRejectsBadRequests(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t)
	u := st.PlatformURL + "/api/v1/authorize/"
	cases := []struct {
		name   string
		body   any
		header []string
		code   string
	}{
		{"bad JSON", `{"auth_code":`, nil, contract.CodeParsingErrorInvalidRequestBody},
		{"not an object", `[1,2]`, nil, contract.CodeInvalidRequest},
		{"empty body", "", nil, contract.CodeParsingErrorInvalidRequestBody},
		{"wrong content type", `{"auth_code":"x","client_id":"352131","app_id":"app16973"}`, []string{"Content-Type", "text/plain"}, contract.CodeParsingErrorInvalidRequestBody},
		{"oversized", `{"auth_code":"` + strings.Repeat("a", contract.MaxBodyBytes+10) + `"}`, nil, contract.CodeParsingErrorInvalidRequestBody},
		{"missing auth_code", contract.AuthorizeRequest{ClientID: demo.ClientID, AppID: demo.AppID}, nil, contract.CodeInvalidRequest},
		{"unknown client", contract.AuthorizeRequest{AuthCode: "abc", ClientID: "999999", AppID: demo.AppID}, nil, contract.CodeHostappNotFound},
		{"unknown miniapp", contract.AuthorizeRequest{AuthCode: "abc", ClientID: demo.ClientID, AppID: "app00000"}, nil, contract.CodeMiniappNotFound},
		{"unknown code", contract.AuthorizeRequest{AuthCode: "abc", ClientID: demo.ClientID, AppID: demo.AppID}, nil, contract.CodeInvalidAuthCode},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, b := call(t, http.MethodPost, u, tc.body, tc.header...)
			env := decode[contract.ErrorEnvelope](t, b)
			if status != http.StatusBadRequest || env.ErrorCode != tc.code || env.ErrorMessage == "" {
				t.Fatalf("status %d body %.300s, want 400 envelope with %s", status, b, tc.code)
			}
		})
	}
	// The unslashed form is served too, without a redirect (PROTOCOL §2.8).
	status, b := call(t, http.MethodPost, strings.TrimSuffix(u, "/"), `{}`)
	if status != http.StatusBadRequest || decode[contract.ErrorEnvelope](t, b).ErrorCode != contract.CodeInvalidRequest {
		t.Fatalf("unslashed authorize: %d %s", status, b)
	}
}

// TestMalformedInputNeverBreaksAnEndpoint throws bad input at every endpoint and checks the
// answer is in the endpoint's error form: never a 500, never a dropped connection.
func TestMalformedInputNeverBreaksAnEndpoint(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t)
	hostAuth := "Token " + contract.BasicCredential(demo.HostappClientID, demo.HostappSecret)
	miniAuth := "Basic " + contract.BasicCredential(demo.AppID, demo.MiniappSecret)
	big := `{"x":"` + strings.Repeat("a", contract.MaxBodyBytes+10) + `"}`
	type ep struct {
		name, method, url string
		header            []string
		form              string // "always200", "envelope", "plain", "bearer"
	}
	eps := []ep{
		{"host access-token", http.MethodPost, st.HostURL + demo.AccessTokenPath, []string{"Authorization", hostAuth, contract.HeaderMiniappAppID, demo.AppID}, "always200"},
		{"host refresh-token", http.MethodPost, st.HostURL + demo.RefreshTokenPath, []string{"Authorization", hostAuth}, "always200"},
		{"host user-data POST", http.MethodPost, st.HostURL + demo.UserDataPath, []string{"Authorization", "Token nope"}, "always200"},
		{"miniapp auth-token", http.MethodPost, st.MiniappURL + demo.AuthTokenPath, []string{"Authorization", miniAuth, contract.HeaderMiniappAppID, demo.AppID, contract.HeaderHostappClientID, demo.ClientID}, "always200"},
		{"platform authorize", http.MethodPost, st.PlatformURL + "/api/v1/authorize/", nil, "envelope"},
		{"miniapp refresh", http.MethodPost, st.MiniappURL + "/api/auth/refresh", nil, "plain"},
		{"platform admin hostapp", http.MethodPut, st.PlatformURL + "/_sim/hostapps/" + demo.ClientID, nil, "plain"},
		{"platform admin miniapp", http.MethodPut, st.PlatformURL + "/_sim/miniapps/" + demo.AppID, nil, "plain"},
		{"platform flow steps", http.MethodPost, st.PlatformURL + "/_sim/flows/flow_x/steps", nil, "plain"},
		{"host admin user", http.MethodPut, st.HostURL + "/_sim/users/zed", nil, "plain"},
		{"host admin settings", http.MethodPut, st.HostURL + "/_sim/settings", nil, "plain"},
		{"miniapp admin settings", http.MethodPut, st.MiniappURL + "/_sim/settings", nil, "plain"},
	}
	bodies := []struct {
		name   string
		body   string
		header []string
	}{
		{"bad JSON", `{"a":`, nil},
		{"JSON array", `[]`, nil},
		{"wrong types", `{"auth_code":12,"refresh_token":false,"reference":[],"secret_key":{},"required_fields":"x","steps":"x","token_prefix":7}`, nil},
		{"wrong content type", `{}`, []string{"Content-Type", "application/xml"}},
		{"oversized", big, nil},
		{"empty", ``, nil},
	}
	for _, e := range eps {
		for _, b := range bodies {
			if e.name == "platform flow steps" && b.name == "JSON array" {
				continue // an empty list of steps is valid there
			}
			t.Run(e.name+"/"+b.name, func(t *testing.T) {
				status, body := call(t, e.method, e.url, b.body, append(append([]string{}, e.header...), b.header...)...)
				if status >= 500 {
					t.Fatalf("status %d: %s", status, body)
				}
				var m map[string]any
				if err := json.Unmarshal(body, &m); err != nil {
					t.Fatalf("status %d, body is not JSON: %.200s", status, body)
				}
				switch e.form {
				case "always200":
					if status != http.StatusOK || m["error_code"] == nil || m["access_token"] != nil || m["auth_token"] != nil {
						t.Fatalf("always-200 endpoint answered %d %.300s", status, body)
					}
				case "envelope":
					if status != http.StatusBadRequest || m["error_code"] == nil || m["error_message"] == nil {
						t.Fatalf("envelope endpoint answered %d %.300s", status, body)
					}
				case "plain":
					if status < 400 || m["error"] == nil {
						t.Fatalf("JSON endpoint answered %d %.300s", status, body)
					}
				}
			})
		}
	}
	t.Run("missing headers", func(t *testing.T) {
		for _, e := range eps[:4] {
			status, body := call(t, e.method, e.url, `{"auth_code":"x","reference":"u-1","email":"a@b.c"}`)
			m := decode[map[string]any](t, body)
			if status != http.StatusOK || m["error_code"] == nil {
				t.Errorf("%s without headers: %d %s", e.name, status, body)
			}
		}
		status, body := call(t, http.MethodGet, st.MiniappURL+"/api/me", nil)
		if status != http.StatusUnauthorized || decode[map[string]any](t, body)["error"] != "invalid_token" {
			t.Errorf("/api/me without a token: %d %s", status, body)
		}
		status, body = call(t, http.MethodGet, st.PlatformURL+"/api/v1/miniapps/"+demo.AppID+"/settings/", nil)
		if status != http.StatusBadRequest || decode[contract.ErrorEnvelope](t, body).ErrorCode != contract.CodeInvalidRequest {
			t.Errorf("settings without client_id: %d %s", status, body)
		}
	})
	t.Run("unknown routes answer JSON", func(t *testing.T) {
		for _, base := range []string{st.HostURL, st.PlatformURL, st.MiniappURL} {
			status, body := call(t, http.MethodGet, base+"/no/such/route", nil)
			if status != http.StatusNotFound || json.Valid(body) == false {
				t.Errorf("%s/no/such/route: %d %s", base, status, body)
			}
		}
	})
	// After all of that, a flow still works: nothing was half-written.
	res, fe := connect(t, newSDK(t, st), sdkstub.Options{User: "carol"})
	mustSucceed(t, res, fe)
}

func TestFiftyConcurrentFirstLoginsMakeOneUser(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t)
	admin(t, http.MethodPut, st.HostURL+"/_sim/users/hana", map[string]any{"password": "hana-password", "reference": "u-3001", "email": "hana@example.com"})
	sdk := newSDK(t, st)
	// Sign in once so the 50 flows share a host session, as one user's device would.
	if _, err := sdk.HostAuthCode("hana", "hana-password")(t.Context()); err != nil {
		t.Fatal(err)
	}
	const n = 50
	var wg sync.WaitGroup
	var created atomic.Int32
	ids := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := sdk.Connect(t.Context(), sdkstub.Options{User: "hana", Password: "hana-password", NoTrace: true})
			if err != nil {
				errs[i] = err
				return
			}
			ids[i] = res.Me.ID
			if res.Me.CreatedText() == "true" {
				created.Add(1)
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("flow %d: %v", i, err)
		}
	}
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("flows saw different miniapp users: %v", ids)
		}
	}
	if users := miniappUsers(t, st); len(users) != 1 {
		t.Fatalf("miniapp has %d users, want exactly 1", len(users))
	}
	if got := created.Load(); got != 1 {
		t.Fatalf("%d flows report created: true, want exactly 1", got)
	}
}

func TestTwentyConcurrentRedemptionsOfOneCode(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t)
	code, err := newSDK(t, st).HostAuthCode("alice", "")(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	var wg sync.WaitGroup
	answers := make([]contract.TokenPair, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, b := call(t, http.MethodPost, st.HostURL+demo.AccessTokenPath, contract.AccessTokenRequest{AuthCode: code},
				"Authorization", "Token "+contract.BasicCredential(demo.HostappClientID, demo.HostappSecret),
				contract.HeaderMiniappAppID, demo.AppID, contract.HeaderHostappClientID, demo.ClientID)
			_ = json.Unmarshal(b, &answers[i])
		}()
	}
	wg.Wait()
	var tokens, invalid int
	for _, a := range answers {
		switch {
		case a.AccessToken != "" && a.ErrorCode == "":
			tokens++
		case a.ErrorCode == contract.CodeInvalidAuthCode:
			invalid++
		default:
			t.Errorf("unexpected answer %+v", a)
		}
	}
	if tokens != 1 || invalid != n-1 {
		t.Fatalf("%d redemptions got tokens and %d got INVALID_AUTH_CODE, want 1 and %d", tokens, invalid, n-1)
	}
}

func TestRefreshAndLogout(t *testing.T) {
	t.Parallel()
	st, clk := startStack(t)
	sdk := newSDK(t, st)
	res, fe := connect(t, sdk, sdkstub.Options{User: "bob"})
	mustSucceed(t, res, fe)

	clk.Advance(2 * time.Hour) // the miniapp auth_token (1 h) has expired
	if _, status, _ := sdk.Me(t.Context(), "bob", ""); status != http.StatusUnauthorized {
		t.Fatalf("/api/me with an expired token: status %d, want 401", status)
	}
	pair, err := sdk.Refresh(t.Context(), "bob", "")
	if err != nil {
		t.Fatal(err)
	}
	if pair.Token == res.Token || pair.RefreshToken == res.RefreshToken {
		t.Fatal("refresh did not rotate the token pair")
	}
	me, status, err := sdk.Me(t.Context(), "bob", "")
	if err != nil || status != http.StatusOK || me.ID != res.Me.ID || me.CreatedText() == "true" {
		t.Fatalf("/api/me after refresh: %+v %d %v", me, status, err)
	}
	// The spent refresh token is refused.
	status, _ = call(t, http.MethodPost, st.MiniappURL+"/api/auth/refresh", map[string]string{"refresh_token": res.RefreshToken})
	if status != http.StatusUnauthorized {
		t.Fatalf("reused refresh token: status %d, want 401", status)
	}

	if err := sdk.Logout(t.Context(), "bob"); err != nil {
		t.Fatal(err)
	}
	if _, ok := sdk.Tokens("bob", demo.AppID); ok {
		t.Fatal("the SDK still holds tokens after logout")
	}
	status, _ = call(t, http.MethodGet, st.MiniappURL+"/api/me", nil, "Authorization", "Bearer "+pair.Token)
	if status != http.StatusUnauthorized {
		t.Fatalf("/api/me after logout: status %d, want 401", status)
	}
	status, _ = call(t, http.MethodPost, st.MiniappURL+"/api/auth/refresh", map[string]string{"refresh_token": pair.RefreshToken})
	if status != http.StatusUnauthorized {
		t.Fatalf("refresh after logout: status %d, want 401", status)
	}
	// Logging in again works and finds the same user.
	again, fe := connect(t, sdk, sdkstub.Options{User: "bob"})
	mustSucceed(t, again, fe)
	if again.Me.ID != res.Me.ID || again.Me.CreatedText() == "true" {
		t.Fatalf("login after logout: %+v", again.Me)
	}
}

// TestNoSecretInLogsOrFlowLog runs a flow with every party logging at debug level and checks
// that no secret, code or token appears in full in the logs or the flow log.
func TestNoSecretInLogsOrFlowLog(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	st, _ := startStack(t, stackOpts{logs: logs})
	// Capture the host's raw tokens on their way to the platform.
	var mu sync.Mutex
	var secrets []string
	target, _ := url.Parse(st.HostURL)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ModifyResponse = func(resp *http.Response) error {
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		resp.Body = io.NopCloser(strings.NewReader(string(b)))
		var tp contract.TokenPair
		if json.Unmarshal(b, &tp) == nil && tp.AccessToken != "" {
			mu.Lock()
			secrets = append(secrets, tp.AccessToken, tp.RefreshToken)
			mu.Unlock()
		}
		return nil
	}
	proxy := httptest.NewServer(rp)
	t.Cleanup(proxy.Close)
	admin(t, http.MethodPut, st.PlatformURL+"/_sim/hostapps/"+demo.ClientID, map[string]any{"access_token_url": proxy.URL + demo.AccessTokenPath})

	sdk := newSDK(t, st)
	res, fe := connect(t, sdk, sdkstub.Options{User: "carol", AuthCode: func(ctx context.Context) (string, error) {
		c, err := sdk.HostAuthCode("carol", "")(ctx)
		mu.Lock()
		secrets = append(secrets, c)
		mu.Unlock()
		return c, err
	}})
	mustSucceed(t, res, fe)
	// A failing flow logs too: a replayed code.
	connect(t, sdk, sdkstub.Options{User: "carol", AuthCode: func(context.Context) (string, error) { return secrets[0], nil }})

	secrets = append(secrets, res.Token, res.RefreshToken, demo.HostappSecret, demo.MiniappSecret,
		contract.BasicCredential(demo.HostappClientID, demo.HostappSecret), contract.BasicCredential(demo.AppID, demo.MiniappSecret))
	for _, u := range demo.Users {
		secrets = append(secrets, u.Password)
	}
	flows := string(admin(t, http.MethodGet, st.PlatformURL+"/_sim/flows/"+res.FlowID, nil))
	flows += string(admin(t, http.MethodGet, st.PlatformURL+"/_sim/flows/latest", nil))
	flows += string(admin(t, http.MethodGet, st.PlatformURL+"/_sim/hostapps", nil))
	flows += string(admin(t, http.MethodGet, st.PlatformURL+"/_sim/miniapps", nil))
	if !strings.Contains(flows, "/boxo/connect/access-token") {
		t.Fatalf("flow log looks empty: %.500s", flows)
	}
	all := logs.String()
	if len(all) == 0 {
		t.Fatal("no logs captured at debug level")
	}
	for _, s := range secrets {
		if s == "" {
			t.Fatal("a secret to look for is empty: the capture failed")
		}
		if strings.Contains(all, s) {
			t.Errorf("logs contain the secret %s", contract.Mask(s))
		}
		if strings.Contains(flows, s) {
			t.Errorf("flow log or admin API contains the secret %s", contract.Mask(s))
		}
	}
}

func TestStepsFourteenFifteenAgainstAnotherMiniappAPI(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t)
	sdk := newSDK(t, st)
	res, fe := connect(t, sdk, sdkstub.Options{User: "alice", SkipMe: true})
	mustSucceed(t, res, fe)
	if len(res.Steps) != 16 || res.Me != nil || !res.Steps[13].Skipped || !res.Steps[14].Skipped || res.Steps[15].Skipped {
		t.Fatalf("skipped steps 14-15: %+v", res.Steps)
	}
	var table strings.Builder
	sdkstub.WriteSteps(&table, res.Steps, "")
	for _, n := range []string{"14", "15"} {
		if !regexp.MustCompile(`(?m)^` + n + ` .*  skipped \(`).MatchString(table.String()) {
			t.Errorf("step %s does not print as skipped:\n%s", n, table.String())
		}
	}
	fl := decode[contract.Flow](t, admin(t, http.MethodGet, st.PlatformURL+"/_sim/flows/"+res.FlowID, nil))
	for _, s := range fl.Steps {
		if want := map[bool]string{true: contract.OutcomeSkipped, false: contract.OutcomeOK}[s.Step == 14 || s.Step == 15]; s.Outcome != want {
			t.Errorf("flow log step %d: outcome %q, want %q", s.Step, s.Outcome, want)
		}
	}
	if fl.Outcome != contract.OutcomeOK {
		t.Errorf("flow with skipped steps 14-15: outcome %q, want ok", fl.Outcome)
	}
	res, fe = connect(t, sdk, sdkstub.Options{User: "alice", MeURL: st.MiniappURL + "/api/me"})
	mustSucceed(t, res, fe)
	if res.Me == nil || res.Me.CreatedText() == "true" {
		t.Fatalf("explicit --me-url: me = %+v, want the existing user", res.Me)
	}
	res, fe = connect(t, sdk, sdkstub.Options{User: "alice", MeURL: st.MiniappURL + "/api/no-such-endpoint"})
	expectFailure(t, res, fe, want{15, contract.PartyMiniapp, sdkstub.CodeMeFailed})
}

// TestCloseLetsFlowsInFlightFinish closes a stack while a flow waits on the host: the
// platform shuts down first and waits for its flow, which still reaches the host.
func TestCloseLetsFlowsInFlightFinish(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t)
	admin(t, http.MethodPut, st.HostURL+"/_sim/faults", map[string]any{"step": 6, "kind": "delay", "delay": "300ms"})
	sdk := newSDK(t, st)
	if _, err := sdk.HostAuthCode("alice", "")(t.Context()); err != nil { // sign in first
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := sdk.Connect(t.Context(), sdkstub.Options{User: "alice", NoTrace: true, SkipMe: true})
		done <- err
	}()
	for st.Faults(contract.PartyHostapp).List()[0].Matched == 0 {
		select {
		case err := <-done:
			t.Fatalf("flow ended before the delay: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the flow in flight failed when the stack closed: %v", err)
	}
}

// TestCloseCutsOffWhatOutlivesTheGracePeriod closes a stack while a request waits longer
// than Close's grace period: Close ends it, the caller gets the endpoint's error envelope (not
// EOF), and the databases close only after the handler has returned.
func TestCloseCutsOffWhatOutlivesTheGracePeriod(t *testing.T) {
	t.Parallel()
	var logs testkit.Buffer
	st, _ := startStack(t, stackOpts{grace: 300 * time.Millisecond, logs: &logs})
	admin(t, http.MethodPut, st.PlatformURL+"/_sim/faults", map[string]any{"step": 1, "kind": "delay", "delay": "1h"})
	type answer struct {
		status int
		body   []byte
		err    error
	}
	done := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, st.PlatformURL+"/api/v1/miniapps/"+demo.AppID+"/settings/?client_id="+demo.ClientID, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		done <- answer{resp.StatusCode, b, err}
	}()
	for st.Faults(contract.PartyPlatform).List()[0].Matched == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	if err := st.Close(); err != nil {
		t.Fatalf("Close = %v, want nil: every request was answered", err)
	}
	if took := time.Since(start); took > 300*time.Millisecond+time.Second {
		t.Errorf("Close took %s with a 300ms grace period", took)
	}
	var a answer
	select {
	case a = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the request was still running after Close returned")
	}
	if a.err != nil {
		t.Fatalf("the request cut at the grace deadline got %v, want an answer in the envelope form", a.err)
	}
	var env contract.ErrorEnvelope
	if err := json.Unmarshal(a.body, &env); err != nil || a.status != http.StatusServiceUnavailable || env.ErrorCode != contract.CodeUnknownError || env.Source() != contract.PartyPlatform {
		t.Fatalf("answer %d %s, want 503 with the platform's %s envelope", a.status, a.body, contract.CodeUnknownError)
	}
	if strings.Contains(logs.String(), "database is closed") {
		t.Fatalf("a handler used a closed database:\n%s", logs.String())
	}
}

func TestTwoStacksCannotShareADataDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := stack.Config{HostAddr: "127.0.0.1:0", PlatformAddr: "127.0.0.1:0", MiniappAddr: "127.0.0.1:0", DataDir: dir, SigningKey: signingKey()}
	first, err := stack.Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if second, err := stack.Start(t.Context(), cfg); err == nil {
		second.Close()
		t.Fatal("a second stack started on a data directory in use")
	} else if !strings.Contains(err.Error(), "in use by another boxo-sim") {
		t.Fatalf("error = %v", err)
	}
	first.Close()
	again, err := stack.Start(t.Context(), cfg)
	if err != nil {
		t.Fatalf("the data directory stayed locked after Close: %v", err)
	}
	again.Close()
}

// TestConnectToNothing: a platform URL where nothing listens is a connection that could not
// be made, said so, not an answer of the platform.
func TestConnectToNothing(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nothing := "http://" + ln.Addr().String()
	ln.Close()
	sdk := newSDK(t, st, func(c *sdkstub.Config) { c.PlatformURL = nothing })
	res, fe := connect(t, sdk, sdkstub.Options{User: "alice"})
	expectFailure(t, res, fe, want{1, contract.PartyPlatform, sdkstub.CodePlatformUnavailable})
	if want := "could not connect to " + nothing + " (connection refused)"; !fe.Unreachable || fe.Message != want || fe.Error() != "step 1: "+want {
		t.Fatalf("error %+v (%q), want unreachable with %q", fe, fe.Error(), want)
	}
}

func TestConnectToSomethingThatIsNotAPlatform(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t)
	sdk := newSDK(t, st, func(c *sdkstub.Config) { c.PlatformURL = st.HostURL })
	res, fe := connect(t, sdk, sdkstub.Options{User: "alice"})
	expectFailure(t, res, fe, want{1, contract.PartyPlatform, sdkstub.CodePlatformUnavailable})
	if !strings.Contains(fe.Message, "is "+st.HostURL+" a Boxo platform?") {
		t.Fatalf("message %q does not say the URL may not be a platform", fe.Message)
	}
}
