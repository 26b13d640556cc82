package sqlite

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/platform"
)

func openTestDB(t testing.TB) *DB {
	t.Helper()
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "platform.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func hostApp(id string) platform.HostApp {
	return platform.HostApp{ClientID: id, Name: "H " + id, ConnectEnabled: true, AccessTokenURL: "http://h/a", UserDataURL: "http://h/u",
		HostappClientID: "hc", HostappSecretKey: "hs", TokenPrefix: "Token", UserDataMethod: "GET", IPAllowlist: []string{"127.0.0.0/8"}, LegacyLogin: true}
}

func miniapp(id string) platform.Miniapp {
	return platform.Miniapp{AppID: id, Name: "M " + id, URL: "http://m/", AuthTokenURL: "http://m/t", SecretKey: "ms",
		RequiredFields: []string{"email", "phone"}, IPAllowlist: []string{"::1/128"},
		ConsentLinks: []contract.ConsentLink{{Title: "Terms", URL: "https://m/terms"}}}
}

func put(t *testing.T, db *DB, h platform.HostApp, m platform.Miniapp) {
	t.Helper()
	ctx := t.Context()
	if _, _, err := db.UpdateHostApp(ctx, h.ClientID, func(platform.HostApp, bool) (platform.HostApp, error) { return h, nil }); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.UpdateMiniapp(ctx, m.AppID, func(platform.Miniapp, bool) (platform.Miniapp, error) { return m, nil }); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.UpdatePartnership(ctx, h.ClientID, m.AppID, func(p platform.Partnership, _ bool) (platform.Partnership, error) {
		p.ConnectEnabled = true
		return p, nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestRegistryRoundTrip(t *testing.T) {
	db := openTestDB(t)
	ctx := t.Context()
	h, m := hostApp("h1"), miniapp("m1")
	put(t, db, h, m)
	if got, err := db.GetHostApp(ctx, "h1"); err != nil || !reflect.DeepEqual(got, h) {
		t.Errorf("host app = %+v, %v", got, err)
	}
	if got, err := db.GetMiniapp(ctx, "m1"); err != nil || !reflect.DeepEqual(got, m) {
		t.Errorf("miniapp = %+v, %v", got, err)
	}
	if got, err := db.GetPartnership(ctx, "h1", "m1"); err != nil || !got.ConnectEnabled || got.DirectEnabled {
		t.Errorf("partnership = %+v, %v", got, err)
	}
	for name, err := range map[string]error{
		"host":        errOf(db.GetHostApp(ctx, "nope")),
		"miniapp":     errOf(db.GetMiniapp(ctx, "nope")),
		"partnership": errOf(db.GetPartnership(ctx, "h1", "nope")),
		"consent":     errOf(db.GetConsent(ctx, "h1", "m1", "u")),
		"tokens":      errOf(db.GetHostTokens(ctx, "h1", "m1", "u")),
		"flow":        errOf(db.GetFlow(ctx, "nope")),
		"latest":      errOf(db.LatestFlow(ctx)),
		"delete":      db.DeleteHostApp(ctx, "nope"),
	} {
		if !errors.Is(err, platform.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		}
	}
	// A partnership needs both sides.
	_, _, err := db.UpdatePartnership(ctx, "h1", "ghost", func(p platform.Partnership, _ bool) (platform.Partnership, error) { return p, nil })
	if !errors.Is(err, platform.ErrNotFound) {
		t.Errorf("partnership with a missing miniapp: %v", err)
	}
	// An updater's error aborts the update unchanged.
	boom := errors.New("boom")
	if _, _, err := db.UpdateHostApp(ctx, "h1", func(platform.HostApp, bool) (platform.HostApp, error) { return platform.HostApp{}, boom }); err != boom {
		t.Errorf("updater error = %v", err)
	}
	if got, _ := db.GetHostApp(ctx, "h1"); !reflect.DeepEqual(got, h) {
		t.Errorf("aborted update changed the record: %+v", got)
	}
}

func errOf[T any](_ T, err error) error { return err }

func TestDeleteCascades(t *testing.T) {
	db := openTestDB(t)
	ctx := t.Context()
	put(t, db, hostApp("h1"), miniapp("m1"))
	put(t, db, hostApp("h2"), miniapp("m2"))
	for _, p := range [][2]string{{"h1", "m1"}, {"h2", "m2"}} {
		err := db.RecordFlow(ctx, platform.FlowRecord{FlowID: "f-" + p[0], StartedAt: t0,
			HostTokens: &platform.HostTokens{ClientID: p[0], AppID: p[1], Reference: "u", AccessToken: "a", RefreshToken: "r", UpdatedAt: t0},
			Consent:    &platform.Consent{ClientID: p[0], AppID: p[1], UserReference: "u", Fields: []string{"email"}, GrantedAt: t0}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := db.DeleteHostApp(ctx, "h1"); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(errOf(db.GetPartnership(ctx, "h1", "m1")), platform.ErrNotFound) ||
		!errors.Is(errOf(db.GetConsent(ctx, "h1", "m1", "u")), platform.ErrNotFound) ||
		!errors.Is(errOf(db.GetHostTokens(ctx, "h1", "m1", "u")), platform.ErrNotFound) {
		t.Error("host app delete left partnership, consent or tokens behind")
	}
	if err := db.DeleteMiniapp(ctx, "m2"); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(errOf(db.GetPartnership(ctx, "h2", "m2")), platform.ErrNotFound) ||
		!errors.Is(errOf(db.GetConsent(ctx, "h2", "m2", "u")), platform.ErrNotFound) ||
		!errors.Is(errOf(db.GetHostTokens(ctx, "h2", "m2", "u")), platform.ErrNotFound) {
		t.Error("miniapp delete left partnership, consent or tokens behind")
	}
	if _, err := db.GetFlow(ctx, "f-h1"); err != nil {
		t.Errorf("the flow log is history and stays: %v", err)
	}
}

// TestUpdateIsAtomic: concurrent read-modify-writes of one record lose no update.
func TestUpdateIsAtomic(t *testing.T) {
	db := openTestDB(t)
	put(t, db, hostApp("h1"), miniapp("m1"))
	const n = 20
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, _, err := db.UpdateHostApp(t.Context(), "h1", func(h platform.HostApp, exists bool) (platform.HostApp, error) {
				h.Name += "x"
				return h, nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	h, _ := db.GetHostApp(t.Context(), "h1")
	if want := "H h1" + strings.Repeat("x", n); h.Name != want {
		t.Errorf("name = %q after %d appends", h.Name, n)
	}
}

func step(n int, outcome, code string, at time.Time) contract.FlowStep {
	return contract.FlowStep{Step: n, Actor: "a", Call: "c", StartedAt: at, Outcome: outcome, ErrorCode: code,
		Request: &contract.Exchange{Headers: map[string]string{"X": "y"}, Body: []byte(`{"k":1}`)}}
}

func TestRecordFlowOutcome(t *testing.T) {
	db := openTestDB(t)
	ctx := t.Context()
	rec := func(steps ...contract.FlowStep) contract.Flow {
		t.Helper()
		if err := db.RecordFlow(ctx, platform.FlowRecord{FlowID: "f", StartedAt: t0.Add(time.Minute), Steps: steps}); err != nil {
			t.Fatal(err)
		}
		f, err := db.GetFlow(ctx, "f")
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	f := rec(step(1, "ok", "", t0))
	if f.Outcome != contract.OutcomeRunning || !f.StartedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("after step 1: %+v", f)
	}
	if err := db.RecordFlow(ctx, platform.FlowRecord{FlowID: "f", ClientID: "c", StartedAt: t0}); err != nil {
		t.Fatal(err)
	}
	f = rec(step(16, "ok", "", t0.Add(3*time.Second)))
	if f.Outcome != contract.OutcomeOK || !f.StartedAt.Equal(t0) || f.ClientID != "c" {
		t.Errorf("after step 16: %+v", f)
	}
	// The first failing step by number wins, whatever the insertion order.
	f = rec(step(11, "failed", "LATER", t0.Add(time.Second)), step(7, "failed", "FIRST", t0.Add(2*time.Second)))
	if f.Outcome != contract.OutcomeFailed || f.ErrorCode != "FIRST" {
		t.Errorf("after failures: %s/%s", f.Outcome, f.ErrorCode)
	}
	var order []int
	for _, s := range f.Steps {
		order = append(order, s.Step)
	}
	if !reflect.DeepEqual(order, []int{1, 7, 11, 16}) {
		t.Errorf("order = %v", order)
	}
	if s := f.Steps[0]; string(s.Request.Body) != `{"k":1}` || s.Request.Headers["X"] != "y" || s.Response != nil {
		t.Errorf("exchange round trip: %+v", s)
	}
}

// TestRecordFlowConcurrent: many writers on one flow and on separate flows, under -race.
func TestRecordFlowConcurrent(t *testing.T) {
	db := openTestDB(t)
	const writers, per = 8, 10
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range per {
				steps := []contract.FlowStep{step(1+i%16, "ok", "", t0), step(2, "ok", "", t0)}
				for _, id := range []string{"shared", fmt.Sprintf("own-%d", w)} {
					if err := db.RecordFlow(t.Context(), platform.FlowRecord{FlowID: id, StartedAt: t0, Steps: steps,
						HostTokens: &platform.HostTokens{ClientID: "c", AppID: "a", Reference: "u", AccessToken: fmt.Sprint(w, i), UpdatedAt: t0}}); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	f, err := db.GetFlow(t.Context(), "shared")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Steps) != writers*per*2 {
		t.Errorf("shared flow has %d steps, want %d", len(f.Steps), writers*per*2)
	}
	flows, err := db.ListFlows(t.Context(), platform.FlowFilter{Limit: 500})
	if err != nil || len(flows) != writers+1 {
		t.Errorf("%d flows, %v", len(flows), err)
	}
	if flows[0].Steps != nil {
		t.Error("ListFlows returned steps")
	}
}

// TestRecordFlowManySteps: a record with more steps than one INSERT writes keeps every step,
// in the order given, with its exchange and violations, for a new flow and an existing one.
func TestRecordFlowManySteps(t *testing.T) {
	db := openTestDB(t)
	ctx := t.Context()
	var steps []contract.FlowStep
	for i := range 2*stepsPerInsert + 5 {
		st := step(6, "ok", "", t0)
		st.Note = fmt.Sprint("n", i)
		if i%7 == 0 {
			st.Violations = []string{fmt.Sprint("PROTOCOL §2.", i)}
		}
		steps = append(steps, st)
	}
	for round, want := range []int{len(steps), 2 * len(steps)} {
		if err := db.RecordFlow(ctx, platform.FlowRecord{FlowID: "many", StartedAt: t0, Steps: steps}); err != nil {
			t.Fatal(err)
		}
		f, err := db.GetFlow(ctx, "many")
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Steps) != want {
			t.Fatalf("round %d: %d steps, want %d", round, len(f.Steps), want)
		}
		for i, s := range f.Steps {
			src := steps[i%len(steps)]
			if s.Note != src.Note || !reflect.DeepEqual(s.Violations, src.Violations) || string(s.Request.Body) != `{"k":1}` {
				t.Fatalf("round %d: step %d = %+v, want note %s violations %v", round, i, s, src.Note, src.Violations)
			}
		}
	}
}
