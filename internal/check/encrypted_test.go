package check_test

import (
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/check"
	"github.com/boxo-sim/boxo-sim/internal/check/checktest"
	"github.com/boxo-sim/boxo-sim/internal/clock"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/stack"
	"github.com/boxo-sim/boxo-sim/internal/userdata"
)

const vectorKey = "u9Qd9wV0Z6Ho9_TzCYyVW_WwBJwL7KvSl4k8fmfaLyE=" // PROTOCOL §7.2

func TestEncryptedPlanPassesAgainstTheSimulatedMiniapp(t *testing.T) {
	t.Parallel()
	st, err := stack.Start(t.Context(), stack.Config{
		HostAddr: "127.0.0.1:0", PlatformAddr: "127.0.0.1:0", MiniappAddr: "127.0.0.1:0",
		DataDir: t.TempDir(), Clock: clock.NewFake(time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)), SigningKey: signingKey(),
		Logger:      slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
		UserDataKey: vectorKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rep, err := check.RunMiniapp(t.Context(), check.MiniappConfig{
		URL: st.MiniappURL + demo.AuthTokenPath, AppID: demo.AppID, Secret: demo.MiniappSecret, MeURL: st.MiniappURL + "/api/me",
		UserDataKey: vectorKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	wantVerdicts(t, rep, nil, nil)
	if len(rep.Results) != len(check.MiniappPlan())+len(check.EncryptedPlan()) {
		t.Fatalf("%d results, want the miniapp plan and the encrypted checks", len(rep.Results))
	}
	if got := strings.Join(rep.Settings, "; "); !strings.Contains(got, "u9Qd…[44]") || strings.Contains(got, vectorKey[:10]) {
		t.Errorf("settings show the key %q", got)
	}
	if r, ok := rep.Result("encrypted-valid"); !ok || r.Status != check.Pass {
		t.Fatalf("encrypted-valid: %+v", r)
	}
	// Without a key the encrypted checks are not part of the run.
	rep, _ = check.RunMiniapp(t.Context(), check.MiniappConfig{URL: st.MiniappURL + demo.AuthTokenPath, AppID: demo.AppID, Secret: demo.MiniappSecret})
	if _, ok := rep.Result("encrypted-valid"); ok {
		t.Fatal("encrypted checks ran without a key")
	}
}

// TestEncryptedChecksCatchEachBreak: each broken decryption fails its checks.
func TestEncryptedChecksCatchEachBreak(t *testing.T) {
	t.Parallel()
	key := userdata.NewKey().Text()
	cases := []struct {
		name         string
		o            checktest.MiniappOptions
		fails, warns []string
	}{
		{name: "conforming", o: checktest.MiniappOptions{UserDataKey: key}},

		{name: "standard alphabet only", o: checktest.MiniappOptions{UserDataKey: key, EncStdOnly: true}, fails: []string{"encrypted-url-safe"}},
		{name: "no length checks", o: checktest.MiniappOptions{UserDataKey: key, EncNoLengthCheck: true},
			fails: []string{"always-200", "answer-shape", "encrypted-bad-length", "encrypted-short", "json-content-type"}},
		{name: "no padding check", o: checktest.MiniappOptions{UserDataKey: key, EncNoPaddingCheck: true}, fails: []string{"encrypted-bad-padding"}},
		{name: "500 when it cannot decrypt", o: checktest.MiniappOptions{UserDataKey: key, EncErrStatus500: true},
			fails: []string{"always-200", "answer-shape", "encrypted-bad-length", "encrypted-bad-padding", "encrypted-short", "encrypted-wrong-key", "json-content-type"}},
		{name: "no validation of decrypted data", o: checktest.MiniappOptions{UserDataKey: key, EncNoValidation: true}, fails: []string{"encrypted-no-reference"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := checktest.NewMiniapp(t, tc.o)
			rep, err := check.RunMiniapp(t.Context(), check.MiniappConfig{URL: f.URL(), AppID: checktest.AppID, Secret: checktest.Secret,
				MeURL: f.MeURL(), UserDataKey: key, Timeout: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			wantVerdicts(t, rep, tc.fails, tc.warns)
		})
	}
	// A miniapp that takes no encrypted data fails encrypted-valid, which blocks the rest:
	// their refusals would prove nothing.
	f := checktest.NewMiniapp(t, checktest.MiniappOptions{})
	rep, err := check.RunMiniapp(t.Context(), check.MiniappConfig{URL: f.URL(), AppID: checktest.AppID, Secret: checktest.Secret,
		MeURL: f.MeURL(), UserDataKey: key, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	v := verdicts(rep)
	if !slices.Equal(v[check.Fail], []string{"encrypted-valid"}) || len(v[check.Skip]) != len(check.EncryptedPlan())-1 {
		t.Fatalf("no encryption: FAIL %v, SKIP %v; want encrypted-valid failed and the other encrypted checks blocked", v[check.Fail], v[check.Skip])
	}
	if r, _ := rep.Result("encrypted-short"); !strings.Contains(r.Message, "blocked by encrypted-valid") {
		t.Fatalf("encrypted-short: %q", r.Message)
	}
	if _, err := check.RunMiniapp(t.Context(), check.MiniappConfig{URL: "http://127.0.0.1:1/boxo/auth-token", AppID: "a", Secret: "s", UserDataKey: "short"}); err == nil ||
		!strings.Contains(err.Error(), "user data key") {
		t.Fatalf("a bad key: %v", err)
	}
}
