package scenarios

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/admin"
	"github.com/boxo-sim/boxo-sim/internal/clock"
	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/stack"
	"github.com/boxo-sim/boxo-sim/sdkstub"
)

// Options configure a run.
type Options struct {
	// PlatformURL, HostURL and MiniappURL locate a running `boxo-sim up`. When PlatformURL is
	// empty, each scenario runs on its own in-process stack; otherwise all three are needed
	// and the scenarios run one after another.
	PlatformURL, HostURL, MiniappURL string
	// AdminToken is the running up's admin token, sent to its /_sim/ routes (PROTOCOL §2.13).
	AdminToken string
	// Parallel is how many scenarios run at once in-process; 0 means twice GOMAXPROCS.
	Parallel int
	// FailFast starts no further scenario after the first one that does not pass; those are
	// reported as skipped.
	FailFast bool
	// Logger receives the in-process parties' logs; nil discards them.
	Logger *slog.Logger
	// SigningKey is the host's RSA key for in-process stacks; nil means one made once per
	// process (RSA generation is slow).
	SigningKey *rsa.PrivateKey
	// OnDone, when set, is called as each scenario ends, one call at a time.
	OnDone func(Result)
}

// Remote reports whether the run is against a running up.
func (o Options) Remote() bool { return o.PlatformURL != "" }

// Status of a scenario's run.
type Status string

// Statuses.
const (
	Passed  Status = "passed"
	Failed  Status = "failed"  // an expectation was not met
	Errored Status = "error"   // the scenario could not be run
	Skipped Status = "skipped" // --fail-fast or an interrupt stopped the run first
)

// InterruptedMessage is the skip message of the scenarios an interrupt stopped or kept from
// starting.
const InterruptedMessage = "interrupted: the run was cancelled (Ctrl-C) before this scenario finished"

// Result is the outcome of one scenario.
type Result struct {
	Name       string        `json:"name"`
	File       string        `json:"file"`
	Status     Status        `json:"status"`
	Duration   time.Duration `json:"-"`
	DurationMS float64       `json:"duration_ms"`
	Failure    *Failure      `json:"failure,omitempty"`
	Error      string        `json:"error,omitempty"`
	// Skip says why a Skipped scenario did not run to its end; "" means skippedMessage.
	Skip    string         `json:"skip,omitempty"`
	Actions []ActionResult `json:"actions,omitempty"`
}

// Failure is an unmet expectation: which action, what was expected, what happened, and the
// flow trace of the failing step.
type Failure struct {
	Action   int    `json:"action"` // index in actions
	Do       string `json:"do"`
	User     string `json:"user,omitempty"`
	Line     int    `json:"line,omitempty"` // of the expectation (or the action) in the file
	Expected string `json:"expected"`
	Got      string `json:"got"`
	FlowID   string `json:"flow_id,omitempty"`
	Trace    string `json:"trace,omitempty"`
}

// Message is the failure in one line.
func (f *Failure) Message() string {
	who := f.Do
	if f.User != "" {
		who += " as " + f.User
	}
	return fmt.Sprintf("actions[%d] (%s): expected %s; got %s", f.Action, who, f.Expected, f.Got)
}

// signingKey is the in-process host's RSA key, made once per process.
var signingKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(fmt.Sprintf("scenarios: generate RSA key: %v", err))
	}
	return k
})

// Run runs the scenarios and reports every result, in the order given.
func Run(ctx context.Context, scs []*Scenario, o Options) *Report {
	started := time.Now()
	results := make([]Result, len(scs))
	for i, sc := range scs {
		results[i] = Result{Name: sc.Name, File: sc.File, Status: Skipped}
	}
	parallel := o.Parallel
	if parallel <= 0 {
		parallel = 2 * runtime.GOMAXPROCS(0)
	}
	if o.Remote() {
		parallel = 1
	}
	var (
		mu      sync.Mutex
		stopped bool
		wg      sync.WaitGroup
		next    = make(chan int)
	)
	for w := 0; w < min(parallel, len(scs)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r := RunOne(ctx, scs[i], o)
				mu.Lock()
				results[i] = r
				if r.Status != Passed && o.FailFast {
					stopped = true
				}
				if o.OnDone != nil {
					o.OnDone(r)
				}
				mu.Unlock()
			}
		}()
	}
	for i := range scs {
		mu.Lock()
		stop := stopped || ctx.Err() != nil
		mu.Unlock()
		if stop {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	rep := &Report{Results: results, Duration: time.Since(started), Started: started, Interrupted: ctx.Err() != nil}
	for i, r := range results {
		if rep.Interrupted && r.Status == Skipped && r.Skip == "" {
			results[i].Skip = InterruptedMessage
		}
		switch r.Status {
		case Passed:
			rep.Passed++
		case Failed:
			rep.Failed++
		case Errored:
			rep.Errors++
		case Skipped:
			rep.Skipped++
		}
	}
	return rep
}

// RunOne runs one scenario: on a fresh in-process stack, or against the running up of o.
func RunOne(ctx context.Context, sc *Scenario, o Options) Result {
	started := time.Now()
	r := Result{Name: sc.Name, File: sc.File}
	actions, failure, err := runOne(ctx, sc, o)
	r.Duration = time.Since(started)
	r.DurationMS = float64(r.Duration.Microseconds()) / 1000
	r.Actions = actions
	switch {
	case ctx.Err() != nil:
		// Cancelled: what it got was cut short, not wrong. runOne has put the state back.
		r.Status, r.Skip = Skipped, InterruptedMessage
		if err != nil && !errors.Is(err, context.Canceled) && strings.Contains(err.Error(), "put back") {
			r.Skip += "; " + err.Error()
		}
	case err != nil:
		r.Status, r.Error = Errored, err.Error()
	case failure != nil:
		r.Status, r.Failure = Failed, failure
	default:
		r.Status = Passed
	}
	return r
}

func runOne(ctx context.Context, sc *Scenario, o Options) (_ []ActionResult, _ *Failure, err error) {
	e := &env{client: &http.Client{Timeout: 60 * time.Second, Transport: admin.Transport(nil, o.AdminToken)}}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.Remote() {
		if o.HostURL == "" || o.MiniappURL == "" {
			return nil, nil, errors.New("a run against a running up needs the platform, host app and miniapp URLs")
		}
		e.remote = true
		e.suffix = "-" + contract.RandomHex(3)
		e.platformURL = strings.TrimRight(o.PlatformURL, "/")
		e.hostURL = strings.TrimRight(o.HostURL, "/")
		e.miniappURL = strings.TrimRight(o.MiniappURL, "/")
		// Faults are cleared before and after, and what setup changes is put back, so the
		// scenarios of one run do not see each other.
		if err := e.clearFaults(ctx); err != nil {
			return nil, nil, fmt.Errorf("clear the faults of the running parties: %w", err)
		}
		defer func() {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			errs := []error{err, e.clearFaults(rctx)}
			if rerr := e.restore(rctx); rerr != nil {
				errs = append(errs, fmt.Errorf("put back what setup changed: %w", rerr))
			}
			err = errors.Join(errs...)
		}()
		if err := e.keepClocks(ctx); err != nil {
			return nil, nil, err
		}
	} else {
		timeout := time.Duration(sc.Setup.CallTimeout)
		if timeout == 0 {
			timeout = 10 * time.Second
		}
		key := o.SigningKey
		if key == nil {
			key = signingKey()
		}
		st, err := stack.Start(ctx, stack.Config{
			HostAddr: "127.0.0.1:0", PlatformAddr: "127.0.0.1:0", MiniappAddr: "127.0.0.1:0",
			Ephemeral: true, Clock: clock.NewFake(time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)),
			CallTimeout: timeout, SigningKey: key, Logger: log.With("scenario", sc.Name),
		})
		if err != nil {
			return nil, nil, fmt.Errorf("start the parties: %w", err)
		}
		defer st.Close()
		defer e.restore(context.WithoutCancel(ctx)) // closes the stubs
		e.hostURL, e.platformURL, e.miniappURL = st.HostURL, st.PlatformURL, st.MiniappURL
	}
	if err := e.applySetup(ctx, sc); err != nil {
		return nil, nil, err
	}
	clientID, skipConsent := demo.ClientID, false
	if sc.Setup.SDK != nil && sc.Setup.SDK.ClientID != "" {
		clientID = sc.Setup.SDK.ClientID
	}
	if sc.Setup.SDK != nil {
		skipConsent = sc.Setup.SDK.SkipGrantedConsent
	}
	sdk, err := sdkstub.New(sdkstub.Config{PlatformURL: e.platformURL, HostURL: e.hostURL, ClientID: clientID, Logger: log.With("scenario", sc.Name, "party", "sdk"),
		AdminToken: o.AdminToken, SkipGrantedConsent: skipConsent})
	if err != nil {
		return nil, nil, err
	}
	return play(ctx, e, sc, sdk, clientID)
}

// trace renders the flow of a failing action: every step the SDK saw or read back from the
// platform's flow log, then the masked HTTP exchange of each failed step.
func (p *player) trace(ctx context.Context, out *outcome) string {
	res := out.res
	var b strings.Builder
	fmt.Fprintf(&b, "flow %s:\n", res.FlowID)
	sdkstub.WriteSteps(&b, res.Steps, "  ")
	var fl contract.Flow
	if err := p.e.admin(ctx, http.MethodGet, p.e.platformURL+"/_sim/flows/"+res.FlowID, nil, &fl); err != nil {
		return b.String()
	}
	for _, s := range fl.Steps {
		if s.Outcome != contract.OutcomeFailed {
			continue
		}
		fmt.Fprintf(&b, "step %d failed: %s %s", s.Step, s.Actor, s.Call)
		if s.ErrorCode != "" {
			fmt.Fprintf(&b, " → %s", s.ErrorCode)
		}
		b.WriteByte('\n')
		for _, x := range []struct {
			name string
			ex   *contract.Exchange
		}{{"request", s.Request}, {"response", s.Response}} {
			if x.ex == nil {
				continue
			}
			body := x.ex.Text
			if len(x.ex.Body) > 0 {
				body = string(x.ex.Body)
			}
			fmt.Fprintf(&b, "  %s: %s\n", x.name, strings.TrimSpace(body))
		}
	}
	return b.String()
}
