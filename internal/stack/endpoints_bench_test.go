package stack_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

// The hot endpoints of one flow, each on its own over loopback HTTP against a running stack:
// what BenchmarkConnect adds up. The authorize benchmark includes the platform's three calls
// to the host app and the miniapp (steps 6–11) and its flow log write.

// BenchmarkEndpoint measures the platform's miniapp settings (step 1), the host app's auth
// code for a signed-in user (steps 2–3), the platform's authorize (steps 5–12) and the
// miniapp's /api/me (steps 14–15). The authorize case mints each auth code with the timer
// stopped; its cpu-ms/op, the process's CPU, includes that minting (see host-auth-code).
func BenchmarkEndpoint(b *testing.B) {
	st := startBenchStack(b)
	sdk, err := st.SDK(nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := sdk.Connect(b.Context(), sdkstub.Options{User: "carol", NoTrace: true}); err != nil {
		b.Fatal(err)
	}
	c := &http.Client{}
	do := func(b *testing.B, req *http.Request) {
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%s %s: %s", req.Method, req.URL.Path, resp.Status)
		}
	}
	b.Run("settings", func(b *testing.B) {
		defer reportCPU(b)()
		for b.Loop() {
			req, _ := http.NewRequestWithContext(b.Context(), http.MethodGet, st.PlatformURL+"/api/v1/miniapps/"+demo.AppID+"/settings/?client_id="+demo.ClientID, nil)
			do(b, req)
		}
	})
	code := sdk.HostAuthCode("carol", "")
	b.Run("host-auth-code", func(b *testing.B) {
		defer reportCPU(b)()
		for b.Loop() {
			if _, err := code(b.Context()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("authorize", func(b *testing.B) {
		defer reportCPU(b)()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			ac, err := code(b.Context())
			if err != nil {
				b.Fatal(err)
			}
			body, _ := json.Marshal(contract.AuthorizeRequest{AuthCode: ac, ClientID: demo.ClientID, AppID: demo.AppID})
			req, _ := http.NewRequestWithContext(b.Context(), http.MethodPost, st.PlatformURL+"/api/v1/authorize/", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			b.StartTimer()
			do(b, req)
		}
	})
	b.Run("miniapp-me", func(b *testing.B) {
		defer reportCPU(b)()
		for b.Loop() {
			if _, status, err := sdk.Me(b.Context(), "carol", ""); err != nil || status != http.StatusOK {
				b.Fatalf("me: %d %v", status, err)
			}
		}
	})
}
