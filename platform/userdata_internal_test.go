package platform

import (
	"encoding/json"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// TestCheckUserData: each string field is read as JSON reads it (escapes undone, an
// invalid byte replaced), the phone is given back even when another check fails, and a field
// that is not a string is refused by name.
func TestCheckUserData(t *testing.T) {
	for _, c := range []struct {
		in, body, ref, phone, code string
	}{
		{in: `{"reference":"u-1","email":"a@b.c","first_name":"A\u00e9\"x","extra":1}`,
			body: `{"reference":"u-1","email":"a@b.c","first_name":"Aé\"x"}`, ref: "u-1"},
		{in: "{\"reference\":\"u-\xff\",\"phone\":\"+6591234567\",\"last_name\":null}",
			body: `{"reference":"u-` + "\ufffd" + `","phone":"+6591234567"}`, ref: "u-\ufffd", phone: "+6591234567"},
		{in: `{"phone":"12 34","email":"a@b.c"}`, phone: "12 34", code: contract.CodeInvalidUserData},
		{in: `{"reference":"u-1","email":7}`, code: contract.CodeInvalidUserData},
		{in: `"ciphertext"`, body: `{"user_data":"ciphertext"}`},
	} {
		body, ref, phone, cerr := checkUserData(json.RawMessage(c.in), nil)
		code := ""
		if cerr != nil {
			code = cerr.Code
		}
		if string(body) != c.body || ref != c.ref || phone != c.phone || code != c.code {
			t.Errorf("checkUserData(%s)\n = %s, %q, %q, %q\nwant %s, %q, %q, %q", c.in, body, ref, phone, code, c.body, c.ref, c.phone, c.code)
		}
	}
}
