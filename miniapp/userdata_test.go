package miniapp_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/userdata"
)

// PROTOCOL §7.2's test vector.
const (
	vectorKey = "u9Qd9wV0Z6Ho9_TzCYyVW_WwBJwL7KvSl4k8fmfaLyE="
	vectorStd = "AAECAwQFBgcICQoLDA0OD2i86XmGKp2dXGjLJmYwvzum4nyE4LSBhRmhGpnVRQVRqcZKtdklxDdAl/6UaEg1Dw=="
	vectorURL = "AAECAwQFBgcICQoLDA0OD2i86XmGKp2dXGjLJmYwvzum4nyE4LSBhRmhGpnVRQVRqcZKtdklxDdAl_6UaEg1Dw=="
)

// putSettings sends PUT /_sim/settings and returns the recorder.
func (e *env) putSettings(body string) *httptest.ResponseRecorder {
	e.t.Helper()
	r := httptest.NewRequest(http.MethodPut, "/_sim/settings", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return e.serve(r)
}

func encryptedBody(t *testing.T, key, plain string) string {
	t.Helper()
	k, err := userdata.ParseKey(key)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{"user_data": userdata.Encrypt(k, []byte(plain))})
	return string(b)
}

func TestAuthTokenDecryptsTheVector(t *testing.T) {
	for _, ct := range []string{vectorStd, vectorURL, strings.TrimRight(vectorURL, "=")} {
		e := newEnv(t)
		if w := e.putSettings(`{"user_data_key": "` + vectorKey + `"}`); w.Code != http.StatusOK {
			t.Fatalf("PUT settings: %d %s", w.Code, w.Body)
		}
		tok := e.login(clientID, `{"user_data": "`+ct+`"}`)
		if me := e.mustMe(tok.AuthToken); me.Reference != "u-42" || me.Email != "user@example.com" {
			t.Fatalf("%s: /api/me = %+v", ct, me)
		}
	}
}

func TestAuthTokenRefusesEncryptedUserData(t *testing.T) {
	other := userdata.NewKey().Text()
	iv := "AAECAwQFBgcICQoLDA0ODw==" // 16 bytes: an IV and no block
	for _, c := range []struct {
		name, key, body string
	}{
		{"no key configured", "", `{"user_data": "` + vectorStd + `"}`},
		{"wrong key", other, `{"user_data": "` + vectorStd + `"}`},
		{"shorter than 32 bytes", vectorKey, `{"user_data": "` + iv + `"}`},
		{"not a multiple of 16", vectorKey, `{"user_data": "` + vectorStd[:len(vectorStd)-8] + `"}`},
		{"not base64", vectorKey, `{"user_data": "not base64!"}`},
		{"user_data an object", vectorKey, `{"user_data": {"reference": "u-42"}}`},
		{"user_data with plain fields", vectorKey, `{"user_data": "` + vectorStd + `", "reference": "u-42"}`},
		{"decrypts to an array", vectorKey, encryptedBody(t, vectorKey, `[1,2]`)},
		{"decrypts to null", vectorKey, encryptedBody(t, vectorKey, `null`)},
		{"decrypts to no JSON", vectorKey, encryptedBody(t, vectorKey, `reference=u-42`)},
		{"decrypts to no reference", vectorKey, encryptedBody(t, vectorKey, `{"email":"a@example.com"}`)},
		{"decrypts to a bad phone", vectorKey, encryptedBody(t, vectorKey, `{"reference":"r","phone":"123"}`)},
		{"decrypts to user_data again", vectorKey, encryptedBody(t, vectorKey, `{"user_data":"x","reference":"r","email":"a@example.com"}`)},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			if c.key != "" {
				if w := e.putSettings(`{"user_data_key": "` + c.key + `"}`); w.Code != http.StatusOK {
					t.Fatalf("PUT settings: %d %s", w.Code, w.Body)
				}
			}
			w := e.serve(authTokenRequest(c.body))
			var resp contract.AuthTokenResponse
			decode(t, w, http.StatusOK, &resp)
			if resp.ErrorCode != contract.CodeInvalidUserData || resp.AuthToken != "" {
				t.Fatalf("answer %s, want error_code %s", w.Body, contract.CodeInvalidUserData)
			}
			if n := len(e.users()); n != 0 {
				t.Fatalf("%d users created", n)
			}
		})
	}
}

func TestUserDataKeySetting(t *testing.T) {
	e := newEnv(t)
	var v map[string]any
	decode(t, e.putSettings(`{"user_data_key": "`+vectorKey+`"}`), http.StatusOK, &v)
	if v["user_data_key"] != "u9Qd…[44]" {
		t.Fatalf("PUT answers user_data_key %v, want it masked", v["user_data_key"])
	}
	r := httptest.NewRequest(http.MethodGet, "/_sim/settings", nil)
	w := e.serve(r)
	if strings.Contains(w.Body.String(), vectorKey[:10]) || !strings.Contains(w.Body.String(), `"user_data_key":"u9Qd…[44]"`) {
		t.Fatalf("GET settings shows %s", w.Body)
	}
	// The masked value sent back keeps the key; a standard-alphabet key is stored in its
	// exchange form.
	decode(t, e.putSettings(`{"user_data_key": "u9Qd…[44]"}`), http.StatusOK, &v)
	if got := e.settings().UserDataKey; got != vectorKey {
		t.Fatalf("after a masked PUT the key is %q", userdata.Mask(got))
	}
	std := "u9Qd9wV0Z6Ho9/TzCYyVW/WwBJwL7KvSl4k8fmfaLyE="
	decode(t, e.putSettings(`{"user_data_key": "`+std+`"}`), http.StatusOK, &v)
	if got := e.settings().UserDataKey; got != vectorKey {
		t.Fatalf("standard-alphabet key stored as %q", userdata.Mask(got))
	}
	for _, bad := range []string{`"short"`, `"` + vectorKey[:40] + `"`, `"abcd…[44]"`, `42`} {
		w := e.putSettings(`{"user_data_key": ` + bad + `}`)
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "user_data_key") {
			t.Errorf("PUT user_data_key %s: %d %s, want 400 naming user_data_key", bad, w.Code, w.Body)
		}
	}
	decode(t, e.putSettings(`{"user_data_key": ""}`), http.StatusOK, &v)
	if e.settings().UserDataKey != "" || v["user_data_key"] != "" {
		t.Fatalf("\"\" did not remove the key: %v", v)
	}
	if strings.Contains(e.logs.String(), vectorKey[:10]) {
		t.Fatal("the key reached the log")
	}
}

// X-Forwarded-For counts for the IP filter only behind a trusted proxy (PROTOCOL §7.6).
func TestMiniappTrustedProxies(t *testing.T) {
	e := newEnv(t)
	if w := e.putSettings(`{"ip_allowlist": ["198.51.100.0/24"]}`); w.Code != http.StatusOK {
		t.Fatalf("PUT: %d %s", w.Code, w.Body)
	}
	status := func(remote, xff string) int {
		r := authTokenRequest(`{"reference":"u-1","email":"a@example.com"}`)
		r.RemoteAddr = remote
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		return e.serve(r).Code
	}
	if got := status("10.1.1.1:1", "198.51.100.7"); got != http.StatusForbidden {
		t.Fatalf("no trusted proxies: X-Forwarded-For believed (status %d)", got)
	}
	if w := e.putSettings(`{"trusted_proxies": ["10.0.0.0/33"]}`); w.Code != http.StatusBadRequest {
		t.Errorf("bad CIDR: %d", w.Code)
	}
	if w := e.putSettings(`{"trusted_proxies": ["10.0.0.0/8"]}`); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"trusted_proxies":["10.0.0.0/8"]`) {
		t.Fatalf("PUT: %d %s", w.Code, w.Body)
	}
	for _, c := range []struct {
		remote, xff string
		want        int
	}{
		{"10.1.1.1:1", "198.51.100.7", http.StatusOK},
		{"10.1.1.1:1", "203.0.113.1", http.StatusForbidden},
		{"203.0.113.9:1", "198.51.100.7", http.StatusForbidden},
	} {
		if got := status(c.remote, c.xff); got != c.want {
			t.Errorf("from %s with X-Forwarded-For %q: %d, want %d", c.remote, c.xff, got, c.want)
		}
	}
}
