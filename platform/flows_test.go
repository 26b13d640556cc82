package platform_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
)

// secrets are values that must never appear in the flow log or an admin answer.
var secrets = []string{
	testAuthCode, hostAccess, hostRefresh, hostAccess2, hostRefresh2, miniToken, miniRefresh,
	demo.HostappSecret, demo.MiniappSecret,
	"aG9zdGFwcC1jbGllbnQtMTpob3N0YXBwLXNlY3JldC0x", "YXBwMTY5NzM6bWluaWFwcC1zZWNyZXQtMQ==",
}

func assertNoSecrets(t *testing.T, what, body string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(body, s) {
			t.Errorf("%s contains the secret %q", what, s)
		}
	}
}

func TestFlowLogOfSuccessfulAuthorize(t *testing.T) {
	e := refreshEnv(t, ok200(`{"access_token":"`+hostAccess2+`","refresh_token":"`+hostRefresh2+`"}`))
	if rec := e.authorize("flow-log"); rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	f, body := e.flow("flow-log")
	assertNoSecrets(t, "flow", body)
	if f.ID != "flow-log" || f.ClientID != demo.ClientID || f.AppID != demo.AppID || !f.StartedAt.Equal(fixedNow) {
		t.Errorf("flow = %+v", f)
	}
	if f.UserReference != "u-1003" {
		t.Errorf("user_reference = %q, want the host's reference", f.UserReference)
	}
	var nums []string
	for _, s := range f.Steps {
		nums = append(nums, strconv.Itoa(s.Step))
	}
	if got := strings.Join(nums, ","); got != "6,7,8,8,8,9,9,9,10,11,12" {
		t.Errorf("steps = %s", got)
	}
	s6 := stepsOf(f, 6)[0]
	if s6.Actor != "platform → hostapp" || s6.Call != "POST "+demo.AccessTokenPath || s6.Request == nil ||
		!strings.HasPrefix(s6.Request.Headers["Authorization"], "Token aG9z…[") || s6.Outcome != contract.OutcomeOK {
		t.Errorf("step 6 = %+v %+v", s6, s6.Request)
	}
	// Header names go out in PROTOCOL §2.6's exact spelling.
	for _, k := range []string{contract.HeaderMiniappAppID, contract.HeaderHostappClientID, contract.HeaderFlowID} {
		if _, ok := s6.Request.Headers[k]; !ok {
			t.Errorf("step 6 request lacks header %q: %v", k, s6.Request.Headers)
		}
	}
	if !strings.Contains(string(s6.Request.Body), `"auth_code":"auth…[`) {
		t.Errorf("step 6 body = %s", s6.Request.Body)
	}
	s7 := stepsOf(f, 7)[0]
	if s7.Actor != "hostapp → platform" || s7.Status != 200 || s7.Response == nil || !strings.Contains(string(s7.Response.Body), `"access_token":"host…[`) {
		t.Errorf("step 7 = %+v", s7)
	}
	s8 := stepsOf(f, 8)
	if s8[0].Call != "GET "+demo.UserDataPath || s8[1].Call != "POST "+demo.RefreshTokenPath || s8[2].Call != "GET "+demo.UserDataPath {
		t.Errorf("step 8 calls = %q %q %q", s8[0].Call, s8[1].Call, s8[2].Call)
	}
	if s9 := stepsOf(f, 9); s9[0].Outcome != contract.OutcomeOK || !strings.Contains(s9[0].Note, "INVALID_ACCESS_TOKEN") {
		t.Errorf("first step 9 = %+v", s9[0])
	}
	s10 := stepsOf(f, 10)[0]
	if s10.Actor != "platform → miniapp" || s10.Request.Headers["Authorization"] != "Basic YXBw…[36]" {
		t.Errorf("step 10 = %+v", s10.Request)
	}
	s12 := stepsOf(f, 12)[0]
	if s12.Actor != "platform → sdk" || s12.Call != "POST /api/v1/authorize/ response" || s12.Status != 200 || s12.Outcome != contract.OutcomeOK {
		t.Errorf("step 12 = %+v", s12)
	}
	for _, s := range f.Steps {
		if !s.StartedAt.Equal(fixedNow) || s.DurationMS < 0 {
			t.Errorf("step %d timing %v %v", s.Step, s.StartedAt, s.DurationMS)
		}
	}
}

func TestFlowLogOfFailures(t *testing.T) {
	e := newEnv(t)
	e.host.on(http.MethodPost, demo.AccessTokenPath, ok200(`{"access_token":"`+hostAccess+`","refresh_token":"`+hostRefresh+`"}`))
	// A non-JSON answer: kept as text, at most 200 bytes, token-looking runs masked.
	e.host.on(http.MethodGet, demo.UserDataPath, ok200(`<html>Token `+hostAccess+` `+strings.Repeat("z ", 300)+`</html>`))
	wantEnvelope(t, e.authorize("flow-fail"), contract.CodeFailedToParseResponse, contract.PartyPlatform, 9)
	f, body := e.flow("flow-fail")
	assertNoSecrets(t, "flow", body)
	if f.Outcome != contract.OutcomeFailed || f.ErrorCode != contract.CodeFailedToParseResponse {
		t.Errorf("flow %s/%s", f.Outcome, f.ErrorCode)
	}
	s9 := stepsOf(f, 9)[0]
	if s9.Response == nil || s9.Response.Text == "" || len(s9.Response.Text) > 200 || s9.Response.Body != nil {
		t.Errorf("step 9 response = %+v", s9.Response)
	}
	s12 := stepsOf(f, 12)[0]
	if s12.Status != 400 || s12.ErrorCode != contract.CodeFailedToParseResponse || s12.Outcome != contract.OutcomeFailed {
		t.Errorf("step 12 = %+v", s12)
	}
	if len(stepsOf(f, 10)) != 0 {
		t.Error("step 10 recorded after a failure at 9")
	}
}

func TestFlowStepsFromSDK(t *testing.T) {
	e := newEnv(t)
	e.happy()
	post := func(id, body string) *http.Response {
		t.Helper()
		rec := e.do(http.MethodPost, "/_sim/flows/"+id+"/steps", body, nil)
		return rec.Result()
	}
	// Steps 1–5 before authorize, in the object form, with a secret the SDK forgot to mask.
	res := post("flow-sdk", `{"client_id":"352131","app_id":"app16973","user_reference":"u-1003","steps":[
		{"step":1,"actor":"sdk → platform","call":"GET /api/v1/miniapps/app16973/settings/","status":200,"started_at":"2030-01-02T03:04:00Z","duration_ms":0.4},
		{"step":5,"actor":"sdk → platform","call":"POST /api/v1/authorize/","request":{"headers":{"Authorization":"Bearer `+hostAccess+`"},"body":{"auth_code":"`+testAuthCode+`","nested":{"refresh_token":"`+hostRefresh+`"}},"text":"code=`+testAuthCode+`"}}]}`)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("post steps: %d", res.StatusCode)
	}
	if rec := e.authorize("flow-sdk"); rec.Code != http.StatusOK {
		t.Fatalf("authorize %d", rec.Code)
	}
	f, body := e.flow("flow-sdk")
	assertNoSecrets(t, "flow", body)
	// The platform's answer at step 12 closes the flow; the SDK's report follows.
	if f.Outcome != contract.OutcomeOK || f.StartedAt.Format("15:04:05") != "03:04:00" || f.Note != "" {
		t.Errorf("flow %s started %v, note %q", f.Outcome, f.StartedAt, f.Note)
	}
	// Steps 13–16 in the array form; an already-masked value stays as it was.
	res = post("flow-sdk", `[{"step":16,"actor":"user","outcome":"ok"},{"step":13,"actor":"sdk → miniapp","request":{"headers":{"Authorization":"Bearer eyJh…[52]"}}}]`)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("post steps: %d", res.StatusCode)
	}
	f, body = e.flow("flow-sdk")
	if f.Outcome != contract.OutcomeOK || f.ErrorCode != "" {
		t.Errorf("flow outcome %s/%s, want ok", f.Outcome, f.ErrorCode)
	}
	if !strings.Contains(body, `"Bearer eyJh…[52]"`) {
		t.Errorf("masked header was masked again: %s", body)
	}
	want := []int{1, 5, 6, 7, 8, 9, 10, 11, 12, 13, 16}
	if len(f.Steps) != len(want) {
		t.Fatalf("%d steps", len(f.Steps))
	}
	for i, s := range f.Steps {
		if s.Step != want[i] {
			t.Errorf("step[%d] = %d, want %d", i, s.Step, want[i])
		}
	}
	// A failed SDK step fails the flow, with its code.
	if rec := e.authorize("flow-sdk-2"); rec.Code != http.StatusOK {
		t.Fatalf("authorize %d", rec.Code)
	}
	post("flow-sdk-2", `[{"step":14,"actor":"miniapp frontend → miniapp backend","outcome":"failed","error_code":"invalid_token"}]`)
	if f, _ = e.flow("flow-sdk-2"); f.Outcome != contract.OutcomeFailed || f.ErrorCode != "invalid_token" {
		t.Errorf("flow %s/%s", f.Outcome, f.ErrorCode)
	}
}

func TestFlowStepsValidation(t *testing.T) {
	e := newEnv(t)
	tests := []struct{ name, id, body string }{
		{"step 0", "f1", `[{"step":0,"actor":"sdk"}]`},
		{"step 17", "f1", `[{"step":17,"actor":"sdk"}]`},
		{"no actor", "f1", `[{"step":3}]`},
		{"bad outcome", "f1", `[{"step":3,"actor":"sdk","outcome":"maybe"}]`},
		{"negative duration", "f1", `[{"step":3,"actor":"sdk","duration_ms":-1}]`},
		{"bad time", "f1", `[{"step":3,"actor":"sdk","started_at":"yesterday"}]`},
		{"not JSON", "f1", `[{`},
		{"a string", "f1", `"steps"`},
		{"bad flow id", "bad%20id", `[{"step":3,"actor":"sdk"}]`},
		{"bad client_id", "f1", `{"client_id":"a b","steps":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.do(http.MethodPost, "/_sim/flows/"+tt.id+"/steps", tt.body, nil)
			if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"error":"invalid_request"`) {
				t.Errorf("%d %s", rec.Code, rec.Body)
			}
		})
	}
	if rec := e.do(http.MethodGet, "/_sim/flows/f1", "", nil); rec.Code != http.StatusNotFound {
		t.Errorf("a rejected post created the flow: %d", rec.Code)
	}
}

func TestFlowList(t *testing.T) {
	e := newEnv(t)
	if rec := e.do(http.MethodGet, "/_sim/flows/latest", "", nil); rec.Code != http.StatusNotFound {
		t.Errorf("latest on an empty log: %d", rec.Code)
	}
	var list struct {
		Flows []map[string]any `json:"flows"`
	}
	rec := e.do(http.MethodGet, "/_sim/flows", "", nil)
	decode(t, rec, &list)
	if rec.Code != http.StatusOK || list.Flows == nil || len(list.Flows) != 0 {
		t.Errorf("empty list: %d %s", rec.Code, rec.Body)
	}
	for _, id := range []string{"a", "b", "c"} {
		e.do(http.MethodPost, "/_sim/flows/"+id+"/steps", `[{"step":1,"actor":"sdk"}]`, nil)
	}
	e.do(http.MethodPost, "/_sim/flows/a/steps", `[{"step":2,"actor":"miniapp"}]`, nil) // not a new flow
	rec = e.do(http.MethodGet, "/_sim/flows?limit=2", "", nil)
	decode(t, rec, &list)
	if len(list.Flows) != 2 || list.Flows[0]["id"] != "c" || list.Flows[1]["id"] != "b" {
		t.Errorf("list = %s", rec.Body)
	}
	if _, has := list.Flows[0]["steps"]; has {
		t.Errorf("list carries steps: %s", rec.Body)
	}
	rec = e.do(http.MethodGet, "/_sim/flows?limit=100000", "", nil)
	decode(t, rec, &list)
	if rec.Code != http.StatusOK || len(list.Flows) != 3 {
		t.Errorf("big limit: %d %s", rec.Code, rec.Body)
	}
	for _, bad := range []string{"0", "-1", "ten"} {
		if rec := e.do(http.MethodGet, "/_sim/flows?limit="+bad, "", nil); rec.Code != http.StatusBadRequest {
			t.Errorf("limit=%s: %d", bad, rec.Code)
		}
	}
	var f contract.Flow
	rec = e.do(http.MethodGet, "/_sim/flows/latest", "", nil)
	decode(t, rec, &f)
	if f.ID != "c" || len(f.Steps) != 1 {
		t.Errorf("latest = %s", rec.Body)
	}
	if rec := e.do(http.MethodGet, "/_sim/flows/nope", "", nil); rec.Code != http.StatusNotFound {
		t.Errorf("unknown flow: %d", rec.Code)
	}
}

// TestFlowListFilters: GET /_sim/flows selects by outcome, error code, user reference, app
// and client before the limit counts, refuses an unknown filter, and says how long each flow
// took.
func TestFlowListFilters(t *testing.T) {
	e := newEnv(t)
	e.happy()
	post := func(id, body string) {
		t.Helper()
		if rec := e.do(http.MethodPost, "/_sim/flows/"+id+"/steps", body, nil); rec.Code != http.StatusOK {
			t.Fatalf("post steps to %s: %d %s", id, rec.Code, rec.Body)
		}
	}
	// ok: the SDK's steps 1 and 16 span 10 ms; the platform's steps, on a clock 5 s ahead
	// (fixedNow), lie between them and do not count.
	post("f-ok", `{"client_id":"352131","app_id":"app16973","user_reference":"u-1003","steps":[
		{"step":1,"actor":"sdk","started_at":"2030-01-02T03:04:00Z","duration_ms":0.4}]}`)
	if rec := e.authorize("f-ok"); rec.Code != http.StatusOK {
		t.Fatalf("authorize %d", rec.Code)
	}
	post("f-ok", `[{"step":16,"actor":"user","started_at":"2030-01-02T03:04:00.010Z"}]`)
	post("f-bob", `{"app_id":"other-app","user_reference":"u-1002","steps":[{"step":3,"actor":"miniapp","outcome":"failed","error_code":"USER_DENIED"}]}`)
	post("f-run", `{"app_id":"app16973","user_reference":"u-1002","steps":[{"step":1,"actor":"sdk"}]}`)
	if rec := e.authorize("f-plat"); rec.Code != http.StatusOK { // the platform's steps only
		t.Fatalf("authorize %d", rec.Code)
	}

	list := func(query string) []map[string]any {
		t.Helper()
		var l struct {
			Flows []map[string]any `json:"flows"`
		}
		rec := e.do(http.MethodGet, "/_sim/flows"+query, "", nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET /_sim/flows%s: %d %s", query, rec.Code, rec.Body)
		}
		decode(t, rec, &l)
		return l.Flows
	}
	ids := func(fs []map[string]any) string {
		var out []string
		for _, f := range fs {
			out = append(out, f["id"].(string))
		}
		return strings.Join(out, ",")
	}
	for query, want := range map[string]string{
		"":                                  "f-plat,f-run,f-bob,f-ok",
		"?outcome=ok":                       "f-plat,f-ok",
		"?outcome=failed":                   "f-bob",
		"?outcome=running":                  "f-run",
		"?error_code=USER_DENIED":           "f-bob",
		"?user_reference=u-1002":            "f-run,f-bob",
		"?user_reference=u-1002&limit=1":    "f-run",
		"?app_id=app16973&outcome=ok":       "f-plat,f-ok",
		"?app_id=other-app":                 "f-bob",
		"?client_id=352131&limit=1":         "f-plat",
		"?user_reference=nobody":            "",
		"?outcome=ok&user_reference=u-1002": "",
	} {
		if got := ids(list(query)); got != want {
			t.Errorf("GET /_sim/flows%s = %s, want %s", query, got, want)
		}
	}
	for _, bad := range []string{"?outcome=error", "?user=bob", "?outcom=ok"} {
		if rec := e.do(http.MethodGet, "/_sim/flows"+bad, "", nil); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"error":"invalid_request"`) {
			t.Errorf("GET /_sim/flows%s: %d %s, want 400 invalid_request", bad, rec.Code, rec.Body)
		}
	}

	byID := map[string]map[string]any{}
	for _, f := range list("") {
		byID[f["id"].(string)] = f
	}
	if d := byID["f-ok"]["duration_ms"]; d != 10.0 {
		t.Errorf("f-ok duration_ms = %v, want 10 (the SDK's steps 1 to 16)", d)
	}
	if m := byID["f-bob"]["mode"]; m != "connect" {
		t.Errorf("mode = %v, want connect", m)
	}
	// A flow of the platform's steps only lasts from the first of them to the end of the last.
	f, _ := e.flow("f-plat")
	first := f.Steps[0].StartedAt
	var end float64
	for _, s := range f.Steps {
		if s.StartedAt.Before(first) {
			first = s.StartedAt
		}
	}
	for _, s := range f.Steps {
		end = max(end, float64(s.StartedAt.Sub(first).Milliseconds())+s.DurationMS)
	}
	if d := byID["f-plat"]["duration_ms"].(float64); d != end || d <= 0 {
		t.Errorf("f-plat duration_ms = %v, want %v (its steps' span)", d, end)
	}
}
