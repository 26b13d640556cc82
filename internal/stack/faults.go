package stack

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/boxo-sim/boxo-sim/internal/clock"
	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/fault"
)

// Faults returns the fault table of a party started by this stack, or nil for a party not
// started here. Faults added to it apply to the party's next requests, as faults PUT to the
// party's /_sim/faults do.
func (s *Stack) Faults(party string) *fault.Table {
	return s.faults[party]
}

// ClockID identifies the stack's clock in GET /_sim/clock: parties that answer the same id
// share one clock, so moving it once moves them all, even across stacks.
func (s *Stack) ClockID() string { return s.Clock.ID() }

// ClockState is the body of GET and POST /_sim/clock.
type ClockState struct {
	Now time.Time `json:"now"`
	// Offset is how far the clock is from real time, as a Go duration ("1h0m0s"), and
	// OffsetText the same for people ("1d 2h 3m 4s", clock.FormatDuration).
	Offset     string `json:"offset"`
	OffsetText string `json:"offset_text"`
	ClockID    string `json:"clock_id"`
}

// ClockChange is the body of POST /_sim/clock: exactly one of Advance (a Go duration such as
// "11m"; negative moves back), Set (RFC 3339) and Reset (back to real time).
type ClockChange struct {
	Advance string `json:"advance,omitempty"`
	Set     string `json:"set,omitempty"`
	Reset   bool   `json:"reset,omitempty"`
}

// withFaults wraps a party's handler: /_sim/faults and /_sim/clock are answered here, before
// the party's router (so no fault can lock them out); every other request passes through the
// party's fault table (fault.Middleware). Start calls it once per party, before serving.
func (s *Stack) withFaults(party string, h http.Handler, log *slog.Logger) http.Handler {
	if s.faults == nil {
		s.faults = map[string]*fault.Table{}
		for i, t := range fault.NewTables(s.Started...) {
			t.SetLifetimes(s.lifetimes)
			s.faults[s.Started[i]] = t
		}
	}
	t := s.faults[party]
	admin := mux.NewRouter()
	admin.NotFoundHandler, admin.MethodNotAllowedHandler = contract.NotFound(), contract.MethodNotAllowed()
	plain := contract.Plain(log)
	for _, p := range []string{"/_sim/clock", "/_sim/clock/"} {
		admin.Handle(p, plain(handleGetClock(s.Clock))).Methods(http.MethodGet)
		admin.Handle(p, plain(handlePostClock(s.Clock))).Methods(http.MethodPost)
	}
	admin.Handle("/_sim/process", plain(handleProcess())).Methods(http.MethodGet)
	faults := fault.Handler(t, log)
	admin.PathPrefix("/_sim/faults").Handler(faults)
	faulty := fault.Middleware(party, t, s.Clock, h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isControlPath(r.URL.Path) {
			admin.ServeHTTP(w, r)
			return
		}
		faulty.ServeHTTP(w, r)
	})
}

func isControlPath(p string) bool {
	for _, c := range []string{"/_sim/faults", "/_sim/clock", "/_sim/process"} {
		if p == c || strings.HasPrefix(p, c+"/") {
			return true
		}
	}
	return false
}

func clockState(clk *clock.Clock) ClockState {
	off := clk.Offset().Round(time.Millisecond)
	return ClockState{Now: clk.Now(), Offset: off.String(), OffsetText: clock.FormatDuration(off), ClockID: clk.ID()}
}

func handleGetClock(clk *clock.Clock) contract.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) error {
		contract.WriteJSON(w, http.StatusOK, clockState(clk))
		return nil
	}
}

func handlePostClock(clk *clock.Clock) contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var raw json.RawMessage
		if err := contract.DecodeJSON(w, r, &raw, contract.OAuthInvalidRequest); err != nil {
			return err
		}
		var c ClockChange
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return contract.Errorf(contract.OAuthInvalidRequest, `the body must be {"advance": "11m"} or {"set": "2030-01-01T09:00:00Z"}: %v`, err)
		}
		switch {
		case (c.Advance != "" && c.Set != "") || (c.Reset && (c.Advance != "" || c.Set != "")):
			return contract.Errorf(contract.OAuthInvalidRequest, "give only one of advance, set and reset, not both")
		case c.Reset:
			clk.Reset()
		case c.Advance != "":
			d, err := time.ParseDuration(c.Advance)
			if err != nil {
				return contract.Errorf(contract.OAuthInvalidRequest, "advance %q is not a duration such as 11m or 1h30m", c.Advance)
			}
			if err := clk.Advance(d); err != nil {
				return contract.Errorf(contract.OAuthInvalidRequest, "advance %q refused: %v; the clock did not move", c.Advance, err)
			}
		case c.Set != "":
			t, err := time.Parse(time.RFC3339Nano, c.Set)
			if err != nil {
				return contract.Errorf(contract.OAuthInvalidRequest, "set %q is not an RFC 3339 time such as 2030-01-01T09:00:00Z", c.Set)
			}
			if err := clk.Set(t); err != nil {
				return contract.Errorf(contract.OAuthInvalidRequest, "set %q refused: %v; the clock did not move", c.Set, err)
			}
		default:
			return contract.Errorf(contract.OAuthInvalidRequest, `give advance (a duration such as "11m"), set (an RFC 3339 time) or reset (true)`)
		}
		contract.WriteJSON(w, http.StatusOK, clockState(clk))
		return nil
	}
}
