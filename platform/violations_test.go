package platform_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/platform"
)

// answerAs answers with a status, a Content-Type ("" sends none) and a body.
func answerAs(status int, contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if contentType == "" {
			w.Header()["Content-Type"] = nil // keep net/http from sniffing one
		} else {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

// TestAnswerViolations checks that each contract rule a host or miniapp answer breaks is
// recorded on the answer's step as "PROTOCOL §x.y: ...", and that conforming answers
// record none.
func TestAnswerViolations(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("t", contract.MaxTokenLen+1)
	okHost := ok200(`{"access_token":"` + hostAccess + `"}`)
	okData := ok200(`{"user_data":` + carolUserDataObj + `}`)
	cases := []struct {
		name       string
		token      http.HandlerFunc // nil: a conforming answer
		data       http.HandlerFunc
		mini       http.HandlerFunc
		step       int
		want       []string // substrings of the step's violations, in order; nil: none anywhere
		wantCode   string
		wantNote   string // a substring of the step's note
		wantFailed bool
	}{
		{name: "conforming", wantCode: ""},
		{name: "charset parameter is fine", token: answerAs(200, "application/json; charset=utf-8", `{"access_token":"`+hostAccess+`"}`)},
		{name: "unknown code is noted, never a violation", token: ok200(`{"error_code":"CODE_WE_MADE_UP"}`),
			step: 7, wantCode: "CODE_WE_MADE_UP", wantNote: "error_code CODE_WE_MADE_UP is on neither Boxo's list nor boxo-sim's (contract §5.1)"},
		{name: "a code of Boxo's list is conformant", token: ok200(`{"error_code":"ACCESS_DENIED"}`),
			step: 7, wantCode: contract.CodeAccessDenied},
		{name: "a Boxo code boxo-sim never emits is conformant", mini: ok200(`{"error_code":"DATA_INTEGRITY_ERROR"}`),
			step: 11, wantCode: "DATA_INTEGRITY_ERROR"},
		{name: "an earlier boxo-sim name is noted with Boxo's code", token: ok200(`{"error_code":"INVALID_CREDENTIALS"}`),
			step: 7, wantCode: "INVALID_CREDENTIALS", wantNote: "Boxo's code is ACCESS_DENIED"},
		{name: "host 401", token: reply(401, `{"error_code":"INVALID_AUTH_CODE"}`),
			step: 7, want: []string{"contract §2.3: hostapp answered HTTP 401"}, wantCode: contract.CodeUnexpectedResponseError},
		{name: "host 500 html", token: answerAs(500, "text/html", "<h1>oops</h1>"),
			step: 7, want: []string{"contract §2.3: hostapp answered HTTP 500", `contract §2.2: the answer's Content-Type is "text/html"`}, wantCode: contract.CodeUnexpectedResponseError},
		{name: "host text/plain json", token: answerAs(200, "text/plain", `{"access_token":"`+hostAccess+`"}`),
			step: 7, want: []string{`contract §2.2: the answer's Content-Type is "text/plain"`}, wantCode: contract.CodeInvalidResponseContentType},
		{name: "host no content type", token: answerAs(200, "", `{"access_token":"`+hostAccess+`"}`),
			step: 7, want: []string{"contract §2.2: the answer has no Content-Type"}},
		{name: "host not json", token: ok200(`access_token=abc`),
			step: 7, want: []string{"contract §2.2: the answer is not a JSON object"}, wantCode: contract.CodeFailedToParseResponse},
		{name: "host wrong type", token: ok200(`{"access_token":7}`),
			step: 7, want: []string{"contract §3.8: the answer does not fit the contract"}, wantCode: contract.CodeFailedToParseResponse},
		{name: "host both", token: ok200(`{"access_token":"` + hostAccess + `","error_code":"INVALID_AUTH_CODE"}`),
			step: 7, want: []string{"contract §2.3: the answer carries both a token and error_code"}, wantCode: contract.CodeInvalidAuthCode},
		{name: "host neither", token: ok200(`{}`),
			step: 7, want: []string{"contract §3.8: the answer has neither access_token nor error_code"}, wantCode: contract.CodeResponseAttributeMissing},
		{name: "host token too long", token: ok200(`{"access_token":"` + long + `"}`),
			step: 7, want: []string{"contract §3.8: access_token is 1001 characters long"}, wantCode: contract.CodeUnexpectedResponseError},
		{name: "host refresh too long", token: ok200(`{"access_token":"` + hostAccess + `","refresh_token":"` + long + `"}`),
			step: 7, want: []string{"contract §3.8: refresh_token is 1001 characters long"}, wantCode: contract.CodeUnexpectedResponseError},
		{name: "user data both", data: ok200(`{"user_data":` + carolUserDataObj + `,"error_code":"HOSTAPP_USER_NOT_FOUND"}`),
			step: 9, want: []string{"contract §2.3: the answer carries both user_data and error_code"}, wantCode: contract.CodeHostappUserNotFound},
		{name: "user data neither", data: ok200(`{"user_data":null}`),
			step: 9, want: []string{"contract §3.10: the answer has neither user_data nor error_code"}, wantCode: contract.CodeResponseAttributeMissing},
		{name: "user data no email or phone", data: ok200(`{"user_data":{"reference":"u-1"}}`),
			step: 9, want: []string{"contract §3.10: user_data has neither email nor phone"}, wantCode: contract.CodeInvalidUserData},
		{name: "user data reference 101", data: ok200(`{"user_data":{"reference":"` + strings.Repeat("é", 101) + `","email":"a@example.com"}}`),
			step: 9, want: []string{"contract §3.10: user_data.reference is longer than 100"}, wantCode: contract.CodeInvalidUserData},
		{name: "miniapp 401 and duplicates", mini: reply(401, `{"error_code":"ACCESS_DENIED"}`),
			step: 11, want: []string{"contract §2.3: miniapp answered HTTP 401"}, wantCode: contract.CodeUnexpectedResponseError},
		{name: "miniapp both", mini: ok200(`{"auth_token":"` + miniToken + `","error_code":"INVALID_USER_DATA"}`),
			step: 11, want: []string{"contract §2.3: the answer carries both a token and error_code"}, wantCode: contract.CodeInvalidUserData},
		{name: "miniapp neither", mini: ok200(`{"refresh_token":"` + miniRefresh + `"}`),
			step: 11, want: []string{"contract §3.12: the answer has neither auth_token nor error_code"}, wantCode: contract.CodeUnexpectedResponseError},
		{name: "miniapp token too long", mini: ok200(`{"auth_token":"` + long + `"}`),
			step: 11, want: []string{"contract §3.12: auth_token is 1001 characters long"}, wantCode: contract.CodeUnexpectedResponseError},
		{name: "miniapp unknown code", mini: ok200(`{"error_code":"DUPLICATE_USER"}`),
			step: 11, wantCode: "DUPLICATE_USER", wantNote: "error_code DUPLICATE_USER is on neither Boxo's list nor boxo-sim's"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.happy()
			e.host.on(http.MethodPost, demo.AccessTokenPath, okHost)
			e.host.on(http.MethodGet, demo.UserDataPath, okData)
			if tc.token != nil {
				e.host.on(http.MethodPost, demo.AccessTokenPath, tc.token)
			}
			if tc.data != nil {
				e.host.on(http.MethodGet, demo.UserDataPath, tc.data)
			}
			if tc.mini != nil {
				e.mini.on(http.MethodPost, demo.AuthTokenPath, tc.mini)
			}
			e.authorize("flow_v")
			f, _ := e.flow("flow_v")
			if f.ErrorCode != tc.wantCode {
				t.Errorf("flow error_code = %q, want %q", f.ErrorCode, tc.wantCode)
			}
			for _, st := range f.Steps {
				if st.Step == tc.step {
					continue
				}
				if len(st.Violations) > 0 {
					t.Errorf("step %d (%s) has violations %q", st.Step, st.Call, st.Violations)
				}
			}
			if tc.step == 0 {
				return
			}
			answers := stepsOf(f, tc.step)
			if len(answers) != 1 {
				t.Fatalf("%d answers at step %d", len(answers), tc.step)
			}
			if !strings.Contains(answers[0].Note, tc.wantNote) {
				t.Errorf("step %d note = %q, want it to contain %q", tc.step, answers[0].Note, tc.wantNote)
			}
			got := answers[0].Violations
			if len(got) != len(tc.want) {
				t.Fatalf("violations = %q, want %d like %q", got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("violation %d = %q, want it to start with %q", i, got[i], w)
				}
			}
		})
	}
}

func TestTimeoutViolation(t *testing.T) {
	t.Parallel()
	// Long enough for the host's answers under a loaded machine, so only the miniapp times out.
	e := newEnv(t, func(c *platform.Config) { c.CallTimeout = 500 * time.Millisecond })
	e.happy()
	release := make(chan struct{})
	defer close(release)
	e.mini.on(http.MethodPost, demo.AuthTokenPath, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	e.authorize("flow_slow")
	f, _ := e.flow("flow_slow")
	ans := stepsOf(f, 11)
	if len(ans) != 1 || len(ans[0].Violations) != 1 || !strings.HasPrefix(ans[0].Violations[0], "contract §2.11: miniapp gave no answer within 500ms") {
		t.Fatalf("step 11 = %+v", ans)
	}
}

func TestUnreachableIsNoViolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.happy()
	e.mini.srv.Close()
	e.authorize("flow_down")
	f, _ := e.flow("flow_down")
	if ans := stepsOf(f, 11); len(ans) != 1 || ans[0].ErrorCode != contract.CodeUnexpectedResponseError || len(ans[0].Violations) != 0 {
		t.Fatalf("step 11 = %+v; want UNEXPECTED_RESPONSE_ERROR without violations", ans)
	}
}

func TestPostedStepViolations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rec := e.do(http.MethodPost, "/_sim/flows/flow_p/steps", `[{"step":14,"actor":"sdk","call":"GET /api/me","violations":["contract §3.15: no created field"]}]`, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("post: %d %s", rec.Code, rec.Body)
	}
	f, _ := e.flow("flow_p")
	if len(f.Steps) != 1 || len(f.Steps[0].Violations) != 1 || f.Steps[0].Violations[0] != "contract §3.15: no created field" {
		t.Fatalf("steps = %+v", f.Steps)
	}
	for _, body := range []string{
		`[{"step":14,"actor":"sdk","violations":[""]}]`,
		`[{"step":14,"actor":"sdk","violations":["` + strings.Repeat("v", 1001) + `"]}]`,
		`[{"step":14,"actor":"sdk","violations":` + `["a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a"]` + `}]`,
	} {
		if rec := e.do(http.MethodPost, "/_sim/flows/flow_q/steps", body, nil); rec.Code != http.StatusBadRequest {
			t.Errorf("post %.60s: %d, want 400", body, rec.Code)
		}
	}
}
