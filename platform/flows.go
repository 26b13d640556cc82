package platform

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// Flow log routes (DESIGN.md "Flow log"), contract.Plain form.

const (
	defaultFlowLimit = 20
	maxFlowLimit     = 500
)

// flowSummary is a flow in the list: contract.Flow without its steps.
type flowSummary struct {
	ID            string    `json:"id"`
	StartedAt     time.Time `json:"started_at"`
	ClientID      string    `json:"client_id,omitempty"`
	AppID         string    `json:"app_id,omitempty"`
	UserReference string    `json:"user_reference,omitempty"`
	Outcome       string    `json:"outcome"`
	ErrorCode     string    `json:"error_code,omitempty"`
}

// handleListFlows is GET /_sim/flows?limit=N → {"flows": [...]}, newest first, without
// steps; limit defaults to 20 and is capped at 500.
func (s *server) handleListFlows() contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		limit := defaultFlowLimit
		if v := r.URL.Query().Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return invalidField("limit", "must be a positive integer")
			}
			limit = min(n, maxFlowLimit)
		}
		flows, err := s.store.ListFlows(r.Context(), limit)
		if err != nil {
			return err
		}
		out := make([]flowSummary, len(flows))
		for i, f := range flows {
			out[i] = flowSummary{ID: f.ID, StartedAt: f.StartedAt, ClientID: f.ClientID, AppID: f.AppID,
				UserReference: f.UserReference, Outcome: f.Outcome, ErrorCode: f.ErrorCode}
		}
		contract.WriteJSON(w, http.StatusOK, map[string]any{"flows": out})
		return nil
	}
}

// handleLatestFlow is GET /_sim/flows/latest: the most recently created flow with steps.
func (s *server) handleLatestFlow() contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		f, err := s.store.LatestFlow(r.Context())
		if errors.Is(err, ErrNotFound) {
			return notFoundErr("no flow has been recorded yet")
		} else if err != nil {
			return err
		}
		writeFlow(w, f)
		return nil
	}
}

// handleGetFlow is GET /_sim/flows/{id}: the flow with its steps ordered by step number,
// then start time.
func (s *server) handleGetFlow() contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := mux.Vars(r)["id"]
		f, err := s.store.GetFlow(r.Context(), id)
		if err != nil {
			return storeErr(err, "flow "+quote(id))
		}
		writeFlow(w, f)
		return nil
	}
}

func writeFlow(w http.ResponseWriter, f contract.Flow) {
	if f.Steps == nil {
		f.Steps = []contract.FlowStep{}
	}
	f.Note = flowNote(f)
	contract.WriteJSON(w, http.StatusOK, f)
}

// masked matches a value contract.Mask already produced.
var masked = regexp.MustCompile(`^[^…]{0,4}…\[\d+\]$`)

// remask masks an exchange posted by someone else: credentials in headers, secret keys in
// JSON bodies and token-looking runs in text, leaving values that are already masked.
func remask(x *contract.Exchange) *contract.Exchange {
	if x == nil {
		return nil
	}
	out := &contract.Exchange{Text: maskText([]byte(x.Text))}
	if len(x.Headers) > 0 {
		h, keep := http.Header{}, map[string]string{}
		for k, v := range x.Headers {
			if _, cred, ok := strings.Cut(v, " "); ok && masked.MatchString(cred) || masked.MatchString(v) {
				keep[k] = v
				continue
			}
			h.Set(k, v)
		}
		out.Headers = contract.MaskHeaders(h)
		for k, v := range keep {
			out.Headers[k] = v
		}
	}
	if len(x.Body) > 0 {
		var v any
		if err := json.Unmarshal(x.Body, &v); err == nil {
			if b, err := json.Marshal(remaskValue(v)); err == nil {
				out.Body = b
			}
		}
	}
	return out
}

func remaskValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if s, ok := x.(string); ok && contract.SecretKeys[k] {
				if !masked.MatchString(s) {
					t[k] = contract.Mask(s)
				}
				continue
			}
			t[k] = remaskValue(x)
		}
	case []any:
		for i := range t {
			t[i] = remaskValue(t[i])
		}
	}
	return v
}
