package fault_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/fault"
)

func mustAdd(t *testing.T, tb *fault.Table, f fault.Fault) fault.Fault {
	t.Helper()
	got, err := tb.Add(f)
	if err != nil {
		t.Fatalf("Add(%+v): %v", f, err)
	}
	return got
}

func ids(fs []fault.Fault) string {
	var s []string
	for _, f := range fs {
		s = append(s, f.ID)
	}
	return strings.Join(s, ",")
}

func TestAddAssignsIDsAndFillsParty(t *testing.T) {
	tb := fault.NewTable(contract.PartyHostapp)
	a := mustAdd(t, tb, fault.Fault{Step: 7, Kind: fault.KindStatus, Status: 500, ID: "mine", Matched: 9, Fired: 9})
	b := mustAdd(t, tb, fault.Fault{Endpoint: "/boxo/connect/refresh-token", Kind: fault.KindReset})
	if a.ID != "f1" || b.ID != "f2" {
		t.Fatalf("ids %q, %q; want f1, f2", a.ID, b.ID)
	}
	if a.Party != contract.PartyHostapp || b.Party != contract.PartyHostapp {
		t.Errorf("parties %q, %q; want hostapp from the step and from the table", a.Party, b.Party)
	}
	if a.Matched != 0 || a.Fired != 0 {
		t.Errorf("counters given by the caller were kept: %+v", a)
	}
	if got := ids(tb.List()); got != "f1,f2" {
		t.Errorf("List = %s, want f1,f2", got)
	}
}

func TestTablesOfOneStackShareIDs(t *testing.T) {
	ts := fault.NewTables(contract.PartyHostapp, contract.PartyPlatform, contract.PartyMiniapp)
	h := mustAdd(t, ts[0], fault.Fault{Step: 7, Kind: fault.KindReset})
	p := mustAdd(t, ts[1], fault.Fault{Step: 5, Kind: fault.KindReset})
	m := mustAdd(t, ts[2], fault.Fault{Step: 11, Kind: fault.KindReset})
	if h.ID != "f1" || p.ID != "f2" || m.ID != "f3" {
		t.Fatalf("ids %s %s %s, want f1 f2 f3", h.ID, p.ID, m.ID)
	}
	ts[0].Clear()
	if n := mustAdd(t, ts[0], fault.Fault{Step: 7, Kind: fault.KindReset}); n.ID != "f4" {
		t.Fatalf("id after Clear = %s, want f4 (ids are not reused)", n.ID)
	}
}

func TestAddRefusesInvalidFaults(t *testing.T) {
	cases := []struct {
		name string
		f    fault.Fault
		want string
	}{
		{"no kind", fault.Fault{Step: 7}, "needs a kind"},
		{"unknown kind", fault.Fault{Step: 7, Kind: "explode"}, `kind "explode"`},
		{"no step or endpoint", fault.Fault{Party: contract.PartyHostapp, Kind: fault.KindReset}, "step"},
		{"both step and endpoint", fault.Fault{Step: 7, Endpoint: "/x", Kind: fault.KindReset}, "not both"},
		{"step without an endpoint", fault.Fault{Step: 13, Kind: fault.KindReset}, "step 13 cannot carry a fault"},
		{"step of another party", fault.Fault{Step: 11, Kind: fault.KindReset}, "served by miniapp, not hostapp"},
		{"endpoint of another party", fault.Fault{Party: contract.PartyMiniapp, Endpoint: "/api/me", Kind: fault.KindReset}, "for miniapp, not hostapp"},
		{"party contradicts step", fault.Fault{Party: contract.PartyPlatform, Step: 7, Kind: fault.KindReset}, "served by hostapp, not platform"},
		{"relative endpoint", fault.Fault{Endpoint: "boxo/connect/user-data", Kind: fault.KindReset}, "starting with /"},
		{"error_code missing", fault.Fault{Step: 7, Kind: fault.KindErrorCode}, "needs error_code"},
		{"error_code unknown", fault.Fault{Step: 7, Kind: fault.KindErrorCode, ErrorCode: "OOPS"}, "contract §5.1"},
		{"delay zero", fault.Fault{Step: 7, Kind: fault.KindDelay}, "positive delay"},
		{"status 200", fault.Fault{Step: 7, Kind: fault.KindStatus, Status: 200}, "not 200"},
		{"status 1xx", fault.Fault{Step: 7, Kind: fault.KindStatus, Status: 103}, "201 to 599"},
		{"status 600", fault.Fault{Step: 7, Kind: fault.KindStatus, Status: 600}, "201 to 599"},
		{"malformed body", fault.Fault{Step: 7, Kind: fault.KindMalformed, Body: "xml"}, "non-json"},
		{"missing_field without field", fault.Fault{Step: 9, Kind: fault.KindMissingField}, "needs field"},
		{"replay_code elsewhere", fault.Fault{Step: 9, Kind: fault.KindReplayCode}, "step 6"},
		{"expire at a step without expiry", fault.Fault{Step: 11, Kind: fault.KindExpire, Party: contract.PartyMiniapp}, "steps 6, 8 and 14"},
		{"expire at an endpoint without expiry", fault.Fault{Endpoint: "/healthz", Kind: fault.KindExpire}, "nothing there expires"},
		{"error_code on a status fault", fault.Fault{Step: 7, Kind: fault.KindStatus, Status: 500, ErrorCode: "INVALID_AUTH_CODE"}, "error_code does not belong to kind status, which takes only status"},
		{"status on an error_code fault", fault.Fault{Step: 7, Kind: fault.KindErrorCode, ErrorCode: "INVALID_AUTH_CODE", Status: 500}, "status does not belong to kind error_code"},
		{"delay on a reset fault", fault.Fault{Step: 7, Kind: fault.KindReset, Delay: fault.Duration(time.Second)}, "delay does not belong to kind reset, which takes no value"},
		{"field on a malformed fault", fault.Fault{Step: 7, Kind: fault.KindMalformed, Field: "x"}, "field does not belong to kind malformed, which takes only body"},
		{"body on a missing_field fault", fault.Fault{Step: 9, Kind: fault.KindMissingField, Field: "reference", Body: "truncated"}, "body does not belong"},
		{"endpoint the host does not serve", fault.Fault{Endpoint: "/nope", Kind: fault.KindReset}, "does not serve it"},
		{"endpoint of the platform at the host", fault.Fault{Endpoint: "/api/v1/authorize/", Kind: fault.KindReset}, "/boxo/connect/refresh-token"},
		{"field with an empty segment", fault.Fault{Step: 9, Kind: fault.KindMissingField, Field: "user_data..email"}, "without empty segments"},
		{"field with a leading dot", fault.Fault{Step: 9, Kind: fault.KindMissingField, Field: ".email"}, "without empty segments"},
		{"field with a trailing dot", fault.Fault{Step: 9, Kind: fault.KindMissingField, Field: "user_data."}, "without empty segments"},
		{"negative nth", fault.Fault{Step: 7, Kind: fault.KindReset, Nth: -1}, "nth"},
		{"probability above 1", fault.Fault{Step: 7, Kind: fault.KindReset, Probability: 1.5}, "between 0 and 1"},
		{"nth and probability", fault.Fault{Step: 7, Kind: fault.KindReset, Nth: 2, Probability: 0.5}, "not both"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tb := fault.NewTable(contract.PartyHostapp)
			if tc.f.Party == contract.PartyMiniapp && tc.f.Kind == fault.KindExpire {
				tb = fault.NewTable(contract.PartyMiniapp)
			}
			_, err := tb.Add(tc.f)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Add(%+v) = %v, want an error containing %q", tc.f, err, tc.want)
			}
			if n := len(tb.List()); n != 0 {
				t.Fatalf("a refused fault was added: %d in the table", n)
			}
		})
	}
}

func TestServes(t *testing.T) {
	cases := []struct {
		party, path string
		want        bool
	}{
		{contract.PartyHostapp, "/boxo/connect/refresh-token", true},
		{contract.PartyHostapp, "/boxo/connect/refresh-token/", true},
		{contract.PartyHostapp, "/v1/oauth/abc", true},
		{contract.PartyHostapp, "/nope", false},
		{contract.PartyHostapp, "/api/me", false},
		{contract.PartyPlatform, "/api/v1/miniapps/app1/settings", true},
		{contract.PartyPlatform, "/api/v1/authorize", true},
		{contract.PartyPlatform, "/boxo/connect/user-data", false},
		{contract.PartyMiniapp, "/api/auth/refresh", true},
		{contract.PartyMiniapp, "/api/auth", false},
		{"database", "/healthz", false},
	}
	for _, tc := range cases {
		if got := fault.Serves(tc.party, tc.path); got != tc.want {
			t.Errorf("Serves(%s, %s) = %v, want %v", tc.party, tc.path, got, tc.want)
		}
	}
	// Every step's endpoint is served by its party.
	for n, st := range fault.Steps {
		if !fault.Serves(st.Party, st.Endpoint) {
			t.Errorf("step %d: %s does not serve its own endpoint %s", n, st.Party, st.Endpoint)
		}
	}
}

func TestAddAcceptsDottedFieldsAndKnownEndpoints(t *testing.T) {
	tb := fault.NewTable(contract.PartyHostapp)
	for _, f := range []fault.Fault{
		{Step: 9, Kind: fault.KindMissingField, Field: "user_data.email"},
		{Endpoint: "/boxo/connect/refresh-token/", Kind: fault.KindStatus, Status: 502},
		{Step: 7, Kind: fault.KindMalformed}, // body defaults to non-json
	} {
		if _, err := tb.Add(f); err != nil {
			t.Errorf("Add(%+v) = %v", f, err)
		}
	}
}

func TestAddAllIsAllOrNothing(t *testing.T) {
	tb := fault.NewTable(contract.PartyHostapp)
	_, err := tb.AddAll([]fault.Fault{{Step: 7, Kind: fault.KindReset}, {Step: 7, Kind: "nope"}})
	if err == nil || !strings.Contains(err.Error(), "faults[1]") {
		t.Fatalf("AddAll = %v, want an error naming faults[1]", err)
	}
	if n := len(tb.List()); n != 0 {
		t.Fatalf("%d faults added from a refused batch", n)
	}
	added, err := tb.AddAll([]fault.Fault{{Step: 7, Kind: fault.KindReset}, {Step: 9, Kind: fault.KindMissingField, Field: "reference"}})
	if err != nil || ids(added) != "f1,f2" {
		t.Fatalf("AddAll = %v, %v; want f1,f2", ids(added), err)
	}
}

func TestMatchPaths(t *testing.T) {
	cases := []struct {
		party string
		f     fault.Fault
		path  string
		want  bool
	}{
		{contract.PartyHostapp, fault.Fault{Step: 6}, "/boxo/connect/access-token", true},
		{contract.PartyHostapp, fault.Fault{Step: 7}, "/boxo/connect/access-token/", true},
		{contract.PartyHostapp, fault.Fault{Step: 6}, "/boxo/connect/user-data", false},
		{contract.PartyHostapp, fault.Fault{Step: 6}, "/boxo/connect/access-token/x", false},
		{contract.PartyPlatform, fault.Fault{Step: 1}, "/api/v1/miniapps/app16973/settings/", true},
		{contract.PartyPlatform, fault.Fault{Step: 1}, "/api/v1/miniapps/app16973/settings", true},
		{contract.PartyPlatform, fault.Fault{Step: 1}, "/api/v1/miniapps//settings/", false},
		{contract.PartyPlatform, fault.Fault{Step: 5}, "/api/v1/authorize", true},
		{contract.PartyPlatform, fault.Fault{Step: 12}, "/api/v1/authorize/", true},
		{contract.PartyMiniapp, fault.Fault{Endpoint: "/api/auth/refresh/"}, "/api/auth/refresh", true},
		{contract.PartyMiniapp, fault.Fault{Endpoint: "/api/auth/refresh"}, "/api/auth/refresh/", true},
		{contract.PartyMiniapp, fault.Fault{Endpoint: "/api/me"}, "/api/me/refresh", false}, // no prefix match
	}
	for _, tc := range cases {
		tb := fault.NewTable(tc.party)
		tc.f.Kind = fault.KindReset
		mustAdd(t, tb, tc.f)
		if got := len(tb.Match(tc.path)) == 1; got != tc.want {
			t.Errorf("fault %+v on %s: fired %t, want %t", tc.f, tc.path, got, tc.want)
		}
	}
}

func TestNthFiresOnTheNthMatchOnly(t *testing.T) {
	tb := fault.NewTable(contract.PartyHostapp)
	mustAdd(t, tb, fault.Fault{Step: 7, Kind: fault.KindReset, Nth: 2})
	var fired []bool
	for range 4 {
		tb.Match("/boxo/connect/user-data") // does not count
		fired = append(fired, len(tb.Match("/boxo/connect/access-token")) == 1)
	}
	if fmt.Sprint(fired) != "[false true false false]" {
		t.Fatalf("fired = %v, want only the second call", fired)
	}
	f := tb.List()[0]
	if f.Matched != 4 || f.Fired != 1 {
		t.Fatalf("counters matched %d fired %d, want 4 and 1", f.Matched, f.Fired)
	}
}

func TestProbabilityIsDeterministicForASeed(t *testing.T) {
	run := func(seed int64) []bool {
		tb := fault.NewTable(contract.PartyMiniapp)
		mustAdd(t, tb, fault.Fault{Step: 11, Kind: fault.KindReset, Probability: 0.3, Seed: seed})
		var fired []bool
		for range 200 {
			fired = append(fired, len(tb.Match("/boxo/auth-token")) == 1)
		}
		f := tb.List()[0]
		n := 0
		for _, b := range fired {
			if b {
				n++
			}
		}
		if f.Matched != 200 || f.Fired != n {
			t.Fatalf("counters matched %d fired %d, want 200 and %d", f.Matched, f.Fired, n)
		}
		return fired
	}
	a, b, c := run(42), run(42), run(43)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatal("two runs with seed 42 fired differently")
	}
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Fatal("seeds 42 and 43 fired identically")
	}
	// The sequence is the documented one: PCG seeded (seed, 0), fire when Float64() < p.
	rng := rand.New(rand.NewPCG(42, 0))
	n := 0
	for i, got := range a {
		want := rng.Float64() < 0.3
		if got != want {
			t.Fatalf("call %d fired %t, want %t", i+1, got, want)
		}
		if got {
			n++
		}
	}
	if n < 40 || n > 80 {
		t.Fatalf("probability 0.3 fired %d times in 200", n)
	}
}

func TestMatchAppliesFaultsInIDOrder(t *testing.T) {
	tb := fault.NewTable(contract.PartyHostapp)
	for i := range 11 {
		f := fault.Fault{Step: 7, Kind: fault.KindDelay, Delay: fault.Duration(time.Millisecond)}
		if i == 3 {
			f.Step = 8
		}
		mustAdd(t, tb, f)
	}
	if !tb.Delete("f2") || tb.Delete("f2") || tb.Delete("f99") {
		t.Fatal("Delete reports wrongly")
	}
	got := ids(tb.Match("/boxo/connect/access-token"))
	if got != "f1,f3,f5,f6,f7,f8,f9,f10,f11" {
		t.Fatalf("fired %s, want id order without f2 (deleted) and f4 (step 8)", got)
	}
	if f, ok := tb.Get("f4"); !ok || f.Matched != 0 {
		t.Fatalf("f4 = %+v %t, want present and unmatched", f, ok)
	}
	if n := tb.Clear(); n != 10 || len(tb.List()) != 0 {
		t.Fatalf("Clear = %d, then %d left", n, len(tb.List()))
	}
}

func TestMatchIsSafeForConcurrentUse(t *testing.T) {
	tb := fault.NewTable(contract.PartyHostapp)
	mustAdd(t, tb, fault.Fault{Step: 7, Kind: fault.KindReset, Nth: 50})
	var wg sync.WaitGroup
	fired := make(chan int, 100)
	for range 100 {
		wg.Go(func() { fired <- len(tb.Match("/boxo/connect/access-token")) })
	}
	wg.Go(func() { tb.List() })
	wg.Wait()
	close(fired)
	n := 0
	for f := range fired {
		n += f
	}
	if f := tb.List()[0]; n != 1 || f.Matched != 100 || f.Fired != 1 {
		t.Fatalf("fired %d times, counters %+v; want exactly once of 100", n, f)
	}
}

func TestExpireBy(t *testing.T) {
	cases := []struct {
		f    fault.Fault
		want time.Duration
	}{
		{fault.Fault{Step: 6}, 10*time.Minute + time.Second},
		{fault.Fault{Step: 7}, 10*time.Minute + time.Second},
		{fault.Fault{Step: 8}, time.Hour + time.Second},
		{fault.Fault{Step: 14}, time.Hour + time.Second},
		{fault.Fault{Party: contract.PartyHostapp, Endpoint: "/boxo/connect/user-data/"}, time.Hour + time.Second},
		{fault.Fault{Party: contract.PartyHostapp, Endpoint: "/boxo/connect/refresh-token"}, 30*24*time.Hour + time.Second},
		{fault.Fault{Party: contract.PartyMiniapp, Endpoint: "/api/auth/refresh"}, 30*24*time.Hour + time.Second},
		{fault.Fault{Step: 11}, 0},
		{fault.Fault{Party: contract.PartyMiniapp, Endpoint: "/boxo/connect/refresh-token"}, 0},
	}
	for _, tc := range cases {
		if got, ok := fault.ExpireBy(tc.f); got != tc.want || ok != (tc.want != 0) {
			t.Errorf("ExpireBy(%+v) = %v %t, want %v", tc.f, got, ok, tc.want)
		}
	}
}

func TestFaultString(t *testing.T) {
	tb := fault.NewTable(contract.PartyHostapp)
	a := mustAdd(t, tb, fault.Fault{Step: 7, Kind: fault.KindStatus, Status: 502, Nth: 2})
	b := mustAdd(t, tb, fault.Fault{Endpoint: "/boxo/connect/user-data", Kind: fault.KindDelay, Delay: fault.Duration(11 * time.Second), Probability: 0.5, Seed: 7})
	if got, want := a.String(), "f1 hostapp step 7: status 502, call 2 only"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if got, want := b.String(), "f2 hostapp /boxo/connect/user-data: delay 11s, probability 0.5 (seed 7)"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}
