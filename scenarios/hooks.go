package scenarios

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/demo"
)

// An action with before_step runs inside the next flow, between two of the platform's calls:
// the host deletes the user after step 7 gave the access token, before step 8 presents it.
// The platform makes those calls itself, so the runner puts a relay in the call's path: it
// points the Dashboard URL of the step at a listener on 127.0.0.1 that, on the first call,
// does the waiting actions and then passes the call on to the real endpoint unchanged and its
// answer back. The code the flow stops with is then the party's own answer to what happened,
// not one a fault put on the wire.

// hook is an action waiting for a step of the next flow.
type hook struct {
	action *Action
	user   string
	appID  string
}

// stepURL is the Dashboard setting whose URL the platform calls at a step.
type stepURL struct {
	record  string // hostapp or miniapp
	setting string
}

var hookSteps = map[int]stepURL{
	6:  {"hostapp", "access_token_url"},
	7:  {"miniapp", "auth_token_url"}, // connect_direct
	8:  {"hostapp", "user_data_url"},
	10: {"miniapp", "auth_token_url"},
}

// relay stands in for one Dashboard URL during a flow.
type relay struct {
	step      int
	recordURL string // the Dashboard record's admin URL
	setting   string
	target    string // the URL it stands in for
	hooks     []hook
	srv       *http.Server

	mu    sync.Mutex
	fired bool
	notes []string // what the hooks did
	err   error
}

// relay puts a relay in the path of each step the waiting hooks name, for a flow with the
// miniapp appID. The hooks are then consumed: they run in this flow or not at all.
func (p *player) relay(ctx context.Context, appID string) ([]*relay, error) {
	hooks := p.hooks
	p.hooks = nil
	byStep := map[int]*relay{}
	var relays []*relay
	for _, h := range hooks {
		if rl, ok := byStep[h.action.BeforeStep]; ok {
			rl.hooks = append(rl.hooks, h)
			continue
		}
		rl := &relay{step: h.action.BeforeStep, hooks: []hook{h}}
		byStep[rl.step] = rl
		relays = append(relays, rl)
	}
	for i, rl := range relays {
		if err := p.startRelay(ctx, rl, appID); err != nil {
			_, _, _ = p.unrelay(ctx, relays[:i])
			return nil, fmt.Errorf("relay step %d: %w", rl.step, err)
		}
	}
	return relays, nil
}

func (p *player) startRelay(ctx context.Context, rl *relay, appID string) error {
	e := p.e
	where := hookSteps[rl.step]
	rl.setting = where.setting
	rl.recordURL = e.platformURL + "/_sim/hostapps/" + url.PathEscape(demo.ClientID)
	if where.record == "miniapp" {
		rl.recordURL = e.platformURL + "/_sim/miniapps/" + url.PathEscape(appID)
	}
	var rec map[string]any
	if err := e.admin(ctx, http.MethodGet, rl.recordURL, nil, &rec); err != nil {
		return err
	}
	rl.target, _ = rec[rl.setting].(string)
	target, err := url.Parse(rl.target)
	if rl.target == "" || err != nil {
		return fmt.Errorf("the Dashboard has no %s to relay (%q)", rl.setting, rl.target)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	// The relay passes the call on to the URL it stands in for and the answer back as it
	// came; a target it cannot reach drops the call, as the target itself would have.
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			u := *target
			u.RawQuery = pr.In.URL.RawQuery
			pr.Out.URL, pr.Out.Host = &u, ""
		},
		ErrorHandler: func(http.ResponseWriter, *http.Request, error) { panic(http.ErrAbortHandler) },
	}
	rl.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rl.mu.Lock()
		if !rl.fired {
			rl.fired = true
			for _, h := range rl.hooks {
				note, err := p.act(ctx, h)
				if err != nil {
					rl.err = errors.Join(rl.err, fmt.Errorf("%s before step %d: %w", h.action.Do, rl.step, err))
					continue
				}
				rl.notes = append(rl.notes, fmt.Sprintf("before step %d: %s", rl.step, note))
			}
		}
		rl.mu.Unlock()
		proxy.ServeHTTP(w, r)
	})}
	go rl.srv.Serve(ln)
	relayURL := *target
	relayURL.Scheme, relayURL.Host = "http", ln.Addr().String()
	// Not only unrelay's work: should its put-back fail, or the PUT below fail after the
	// platform applied it (relay leaves this relay out of unrelay then), restore puts it back.
	e.onUndo(func(ctx context.Context) error {
		return e.admin(ctx, http.MethodPut, rl.recordURL, map[string]string{rl.setting: rl.target}, nil)
	})
	if err := e.admin(ctx, http.MethodPut, rl.recordURL, map[string]string{rl.setting: relayURL.String()}, nil); err != nil {
		rl.srv.Close()
		return err
	}
	return nil
}

// unrelay puts the Dashboard URLs back and closes the relays. It returns the hooks whose step
// the flow never reached, what those that ran did, and their errors.
func (p *player) unrelay(ctx context.Context, relays []*relay) (missed []hook, notes []string, _ error) {
	var errs []error
	for _, rl := range relays {
		if rl.srv != nil {
			if err := p.e.admin(context.WithoutCancel(ctx), http.MethodPut, rl.recordURL, map[string]string{rl.setting: rl.target}, nil); err != nil {
				errs = append(errs, fmt.Errorf("put %s back: %w", rl.setting, err))
			}
			rl.srv.Close()
		}
		rl.mu.Lock()
		if !rl.fired {
			missed = append(missed, rl.hooks...)
		}
		notes = append(notes, rl.notes...)
		errs = append(errs, rl.err)
		rl.mu.Unlock()
	}
	return missed, notes, errors.Join(errs...)
}

// unfired is the failure of a flow that never reached the step a before_step action waited
// for: what the scenario meant to show did not happen.
func (p *player) unfired(ctx context.Context, i int, out *outcome) *Failure {
	if out == nil || len(out.missed) == 0 {
		return nil
	}
	h := out.missed[0]
	var names []string
	for _, m := range out.missed {
		names = append(names, fmt.Sprintf("%s (line %d) before step %d", m.action.Do, m.action.Line, m.action.BeforeStep))
	}
	f := &Failure{Action: i, Do: out.action.Do, User: out.user, Line: h.action.Line,
		Expected: "the flow to reach the step where " + strings.Join(names, ", ") + " was to run",
		Got:      "the flow " + describe(out) + " before it"}
	if out.res != nil {
		f.FlowID = out.res.FlowID
		f.Trace = p.trace(ctx, out)
	}
	return f
}
