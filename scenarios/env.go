package scenarios

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/admin"
	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/fault"
	"github.com/boxo-sim/boxo-sim/internal/seed"
	"github.com/boxo-sim/boxo-sim/internal/stack"
)

// env is where one scenario runs: the three parties' URLs and the HTTP client that drives
// their admin APIs. Every change a scenario makes goes through those APIs, so the same code
// runs against an in-process stack and a running `up`.
type env struct {
	hostURL, platformURL, miniappURL string
	client                           *http.Client
	// remote is true against a running up: what setup changes is put back afterwards, and
	// setup users get a run suffix on their references.
	remote bool
	suffix string            // appended to setup references when remote
	refs   map[string]string // setup reference → the reference used
	undo   []func(context.Context) error
	stubs  []*http.Server

	clocks []string // the party URLs whose clocks move independently (one per clock_id)
}

// partyURL is the base URL of a party.
func (e *env) partyURL(party string) string { return e.stack().URL(party) }

// stack is where the parties are, as the seed package reaches them.
func (e *env) stack() seed.Stack {
	return seed.Stack{HostURL: e.hostURL, PlatformURL: e.platformURL, MiniappURL: e.miniappURL, MiniappPageURL: stack.SiteApart(e.miniappURL)}
}

// ref maps a reference written in the scenario to the one used in this run.
func (e *env) ref(r string) string {
	if m, ok := e.refs[r]; ok {
		return m
	}
	return r
}

// httpError is an admin call that did not answer as it should.
type httpError struct {
	method, url string
	status      int
	body        string
}

func (h *httpError) Error() string {
	return fmt.Sprintf("%s %s answered %d: %s", h.method, h.url, h.status, strings.TrimSpace(h.body))
}

// call sends a JSON request and decodes a JSON answer into out (when not nil). Only a
// transport failure is an error; the status is returned.
func (e *env) call(ctx context.Context, method, u string, in, out any, header ...string) (int, []byte, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, nil, err
		}
		body = bytes.NewReader(b)
	}
	status, b, err := e.send(ctx, method, u, body, append([]string{"Accept", "application/json"}, header...)...)
	if err != nil {
		return status, b, err
	}
	if out != nil && status >= 200 && status < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			return status, b, fmt.Errorf("%s %s answered %d with a body that is not the expected JSON: %v", method, u, status, err)
		}
	}
	return status, b, nil
}

// send sends a request, as JSON when it has a body, with header's names and values set after
// (so they may change the Content-Type), and reads the answer. Only a transport failure is an
// error; the status is returned.
func (e *env) send(ctx context.Context, method, u string, body io.Reader, header ...string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, contract.MaxBodyBytes))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("%s %s: reading the answer: %w", method, u, err)
	}
	return resp.StatusCode, b, nil
}

// admin sends an admin request that must answer 2xx.
func (e *env) admin(ctx context.Context, method, u string, in, out any) error {
	status, b, err := e.call(ctx, method, u, in, out)
	if err != nil {
		return err
	}
	if status < 200 || status > 299 {
		return &httpError{method, u, status, string(b)}
	}
	return nil
}

// restore runs the undo list, newest first, and returns every failure.
func (e *env) restore(ctx context.Context) error {
	var errs []error
	for i := len(e.undo) - 1; i >= 0; i-- {
		if err := e.undo[i](ctx); err != nil {
			errs = append(errs, err)
		}
	}
	e.undo = nil
	for _, s := range e.stubs {
		s.Close()
	}
	e.stubs = nil
	return errors.Join(errs...)
}

func (e *env) onUndo(f func(context.Context) error) {
	if e.remote {
		e.undo = append(e.undo, f)
	}
}

// applySetup puts the scenario's situation in place: the seed part of the setup (the
// parties' settings, users, clients, the Dashboard), stubs, then faults.
func (e *env) applySetup(ctx context.Context, sc *Scenario) error {
	s := sc.Setup
	e.refs = map[string]string{}
	f := s.Seed(nil)
	f.Users = make([]seed.User, len(s.Users))
	existing := map[string]bool{}
	for i, u := range s.Users {
		r := u.Reference
		if e.remote && contract.Len(r)+len(e.suffix) <= contract.MaxReferenceLen {
			r += e.suffix
		}
		e.refs[u.Reference], u.Reference = r, r
		f.Users[i] = u
		if e.remote {
			found, err := e.keepUser(ctx, u.Username)
			if err != nil {
				return fmt.Errorf("setup.users[%d] (%s): %w", i, u.Username, err)
			}
			existing[u.Username] = found
		}
	}
	rs, err := f.Requests(e.stack(), func(u string) bool { return existing[u] })
	if err != nil {
		return err
	}
	for _, r := range rs {
		u := e.partyURL(r.Party) + r.Path
		if r.Replace {
			err = e.admin(ctx, http.MethodPut, u, r.Body, nil)
		} else {
			err = e.merge(ctx, u, r.Body)
		}
		if err != nil {
			return fmt.Errorf("setup.%s: %w", r.What, err)
		}
	}
	hostapps := e.platformURL + "/_sim/hostapps/" + url.PathEscape(demo.ClientID)
	miniapps := e.platformURL + "/_sim/miniapps/" + url.PathEscape(demo.AppID)
	for i, st := range s.Stubs {
		if err := e.stub(ctx, st, hostapps, miniapps); err != nil {
			return fmt.Errorf("setup.stubs[%d]: %w", i, err)
		}
	}
	return e.setFaults(ctx, sc.Faults)
}

// keepUser arranges, against a running up, for a user the setup replaces to be deleted again,
// or its earlier fields put back (its password cannot be read, and is left as the setup set
// it); it reports whether the user exists.
func (e *env) keepUser(ctx context.Context, username string) (bool, error) {
	base := e.hostURL + "/_sim/users/" + url.PathEscape(username)
	var prev seed.UserBody
	status, b, err := e.call(ctx, http.MethodGet, base, nil, &prev)
	switch {
	case err != nil:
		return false, err
	case status == http.StatusNotFound:
		e.onUndo(func(ctx context.Context) error { return e.admin(ctx, http.MethodDelete, base, nil, nil) })
		return false, nil
	case status == http.StatusOK:
		e.onUndo(func(ctx context.Context) error { return e.admin(ctx, http.MethodPut, base, prev, nil) })
		return true, nil
	}
	return false, &httpError{http.MethodGet, base, status, string(b)}
}

// merge PUTs a partial record (the admin APIs merge: absent keys are kept). Against a running
// up it first reads the record, secrets in full, and afterwards puts back the keys it
// changed, or deletes the record it created.
func (e *env) merge(ctx context.Context, u string, patch any) error {
	b, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	var changes map[string]json.RawMessage
	if err := json.Unmarshal(b, &changes); err != nil {
		return err
	}
	if len(changes) == 0 {
		return nil
	}
	if e.remote {
		var prev map[string]json.RawMessage
		status, body, err := e.call(ctx, http.MethodGet, u+"?"+admin.ShowSecretsQuery, nil, &prev)
		switch {
		case err != nil:
			return err
		case status == http.StatusNotFound && !strings.HasSuffix(u, "/_sim/settings"):
			e.onUndo(func(ctx context.Context) error { return e.admin(ctx, http.MethodDelete, u, nil, nil) })
		case status != http.StatusOK:
			return &httpError{http.MethodGet, u, status, string(body)}
		default:
			back := map[string]json.RawMessage{}
			for k := range changes {
				old, ok := prev[k]
				if !ok {
					return fmt.Errorf("cannot put %s back afterwards: the running party keeps it write-only; run this scenario in-process", k)
				}
				back[k] = old
			}
			e.onUndo(func(ctx context.Context) error { return e.admin(ctx, http.MethodPut, u, back, nil) })
		}
	}
	return e.admin(ctx, http.MethodPut, u, changes, nil)
}

// stub serves a canned answer on a local port and points the Dashboard URL of its step there.
func (e *env) stub(ctx context.Context, st Stub, hostapps, miniapps string) error {
	body := []byte(st.Text)
	ctype := "text/plain; charset=utf-8"
	if st.JSON != nil {
		b, err := json.Marshal(st.JSON)
		if err != nil {
			return err
		}
		body, ctype = b, "application/json"
	}
	status := st.Status
	if status == 0 {
		status = http.StatusOK
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, io.LimitReader(r.Body, contract.MaxBodyBytes))
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(status)
		w.Write(body)
	})}
	go srv.Serve(ln)
	e.stubs = append(e.stubs, srv)
	base := "http://" + ln.Addr().String()
	switch {
	case st.Refresh:
		return e.merge(ctx, hostapps, map[string]string{"refresh_token_url": base + demo.RefreshTokenPath})
	case st.Step == 7:
		return e.merge(ctx, hostapps, map[string]string{"access_token_url": base + demo.AccessTokenPath})
	case st.Step == 9:
		return e.merge(ctx, hostapps, map[string]string{"user_data_url": base + demo.UserDataPath})
	}
	return e.merge(ctx, miniapps, map[string]string{"auth_token_url": base + demo.AuthTokenPath})
}

// setFaults puts the faults on their parties' tables, one PUT /_sim/faults per party.
func (e *env) setFaults(ctx context.Context, faults []fault.Fault) error {
	byParty := map[string][]fault.Fault{}
	var order []string
	for _, f := range faults {
		if _, ok := byParty[f.Party]; !ok {
			order = append(order, f.Party)
		}
		byParty[f.Party] = append(byParty[f.Party], f)
	}
	for _, p := range order {
		u := e.partyURL(p) + "/_sim/faults"
		if err := e.admin(ctx, http.MethodPut, u, map[string]any{"faults": byParty[p]}, nil); err != nil {
			return fmt.Errorf("faults: %w", err)
		}
	}
	return nil
}

// clearFaults empties every party's fault table.
func (e *env) clearFaults(ctx context.Context) error {
	var errs []error
	for _, u := range []string{e.hostURL, e.platformURL, e.miniappURL} {
		if err := e.admin(ctx, http.MethodDelete, u+"/_sim/faults", nil, nil); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// clockState is GET /_sim/clock.
type clockState struct {
	Now     time.Time `json:"now"`
	Offset  string    `json:"offset"`
	ClockID string    `json:"clock_id"`
}

// findClocks learns which parties share a clock: parties in one process share one, so the
// clock is moved once, on the platform, unless another party's clock_id differs.
func (e *env) findClocks(ctx context.Context) ([]clockState, error) {
	if e.clocks != nil {
		var states []clockState
		for _, u := range e.clocks {
			var c clockState
			if err := e.admin(ctx, http.MethodGet, u+"/_sim/clock", nil, &c); err != nil {
				return nil, err
			}
			states = append(states, c)
		}
		return states, nil
	}
	seen := map[string]bool{}
	var states []clockState
	for _, u := range []string{e.platformURL, e.hostURL, e.miniappURL} {
		var c clockState
		if err := e.admin(ctx, http.MethodGet, u+"/_sim/clock", nil, &c); err != nil {
			return nil, err
		}
		if seen[c.ClockID] {
			continue
		}
		seen[c.ClockID] = true
		e.clocks = append(e.clocks, u)
		states = append(states, c)
	}
	return states, nil
}

// advanceClock moves every distinct clock forward by d.
func (e *env) advanceClock(ctx context.Context, d time.Duration) error {
	if _, err := e.findClocks(ctx); err != nil {
		return err
	}
	for _, u := range e.clocks {
		if err := e.admin(ctx, http.MethodPost, u+"/_sim/clock", map[string]string{"advance": d.String()}, nil); err != nil {
			return err
		}
	}
	return nil
}

// keepClocks arranges, against a running up, for every clock to be moved back afterwards by
// as much as the scenario moved it (advance_clock actions and expire faults alike).
func (e *env) keepClocks(ctx context.Context) error {
	if !e.remote {
		return nil
	}
	before, err := e.findClocks(ctx)
	if err != nil {
		return err
	}
	e.onUndo(func(ctx context.Context) error {
		after, err := e.findClocks(ctx)
		if err != nil {
			return err
		}
		var errs []error
		for i, u := range e.clocks {
			was, err1 := time.ParseDuration(before[i].Offset)
			is, err2 := time.ParseDuration(after[i].Offset)
			if err1 != nil || err2 != nil || was == is {
				continue
			}
			back := after[i].Now.Add(was - is)
			if err := e.admin(ctx, http.MethodPost, u+"/_sim/clock", map[string]string{"set": back.Format(time.RFC3339Nano)}, nil); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	})
	return nil
}
