package stack_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/fault"
	"github.com/boxo-sim/boxo-sim/internal/stack"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

// partyURL is where a party of the stack answers.
func partyURL(st *stack.Stack, party string) string {
	return map[string]string{stack.Hostapp: st.HostURL, stack.Platform: st.PlatformURL, stack.Miniapp: st.MiniappURL}[party]
}

// putFaults sets faults over HTTP on the party each belongs to, as a scenario or the CLI does.
func putFaults(t *testing.T, st *stack.Stack, fs ...fault.Fault) []fault.Fault {
	t.Helper()
	var added []fault.Fault
	for _, f := range fs {
		if err := f.Validate(); err != nil {
			t.Fatalf("test fault %+v: %v", f, err)
		}
		got := decode[fault.List](t, admin(t, http.MethodPut, partyURL(st, f.Party)+"/_sim/faults", fault.List{Faults: []fault.Fault{f}}))
		added = append(added, got.Faults...)
	}
	return added
}

func listFaults(t *testing.T, st *stack.Stack, party string) []fault.Fault {
	t.Helper()
	return decode[fault.List](t, admin(t, http.MethodGet, partyURL(st, party)+"/_sim/faults", nil)).Faults
}

// TestFaultKindsEndToEnd sets one fault per case on a fresh stack and runs a flow: each must
// stop where the platform and the SDK would see that fault in production.
func TestFaultKindsEndToEnd(t *testing.T) {
	t.Parallel()
	ok := want{}
	cases := []struct {
		name        string
		user        string
		callTimeout time.Duration
		faults      []fault.Fault
		want        want // zero: the flow succeeds
	}{
		{"status 500 at step 7", "alice", 0, []fault.Fault{{Step: 7, Kind: fault.KindStatus, Status: 500}},
			want{7, contract.PartyPlatform, contract.CodeUnexpectedResponseError}},
		{"status 502 at step 11", "alice", 0, []fault.Fault{{Step: 11, Kind: fault.KindStatus, Status: 502}},
			want{11, contract.PartyPlatform, contract.CodeUnexpectedResponseError}},
		{"delay past the call timeout", "alice", 300 * time.Millisecond, []fault.Fault{{Step: 6, Kind: fault.KindDelay, Delay: fault.Duration(time.Second)}},
			want{7, contract.PartyPlatform, contract.CodeUnexpectedResponseError}},
		{"delay within the call timeout", "alice", 0, []fault.Fault{{Step: 8, Kind: fault.KindDelay, Delay: fault.Duration(50 * time.Millisecond)}},
			ok},
		{"reset at step 6", "alice", 0, []fault.Fault{{Step: 6, Kind: fault.KindReset}},
			want{7, contract.PartyPlatform, contract.CodeUnexpectedResponseError}},
		{"reset at step 10", "alice", 0, []fault.Fault{{Step: 10, Kind: fault.KindReset}},
			want{11, contract.PartyPlatform, contract.CodeUnexpectedResponseError}},
		{"replay_code", "alice", 0, []fault.Fault{{Step: 6, Kind: fault.KindReplayCode}},
			want{7, contract.PartyHostapp, contract.CodeInvalidAuthCode}},
		{"expire the auth code", "alice", 0, []fault.Fault{{Step: 6, Kind: fault.KindExpire}},
			want{7, contract.PartyHostapp, contract.CodeExpiredAuthCode}},
		{"expire the access token once: refresh and retry", "carol", 0, []fault.Fault{{Step: 8, Kind: fault.KindExpire, Nth: 1}},
			ok},
		{"expire the access token on every call", "carol", 0, []fault.Fault{{Step: 8, Kind: fault.KindExpire}},
			want{9, contract.PartyHostapp, contract.CodeExpiredAccessToken}},
		{"expire the access token and fail the refresh", "carol", 0, []fault.Fault{
			{Step: 8, Kind: fault.KindExpire, Nth: 1},
			{Party: contract.PartyHostapp, Endpoint: demo.RefreshTokenPath, Kind: fault.KindErrorCode, ErrorCode: contract.CodeInvalidRefreshToken}},
			want{9, contract.PartyHostapp, contract.CodeExpiredAccessToken}},
		{"expire the miniapp token", "alice", 0, []fault.Fault{{Step: 14, Kind: fault.KindExpire}},
			want{15, contract.PartyMiniapp, sdkstub.CodeMeFailed}},
		{"missing email", "alice", 0, []fault.Fault{{Step: 9, Kind: fault.KindMissingField, Field: "user_data.email"}},
			want{9, contract.PartyPlatform, contract.CodeInvalidUserData}},
		{"missing email of a user with a phone", "carol", 0, []fault.Fault{{Step: 9, Kind: fault.KindMissingField, Field: "user_data.email"}},
			ok},
		{"missing access_token", "alice", 0, []fault.Fault{{Step: 7, Kind: fault.KindMissingField, Field: "access_token"}},
			want{7, contract.PartyPlatform, contract.CodeResponseAttributeMissing}},
		{"miniapp error_code passed through", "alice", 0, []fault.Fault{{Step: 11, Kind: fault.KindErrorCode, ErrorCode: contract.CodeInvalidUserData}},
			want{11, contract.PartyMiniapp, contract.CodeInvalidUserData}},
		{"host error_code passed through", "alice", 0, []fault.Fault{{Step: 9, Kind: fault.KindErrorCode, ErrorCode: contract.CodeHostappUserNotFound}},
			want{9, contract.PartyHostapp, contract.CodeHostappUserNotFound}},
		{"platform error_code at step 5", "alice", 0, []fault.Fault{{Step: 5, Kind: fault.KindErrorCode, ErrorCode: contract.CodeFeatureDisabledInHostapp}},
			want{5, contract.PartyPlatform, contract.CodeFeatureDisabledInHostapp}},
		{"platform error_code at step 1", "alice", 0, []fault.Fault{{Step: 1, Kind: fault.KindErrorCode, ErrorCode: contract.CodeMiniappNotFound}},
			want{1, contract.PartyPlatform, contract.CodeMiniappNotFound}},
		{"miniapp error_code at /api/me", "alice", 0, []fault.Fault{{Step: 14, Kind: fault.KindErrorCode, ErrorCode: contract.CodeInvalidAccessToken}},
			want{15, contract.PartyMiniapp, sdkstub.CodeMeFailed}},
		{"non-JSON at step 7", "alice", 0, []fault.Fault{{Step: 7, Kind: fault.KindMalformed, Body: "non-json"}},
			want{7, contract.PartyPlatform, contract.CodeInvalidResponseContentType}},
		{"truncated at step 11", "alice", 0, []fault.Fault{{Step: 11, Kind: fault.KindMalformed, Body: "truncated"}},
			want{11, contract.PartyPlatform, contract.CodeFailedToParseResponse}},
		{"wrong types at step 7", "alice", 0, []fault.Fault{{Step: 7, Kind: fault.KindMalformed, Body: "wrong-types"}},
			want{7, contract.PartyPlatform, contract.CodeFailedToParseResponse}},
		{"wrong types at step 9", "alice", 0, []fault.Fault{{Step: 9, Kind: fault.KindMalformed, Body: "wrong-types"}},
			want{9, contract.PartyPlatform, contract.CodeInvalidUserData}}, // user_data.reference is a number
		{"over-long access token", "alice", 0, []fault.Fault{{Step: 7, Kind: fault.KindLongToken}},
			want{7, contract.PartyPlatform, contract.CodeUnexpectedResponseError}},
		{"over-long auth_token", "alice", 0, []fault.Fault{{Step: 11, Kind: fault.KindLongToken}},
			want{11, contract.PartyPlatform, contract.CodeUnexpectedResponseError}},
		{"a fault on the other endpoint changes nothing", "alice", 0, []fault.Fault{{Party: contract.PartyHostapp, Endpoint: demo.RefreshTokenPath, Kind: fault.KindReset}},
			ok},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st, _ := startStack(t, stackOpts{callTimeout: tc.callTimeout})
			added := putFaults(t, st, tc.faults...)
			res, fe := connect(t, newSDK(t, st), sdkstub.Options{User: tc.user})
			if tc.want == ok {
				mustSucceed(t, res, fe)
			} else {
				expectFailure(t, res, fe, tc.want)
			}
			for _, a := range added {
				for _, f := range listFaults(t, st, a.Party) {
					if f.ID == a.ID && f.Fired == 0 && !strings.Contains(tc.name, "changes nothing") {
						t.Errorf("fault %s never fired: %+v", f.ID, f)
					}
				}
			}
		})
	}
}

func TestExpiredAccessTokenFaultShowsTheRefreshInTheFlowLog(t *testing.T) {
	t.Parallel()
	st, clk := startStack(t)
	before := clk.Now()
	putFaults(t, st, fault.Fault{Step: 8, Kind: fault.KindExpire, Nth: 1})
	res, fe := connect(t, newSDK(t, st), sdkstub.Options{User: "carol"})
	mustSucceed(t, res, fe)
	if got := clk.Now().Sub(before); got != time.Hour+time.Second {
		t.Errorf("the shared clock moved %v, want 1h0m1s", got)
	}
	fl := decode[contract.Flow](t, admin(t, http.MethodGet, st.PlatformURL+"/_sim/flows/"+res.FlowID, nil))
	var refreshed bool
	for _, s := range fl.Steps {
		if s.Step == 8 && strings.Contains(s.Call, demo.RefreshTokenPath) {
			refreshed = true
		}
	}
	if !refreshed {
		t.Errorf("the flow log shows no refresh: %+v", fl.Steps)
	}
}

func TestNthFaultFiresOnTheSecondFlowOnly(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t)
	putFaults(t, st, fault.Fault{Step: 7, Kind: fault.KindErrorCode, ErrorCode: contract.CodeAccessDenied, Nth: 2})
	sdk := newSDK(t, st)
	res, fe := connect(t, sdk, sdkstub.Options{User: "alice"})
	mustSucceed(t, res, fe)
	res, fe = connect(t, sdk, sdkstub.Options{User: "alice"})
	expectFailure(t, res, fe, want{7, contract.PartyHostapp, contract.CodeAccessDenied})
	res, fe = connect(t, sdk, sdkstub.Options{User: "alice"})
	mustSucceed(t, res, fe)
	if f := listFaults(t, st, stack.Hostapp)[0]; f.Matched != 3 || f.Fired != 1 {
		t.Errorf("counters: matched %d fired %d, want 3 and 1", f.Matched, f.Fired)
	}
}

func TestClearingFaultsRestoresSuccess(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t)
	added := putFaults(t, st,
		fault.Fault{Step: 7, Kind: fault.KindStatus, Status: 500},
		fault.Fault{Step: 11, Kind: fault.KindReset})
	sdk := newSDK(t, st)
	res, fe := connect(t, sdk, sdkstub.Options{User: "bob"})
	expectFailure(t, res, fe, want{7, contract.PartyPlatform, contract.CodeUnexpectedResponseError})

	admin(t, http.MethodDelete, st.HostURL+"/_sim/faults/"+added[0].ID, nil)
	res, fe = connect(t, sdk, sdkstub.Options{User: "bob"})
	expectFailure(t, res, fe, want{11, contract.PartyPlatform, contract.CodeUnexpectedResponseError})

	cleared := decode[map[string]int](t, admin(t, http.MethodDelete, st.MiniappURL+"/_sim/faults", nil))
	if cleared["cleared"] != 1 {
		t.Errorf("DELETE /_sim/faults = %v, want cleared 1", cleared)
	}
	res, fe = connect(t, sdk, sdkstub.Options{User: "bob"})
	mustSucceed(t, res, fe)
}

func TestStackFaultsTableIsTheOneServed(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t)
	if st.Faults("nobody") != nil {
		t.Fatal("Faults of an unknown party is not nil")
	}
	if _, err := st.Faults(stack.Platform).Add(fault.Fault{Step: 5, Kind: fault.KindErrorCode, ErrorCode: contract.CodeHostappNotFound}); err != nil {
		t.Fatal(err)
	}
	res, fe := connect(t, newSDK(t, st), sdkstub.Options{User: "alice"})
	expectFailure(t, res, fe, want{5, contract.PartyPlatform, contract.CodeHostappNotFound})
	if fs := listFaults(t, st, stack.Platform); len(fs) != 1 || fs[0].Fired != 1 {
		t.Fatalf("GET /_sim/faults = %+v, want the fault added through Stack.Faults, fired once", fs)
	}
}

func TestFaultsAPIValidation(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t)
	u := st.PlatformURL + "/_sim/faults"
	cases := []struct {
		name   string
		method string
		url    string
		body   any
		header []string
		status int
		want   string // in error_description
	}{
		{"bad JSON", http.MethodPut, u, `{"step":`, nil, 400, "not valid JSON"},
		{"empty body", http.MethodPut, u, ``, nil, 400, "empty"},
		{"wrong content type", http.MethodPut, u, `{"step":5,"kind":"reset"}`, []string{"Content-Type", "text/plain"}, 415, "Content-Type"},
		{"an array", http.MethodPut, u, `[{"step":5,"kind":"reset"}]`, nil, 400, "fault object"},
		{"unknown key", http.MethodPut, u, `{"step":5,"knd":"reset"}`, nil, 400, `unknown field "knd"`},
		{"unknown key in a list", http.MethodPut, u, `{"faults":[{"step":5,"kind":"reset","nht":2}]}`, nil, 400, `unknown field "nht"`},
		{"wrong type", http.MethodPut, u, `{"step":"5","kind":"reset"}`, nil, 400, "step"},
		{"bad delay", http.MethodPut, u, `{"step":5,"kind":"delay","delay":"soon"}`, nil, 400, "soon"},
		{"unknown kind", http.MethodPut, u, `{"step":5,"kind":"explode"}`, nil, 400, `kind "explode"`},
		{"unknown error code", http.MethodPut, u, `{"step":5,"kind":"error_code","error_code":"NOPE"}`, nil, 400, "NOPE"},
		{"step of the host app", http.MethodPut, u, `{"step":7,"kind":"reset"}`, nil, 400, "served by hostapp, not platform"},
		{"endpoint of the miniapp", http.MethodPut, u, `{"party":"miniapp","endpoint":"/api/me","kind":"reset"}`, nil, 400, "for miniapp, not platform"},
		{"second of two invalid", http.MethodPut, u, `{"faults":[{"step":5,"kind":"reset"},{"step":5,"kind":"status","status":200}]}`, nil, 400, "faults[1]"},
		{"unknown id", http.MethodDelete, u + "/f999", nil, nil, 404, "no fault"},
		{"POST", http.MethodPost, u, `{"step":5,"kind":"reset"}`, nil, 405, "not allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, b := call(t, tc.method, tc.url, tc.body, tc.header...)
			m := decode[map[string]string](t, b)
			if status != tc.status || !strings.Contains(m["error_description"], tc.want) {
				t.Fatalf("%d %s, want %d with %q", status, b, tc.status, tc.want)
			}
		})
	}
	if fs := listFaults(t, st, stack.Platform); len(fs) != 0 {
		t.Fatalf("refused requests left faults: %+v", fs)
	}

	// The valid forms: one fault, a list, both slash forms, an endpoint without a party.
	one := decode[fault.List](t, admin(t, http.MethodPut, u, `{"step":12,"kind":"status","status":503}`))
	two := decode[fault.List](t, admin(t, http.MethodPut, u+"/", `{"faults":[{"endpoint":"/healthz","kind":"reset"},{"step":1,"kind":"delay","delay":"1ms","probability":0.5,"seed":3}]}`))
	if len(one.Faults) != 1 || len(two.Faults) != 2 || one.Faults[0].ID == "" || two.Faults[0].Party != stack.Platform {
		t.Fatalf("PUT answers %+v and %+v", one, two)
	}
	got := listFaults(t, st, stack.Platform)
	if len(got) != 3 || got[0].ID != one.Faults[0].ID || got[2].Delay != fault.Duration(time.Millisecond) || got[2].Seed != 3 {
		t.Fatalf("GET = %+v", got)
	}
	// No fault reaches the control routes: /healthz is reset, /_sim/faults still answers.
	status, b := call(t, http.MethodDelete, u+"/", nil)
	if status != 200 || decode[map[string]int](t, b)["cleared"] != 3 {
		t.Fatalf("DELETE: %d %s", status, b)
	}
}

func TestClockAPI(t *testing.T) {
	t.Parallel()
	st, clk := startStack(t)
	start := clk.Now()
	states := map[string]stack.ClockState{}
	for _, p := range stack.Parties {
		states[p] = decode[stack.ClockState](t, admin(t, http.MethodGet, partyURL(st, p)+"/_sim/clock", nil))
		if !states[p].Now.Equal(start) || states[p].ClockID == "" || states[p].ClockID != st.ClockID() {
			t.Fatalf("%s clock = %+v, want %v and clock id %s", p, states[p], start, st.ClockID())
		}
	}
	got := decode[stack.ClockState](t, admin(t, http.MethodPost, st.MiniappURL+"/_sim/clock", map[string]string{"advance": "11m"}))
	if !got.Now.Equal(start.Add(11 * time.Minute)) {
		t.Fatalf("after advance: %+v", got)
	}
	for _, p := range stack.Parties {
		s := decode[stack.ClockState](t, admin(t, http.MethodGet, partyURL(st, p)+"/_sim/clock/", nil))
		if !s.Now.Equal(start.Add(11 * time.Minute)) {
			t.Errorf("%s did not move with the miniapp: %+v", p, s)
		}
	}
	set := time.Date(2031, 6, 1, 12, 0, 0, 0, time.UTC)
	got = decode[stack.ClockState](t, admin(t, http.MethodPost, st.HostURL+"/_sim/clock", map[string]string{"set": set.Format(time.RFC3339)}))
	if !got.Now.Equal(set) || !clk.Now().Equal(set) {
		t.Fatalf("after set: %+v, clock %v", got, clk.Now())
	}

	for _, tc := range []struct{ name, body, want string }{
		{"neither", `{}`, "give advance"},
		{"both", `{"advance":"1m","set":"2030-01-01T00:00:00Z"}`, "not both"},
		{"reset and advance", `{"advance":"1m","reset":true}`, "not both"},
		{"bad duration", `{"advance":"eleven minutes"}`, "not a duration"},
		{"bad time", `{"set":"tomorrow"}`, "RFC 3339"},
		{"unknown key", `{"advanse":"1m"}`, `unknown field "advanse"`},
		{"bad JSON", `{"advance":`, "not valid JSON"},
	} {
		status, b := call(t, http.MethodPost, st.PlatformURL+"/_sim/clock", tc.body)
		if status != 400 || !strings.Contains(decode[map[string]string](t, b)["error_description"], tc.want) {
			t.Errorf("%s: %d %s, want 400 with %q", tc.name, status, b, tc.want)
		}
	}
	if !clk.Now().Equal(set) {
		t.Fatalf("refused requests moved the clock to %v", clk.Now())
	}
	got = decode[stack.ClockState](t, admin(t, http.MethodPost, st.PlatformURL+"/_sim/clock", map[string]bool{"reset": true}))
	if d := time.Until(got.Now); d > time.Minute || d < -time.Minute || clk.Offset() != 0 {
		t.Fatalf("after reset: %+v, offset %v", got, clk.Offset())
	}
}

// TestExpiryFollowsTheClockAPI moves the clock over HTTP between the auth code and its
// redemption: the host must refuse the code, as it would after ten real minutes.
func TestExpiryFollowsTheClockAPI(t *testing.T) {
	t.Parallel()
	st, _ := startStack(t)
	sdk := newSDK(t, st)
	res, fe := connect(t, sdk, sdkstub.Options{User: "bob", AuthCode: func(ctx context.Context) (string, error) {
		c, err := sdk.HostAuthCode("bob", "")(ctx)
		admin(t, http.MethodPost, st.PlatformURL+"/_sim/clock", map[string]string{"advance": "10m1s"})
		return c, err
	}})
	expectFailure(t, res, fe, want{7, contract.PartyHostapp, contract.CodeExpiredAuthCode})
}
