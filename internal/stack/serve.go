package stack

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/admin"
	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// requests tracks the requests the stack's parties are serving, so Close can wait for every
// handler to return before it closes the databases, answer the requests still running at the
// grace deadline in their endpoint's form, and say what a second signal cut off.
type requests struct {
	wg      sync.WaitGroup
	mu      sync.Mutex
	running map[*request]struct{}
	cutting atomic.Bool // set at the grace deadline: handlers that return unanswered get a 503 form
}

type request struct {
	party, method, path, flowID string
	start                       time.Time
}

func (r *request) String() string {
	s := r.party + " " + r.method + " " + r.path
	if r.flowID != "" {
		s += " (flow " + r.flowID + ")"
	}
	return s + fmt.Sprintf(", running for %s", time.Since(r.start).Round(time.Millisecond))
}

// Running describes the requests being served, oldest first.
func (q *requests) Running() []string {
	q.mu.Lock()
	rs := make([]*request, 0, len(q.running))
	for r := range q.running {
		rs = append(rs, r)
	}
	q.mu.Unlock()
	sort.Slice(rs, func(i, j int) bool { return rs[i].start.Before(rs[j].start) })
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.String()
	}
	return out
}

// wait waits up to d for every handler to return and reports whether they all did.
func (q *requests) wait(d time.Duration) bool {
	done := make(chan struct{})
	go func() { q.wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// serveParty wraps a party's whole handler: it tracks the request, bounds the time its body
// may take to arrive (bodyTimeout; slow-body clients are cut like slow-header ones), guards
// the simulator's own routes (admin.Guard, for the paths adminPath names) and, when the
// handler returns unanswered after the grace deadline, answers in the endpoint's form.
func (s *Stack) serveParty(party string, h http.Handler, guard *admin.Guard, bodyTimeout time.Duration) http.Handler {
	guarded := guard.Wrap(h, func(r *http.Request) bool { return adminPath(party, r) })
	q := &s.reqs
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q.wg.Add(1)
		defer q.wg.Done()
		rq := &request{party: party, method: r.Method, path: r.URL.Path, flowID: r.Header.Get(contract.HeaderFlowID), start: time.Now()}
		q.mu.Lock()
		q.running[rq] = struct{}{}
		q.mu.Unlock()
		defer func() {
			q.mu.Lock()
			delete(q.running, rq)
			q.mu.Unlock()
		}()

		if bodyTimeout > 0 && r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
			rc := http.NewResponseController(w)
			if rc.SetReadDeadline(time.Now().Add(bodyTimeout)) == nil {
				r.Body = &deadlineBody{ReadCloser: r.Body, clear: func() { _ = rc.SetReadDeadline(time.Time{}) }}
			}
		}
		tw := &trackingWriter{ResponseWriter: w}
		guarded.ServeHTTP(tw, r)
		if !tw.wrote && q.cutting.Load() {
			writeUnavailable(tw, party, r.URL.Path)
		}
	})
}

// adminPath is the one place that says which requests admin.Guard checks (PROTOCOL §2.13):
// the simulator's own routes under /_sim/ on every party, and the platform's console page.
func adminPath(party string, r *http.Request) bool {
	if admin.IsSimPath(r.URL.Path) {
		return true
	}
	return party == Platform && r.URL.Path == "/"
}

// writeUnavailable answers a request whose handler was ended by shutdown, in the form its
// endpoint answers errors in (PROTOCOL §2.3–§2.5, §6.6).
func writeUnavailable(w http.ResponseWriter, party, path string) {
	const msg = "boxo-sim is shutting down: the request was still running at the grace deadline"
	switch {
	case party == Platform && strings.HasPrefix(path, "/api/"):
		e := contract.BoxoError(contract.CodeUnknownError, nil, msg)
		e.Status = http.StatusServiceUnavailable
		contract.WriteEnvelope(w, e)
	case party == Hostapp && strings.HasPrefix(path, "/boxo/connect/"), party == Miniapp && strings.HasPrefix(path, "/boxo/"):
		contract.WriteJSON(w, http.StatusOK, map[string]string{"error_code": contract.CodeUnknownError})
	case party == Hostapp && (strings.HasPrefix(path, "/auth/v1/") || strings.HasPrefix(path, "/v1/oauth/")):
		contract.WriteOAuthError(w, &contract.Error{Code: contract.OAuthServerError, Message: msg, Status: http.StatusServiceUnavailable})
	default:
		contract.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "unavailable", "error_description": msg})
	}
}

// trackingWriter notes whether the handler answered.
type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (t *trackingWriter) WriteHeader(code int) {
	if code >= 200 {
		t.wrote = true
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *trackingWriter) Write(b []byte) (int, error) {
	t.wrote = true
	return t.ResponseWriter.Write(b)
}

// Hijack lets the fault middleware drop the connection (fault kind drop).
func (t *trackingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := t.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("hijacking not supported")
	}
	t.wrote = true
	return hj.Hijack()
}

// Flush passes a flush on.
func (t *trackingWriter) Flush() {
	t.wrote = true
	if f, ok := t.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// deadlineBody clears the connection's read deadline once the body has been read to its end,
// so the deadline never cuts a handler that runs long after reading it (net/http watches the
// connection then). A body cut by the deadline ends its connection: net/http does not reuse
// a connection whose request body was not read.
type deadlineBody struct {
	io.ReadCloser
	once  sync.Once
	clear func()
}

func (d *deadlineBody) Read(p []byte) (int, error) {
	n, err := d.ReadCloser.Read(p)
	if err == io.EOF {
		d.once.Do(d.clear)
	}
	return n, err
}

// newConns tracks a server's connections that have not yet sent a byte. http.Server's
// Shutdown treats them as busy for five seconds (a client's spare keep-alive dial looks like
// that), so Close closes them itself: they carry no request.
type newConns struct {
	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	draining bool
}

func (n *newConns) track(c net.Conn, state http.ConnState) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if state == http.StateNew {
		if n.draining {
			c.Close()
			return
		}
		n.conns[c] = struct{}{}
		return
	}
	delete(n.conns, c)
}

func (n *newConns) drain() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.draining = true
	for c := range n.conns {
		c.Close()
		delete(n.conns, c)
	}
}
