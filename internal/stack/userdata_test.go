package stack_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/userdata"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

// vectorKey is PROTOCOL §7.2's example key.
const vectorKey = "u9Qd9wV0Z6Ho9_TzCYyVW_WwBJwL7KvSl4k8fmfaLyE="

// wire records the bodies of the platform's outbound calls: what really crossed the wire.
type wire struct {
	mu        sync.Mutex
	responses map[string][]byte // by URL path: the answer's body
	requests  map[string][]byte // by URL path: the request's body
}

func (w *wire) RoundTrip(r *http.Request) (*http.Response, error) {
	var reqBody []byte
	if r.Body != nil {
		reqBody, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return resp, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	w.mu.Lock()
	defer w.mu.Unlock()
	w.requests[r.URL.Path], w.responses[r.URL.Path] = reqBody, b
	return resp, nil
}

func (w *wire) get(m map[string][]byte, path string) []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return m[path]
}

var maskedValue = regexp.MustCompile(`^[^…]{4}…\[\d+\]$`)

// With encryption on for the demo miniapp (PROTOCOL §7.2), the user data crosses the wire
// encrypted at steps 9 and 10, the miniapp decrypts it, and the flow log shows the
// ciphertext masked.
func TestEncryptedUserDataFlow(t *testing.T) {
	t.Parallel()
	rec := &wire{responses: map[string][]byte{}, requests: map[string][]byte{}}
	st, _ := startStack(t, stackOpts{userDataKey: vectorKey, httpClient: &http.Client{Transport: rec}})
	res, fe := connect(t, newSDK(t, st), sdkstub.Options{User: "alice"})
	mustSucceed(t, res, fe)
	alice := demo.Users[0]
	if me := res.Me; me.Reference != alice.Reference || me.Email != alice.Email || me.FirstName != alice.FirstName {
		t.Fatalf("/api/me = %+v, want alice's fields", me)
	}

	// On the wire: step 9's answer and step 10's body carry one string, which decrypts with
	// the key to alice's data.
	key, _ := userdata.ParseKey(vectorKey)
	var step9 struct {
		UserData json.RawMessage `json:"user_data"`
	}
	if err := json.Unmarshal(rec.get(rec.responses, demo.UserDataPath), &step9); err != nil {
		t.Fatalf("step 9 answer: %v", err)
	}
	var cipher string
	if err := json.Unmarshal(step9.UserData, &cipher); err != nil {
		t.Fatalf("step 9 user_data is %s, want an encrypted string", step9.UserData)
	}
	var step10 map[string]string
	if err := json.Unmarshal(rec.get(rec.requests, demo.AuthTokenPath), &step10); err != nil || len(step10) != 1 || step10["user_data"] != cipher {
		t.Fatalf("step 10 body = %s (%v), want {\"user_data\": <step 9's string>}", rec.get(rec.requests, demo.AuthTokenPath), err)
	}
	plain, err := userdata.Decrypt(key, cipher)
	if err != nil || !strings.Contains(string(plain), `"reference":"`+alice.Reference+`"`) {
		t.Fatalf("ciphertext decrypts to %s, %v", plain, err)
	}

	// In the flow log: the ciphertext masked at steps 9 and 10.
	fl := decode[contract.Flow](t, admin(t, http.MethodGet, st.PlatformURL+"/_sim/flows/"+res.FlowID, nil))
	seen := map[int]bool{}
	for _, s := range fl.Steps {
		var x *contract.Exchange
		switch s.Step {
		case 9:
			x = s.Response
		case 10:
			x = s.Request
		default:
			continue
		}
		var body map[string]any
		if x == nil || json.Unmarshal(x.Body, &body) != nil {
			t.Fatalf("step %d exchange = %+v", s.Step, x)
		}
		if s.Step == 9 && !strings.Contains(s.Note, "user_data is encrypted") {
			t.Errorf("step 9 note %q does not say the user data is encrypted", s.Note)
		}
		v, _ := body["user_data"].(string)
		if !maskedValue.MatchString(v) || strings.Contains(string(x.Body), cipher[:20]) {
			t.Errorf("step %d shows user_data %q, want the ciphertext masked", s.Step, body["user_data"])
		}
		seen[s.Step] = true
	}
	if !seen[9] || !seen[10] {
		t.Fatalf("flow log lacks step 9 or 10: %+v", fl.Steps)
	}
}

// The miniapp refuses user data it cannot decrypt with INVALID_USER_DATA at step 11: a
// different key, or no key at all. A miniapp with a key still accepts unencrypted data from a
// host that does not encrypt.
func TestEncryptedUserDataRefused(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		miniapp  map[string]any // PUT to the miniapp's /_sim/settings
		host     map[string]any // PUT to the host's /_sim/settings
		wantCode string
	}{
		{"miniapp has another key", map[string]any{"user_data_key": userdata.NewKey().Text()}, nil, contract.CodeInvalidUserData},
		{"miniapp has no key", map[string]any{"user_data_key": ""}, nil, contract.CodeInvalidUserData},
		{"host does not encrypt", nil, map[string]any{"encrypted_user_data": map[string]string{}}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			st, _ := startStack(t, stackOpts{userDataKey: vectorKey})
			if c.miniapp != nil {
				admin(t, http.MethodPut, st.MiniappURL+"/_sim/settings", c.miniapp)
			}
			if c.host != nil {
				admin(t, http.MethodPut, st.HostURL+"/_sim/settings", c.host)
			}
			res, fe := connect(t, newSDK(t, st), sdkstub.Options{User: "alice"})
			if c.wantCode == "" {
				mustSucceed(t, res, fe)
				return
			}
			expectFailure(t, res, fe, want{11, contract.PartyMiniapp, c.wantCode})
		})
	}
}
