package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

// benchReport is what bench prints.
type benchReport struct {
	Flows       int     `json:"flows"`
	Failed      int     `json:"failed"`
	Concurrency int     `json:"concurrency"`
	Seconds     float64 `json:"seconds"`
	FlowsPerSec float64 `json:"flows_per_second"`
	P50MS       float64 `json:"p50_ms"`
	P90MS       float64 `json:"p90_ms"`
	P99MS       float64 `json:"p99_ms"`
	MaxMS       float64 `json:"max_ms"`
	FirstError  string  `json:"first_error,omitempty"`
}

func newBenchCmd(e *env) *cobra.Command {
	var (
		flows, concurrency int
		user               string
		trace, asJSON      bool
	)
	c := &cobra.Command{
		Use:   "bench",
		Short: "Run complete Connect flows at a given concurrency and report throughput and latency",
		Long: `Run --flows complete 16-step flows, --concurrency at a time, and report flows per second
and latency percentiles. Like connect, it uses --platform-url/--hostapp-url, a local 'up',
or parties started in-process on temporary storage. The host sign-in happens once before
the clock starts, as a returning user's device would hold its session.`,
		Example: `  boxo-sim bench --flows 2000 --concurrency 16
  boxo-sim bench --platform-url http://127.0.0.1:8082 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if flows < 1 || concurrency < 1 {
				return fmt.Errorf("--flows and --concurrency must be at least 1 (got %d and %d)", flows, concurrency)
			}
			if _, ok := demo.FindUser(user); !ok {
				return fmt.Errorf("--user %q is not a demo user (%s)", user, demoUserNames())
			}
			cfg, src, err := loadConfig(cmd.Flags(), e.getenv)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			at, err := locateParties(ctx, cfg, src, e.stderr)
			if err != nil {
				return err
			}
			defer at.cleanup()
			sdk, err := sdkstub.New(sdkstub.Config{PlatformURL: at.platformURL, HostURL: at.hostURL, ClientID: cfg.ClientID, AdminToken: adminToken(cfg)})
			if err != nil {
				return err
			}
			defer sdk.CloseIdleConnections()
			// Warm up: sign in and open connections outside the measurement.
			if _, err := sdk.Connect(ctx, sdkstub.Options{User: user, NoTrace: true, SkipMe: at.miniappRelayed}); err != nil {
				return failure(e, fmt.Errorf("warm-up flow failed: %w", err))
			}
			lat := make([]time.Duration, flows)
			var next, failed atomic.Int64
			var firstErr atomic.Value
			var wg sync.WaitGroup
			start := time.Now()
			for range min(concurrency, flows) {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := int(next.Add(1)) - 1
						if i >= flows || ctx.Err() != nil {
							return
						}
						t := time.Now()
						_, err := sdk.Connect(ctx, sdkstub.Options{User: user, NoTrace: !trace, SkipMe: at.miniappRelayed})
						lat[i] = time.Since(t)
						if err != nil {
							failed.Add(1)
							firstErr.CompareAndSwap(nil, err.Error())
						}
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			if err := ctx.Err(); err != nil {
				return err
			}
			slices.Sort(lat)
			pct := func(p float64) float64 { return ms(lat[min(len(lat)-1, int(p*float64(len(lat))))]) }
			r := benchReport{Flows: flows, Failed: int(failed.Load()), Concurrency: concurrency, Seconds: elapsed.Seconds(),
				FlowsPerSec: float64(flows) / elapsed.Seconds(), P50MS: pct(0.50), P90MS: pct(0.90), P99MS: pct(0.99), MaxMS: ms(lat[len(lat)-1])}
			if s, ok := firstErr.Load().(string); ok {
				r.FirstError = s
			}
			if asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(r); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(e.stdout, "%d flows (%d failed) at concurrency %d in %.2fs: %.0f flows/s\n", r.Flows, r.Failed, r.Concurrency, r.Seconds, r.FlowsPerSec)
				fmt.Fprintf(e.stdout, "latency p50 %.2fms  p90 %.2fms  p99 %.2fms  max %.2fms\n", r.P50MS, r.P90MS, r.P99MS, r.MaxMS)
				if r.FirstError != "" {
					fmt.Fprintf(e.stdout, "first failure: %s\n", r.FirstError)
				}
			}
			if r.Failed > 0 {
				return exitError{code: 1}
			}
			return nil
		},
	}
	c.Flags().IntVar(&flows, "flows", 500, "how many flows to run")
	c.Flags().IntVar(&concurrency, "concurrency", 8, "how many flows run at once")
	c.Flags().StringVar(&user, "user", demo.DefaultUser, "demo user to sign in as")
	c.Flags().BoolVar(&trace, "trace", false, "also post the SDK's steps to the flow log and read it back, as connect does")
	c.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	c.Flags().String("platform-url", "", "URL of a running platform")
	addAdminTokenFlag(c.Flags())
	c.Flags().String("hostapp-url", "", "URL of a running host app")
	return c
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
