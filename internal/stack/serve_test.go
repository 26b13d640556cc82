package stack

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// TestUnavailableAnswersInTheEndpointsForm: a request ended by shutdown is answered as its
// endpoint answers errors (PROTOCOL §2.3–§2.5, §6.6).
func TestUnavailableAnswersInTheEndpointsForm(t *testing.T) {
	cases := []struct {
		party, path string
		status      int
		key, value  string
	}{
		{Platform, "/api/v1/authorize/", 503, "error_code", contract.CodeUnknownError},
		{Hostapp, "/boxo/connect/access-token", 200, "error_code", contract.CodeUnknownError},
		{Miniapp, "/boxo/auth-token", 200, "error_code", contract.CodeUnknownError},
		{Hostapp, "/auth/v1/token", 503, "error", contract.OAuthServerError},
		{Miniapp, "/api/me", 503, "error", "unavailable"},
		{Platform, "/_sim/flows", 503, "error", "unavailable"},
	}
	for _, tc := range cases {
		rec := httptest.NewRecorder()
		writeUnavailable(rec, tc.party, tc.path)
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != tc.status || body[tc.key] != tc.value {
			t.Errorf("%s %s: %d %s, want %d with %s %s", tc.party, tc.path, rec.Code, rec.Body, tc.status, tc.key, tc.value)
		}
	}
}
