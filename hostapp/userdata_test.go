package hostapp_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/userdata"
)

const vectorKey = "u9Qd9wV0Z6Ho9_TzCYyVW_WwBJwL7KvSl4k8fmfaLyE=" // PROTOCOL §7.2

func (e *env) putSettings(body string) (int, map[string]any) {
	e.t.Helper()
	rec := e.do(call{method: http.MethodPut, path: "/_sim/settings", body: body,
		header: map[string]string{"Content-Type": "application/json"}})
	return rec.Code, jsonBody(e.t, rec)
}

// With encryption on for a miniapp, step 9 answers user_data as a string that decrypts with
// that miniapp's key to the same object the host sends unencrypted (PROTOCOL §7.2); other
// miniapps still get the object.
func TestUserDataEncryptedPerMiniapp(t *testing.T) {
	e := newEnv(t)
	other := userdata.NewKey()
	if code, body := e.putSettings(`{"encrypted_user_data": {"` + demo.AppID + `": "` + vectorKey + `", "app00002": "` + other.Text() + `"}}`); code != http.StatusOK {
		t.Fatalf("PUT settings: %d %v", code, body)
	}
	access, _ := e.tokens(e.boxoCode("alice"))
	got, ok := e.userData(access)["user_data"].(string)
	if !ok {
		t.Fatalf("user_data is not a string: %v", e.userData(access))
	}
	key, _ := userdata.ParseKey(vectorKey)
	plain, err := userdata.Decrypt(key, got)
	if err != nil || string(plain) != `{"reference":"u-1001","email":"alice@example.com"}` {
		t.Fatalf("decrypts to %s, %v", plain, err)
	}
	if again := e.userData(access)["user_data"].(string); again == got {
		t.Fatal("two answers carry the same ciphertext: the IV is not fresh")
	}
	if p, _ := userdata.Decrypt(other, got); string(p) == string(plain) {
		t.Fatal("the other miniapp's key decrypts it too")
	}

	// Switched off: the object again.
	if code, body := e.putSettings(`{"encrypted_user_data": {}}`); code != http.StatusOK {
		t.Fatalf("PUT settings: %d %v", code, body)
	}
	if _, isObj := e.userData(access)["user_data"].(map[string]any); !isObj {
		t.Fatalf("encryption off: user_data = %v, want the object", e.userData(access)["user_data"])
	}
}

func TestEncryptedUserDataSetting(t *testing.T) {
	e := newEnv(t)
	code, body := e.putSettings(`{"encrypted_user_data": {"` + demo.AppID + `": "` + vectorKey + `"}}`)
	shown := body["encrypted_user_data"].(map[string]any)
	if code != http.StatusOK || shown[demo.AppID] != "u9Qd…[44]" {
		t.Fatalf("PUT: %d %v, want the key masked", code, body)
	}
	rec := e.do(call{method: http.MethodGet, path: "/_sim/settings"})
	if strings.Contains(rec.Body.String(), vectorKey[:10]) {
		t.Fatalf("GET shows the key: %s", rec.Body)
	}
	// GET's masked form sent back keeps the key, so a read-modify-write works.
	if code, body := e.putSettings(`{"encrypted_user_data": {"` + demo.AppID + `": "u9Qd…[44]"}}`); code != http.StatusOK {
		t.Fatalf("PUT masked: %d %v", code, body)
	}
	st, err := e.db.GetSettings(t.Context())
	if err != nil || st.UserDataKeys[demo.AppID] != vectorKey {
		t.Fatalf("stored keys after a masked PUT: %v %v", len(st.UserDataKeys), err)
	}
	for _, bad := range []string{
		`{"encrypted_user_data": {"` + demo.AppID + `": "short"}}`,
		`{"encrypted_user_data": {"` + demo.AppID + `": "abcd…[44]"}}`,
		`{"encrypted_user_data": {"": "` + vectorKey + `"}}`,
		`{"encrypted_user_data": ["` + vectorKey + `"]}`,
	} {
		if code, body := e.putSettings(bad); code != http.StatusBadRequest {
			t.Errorf("PUT %s: %d %v, want 400", bad, code, body)
		}
	}
	if st, _ := e.db.GetSettings(t.Context()); st.UserDataKeys[demo.AppID] != vectorKey {
		t.Fatal("a refused PUT changed the stored key")
	}
}

// X-Forwarded-For counts for the IP filter only behind a trusted proxy (PROTOCOL §7.6).
func TestHostTrustedProxies(t *testing.T) {
	e := newEnv(t)
	if code, body := e.putSettings(`{"ip_allowlist": ["198.51.100.0/24"]}`); code != http.StatusOK {
		t.Fatalf("PUT: %d %v", code, body)
	}
	status := func(remote, xff string) int {
		h := map[string]string{"Authorization": "Token x"}
		if xff != "" {
			h["X-Forwarded-For"] = xff
		}
		return e.do(call{method: http.MethodGet, path: demo.UserDataPath, remote: remote, header: h}).Code
	}
	if got := status("10.1.1.1:1", "198.51.100.7"); got != http.StatusForbidden {
		t.Fatalf("no trusted proxies: X-Forwarded-For believed (status %d)", got)
	}
	for _, bad := range []string{`{"trusted_proxies": ["10.0.0.0/33"]}`, `{"trusted_proxies": "10.0.0.0/8"}`} {
		if code, _ := e.putSettings(bad); code != http.StatusBadRequest {
			t.Errorf("PUT %s: %d", bad, code)
		}
	}
	if code, body := e.putSettings(`{"trusted_proxies": ["10.0.0.0/8"]}`); code != http.StatusOK || mustJSON(body["trusted_proxies"]) != `["10.0.0.0/8"]` {
		t.Fatalf("PUT: %d %v", code, body)
	}
	for _, c := range []struct {
		remote, xff string
		want        int
	}{
		{"10.1.1.1:1", "198.51.100.7", http.StatusOK}, // past the filter: the always-200 answer
		{"10.1.1.1:1", "203.0.113.1", http.StatusForbidden},
		{"10.1.1.1:1", "198.51.100.7, 203.0.113.1", http.StatusForbidden},
		{"203.0.113.9:1", "198.51.100.7", http.StatusForbidden},
	} {
		if got := status(c.remote, c.xff); got != c.want {
			t.Errorf("from %s with X-Forwarded-For %q: %d, want %d", c.remote, c.xff, got, c.want)
		}
	}
}
