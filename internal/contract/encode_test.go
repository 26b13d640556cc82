package contract

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestEncodeFailureIsLoggedAndAnsweredInForm: an answer that cannot be encoded is logged
// and answered in the route's form, not as text.
func TestEncodeFailureIsLoggedAndAnsweredInForm(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	h := Plain(log)(func(w http.ResponseWriter, r *http.Request) error {
		return EncodeJSON(w, http.StatusOK, map[string]float64{"duration_ms": math.Inf(1)})
	})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/_sim/flows/x", nil))
	var body map[string]string
	if rec.Code != http.StatusInternalServerError || rec.Header().Get("Content-Type") != "application/json" ||
		json.Unmarshal(rec.Body.Bytes(), &body) != nil || body["error"] != "internal_error" {
		t.Fatalf("answer %d %q %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	if !strings.Contains(logs.String(), "encode answer") || !strings.Contains(logs.String(), "/_sim/flows/x") {
		t.Fatalf("not logged: %s", logs.String())
	}
}
