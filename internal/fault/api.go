package fault

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// List is the body of GET /_sim/faults and of PUT's answer; PUT also takes it.
type List struct {
	Faults []Fault `json:"faults"`
}

// Handler serves a party's fault table over HTTP, in the simulator's plain JSON form
// (errors are {"error", "error_description"}), with and without a trailing slash:
//
//	GET    /_sim/faults       → 200 {"faults": [Fault...]} in id order, with counters
//	PUT    /_sim/faults       body: a Fault, or {"faults": [Fault...]}; all or none are added
//	                          → 200 {"faults": [the added faults, with ids]}
//	                          → 400 invalid_request saying what was wrong (bad JSON, an unknown
//	                            key, a fault that fails Validate, a fault of another party)
//	DELETE /_sim/faults       → 200 {"cleared": n}
//	DELETE /_sim/faults/{id}  → 200 {"deleted": id}, or 404 not_found
//
// Other paths answer 404 and other methods 405, in JSON.
func Handler(t *Table, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	plain := contract.Plain(log)
	r := mux.NewRouter()
	r.NotFoundHandler, r.MethodNotAllowedHandler = contract.NotFound(), contract.MethodNotAllowed()
	for _, p := range []string{"/_sim/faults", "/_sim/faults/"} {
		r.Handle(p, plain(handleList(t))).Methods(http.MethodGet)
		r.Handle(p, plain(handleAdd(t))).Methods(http.MethodPut)
		r.Handle(p, plain(handleClear(t))).Methods(http.MethodDelete)
	}
	for _, p := range []string{"/_sim/faults/{id}", "/_sim/faults/{id}/"} {
		r.Handle(p, plain(handleDelete(t))).Methods(http.MethodDelete)
	}
	return r
}

func handleList(t *Table) contract.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) error {
		contract.WriteJSON(w, http.StatusOK, List{Faults: t.List()})
		return nil
	}
}

func handleAdd(t *Table) contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var raw json.RawMessage
		if err := contract.DecodeJSON(w, r, &raw, contract.OAuthInvalidRequest); err != nil {
			return err
		}
		fs, err := decodeFaults(raw)
		if err != nil {
			return contract.Errorf(contract.OAuthInvalidRequest, "%v", err)
		}
		added, err := t.AddAll(fs)
		if errors.Is(err, ErrTableFull) {
			return &contract.Error{Code: "fault_table_full", Message: err.Error(), Status: http.StatusConflict}
		}
		if err != nil {
			return contract.Errorf(contract.OAuthInvalidRequest, "%v", err)
		}
		contract.WriteJSON(w, http.StatusOK, List{Faults: added})
		return nil
	}
}

// decodeFaults reads a Fault or {"faults": [...]}, refusing unknown keys.
func decodeFaults(raw []byte) ([]Fault, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("the body must be a fault object or {\"faults\": [...]}")
	}
	strict := func(dst any) error {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		return dec.Decode(dst)
	}
	if _, ok := probe["faults"]; ok {
		var l List
		if err := strict(&l); err != nil {
			return nil, fmt.Errorf("faults: %v", err)
		}
		return l.Faults, nil
	}
	var f Fault
	if err := strict(&f); err != nil {
		return nil, fmt.Errorf("fault: %v", err)
	}
	return []Fault{f}, nil
}

func handleClear(t *Table) contract.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) error {
		contract.WriteJSON(w, http.StatusOK, map[string]int{"cleared": t.Clear()})
		return nil
	}
}

func handleDelete(t *Table) contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := mux.Vars(r)["id"]
		if !t.Delete(id) {
			return &contract.Error{Code: "not_found", Message: fmt.Sprintf("the %s has no fault %q: GET /_sim/faults lists them", t.party, id), Status: http.StatusNotFound}
		}
		contract.WriteJSON(w, http.StatusOK, map[string]string{"deleted": id})
		return nil
	}
}
