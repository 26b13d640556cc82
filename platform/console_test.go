package platform_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/fault"
	"github.com/boxo-sim/boxo-sim/internal/stack"
	"github.com/boxo-sim/boxo-sim/platform"
)

// HTTP-level tests of what the console reads: the page and its assets, GET /_sim/stack, the
// fault-table proxy and the flow event stream. The browser tests are in
// console_browser_test.go.

func TestConsolePage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *platform.Config) {
		c.Peers = platform.Peers{Hostapp: platform.Peer{URL: "http://127.0.0.1:8081"}, Miniapp: platform.Peer{URL: "http://127.0.0.1:9083", Relayed: true}}
	})
	rec := e.do(http.MethodGet, "/", "", nil)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s\n%s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("GET /: Content-Security-Policy %q", csp)
	}
	body := rec.Body.String()
	for _, want := range []string{
		`id="console-config"`, `src="/_sim/console/console.js"`, `href="/_sim/console/console.css"`,
		`href="http://127.0.0.1:8081/"`,                                   // the host app's card links to it
		"Relayed to a backend not simulated here: it has no fault table.", // the relayed miniapp
	} {
		if !strings.Contains(body, want) {
			t.Errorf("GET / lacks %s", want)
		}
	}
	if strings.Count(body, `data-clear=`) != 2 {
		t.Errorf("GET / should offer Clear for the host app and the platform only:\n%s", body)
	}

	if rec := e.do(http.MethodHead, "/", "", nil); rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("HEAD /: %d with %d bytes", rec.Code, rec.Body.Len())
	}
	if rec := e.do(http.MethodPost, "/", "{}", nil); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d, want 405", rec.Code)
	}
	for path, ctype := range map[string]string{"/_sim/console/console.js": "text/javascript", "/_sim/console/console.css": "text/css"} {
		rec := e.do(http.MethodGet, path, "", nil)
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), ctype) || rec.Body.Len() < 1000 {
			t.Errorf("GET %s: %d %q, %d bytes", path, rec.Code, rec.Header().Get("Content-Type"), rec.Body.Len())
		}
	}
	for _, path := range []string{"/_sim/console/console.html", "/_sim/console/", "/_sim/console/console.png", "/index.html"} {
		rec := e.do(http.MethodGet, path, "", nil)
		if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), `"error":"not_found"`) {
			t.Errorf("GET %s: %d %s, want the JSON 404", path, rec.Code, rec.Body)
		}
	}
}

func TestStackRoute(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *platform.Config) {
		c.Peers = platform.Peers{Hostapp: platform.Peer{URL: "http://127.0.0.1:8081/"}, Miniapp: platform.Peer{URL: "http://127.0.0.1:9083", Relayed: true}}
	})
	rec := e.do(http.MethodGet, "/_sim/stack", "", nil)
	var got platform.StackInfo
	decode(t, rec, &got)
	want := platform.StackInfo{
		Hostapp:  platform.StackParty{URL: "http://127.0.0.1:8081", Mode: platform.ModeSimulated},
		Platform: platform.StackParty{URL: "http://127.0.0.1:8082", Mode: platform.ModeSimulated},
		Miniapp:  platform.StackParty{URL: "http://127.0.0.1:9083", Mode: platform.ModeRelayed},
	}
	if rec.Code != http.StatusOK || got != want {
		t.Errorf("GET /_sim/stack: %d %+v, want %+v", rec.Code, got, want)
	}

	// A platform that was told nothing about its peers says so.
	e = newEnv(t)
	got = platform.StackInfo{}
	decode(t, e.do(http.MethodGet, "/_sim/stack", "", nil), &got)
	if got.Hostapp.Mode != platform.ModeUnknown || got.Hostapp.URL != "" || got.Miniapp.Mode != platform.ModeUnknown {
		t.Errorf("GET /_sim/stack without peers: %+v", got)
	}
}

func TestNewRefusesBadPeers(t *testing.T) {
	t.Parallel()
	for name, peers := range map[string]platform.Peers{
		"not http":         {Hostapp: platform.Peer{URL: "ftp://127.0.0.1:8081"}},
		"relative":         {Miniapp: platform.Peer{URL: "/miniapp"}},
		"with a query":     {Miniapp: platform.Peer{URL: "http://127.0.0.1:8083?x=1"}},
		"relayed, no URL ": {Hostapp: platform.Peer{Relayed: true}},
	} {
		if _, err := platform.New(platform.Config{Store: openDB(t), Peers: peers}); err == nil || !strings.Contains(err.Error(), "Peers") {
			t.Errorf("%s: New answered %v, want an error naming Config.Peers", name, err)
		}
	}
}

// faultsFake is a party's /_sim/faults that records what reached it.
type faultsFake struct {
	srv  *httptest.Server
	mu   sync.Mutex
	got  []*http.Request
	body []string
}

func newFaultsFake(t *testing.T, status int, answer string) *faultsFake {
	f := &faultsFake{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.got = append(f.got, r.Clone(context.Background()))
		f.body = append(f.body, string(b))
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Set-Cookie", "leak=1") // not passed on
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *faultsFake) requests() ([]*http.Request, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*http.Request(nil), f.got...), append([]string(nil), f.body...)
}

func TestPartyFaultsProxy(t *testing.T) {
	t.Parallel()
	const list = `{"faults":[{"id":"f1","party":"hostapp","step":7,"kind":"error_code","error_code":"X","matched":0,"fired":0}]}` + "\n"
	host := newFaultsFake(t, http.StatusOK, list)
	plat := newFaultsFake(t, http.StatusBadRequest, `{"error":"invalid_request","error_description":"kind \"nope\": use one of ..."}`)
	mini := newFaultsFake(t, http.StatusOK, "{}")
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	e := newEnv(t, func(c *platform.Config) {
		c.BaseURL = plat.srv.URL
		c.Peers = platform.Peers{Hostapp: platform.Peer{URL: host.srv.URL}, Miniapp: platform.Peer{URL: mini.srv.URL, Relayed: true}}
	})

	// GET: the answer comes back as the party sent it; Authorization goes as it came.
	rec := e.do(http.MethodGet, "/_sim/parties/hostapp/faults?verbose=1", "", map[string]string{"Authorization": "Bearer admin-token-1", "Cookie": "s=1"})
	if rec.Code != http.StatusOK || rec.Body.String() != list || rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("Set-Cookie") != "" {
		t.Errorf("GET hostapp faults: %d %v %q", rec.Code, rec.Header(), rec.Body)
	}
	got, _ := host.requests()
	if len(got) != 1 || got[0].Method != http.MethodGet || got[0].URL.Path != "/_sim/faults" || got[0].URL.RawQuery != "verbose=1" {
		t.Fatalf("the host app got %d requests: %+v", len(got), got)
	}
	if a := got[0].Header.Get("Authorization"); a != "Bearer admin-token-1" {
		t.Errorf("Authorization forwarded as %q", a)
	}
	if c := got[0].Header.Get("Cookie"); c != "" {
		t.Errorf("Cookie forwarded: %q", c)
	}

	// PUT with a body, and the party's refusal comes back unchanged.
	const put = `{"step":5,"kind":"nope"}`
	rec = e.do(http.MethodPut, "/_sim/parties/platform/faults/", put, nil)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `kind \"nope\"`) {
		t.Errorf("PUT platform faults: %d %s", rec.Code, rec.Body)
	}
	pgot, pbody := plat.requests()
	if len(pgot) != 1 || pgot[0].Method != http.MethodPut || pgot[0].URL.Path != "/_sim/faults" || pbody[0] != put || pgot[0].Header.Get("Content-Type") != "application/json" {
		t.Errorf("the platform's own table got %+v %q", pgot, pbody)
	}

	// DELETE one fault by id.
	rec = e.do(http.MethodDelete, "/_sim/parties/hostapp/faults/f1", "", nil)
	got, _ = host.requests()
	if rec.Code != http.StatusOK || len(got) != 2 || got[1].Method != http.MethodDelete || got[1].URL.Path != "/_sim/faults/f1" {
		t.Errorf("DELETE hostapp fault f1: %d, host got %+v", rec.Code, got)
	}

	for _, c := range []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodGet, "/_sim/parties/miniapp/faults", http.StatusConflict, "not_simulated"}, // relayed: never called
		{http.MethodDelete, "/_sim/parties/miniapp/faults", http.StatusConflict, "not_simulated"},
		{http.MethodGet, "/_sim/parties/sdk/faults", http.StatusNotFound, "not_found"},
		{http.MethodDelete, "/_sim/parties/hostapp/faults/f.1", http.StatusBadRequest, "invalid_request"},
		{http.MethodPost, "/_sim/parties/hostapp/faults", http.StatusMethodNotAllowed, "method_not_allowed"},
	} {
		rec := e.do(c.method, c.path, "", nil)
		var body map[string]string
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		if rec.Code != c.status || body["error"] != c.code || body["error_description"] == "" && c.status != http.StatusMethodNotAllowed {
			t.Errorf("%s %s: %d %s, want %d %s", c.method, c.path, rec.Code, rec.Body, c.status, c.code)
		}
	}
	if got, _ := mini.requests(); len(got) != 0 {
		t.Errorf("the relayed miniapp was called %d times", len(got))
	}

	// A party that does not answer, and a platform that does not know its peers.
	e = newEnv(t, func(c *platform.Config) { c.Peers = platform.Peers{Hostapp: platform.Peer{URL: gone.URL}} })
	if rec := e.do(http.MethodGet, "/_sim/parties/hostapp/faults", "", nil); rec.Code != http.StatusBadGateway || !strings.Contains(rec.Body.String(), gone.URL) {
		t.Errorf("GET the faults of a party that is down: %d %s", rec.Code, rec.Body)
	}
	if rec := e.do(http.MethodGet, "/_sim/parties/miniapp/faults", "", nil); rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "does not know where the miniapp is") {
		t.Errorf("GET the faults of an unknown miniapp: %d %s", rec.Code, rec.Body)
	}
}

// sseEvent is one Server-Sent Event.
type sseEvent struct{ name, data string }

// readEvents reads events from an event stream until it ends.
func readEvents(r io.Reader, out chan<- sseEvent) {
	defer close(out)
	sc := bufio.NewScanner(r)
	var ev sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.name != "" {
				out <- ev
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, "event: "):
			ev.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			ev.data = strings.TrimPrefix(line, "data: ")
		}
	}
}

func nextEvent(t *testing.T, events <-chan sseEvent) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-events:
		if !ok {
			t.Fatal("the event stream ended")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
	}
	return sseEvent{}
}

func TestFlowEvents(t *testing.T) {
	t.Parallel()
	done := make(chan struct{})
	e := newEnv(t, func(c *platform.Config) { c.Done = done })
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)

	resp, err := http.Get(srv.URL + "/_sim/flows/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET /_sim/flows/events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	events := make(chan sseEvent, 16)
	go readEvents(resp.Body, events)
	if ev := nextEvent(t, events); ev.name != "ready" {
		t.Fatalf("first event %+v, want ready", ev)
	}

	// A flow written by anyone (here: steps posted by an SDK) is announced with its summary.
	post := func(id, steps string) {
		t.Helper()
		resp, err := http.Post(srv.URL+"/_sim/flows/"+id+"/steps", "application/json", strings.NewReader(steps))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("post steps: %d", resp.StatusCode)
		}
	}
	post("flow_events_1", `{"app_id":"app16973","steps":[{"step":1,"actor":"sdk","call":"GET settings"}]}`)
	ev := nextEvent(t, events)
	var sum struct {
		ID, AppID, Outcome string
	}
	if err := json.Unmarshal([]byte(ev.data), &sum); err != nil || ev.name != "flow" {
		t.Fatalf("event %+v: %v", ev, err)
	}
	if sum.ID != "flow_events_1" || sum.Outcome != contract.OutcomeRunning || !strings.Contains(ev.data, `"mode":"connect"`) {
		t.Errorf("flow event %s, want flow_events_1 running, mode connect (as GET /_sim/flows lists it)", ev.data)
	}
	post("flow_events_1", `[{"step":3,"actor":"miniapp → sdk","call":"AppBoxoWebAppLogin","outcome":"failed","error_code":"X_TEST"}]`)
	if ev := nextEvent(t, events); ev.name != "flow" || !strings.Contains(ev.data, `"outcome":"failed"`) {
		t.Errorf("second event %+v, want the flow failed", ev)
	}

	// "events" cannot name a flow: it would be hidden behind the stream.
	resp2, err := http.Post(srv.URL+"/_sim/flows/events/steps", "application/json", strings.NewReader(`[]`))
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusBadRequest {
		t.Errorf("posting steps to flow \"events\": %d, want 400", resp2.StatusCode)
	}

	// Shutting down ends the stream.
	close(done)
	select {
	case _, ok := <-events:
		if ok {
			t.Error("an event after Done")
		}
	case <-time.After(5 * time.Second):
		t.Error("the stream did not end when Done was closed")
	}
}

// The same routes through a real stack: the proxy reaches each party's own fault table, a
// relayed party is left alone, and closing the stack is not held up by an open event stream.

func TestConsoleProxyReachesStackFaultTables(t *testing.T) {
	t.Parallel()
	st := startConsoleStack(t)
	for _, party := range []string{contract.PartyHostapp, contract.PartyPlatform, contract.PartyMiniapp} {
		step := map[string]int{contract.PartyHostapp: 7, contract.PartyPlatform: 5, contract.PartyMiniapp: 11}[party]
		req, _ := http.NewRequest(http.MethodPut, st.PlatformURL+"/_sim/parties/"+party+"/faults",
			strings.NewReader(fmt.Sprintf(`{"step":%d,"kind":"status","status":503}`, step)))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := st.Faults(party).List()
		if resp.StatusCode != http.StatusOK || len(got) != 1 || got[0].Step != step || got[0].Kind != fault.KindStatus {
			t.Errorf("%s: PUT through the platform: %d, table %+v", party, resp.StatusCode, got)
		}
		req, _ = http.NewRequest(http.MethodDelete, st.PlatformURL+"/_sim/parties/"+party+"/faults", nil)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := st.Faults(party).List(); resp.StatusCode != http.StatusOK || len(got) != 0 {
			t.Errorf("%s: DELETE through the platform: %d, table %+v", party, resp.StatusCode, got)
		}
	}

	// GET /_sim/stack names the three parties of this stack.
	resp, err := http.Get(st.PlatformURL + "/_sim/stack")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info platform.StackInfo
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		t.Fatal(err)
	}
	want := platform.StackInfo{
		Hostapp:  platform.StackParty{URL: st.HostURL, Mode: platform.ModeSimulated},
		Platform: platform.StackParty{URL: st.PlatformURL, Mode: platform.ModeSimulated},
		Miniapp:  platform.StackParty{URL: st.MiniappURL, Mode: platform.ModeSimulated},
	}
	if info != want {
		t.Errorf("GET /_sim/stack: %+v, want %+v", info, want)
	}
}

func TestConsoleRelayedStack(t *testing.T) {
	t.Parallel()
	real := startConsoleStack(t) // stands in for a team's host backend
	st, err := stack.Start(t.Context(), stack.Config{
		PlatformAddr: "127.0.0.1:0", MiniappAddr: "127.0.0.1:0", Ephemeral: true,
		HostURL: real.HostURL, Relay: stack.Relay{HostappSecret: "a-relay-secret-of-enough-length"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	resp, err := http.Get(st.PlatformURL + "/_sim/stack")
	if err != nil {
		t.Fatal(err)
	}
	var info platform.StackInfo
	err = json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if err != nil || info.Hostapp != (platform.StackParty{URL: real.HostURL, Mode: platform.ModeRelayed}) || info.Miniapp.Mode != platform.ModeSimulated {
		t.Errorf("GET /_sim/stack of a relaying platform: %+v (%v)", info, err)
	}
	req, _ := http.NewRequest(http.MethodPut, st.PlatformURL+"/_sim/parties/hostapp/faults", strings.NewReader(`{"step":7,"kind":"reset"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer not-for-the-backend")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("PUT a fault on a relayed host app: %d, want 409", resp.StatusCode)
	}
	if got := real.Faults(contract.PartyHostapp).List(); len(got) != 0 {
		t.Errorf("the relayed backend's table changed: %+v", got)
	}
}

func TestStackCloseEndsEventStreams(t *testing.T) {
	t.Parallel()
	st := startConsoleStack(t)
	resp, err := http.Get(st.PlatformURL + "/_sim/flows/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	events := make(chan sseEvent, 4)
	go readEvents(resp.Body, events)
	if ev := nextEvent(t, events); ev.name != "ready" {
		t.Fatalf("first event %+v", ev)
	}
	start := time.Now()
	if err := st.Close(); err != nil {
		t.Errorf("Close with an event stream open: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v with an event stream open", d)
	}
}
