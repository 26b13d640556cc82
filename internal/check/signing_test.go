package check_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/check"
	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/stack"
)

// The simulated host app and miniapp, with signing on, pass the signing plan; with signing
// off the refusals fail.
func TestSigningPlan(t *testing.T) {
	t.Parallel()
	st, err := stack.Start(t.Context(), stack.Config{
		HostAddr: "127.0.0.1:0", PlatformAddr: "127.0.0.1:0", MiniappAddr: "127.0.0.1:0",
		DataDir: t.TempDir(), SigningKey: signingKey(), Logger: slog.New(slog.NewTextHandler(t.Output(), nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	put := func(u, body string) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPut, u, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("PUT %s: %v %v", u, err, res)
		}
		res.Body.Close()
	}
	host := check.SigningConfig{
		URL: st.HostURL + demo.AccessTokenPath, Body: []byte(`{"auth_code":"not-a-code"}`), Secret: "host-sign-1",
		Header: http.Header{"Authorization": {demo.TokenPrefix + " " + contract.BasicCredential(demo.HostappClientID, demo.HostappSecret)},
			contract.HeaderMiniappAppID: {demo.AppID}},
	}
	mini := check.SigningConfig{
		URL: st.MiniappURL + demo.AuthTokenPath, Body: []byte(`{"reference":"u-77","email":"s@example.com"}`), Secret: "mini-sign-1",
		Header: http.Header{"Authorization": {"Basic " + contract.BasicCredential(demo.AppID, demo.MiniappSecret)},
			contract.HeaderMiniappAppID: {demo.AppID}, contract.HeaderHostappClientID: {demo.ClientID}},
	}
	// Signing off: a backend that verifies nothing fails every refusal.
	rep, err := check.RunSigning(t.Context(), host)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"signing-missing", "signing-wrong-secret", "signing-tampered", "signing-stale", "signing-replayed"} {
		if r, _ := rep.Result(id); r.Status != check.Fail {
			t.Errorf("signing off: %s is %s (%s), want FAIL", id, r.Status, r.Message)
		}
	}
	put(st.HostURL+"/_sim/settings", `{"signing_enabled":true,"signing_secret":"host-sign-1"}`)
	put(st.MiniappURL+"/_sim/settings", `{"signing_enabled":true,"signing_secret":"mini-sign-1"}`)
	for name, cfg := range map[string]check.SigningConfig{"host": host, "miniapp": mini} {
		rep, err := check.RunSigning(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rep.Results {
			if r.Status != check.Pass {
				t.Errorf("%s: %s is %s (%s)", name, r.ID, r.Status, r.Message)
			}
		}
	}
	// The wrong secret on the checker's side: the valid call is refused.
	host.Secret = "host-sign-2"
	rep, _ = check.RunSigning(t.Context(), host)
	if r, _ := rep.Result("signing-valid"); r.Status != check.Fail {
		t.Errorf("checker with another secret: signing-valid %s", r.Status)
	}
}
