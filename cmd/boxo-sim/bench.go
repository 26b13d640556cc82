package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/stack"
	"github.com/boxo-sim/boxo-sim/platform"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

// benchReport is what bench prints, and what --compare reads back.
type benchReport struct {
	Flows       int `json:"flows"`
	Failed      int `json:"failed"`
	Concurrency int `json:"concurrency"`
	// FirstLogins is how many flows signed a user in to the miniapp for the first time
	// (--users); 0 means every flow was a returning user's.
	FirstLogins int         `json:"first_logins"`
	Seconds     float64     `json:"seconds"`
	FlowsPerSec float64     `json:"flows_per_second"`
	P50MS       float64     `json:"p50_ms"`
	P90MS       float64     `json:"p90_ms"`
	P99MS       float64     `json:"p99_ms"`
	MaxMS       float64     `json:"max_ms"`
	Steps       []benchStep `json:"steps"`
	// Errors counts the failed flows by the error code they stopped with.
	Errors     map[string]int `json:"errors,omitempty"`
	FirstError string         `json:"first_error,omitempty"`
	// Server is what the parties' processes used while the flows ran, as they measure
	// themselves (GET /_sim/process); nil when they could not be asked.
	Server *benchServer `json:"server,omitempty"`
}

// benchStep is the median time of one of the flow's steps, as the SDK saw it.
type benchStep struct {
	Step  int     `json:"step"`
	Call  string  `json:"call"`
	P50MS float64 `json:"p50_ms"`
}

// benchServer is the parties' processes' share of the run.
type benchServer struct {
	Processes int `json:"processes"`
	// CPUMSPerFlow is the parties' CPU time (user and system) per flow; Cores is that CPU
	// time over the run's wall time: how many cores the parties kept busy.
	CPUMSPerFlow float64 `json:"cpu_ms_per_flow"`
	Cores        float64 `json:"cores"`
	MaxRSSBytes  int64   `json:"max_rss_bytes"` // the largest peak resident memory of the processes
	RSSBytes     int64   `json:"rss_bytes"`     // their resident memory at the end, summed
	// Per flow, from the processes' runtime counters (absent from parties that do not
	// count): heap KB and objects allocated, goroutines started. Unlike time, these hardly
	// vary from run to run, so they show a change's effect on a noisy machine.
	AllocKBPerFlow       float64 `json:"alloc_kb_per_flow,omitempty"`
	AllocsPerFlow        float64 `json:"allocs_per_flow,omitempty"`
	GoroutinesPerFlow    float64 `json:"goroutines_per_flow,omitempty"`
	GCCyclesPerKiloFlows float64 `json:"gc_cycles_per_1000_flows,omitempty"`
	// IncludesClient: the parties ran inside bench's own process, so the figures hold the
	// load generator's work too.
	IncludesClient bool `json:"includes_client,omitempty"`
}

// benchOptions are bench's flags.
type benchOptions struct {
	flows, concurrency, users int
	user, compare             string
	trace, asJSON, quiet      bool
	progressEvery             time.Duration
}

func newBenchCmd(e *env) *cobra.Command {
	var o benchOptions
	c := &cobra.Command{
		Use:   "bench",
		Short: "Run complete Connect flows at a given concurrency and report throughput, latency and the parties' CPU",
		Long: `Run --flows complete 16-step flows, --concurrency at a time, and report flows per second,
latency percentiles, each step's median, failures by error code, and the CPU time and memory
the parties' processes used (they measure themselves: GET /_sim/process).

Like connect, it uses --platform-url/--hostapp-url, a local 'up', or parties started
in-process on temporary storage (then the CPU figures include bench's own work). The host
sign-in happens before the clock starts, as a returning user's device would hold its
session. --users N signs in N new host users first (bench-<run>-<n>, removed afterwards),
so the miniapp creates a user in each of the first N flows: first logins.

While it runs, bench shows progress on stderr: a live line on a terminal, a line every
--progress-every elsewhere (CI logs); --quiet turns it off. --json prints the report as
JSON; --compare FILE prints each figure's ratio to an earlier --json report.`,
		Example: `  boxo-sim bench --flows 5000 --concurrency 32
  boxo-sim bench --flows 2000 --users 2000 --concurrency 32     # first logins
  boxo-sim bench --concurrency 32 --json > before.json
  boxo-sim bench --concurrency 32 --compare before.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.flows < 1 || o.concurrency < 1 {
				return fmt.Errorf("--flows and --concurrency must be at least 1 (got %d and %d)", o.flows, o.concurrency)
			}
			if o.users < 0 {
				return fmt.Errorf("--users must not be negative (got %d)", o.users)
			}
			if o.progressEvery <= 0 {
				return fmt.Errorf("--progress-every must be positive (got %s)", o.progressEvery)
			}
			if o.users == 0 {
				if _, ok := demo.FindUser(o.user); !ok {
					return fmt.Errorf("--user %q is not a demo user (%s)", o.user, demoUserNames())
				}
			} else if cmd.Flags().Changed("user") {
				return fmt.Errorf("--user and --users: --users signs in new users of its own; give one of them")
			}
			var before *benchReport
			if o.compare != "" {
				r, err := readBenchReport(o.compare)
				if err != nil {
					return err
				}
				before = r
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
			token := adminToken(cfg)
			tuneGC(e.getenv) // the load generator's garbage is as short-lived as the parties'
			if !at.inProcess && e.getenv("GOMAXPROCS") == "" {
				runtime.GOMAXPROCS(loadGeneratorProcs(o.concurrency, runtime.NumCPU()))
			}
			sdk, err := sdkstub.New(sdkstub.Config{PlatformURL: at.platformURL, HostURL: at.hostURL, ClientID: cfg.ClientID, AdminToken: token})
			if err != nil {
				return err
			}
			defer sdk.CloseIdleConnections()
			r, err := runBench(ctx, e, sdk, at, adminClient(cfg, 10*time.Second), o)
			if err != nil {
				return err
			}
			if o.asJSON {
				if err := printIndentedJSON(e.stdout, r); err != nil {
					return err
				}
			} else {
				writeBenchReport(e.stdout, r)
				if before != nil {
					fmt.Fprintf(e.stdout, "\ncompared with %s (this run / that run):\n", o.compare)
					writeBenchComparison(e.stdout, r, before)
				}
			}
			if r.Failed > 0 {
				return exitError{code: exitFailed}
			}
			return nil
		},
	}
	c.Flags().IntVar(&o.flows, "flows", 500, "how many flows to run")
	c.Flags().IntVar(&o.concurrency, "concurrency", 8, "how many flows run at once")
	c.Flags().StringVar(&o.user, "user", demo.DefaultUser, "demo user to sign in as (a returning user)")
	c.Flags().IntVar(&o.users, "users", 0, "sign in this many new host users first and spread the flows over them: first logins at the miniapp")
	c.Flags().BoolVar(&o.trace, "trace", false, "also post the SDK's steps to the flow log and read it back, as connect does")
	c.Flags().BoolVar(&o.asJSON, "json", false, "print the report as JSON")
	c.Flags().BoolVar(&o.quiet, "quiet", false, "show no progress while running")
	c.Flags().DurationVar(&o.progressEvery, "progress-every", 2*time.Second, "how often to print a progress line when stderr is not a terminal")
	c.Flags().StringVar(&o.compare, "compare", "", "an earlier 'bench --json' report to print this run's ratios against")
	c.Flags().String("platform-url", "", "URL of a running platform")
	addAdminTokenFlag(c.Flags())
	c.Flags().String("hostapp-url", "", "URL of a running host app")
	return c
}

// runBench warms up, runs the flows and measures them.
func runBench(ctx context.Context, e *env, sdk *sdkstub.SDK, at located, admins *http.Client, o benchOptions) (*benchReport, error) {
	users := []string{o.user}
	password := ""
	if o.users > 0 {
		var cleanup func()
		var err error
		users, cleanup, err = benchUsers(ctx, e, admins, sdk, at.hostURL, o)
		defer cleanup()
		if err != nil {
			return nil, err
		}
		password = benchPassword
	} else if _, err := sdk.Connect(ctx, sdkstub.Options{User: o.user, NoTrace: true, SkipMe: at.miniappRelayed}); err != nil {
		// Warm up: sign in and open connections outside the measurement.
		return nil, failure(e, fmt.Errorf("warm-up flow failed: %w", err))
	}
	var procs []string // in-process, this process measures itself
	if !at.inProcess {
		procs = serverProcesses(ctx, admins, at.platformURL, at.hostURL)
	}
	before := measureProcesses(ctx, admins, procs, at.inProcess)

	lat := make([]time.Duration, o.flows)
	steps := make([][]sdkstub.Step, o.flows)
	codes := make([]string, o.flows)
	var next, done, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	stopProgress := startBenchProgress(e.stderr, o, start, &done, &failed)
	for range min(o.concurrency, o.flows) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= o.flows || ctx.Err() != nil {
					return
				}
				t := time.Now()
				res, err := sdk.Connect(ctx, sdkstub.Options{User: users[i%len(users)], Password: password, NoTrace: !o.trace, SkipMe: at.miniappRelayed})
				lat[i] = time.Since(t)
				if res != nil {
					steps[i] = res.Steps
				}
				if err != nil {
					failed.Add(1)
					codes[i] = flowErrorCode(err)
					firstErr.CompareAndSwap(nil, err.Error())
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	stopProgress()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	after := measureProcesses(ctx, admins, procs, at.inProcess)

	r := &benchReport{Flows: o.flows, Failed: int(failed.Load()), Concurrency: o.concurrency, Seconds: elapsed.Seconds(),
		FlowsPerSec: float64(o.flows) / elapsed.Seconds()}
	if o.users > 0 {
		r.FirstLogins = min(o.flows, o.users)
	}
	sorted := slices.Clone(lat)
	slices.Sort(sorted)
	r.P50MS, r.P90MS, r.P99MS, r.MaxMS = percentile(sorted, 0.50), percentile(sorted, 0.90), percentile(sorted, 0.99), ms(sorted[len(sorted)-1])
	r.Steps = stepMedians(steps)
	for _, c := range codes {
		if c != "" {
			if r.Errors == nil {
				r.Errors = map[string]int{}
			}
			r.Errors[c]++
		}
	}
	if s, ok := firstErr.Load().(string); ok {
		r.FirstError = s
	}
	r.Server = serverShare(before, after, o.flows, elapsed, at.inProcess)
	return r, nil
}

// loadGeneratorProcs is how many threads bench runs Go code on when the parties are in
// another process: one per 32 flows at once, at least one, at most the CPUs. A flow costs the
// load generator about 0.5 ms of CPU, so one thread keeps up with 32 flows at once, and each
// thread more only wakes the others up for work that hands itself from goroutine to
// goroutine: at concurrency 1 a second thread cost the load generator a third more CPU (and
// the parties sharing the machine lose it).
func loadGeneratorProcs(concurrency, cpus int) int {
	return max(1, min(cpus, (concurrency+31)/32))
}

// percentile is the p-quantile of sorted durations, in milliseconds (nearest rank).
func percentile(sorted []time.Duration, p float64) float64 {
	return ms(sorted[min(len(sorted)-1, int(p*float64(len(sorted))))])
}

// stepMedians is each step's median duration over the flows that reached it.
func stepMedians(flows [][]sdkstub.Step) []benchStep {
	by := map[int][]float64{}
	call := map[int]string{}
	for _, steps := range flows {
		for _, s := range steps {
			if s.DurationMS <= 0 {
				continue
			}
			by[s.Number] = append(by[s.Number], s.DurationMS)
			if call[s.Number] == "" {
				call[s.Number] = s.Call
			}
		}
	}
	out := make([]benchStep, 0, len(by))
	for n, d := range by {
		slices.Sort(d)
		out = append(out, benchStep{Step: n, Call: call[n], P50MS: d[len(d)/2]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Step < out[j].Step })
	return out
}

// flowErrorCode is the code a failed flow stopped with, or what kind of failure it was.
func flowErrorCode(err error) string {
	var se *sdkstub.Error
	switch {
	case errors.As(err, &se) && se.Code != "":
		return se.Code
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "CANCELED"
	}
	return "OTHER"
}

// benchPassword is the password of the users --users creates.
const benchPassword = "bench-password"

// benchUsers creates o.users host users through the host app's admin API and signs each in
// (outside the measurement), and returns their names and a function that deletes them.
func benchUsers(ctx context.Context, e *env, c *http.Client, sdk *sdkstub.SDK, hostURL string, o benchOptions) ([]string, func(), error) {
	run := contract.RandomHex(3)
	names := make([]string, o.users)
	for i := range names {
		names[i] = fmt.Sprintf("bench-%s-%d", run, i+1)
	}
	var made []string
	var mu sync.Mutex
	cleanup := func() {
		ctx := context.WithoutCancel(ctx)
		forEach(made, o.concurrency, func(name string) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodDelete, hostURL+"/_sim/users/"+name, nil)
			if err != nil {
				return err
			}
			resp, err := c.Do(req)
			if err == nil {
				resp.Body.Close()
			}
			return err
		})
	}
	if !o.quiet {
		fmt.Fprintf(e.stderr, "Signing in %d new host users before the clock starts.\n", o.users)
	}
	err := forEach(names, o.concurrency, func(name string) error {
		body, _ := json.Marshal(map[string]string{"password": benchPassword, "reference": name,
			"email": name + "@bench.example", "first_name": "Bench", "last_name": name})
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, hostURL+"/_sim/users/"+name, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			return fmt.Errorf("create bench user %s: %w", name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("create bench user %s: the host app answered %s (is the admin token right? --admin-token)", name, resp.Status)
		}
		mu.Lock()
		made = append(made, name)
		mu.Unlock()
		if _, err := sdk.HostAuthCode(name, benchPassword)(ctx); err != nil {
			return fmt.Errorf("sign in bench user %s: %w", name, err)
		}
		return nil
	})
	return names, cleanup, err
}

// forEach calls fn for every item, n at a time, and returns the first error.
func forEach(items []string, n int, fn func(string) error) error {
	var next atomic.Int64
	var first atomic.Value
	var wg sync.WaitGroup
	for range min(n, len(items)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < len(items) && first.Load() == nil; i = int(next.Add(1)) - 1 {
				if err := fn(items[i]); err != nil {
					first.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	wg.Wait()
	if err, ok := first.Load().(error); ok {
		return err
	}
	return nil
}

// serverProcesses lists the URLs of the simulated parties of the platform's stack: the
// platform, the host app given and those GET /_sim/stack names.
func serverProcesses(ctx context.Context, c *http.Client, platformURL, hostURL string) []string {
	urls := []string{platformURL, hostURL}
	var info platform.StackInfo
	if getJSON(ctx, c, platformURL+"/_sim/stack", &info) == nil {
		for _, p := range []platform.StackParty{info.Hostapp, info.Miniapp} {
			if p.Mode == platform.ModeSimulated && p.URL != "" {
				urls = append(urls, p.URL)
			}
		}
	}
	return urls
}

// measureProcesses asks each party for its process's figures, one answer per process; nil
// when any party cannot tell (an older boxo-sim, or a real backend).
func measureProcesses(ctx context.Context, c *http.Client, urls []string, inProcess bool) map[string]stack.ProcessStats {
	out := map[string]stack.ProcessStats{}
	if inProcess {
		p := stack.ReadProcessStats()
		out[p.Instance] = p
		return out
	}
	for _, u := range urls {
		var p stack.ProcessStats
		if err := getJSON(ctx, c, strings.TrimRight(u, "/")+"/_sim/process", &p); err != nil || !p.Measured {
			return nil
		}
		out[p.Instance] = p
	}
	return out
}

func getJSON(ctx context.Context, c *http.Client, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v)
}

// serverShare is what the processes used between the two measurements.
func serverShare(before, after map[string]stack.ProcessStats, flows int, elapsed time.Duration, inProcess bool) *benchServer {
	if before == nil || after == nil {
		return nil
	}
	s := &benchServer{IncludesClient: inProcess}
	var cpu float64
	var bytes, objects, goroutines, gcs uint64
	counted := true
	for id, a := range after {
		b, ok := before[id]
		if !ok {
			return nil // a process restarted during the run
		}
		s.Processes++
		cpu += a.CPUSeconds - b.CPUSeconds
		s.MaxRSSBytes = max(s.MaxRSSBytes, a.MaxRSSBytes)
		s.RSSBytes += a.RSSBytes
		counted = counted && a.HeapAllocs > 0 // 0: a boxo-sim from before the counters
		bytes += a.HeapAllocBytes - b.HeapAllocBytes
		objects += a.HeapAllocs - b.HeapAllocs
		goroutines += a.GoroutinesStarted - b.GoroutinesStarted
		gcs += a.GCCycles - b.GCCycles
	}
	n := float64(flows)
	s.CPUMSPerFlow = cpu * 1000 / n
	s.Cores = cpu / elapsed.Seconds()
	if counted {
		s.AllocKBPerFlow, s.AllocsPerFlow = float64(bytes)/1024/n, float64(objects)/n
		s.GoroutinesPerFlow, s.GCCyclesPerKiloFlows = float64(goroutines)/n, float64(gcs)*1000/n
	}
	return s
}

// startBenchProgress shows how far the run is: on a terminal one line rewritten in place,
// elsewhere a line every o.progressEvery. The returned function ends it.
func startBenchProgress(w io.Writer, o benchOptions, start time.Time, done, failed *atomic.Int64) func() {
	if o.quiet {
		return func() {}
	}
	live := isTerminal(w)
	every := o.progressEvery
	if live {
		every = 200 * time.Millisecond
	}
	line := func() string {
		n := done.Load()
		return fmt.Sprintf("bench: %d/%d flows, %d failed, %.0f flows/s, %s", n, o.flows, failed.Load(),
			float64(n)/time.Since(start).Seconds(), time.Since(start).Round(100*time.Millisecond))
	}
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				if live {
					fmt.Fprint(w, "\r\033[K")
				}
				return
			case <-t.C:
				if live {
					fmt.Fprintf(w, "\r\033[K%s", line())
				} else {
					fmt.Fprintln(w, line())
				}
			}
		}
	}()
	return func() { close(stop); <-stopped }
}

func writeBenchReport(w io.Writer, r *benchReport) {
	kind := "returning user"
	if r.FirstLogins > 0 {
		kind = fmt.Sprintf("%d first logins", r.FirstLogins)
	}
	fmt.Fprintf(w, "%d flows (%d failed; %s) at concurrency %d in %.2fs: %.0f flows/s\n", r.Flows, r.Failed, kind, r.Concurrency, r.Seconds, r.FlowsPerSec)
	fmt.Fprintf(w, "latency p50 %.2fms  p90 %.2fms  p99 %.2fms  max %.2fms\n", r.P50MS, r.P90MS, r.P99MS, r.MaxMS)
	if len(r.Steps) > 0 {
		fmt.Fprint(w, "step medians:")
		for _, s := range r.Steps {
			fmt.Fprintf(w, "  %d %s", s.Step, sdkstub.FormatMS(s.P50MS))
		}
		fmt.Fprintln(w)
	}
	if s := r.Server; s != nil {
		who := fmt.Sprintf("parties (%d %s)", s.Processes, pluralOf(s.Processes, "process", "processes"))
		if s.IncludesClient {
			who = "this process (parties and load generator together)"
		}
		fmt.Fprintf(w, "%s: %.3fms CPU per flow, %.2f cores, peak RSS %.0f MB, RSS now %.0f MB\n",
			who, s.CPUMSPerFlow, s.Cores, float64(s.MaxRSSBytes)/(1<<20), float64(s.RSSBytes)/(1<<20))
		if s.AllocsPerFlow > 0 {
			fmt.Fprintf(w, "  per flow: %.0f KB in %.0f heap allocations, %.1f goroutines started; %.1f garbage collections per 1,000 flows\n",
				s.AllocKBPerFlow, s.AllocsPerFlow, s.GoroutinesPerFlow, s.GCCyclesPerKiloFlows)
		}
	} else {
		fmt.Fprintln(w, "parties' CPU and memory: not known (they do not answer GET /_sim/process)")
	}
	if len(r.Errors) > 0 {
		codes := make([]string, 0, len(r.Errors))
		for c := range r.Errors {
			codes = append(codes, c)
		}
		sort.Slice(codes, func(i, j int) bool {
			return r.Errors[codes[i]] > r.Errors[codes[j]] || r.Errors[codes[i]] == r.Errors[codes[j]] && codes[i] < codes[j]
		})
		fmt.Fprint(w, "failures:")
		for _, c := range codes {
			fmt.Fprintf(w, "  %s %d", c, r.Errors[c])
		}
		fmt.Fprintln(w)
	}
	if r.FirstError != "" {
		fmt.Fprintf(w, "first failure: %s\n", r.FirstError)
	}
}

// readBenchReport reads an earlier --json report.
func readBenchReport(path string) (*benchReport, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--compare: %w", err)
	}
	var r benchReport
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&r); err != nil || r.Flows == 0 || r.FlowsPerSec == 0 {
		return nil, fmt.Errorf("--compare %s: not a report of 'boxo-sim bench --json'", path)
	}
	return &r, nil
}

// writeBenchComparison prints this run's figures over those of an earlier one.
func writeBenchComparison(w io.Writer, now, then *benchReport) {
	row := func(name string, a, b float64, better string) {
		if a == 0 || b == 0 {
			return
		}
		fmt.Fprintf(w, "  %-16s %10.2f %10.2f   ×%.2f", name, a, b, a/b)
		if better != "" {
			fmt.Fprintf(w, " (%s is better)", better)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "  %-16s %10s %10s\n", "", "this run", "that run")
	row("flows/s", now.FlowsPerSec, then.FlowsPerSec, "higher")
	row("p50 ms", now.P50MS, then.P50MS, "lower")
	row("p90 ms", now.P90MS, then.P90MS, "lower")
	row("p99 ms", now.P99MS, then.P99MS, "lower")
	row("max ms", now.MaxMS, then.MaxMS, "lower")
	if now.Server != nil && then.Server != nil {
		row("CPU ms/flow", now.Server.CPUMSPerFlow, then.Server.CPUMSPerFlow, "lower")
		row("cores", now.Server.Cores, then.Server.Cores, "")
		row("peak RSS MB", float64(now.Server.MaxRSSBytes)/(1<<20), float64(then.Server.MaxRSSBytes)/(1<<20), "lower")
		row("KB/flow", now.Server.AllocKBPerFlow, then.Server.AllocKBPerFlow, "lower")
		row("allocs/flow", now.Server.AllocsPerFlow, then.Server.AllocsPerFlow, "lower")
		row("goroutines/flow", now.Server.GoroutinesPerFlow, then.Server.GoroutinesPerFlow, "lower")
	}
	if now.Concurrency != then.Concurrency || now.FirstLogins != then.FirstLogins {
		fmt.Fprintf(w, "  note: the runs differ (concurrency %d vs %d, first logins %d vs %d)\n",
			now.Concurrency, then.Concurrency, now.FirstLogins, then.FirstLogins)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
