package platform

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
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

// flowSummary is a flow in the list: contract.Flow without its steps, with its mode and how
// long it took (FlowSummary.DurationMS).
type flowSummary struct {
	ID            string    `json:"id"`
	StartedAt     time.Time `json:"started_at"`
	ClientID      string    `json:"client_id,omitempty"`
	AppID         string    `json:"app_id,omitempty"`
	UserReference string    `json:"user_reference,omitempty"`
	Mode          string    `json:"mode"`
	Outcome       string    `json:"outcome"`
	ErrorCode     string    `json:"error_code,omitempty"`
	DurationMS    float64   `json:"duration_ms"`
}

func summaryOut(f FlowSummary) flowSummary {
	return flowSummary{ID: f.ID, StartedAt: f.StartedAt, ClientID: f.ClientID, AppID: f.AppID, UserReference: f.UserReference,
		Mode: f.Mode, Outcome: f.Outcome, ErrorCode: f.ErrorCode, DurationMS: f.DurationMS}
}

// flowQuery are the query parameters GET /_sim/flows takes; any other is refused, so a
// misspelt filter does not list every flow.
var flowQuery = []string{"limit", "client_id", "app_id", "user_reference", "outcome", "error_code"}

// handleListFlows is GET /_sim/flows → {"flows": [...]}, newest first, without steps. The
// query selects: limit=N (default 20, capped at 500), client_id, app_id, user_reference,
// outcome (ok, failed or running) and error_code, each an exact match; the limit counts the
// flows that match.
func (s *server) handleListFlows() contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		for k := range q {
			if !slices.Contains(flowQuery, k) {
				return invalidField(k, "is not a filter of the flow list (use %s)", strings.Join(flowQuery, ", "))
			}
		}
		f := FlowFilter{Limit: defaultFlowLimit, ClientID: q.Get("client_id"), AppID: q.Get("app_id"),
			UserReference: q.Get("user_reference"), Outcome: q.Get("outcome"), ErrorCode: q.Get("error_code")}
		if v := q.Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return invalidField("limit", "must be a positive integer")
			}
			f.Limit = min(n, maxFlowLimit)
		}
		switch f.Outcome {
		case "", contract.OutcomeOK, contract.OutcomeFailed, contract.OutcomeRunning:
		default:
			return invalidField("outcome", "must be %s, %s or %s", contract.OutcomeOK, contract.OutcomeFailed, contract.OutcomeRunning)
		}
		flows, err := s.store.ListFlows(r.Context(), f)
		if err != nil {
			return err
		}
		out := make([]flowSummary, len(flows))
		for i, f := range flows {
			out[i] = summaryOut(f)
		}
		return contract.EncodeJSON(w, http.StatusOK, map[string]any{"flows": out})
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
		if err := s.explainReplay(r.Context(), &f); err != nil {
			return err
		}
		return writeFlow(w, f)
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
		if err := s.explainReplay(r.Context(), &f); err != nil {
			return err
		}
		return writeFlow(w, f)
	}
}

// explainReplay tells, in the note of a flow's failed step, what another flow that
// submitted the same auth code did to it. The host app revokes what a code issued when the
// code comes again (RFC 6749 §4.1.2, PROTOCOL §6.4), so both flows fail: the one that
// replayed it at step 7 (INVALID_AUTH_CODE), and the one that had redeemed it, whose access
// token no longer works at step 9 (INVALID_ACCESS_TOKEN).
func (s *server) explainReplay(ctx context.Context, f *contract.Flow) error {
	i := slices.IndexFunc(f.Steps, func(st contract.FlowStep) bool {
		return st.Outcome == contract.OutcomeFailed &&
			(st.ErrorCode == contract.CodeInvalidAccessToken || st.ErrorCode == contract.CodeInvalidAuthCode)
	})
	if i < 0 {
		return nil
	}
	others, err := s.store.FlowsSharingCode(ctx, f.ID)
	if err != nil || len(others) == 0 {
		return err
	}
	ids := make([]string, len(others))
	for j, o := range others {
		ids[j] = o.ID
	}
	var why string
	if f.Steps[i].ErrorCode == contract.CodeInvalidAccessToken {
		why = "the host app revoked this flow's tokens because its auth code was submitted again, in flow " + strings.Join(ids, ", ") +
			" (a replayed code revokes what it issued, RFC 6749 §4.1.2): send each auth code to the platform once"
	} else {
		why = "this auth code was also submitted in flow " + strings.Join(ids, ", ") +
			"; submitting it again made the host app revoke the tokens it had issued there (RFC 6749 §4.1.2)"
	}
	st := &f.Steps[i]
	if st.Note != "" {
		st.Note += "; "
	}
	st.Note += why
	return nil
}

// writeFlow answers a flow; a flow that cannot be encoded is an error the route logs and
// answers in its form.
func writeFlow(w http.ResponseWriter, f contract.Flow) error {
	if f.Steps == nil {
		f.Steps = []contract.FlowStep{}
	}
	f.Note = flowNote(f)
	return contract.EncodeJSON(w, http.StatusOK, f)
}

// handleDeleteFlows is DELETE /_sim/flows: empties the flow log → {"deleted": n}.
func (s *server) handleDeleteFlows() contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		n, err := s.store.DeleteFlows(r.Context())
		if err != nil {
			return err
		}
		s.log.InfoContext(r.Context(), "flow log cleared", "flows", n)
		return contract.EncodeJSON(w, http.StatusOK, map[string]int{"deleted": n})
	}
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
