package stack_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/clock"
	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/fault"
	"github.com/boxo-sim/boxo-sim/internal/stack"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

// hostSession signs alice in at the host app and returns a client holding her session
// cookie and the cookie's Max-Age.
func hostSession(t *testing.T, st *stack.Stack) (*http.Client, int) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(st.HostURL+"/auth/v1/login", url.Values{"username": {"alice"}, "password": {"alice-password"}, "return_to": {"/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == "host_session" {
			return c, ck.MaxAge
		}
	}
	t.Fatalf("sign-in: status %d, no host_session cookie", resp.StatusCode)
	return nil, 0
}

// boxoCode gets an auth code for the Boxo client with a signed-in client (PROTOCOL §6.10).
func boxoCode(t *testing.T, st *stack.Stack, c *http.Client) string {
	t.Helper()
	q := url.Values{"client_id": {demo.HostappClientID}, "response_type": {"code"}, "redirect_uri": {st.HostURL + demo.BoxoCallbackPath}, "state": {contract.RandomHex(16)}}
	resp, err := c.Get(st.HostURL + "/auth/v1/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: status %d, location %v", resp.StatusCode, loc)
	}
	return loc.Query().Get("code")
}

// hostCall makes one of the platform's Connect calls to the host and returns its JSON answer.
func hostCall(t *testing.T, method, u, auth, body string) map[string]any {
	t.Helper()
	var payload any
	if body != "" {
		payload = body
	}
	status, b := call(t, method, u, payload, "Authorization", auth,
		contract.HeaderMiniappAppID, demo.AppID, contract.HeaderHostappClientID, demo.ClientID)
	if status != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, u, status, b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// The host app's lifetimes come from the stack's configuration (up --auth-code-ttl,
// --connect-access-ttl, --session-ttl ...): a code and a Connect access token expire after
// the configured time, where the defaults would still hold.
func TestHostLifetimesConfigurable(t *testing.T) {
	t.Parallel()
	basic := demo.TokenPrefix + " " + contract.BasicCredential(demo.HostappClientID, demo.HostappSecret)
	for _, c := range []struct {
		name       string
		lifetimes  stack.Lifetimes
		wait       time.Duration
		maxAge     int
		wantExpiry bool
	}{
		{"configured", stack.Lifetimes{AuthCode: 30 * time.Second, ConnectAccess: 30 * time.Second, Session: 5 * time.Minute}, 31 * time.Second, 300, true},
		{"defaults", stack.Lifetimes{}, 31 * time.Second, 12 * 3600, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			clk := clock.NewFake(time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC))
			st, _ := startStack(t, stackOpts{lifetimes: c.lifetimes, clock: clk})
			var shown struct {
				Lifetimes map[string]int64 `json:"lifetimes"`
			}
			if err := json.Unmarshal(admin(t, http.MethodGet, st.HostURL+"/_sim/settings", nil), &shown); err != nil ||
				shown.Lifetimes["auth_code"] != int64(c.wait/time.Second)-1 && c.wantExpiry || shown.Lifetimes["session"] != int64(c.maxAge) {
				t.Errorf("GET /_sim/settings lifetimes = %v (%v)", shown.Lifetimes, err)
			}
			changed := maps.Clone(shown.Lifetimes)
			changed["id_token"]++
			if status, b := call(t, http.MethodPut, st.HostURL+"/_sim/settings", map[string]any{"lifetimes": changed}); status != http.StatusBadRequest ||
				!strings.Contains(string(b), "--id-token-ttl") {
				t.Errorf("PUT changed lifetimes: %d %s, want 400 naming the flags", status, b)
			}
			admin(t, http.MethodPut, st.HostURL+"/_sim/settings", map[string]any{"lifetimes": shown.Lifetimes}) // unchanged: accepted
			client, maxAge := hostSession(t, st)
			if maxAge != c.maxAge {
				t.Errorf("host_session Max-Age = %d, want %d", maxAge, c.maxAge)
			}

			code := boxoCode(t, st, client)
			clk.Advance(c.wait)
			got := hostCall(t, http.MethodPost, st.HostURL+demo.AccessTokenPath, basic, `{"auth_code":"`+code+`"}`)
			if expired := got["access_token"] == nil; expired != c.wantExpiry {
				t.Fatalf("code redeemed after %s: %v; want expired %t", c.wait, got, c.wantExpiry)
			}

			got = hostCall(t, http.MethodPost, st.HostURL+demo.AccessTokenPath, basic, `{"auth_code":"`+boxoCode(t, st, client)+`"}`)
			access, _ := got["access_token"].(string)
			if access == "" {
				t.Fatalf("fresh code: %v", got)
			}
			clk.Advance(c.wait)
			got = hostCall(t, http.MethodGet, st.HostURL+demo.UserDataPath, demo.TokenPrefix+" "+access, "")
			if expired := got["user_data"] == nil; expired != c.wantExpiry {
				t.Fatalf("user data after %s: %v; want expired %t", c.wait, got, c.wantExpiry)
			}
			if c.wantExpiry && !strings.Contains(got["error_code"].(string), "ACCESS_TOKEN") {
				t.Fatalf("expired access token answered %v", got)
			}
		})
	}
}

// A negative lifetime is refused before anything starts.
func TestHostLifetimeNegative(t *testing.T) {
	t.Parallel()
	_, err := stack.Start(t.Context(), stack.Config{HostAddr: "127.0.0.1:0", PlatformAddr: "127.0.0.1:0", MiniappAddr: "127.0.0.1:0",
		DataDir: t.TempDir(), SigningKey: signingKey(), Lifetimes: stack.Lifetimes{IDToken: -time.Second}})
	if err == nil || !strings.Contains(err.Error(), "IDTokenTTL") {
		t.Fatalf("Start = %v, want an error naming IDTokenTTL", err)
	}
}

// An expire fault moves the clock past the lifetime the stack was started with, so it still
// expires a code or token whose lifetime was made longer than the default.
func TestExpireFaultFollowsConfiguredLifetimes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		f     fault.Fault
		l     stack.Lifetimes
		fails want
	}{
		{"auth code of 2h", fault.Fault{Step: 6, Kind: fault.KindExpire}, stack.Lifetimes{AuthCode: 2 * time.Hour},
			want{7, contract.PartyHostapp, contract.CodeExpiredAuthCode}},
		{"access token of 3h", fault.Fault{Step: 8, Kind: fault.KindExpire}, stack.Lifetimes{ConnectAccess: 3 * time.Hour},
			want{9, contract.PartyHostapp, contract.CodeExpiredAccessToken}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			st, clk := startStack(t, stackOpts{lifetimes: c.l})
			before := clk.Now()
			putFaults(t, st, c.f)
			res, fe := connect(t, newSDK(t, st), sdkstub.Options{User: "carol"})
			expectFailure(t, res, fe, c.fails)
			if moved := clk.Now().Sub(before); moved < c.l.AuthCode+c.l.ConnectAccess {
				t.Fatalf("the clock moved %s", moved)
			}
		})
	}
}

// The stack's trusted proxies (up --trusted-proxies) reach every party's settings; the
// user data key reaches the host's and the miniapp's, masked when shown.
func TestStackDashboardSettings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st, _ := startStack(t, stackOpts{proxies: []string{"10.0.0.0/8", " fd00::/8"}, userDataKey: vectorKey, dataDir: dir})
	for _, u := range []string{st.HostURL, st.PlatformURL, st.MiniappURL} {
		b := string(admin(t, http.MethodGet, u+"/_sim/settings", nil))
		if !strings.Contains(b, `"trusted_proxies":["10.0.0.0/8","fd00::/8"]`) {
			t.Errorf("%s/_sim/settings = %s", u, b)
		}
		if strings.Contains(b, vectorKey[:10]) {
			t.Errorf("%s/_sim/settings shows the key: %s", u, b)
		}
	}
	if b := string(admin(t, http.MethodGet, st.HostURL+"/_sim/settings", nil)); !strings.Contains(b, `"encrypted_user_data":{"`+demo.AppID+`":"u9Qd…[44]"}`) {
		t.Errorf("host settings = %s", b)
	}
	if b := string(admin(t, http.MethodGet, st.MiniappURL+"/_sim/settings", nil)); !strings.Contains(b, `"user_data_key":"u9Qd…[44]"`) {
		t.Errorf("miniapp settings = %s", b)
	}
	_, err := stack.Start(t.Context(), stack.Config{HostAddr: "127.0.0.1:0", PlatformAddr: "127.0.0.1:0", MiniappAddr: "127.0.0.1:0",
		DataDir: t.TempDir(), SigningKey: signingKey(), TrustedProxies: []string{"10.0.0.0/33"}})
	if err == nil || !strings.Contains(err.Error(), "trusted proxies") {
		t.Fatalf("bad trusted proxy: Start = %v", err)
	}
	_, err = stack.Start(t.Context(), stack.Config{HostAddr: "127.0.0.1:0", PlatformAddr: "127.0.0.1:0", MiniappAddr: "127.0.0.1:0",
		DataDir: t.TempDir(), SigningKey: signingKey(), UserDataKey: "short"})
	if err == nil || !strings.Contains(err.Error(), "user data key") {
		t.Fatalf("bad key: Start = %v", err)
	}
}
