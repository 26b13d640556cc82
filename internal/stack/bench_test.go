package stack_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/stack"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

// startBenchStack starts the three parties on ephemeral ports and fresh databases, logging
// nothing, with the real clock.
func startBenchStack(b *testing.B) *stack.Stack {
	b.Helper()
	st, err := stack.Start(b.Context(), stack.Config{
		HostAddr: "127.0.0.1:0", PlatformAddr: "127.0.0.1:0", MiniappAddr: "127.0.0.1:0",
		DataDir: b.TempDir(), SigningKey: signingKey(), Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// BenchmarkConnect measures one whole 16-step flow over loopback HTTP against a running stack,
// for a returning user (the host session is kept, as on a device).
func BenchmarkConnect(b *testing.B) {
	st := startBenchStack(b)
	sdk, err := st.SDK(nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, trace := range []bool{false, true} {
		name := "no-trace"
		if trace {
			name = "with-trace"
		}
		b.Run(name, func(b *testing.B) {
			defer reportCPU(b)()
			for b.Loop() {
				if _, err := sdk.Connect(b.Context(), sdkstub.Options{User: "carol", NoTrace: !trace}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkConnectParallel runs whole flows 32 at a time (b.SetParallelism over GOMAXPROCS),
// as `boxo-sim bench --concurrency 32` does: the number that shows what serializes. The
// first-login case signs in a new host user for each flow before the clock starts, so the
// miniapp creates a user in every flow.
func BenchmarkConnectParallel(b *testing.B) {
	st := startBenchStack(b)
	sdk, err := st.SDK(nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("returning", func(b *testing.B) {
		b.SetParallelism(max(1, 32/runtime.GOMAXPROCS(0)))
		defer reportCPU(b)()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := sdk.Connect(b.Context(), sdkstub.Options{User: "carol", NoTrace: true}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("first-login", func(b *testing.B) {
		users := make([]string, b.N)
		for i := range users {
			users[i] = fmt.Sprintf("bench-%d-%d", b.N, i)
			putUser(b, st.HostURL, users[i])
		}
		var next atomic.Int64
		b.ResetTimer()
		b.SetParallelism(max(1, 32/runtime.GOMAXPROCS(0)))
		defer reportCPU(b)()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				u := users[next.Add(1)-1]
				if _, err := sdk.Connect(b.Context(), sdkstub.Options{User: u, Password: "bench-password", NoTrace: true}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// putUser creates a host user with the password bench-password through the admin API.
func putUser(b *testing.B, hostURL, name string) {
	b.Helper()
	body := fmt.Sprintf(`{"password": "bench-password", "reference": %q, "email": "%s@example.com", "first_name": "Bench"}`, name, name)
	req, _ := http.NewRequest(http.MethodPut, hostURL+"/_sim/users/"+name, bytes.NewBufferString(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("PUT user %s: %s", name, resp.Status)
	}
}

// BenchmarkStart measures a cold start of the three parties on fresh databases: listen,
// migrate, seed, serve.
func BenchmarkStart(b *testing.B) {
	for b.Loop() {
		st, err := stack.Start(b.Context(), stack.Config{
			HostAddr: "127.0.0.1:0", PlatformAddr: "127.0.0.1:0", MiniappAddr: "127.0.0.1:0",
			DataDir: b.TempDir(), SigningKey: signingKey(), Logger: slog.New(slog.DiscardHandler),
		})
		if err != nil {
			b.Fatal(err)
		}
		st.Close()
	}
}

// reportCPU adds the process's CPU time per operation (parties and client together) to the
// benchmark's report: call it before the loop and defer what it returns.
func reportCPU(b *testing.B) func() {
	before := stack.ReadProcessStats()
	return func() {
		after := stack.ReadProcessStats()
		if after.Measured {
			b.ReportMetric((after.CPUSeconds-before.CPUSeconds)*1000/float64(b.N), "cpu-ms/op")
		}
	}
}
