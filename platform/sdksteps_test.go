package platform_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/platform"
	"github.com/boxo-sim/boxo-sim/platform/sqlite"
)

// reportPaths are the two routes that take the SDK's steps, with one set of rules.
var reportPaths = map[string]string{
	"_sim":       "/_sim/flows/%s/steps",
	"api/v1/sim": "/api/v1/sim/flows/%s/steps/",
	"no slash":   "/api/v1/sim/flows/%s/steps",
}

func manyHeaders(n int) string {
	var hs []string
	for i := range n {
		hs = append(hs, fmt.Sprintf(`"X-H%d":"v"`, i))
	}
	return strings.Join(hs, ",")
}

func reportPath(form, id string) string { return strings.Replace(reportPaths[form], "%s", id, 1) }

func TestReportStepsRules(t *testing.T) {
	for form := range reportPaths {
		t.Run(form, func(t *testing.T) {
			e := newEnv(t)
			post := func(id, body string) *httptest.ResponseRecorder {
				t.Helper()
				return e.do(http.MethodPost, reportPath(form, id), body, nil)
			}
			refused := []struct{ name, body string }{
				{"platform step 6", `[{"step":6,"actor":"sdk"}]`},
				{"platform step 12", `[{"step":12,"actor":"sdk"}]`},
				{"step 0", `[{"step":0,"actor":"sdk"}]`},
				{"step 17", `[{"step":17,"actor":"sdk"}]`},
				{"no steps", `[]`},
				{"too many steps", `[` + strings.Repeat(`{"step":3,"actor":"sdk"},`, 32) + `{"step":3,"actor":"sdk"}]`},
				{"year before 0000 UTC", `[{"step":3,"actor":"sdk","started_at":"0000-01-01T00:00:00+01:00"}]`},
				{"long duration", `[{"step":3,"actor":"sdk","duration_ms":86400001}]`},
				{"long header", `[{"step":3,"actor":"sdk","request":{"headers":{"X":"` + strings.Repeat("a", 8193) + `"}}}]`},
				{"long body", `[{"step":3,"actor":"sdk","response":{"text":"` + strings.Repeat("a", 64<<10+1) + `"}}]`},
				{"many headers", `[{"step":3,"actor":"sdk","request":{"headers":{` + manyHeaders(51) + `}}}]`},
				{"long actor", `[{"step":3,"actor":"` + strings.Repeat("a", 201) + `"}]`},
				{"long note", `[{"step":3,"actor":"sdk","note":"` + strings.Repeat("a", 2001) + `"}]`},
				{"status 1000", `[{"step":3,"actor":"sdk","status":1000}]`},
				{"negative status", `[{"step":3,"actor":"sdk","status":-1}]`},
			}
			for _, tt := range refused {
				if rec := post("f1", tt.body); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"error":"invalid_request"`) {
					t.Errorf("%s: %d %s", tt.name, rec.Code, rec.Body)
				}
			}
			if rec := e.do(http.MethodGet, "/_sim/flows/f1", "", nil); rec.Code != http.StatusNotFound {
				t.Errorf("a refused report created the flow: %d", rec.Code)
			}
			// Year 0000 itself and 9999 are fine.
			if rec := post("f1", `[{"step":1,"actor":"sdk","started_at":"0000-01-01T00:00:00Z"},{"step":2,"actor":"sdk","started_at":"9999-12-31T23:59:59Z"}]`); rec.Code != http.StatusOK {
				t.Errorf("years 0000 and 9999: %d %s", rec.Code, rec.Body)
			}
			// No time means the server's.
			post("f2", `[{"step":1,"actor":"sdk"}]`)
			if f, _ := e.flow("f2"); !f.Steps[0].StartedAt.Equal(fixedNow) {
				t.Errorf("started_at = %v, want the server's %v", f.Steps[0].StartedAt, fixedNow)
			}
		})
	}
}

// A flow takes reports until it ends: step 16, or a failed SDK step.
func TestReportStepsOnlyToOpenFlows(t *testing.T) {
	e := newEnv(t)
	e.happy()
	post := func(id, body string) *httptest.ResponseRecorder {
		t.Helper()
		return e.do(http.MethodPost, reportPath("api/v1/sim", id), body, nil)
	}
	if rec := e.authorize("done"); rec.Code != http.StatusOK {
		t.Fatal(rec.Code)
	}
	if rec := post("done", `[{"step":13,"actor":"sdk"},{"step":16,"actor":"user"}]`); rec.Code != http.StatusOK {
		t.Fatalf("report: %d %s", rec.Code, rec.Body)
	}
	if rec := post("done", `[{"step":14,"actor":"sdk","outcome":"failed","error_code":"X"}]`); rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "flow_closed") {
		t.Errorf("report after step 16: %d %s", rec.Code, rec.Body)
	}
	if f, _ := e.flow("done"); f.Outcome != contract.OutcomeOK {
		t.Errorf("a late report changed the outcome: %s", f.Outcome)
	}

	post("denied", `[{"step":3,"actor":"sdk"},{"step":4,"actor":"sdk","outcome":"failed","error_code":"USER_DENIED"}]`)
	if rec := post("denied", `[{"step":16,"actor":"user"}]`); rec.Code != http.StatusConflict {
		t.Errorf("report after a failed SDK step: %d %s", rec.Code, rec.Body)
	}
	if f, _ := e.flow("denied"); f.Outcome != contract.OutcomeFailed || f.ErrorCode != "USER_DENIED" {
		t.Errorf("denied flow %s/%s", f.Outcome, f.ErrorCode)
	}

	// At most 64 SDK steps in one flow.
	batch := `[` + strings.Repeat(`{"step":3,"actor":"sdk"},`, 31) + `{"step":3,"actor":"sdk"}]`
	for i := range 2 {
		if rec := post("big", batch); rec.Code != http.StatusOK {
			t.Fatalf("batch %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	if rec := post("big", `[{"step":3,"actor":"sdk"}]`); rec.Code != http.StatusConflict {
		t.Errorf("65th SDK step: %d %s", rec.Code, rec.Body)
	}
}

// A report never changes what the platform recorded.
func TestReportStepsKeepThePlatformsRecord(t *testing.T) {
	e := newEnv(t)
	e.host.on(http.MethodPost, demo.AccessTokenPath, ok200(`{"error_code":"`+contract.CodeInvalidAuthCode+`"}`))
	if rec := e.authorize("f7"); rec.Code != http.StatusBadRequest {
		t.Fatal(rec.Code)
	}
	rec := e.do(http.MethodPost, reportPath("api/v1/sim", "f7"), `{"client_id":"other","app_id":"other","user_reference":"other","steps":[
		{"step":4,"actor":"sdk","outcome":"failed","error_code":"EARLIER"},{"step":13,"actor":"sdk","outcome":"failed","error_code":"Authentication failed"}]}`, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("report: %d %s", rec.Code, rec.Body)
	}
	f, _ := e.flow("f7")
	if f.Outcome != contract.OutcomeFailed || f.ErrorCode != contract.CodeInvalidAuthCode {
		t.Errorf("flow %s/%s, want failed with the platform's %s", f.Outcome, f.ErrorCode, contract.CodeInvalidAuthCode)
	}
	// client_id and app_id were recorded; user_reference was not (step 9 never came), so the
	// report fills it.
	if f.ClientID != demo.ClientID || f.AppID != demo.AppID || f.UserReference != "other" {
		t.Errorf("flow fields after the report: %+v", f)
	}
	if got := stepsOf(f, 7); len(got) != 1 || got[0].ErrorCode != contract.CodeInvalidAuthCode {
		t.Errorf("step 7 = %+v", got)
	}
	// A report to a fresh flow sets the fields.
	e.do(http.MethodPost, reportPath("_sim", "fresh"), `{"client_id":"352131","app_id":"app16973","steps":[{"step":1,"actor":"sdk"}]}`, nil)
	if f, _ := e.flow("fresh"); f.ClientID != demo.ClientID || f.AppID != demo.AppID {
		t.Errorf("fresh flow %+v", f)
	}
}

// A flow the SDK never reports (a team's own web app) is closed by the answer at step 12.
func TestFlowClosedAtStep12(t *testing.T) {
	e := newEnv(t)
	e.happy()
	if rec := e.authorize("silent"); rec.Code != http.StatusOK {
		t.Fatal(rec.Code)
	}
	f, body := e.flow("silent")
	if f.Outcome != contract.OutcomeOK || !strings.Contains(f.Note, "were not reported") {
		t.Errorf("silent flow: %s", body)
	}
	e.do(http.MethodPost, reportPath("_sim", "silent"), `[{"step":13,"actor":"sdk"}]`, nil)
	if f, _ := e.flow("silent"); f.Note != "" {
		t.Errorf("note after a report: %q", f.Note)
	}
	e.host.on(http.MethodPost, demo.AccessTokenPath, ok200(`{"error_code":"`+contract.CodeInvalidAuthCode+`"}`))
	e.authorize("silent-failed")
	if f, _ := e.flow("silent-failed"); f.Outcome != contract.OutcomeFailed || f.ErrorCode != contract.CodeInvalidAuthCode || f.Note == "" {
		t.Errorf("silent failed flow: %+v", f)
	}
}

// Flow-log poisoning: a time JSON cannot write is refused, so the log stays readable, also
// after a restart on the same data.
func TestReportStepsPoisonedTime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "platform.db")
	start := func() (http.Handler, *sqlite.DB) {
		db, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		h, err := platform.New(platform.Config{Store: db, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		return h, db
	}
	do := func(h http.Handler, method, target, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequestWithContext(t.Context(), method, target, strings.NewReader(body))
		req.RemoteAddr = "127.0.0.1:40000"
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	h, db := start()
	do(h, http.MethodPost, "/_sim/flows/good/steps", `[{"step":1,"actor":"sdk"}]`)
	for form := range reportPaths {
		for _, id := range []string{"good", "poison"} {
			rec := do(h, http.MethodPost, reportPath(form, id), `[{"step":2,"actor":"sdk","started_at":"0000-01-01T00:00:00+01:00"}]`)
			if rec.Code != http.StatusBadRequest {
				t.Errorf("%s %s: poisoned time accepted: %d %s", form, id, rec.Code, rec.Body)
			}
		}
	}
	check := func(when string) {
		for _, target := range []string{"/_sim/flows", "/_sim/flows/latest", "/_sim/flows/good"} {
			if rec := do(h, http.MethodGet, target, ""); rec.Code != http.StatusOK {
				t.Errorf("%s: GET %s = %d %s", when, target, rec.Code, rec.Body)
			}
		}
	}
	check("before restart")
	db.Close()
	h, db = start()
	defer db.Close()
	check("after restart")
}

// A flow created by a report is kept as long as one the platform created: the flow log's
// retention counts from the platform's clock, not from the reported times.
func TestReportStepsRetention(t *testing.T) {
	e := newEnv(t)
	if rec := e.do(http.MethodPost, reportPath("api/v1/sim", "old-times"), `[{"step":1,"actor":"sdk","started_at":"2001-01-01T00:00:00Z"}]`, nil); rec.Code != http.StatusOK {
		t.Fatalf("report: %d %s", rec.Code, rec.Body)
	}
	if _, err := e.db.PruneFlows(t.Context(), 100, fixedNow.Add(-24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if rec := e.do(http.MethodGet, "/_sim/flows/old-times", "", nil); rec.Code != http.StatusOK {
		t.Errorf("the reported flow was pruned at once: %d", rec.Code)
	}
}
