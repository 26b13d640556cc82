package stack_test

import (
	"log/slog"
	"testing"

	"github.com/boxo-sim/boxo-sim/internal/stack"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

// BenchmarkConnect measures one whole 16-step flow over loopback HTTP against a running stack,
// for a returning user (the host session is kept, as on a device).
func BenchmarkConnect(b *testing.B) {
	st, err := stack.Start(b.Context(), stack.Config{
		HostAddr: "127.0.0.1:0", PlatformAddr: "127.0.0.1:0", MiniappAddr: "127.0.0.1:0",
		DataDir: b.TempDir(), SigningKey: signingKey(), Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
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
			for b.Loop() {
				if _, err := sdk.Connect(b.Context(), sdkstub.Options{User: "carol", NoTrace: !trace}); err != nil {
					b.Fatal(err)
				}
			}
		})
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
