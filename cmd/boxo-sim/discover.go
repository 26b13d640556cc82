package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/stack"
	"github.com/boxo-sim/boxo-sim/platform"
)

// stackParty is one party of a found stack.
type stackParty struct {
	URL     string
	Relayed bool // a backend the platform relays to, not a party boxo-sim simulates
}

// foundStack is where the parties of one running stack are, and how they were found
// (DESIGN.md "Running stacks, admin access, CI"). A party missing from parties is one the
// stack does not locate (not started, no URL given).
type foundStack struct {
	parties map[string]stackParty
	// from says how the stack was found, for messages: "the platform at URL", "the state
	// file PATH", "the default ports".
	from string
	// fromDefaults: nothing located the stack; the parties are guessed at the default ports.
	fromDefaults bool
}

// url is the party's URL, "" when the stack does not locate it.
func (s foundStack) url(p string) string { return s.parties[p].URL }

// findStack locates the stack a client command acts on, in this order:
//  1. platform_url (flag, BOXO_SIM_PLATFORM_URL, config): that platform says where its host
//     app and miniapp are (GET /_sim/stack); the default ports are never tried;
//  2. the state file of the `up` running on data_dir (--data-dir, or the default ./.boxo-sim);
//  3. the default ports, asking the platform there for its parties when it answers.
//
// A hostapp_url or miniapp_url given as well must name the stack's own party when the stack
// was named (platform_url, data_dir): a command never acts on a party of another stack.
// When the stack was only guessed, the URL given names the party to act on.
func findStack(ctx context.Context, cfg Config, src source) (foundStack, error) {
	client := adminClient(cfg, 3*time.Second)
	var found foundStack
	// explicit: the user named the stack (--platform-url, --data-dir, or their BOXO_SIM_ and
	// config forms); a party URL given as well must then be that stack's.
	explicit := cfg.PlatformURL != "" || (src["data_dir"] != "" && src["data_dir"] != "default")
	switch {
	case cfg.PlatformURL != "":
		base := strings.TrimRight(cfg.PlatformURL, "/")
		info, err := fetchStackInfo(ctx, client, base)
		var down notAnsweringError
		switch {
		case errors.As(err, &down) && cfg.HostappURL != "" && cfg.MiniappURL != "":
			// Every party is named: each command says which of them do not answer.
			found = foundStack{parties: map[string]stackParty{
				stack.Hostapp: {URL: strings.TrimRight(cfg.HostappURL, "/")}, stack.Platform: {URL: base},
				stack.Miniapp: {URL: strings.TrimRight(cfg.MiniappURL, "/")},
			}, from: "the URLs given"}
			return found, nil
		case errors.As(err, &down):
			return found, fmt.Errorf("no platform answers at %s (%s; %v): start the parties with 'boxo-sim up', or give the platform's URL with --platform-url (its host app and miniapp are found through it)",
				base, src["platform_url"], down.err)
		case err != nil:
			return found, fmt.Errorf("the platform at %s (%s) does not say where its parties are: %v", base, src["platform_url"], err)
		}
		found = stackFromInfo(info, "the platform at "+base)
	default:
		st, err := stack.ReadState(cfg.DataDir)
		statePath := filepath.Join(cfg.DataDir, stack.StateFileName)
		switch {
		case err == nil:
			found, err = stackFromState(ctx, client, st, statePath)
			if err != nil {
				return found, err
			}
		case !errors.Is(err, fs.ErrNotExist):
			return found, fmt.Errorf("read %s: %v", statePath, err)
		case strings.HasPrefix(src["data_dir"], "flag") || strings.HasPrefix(src["data_dir"], "env"):
			return found, fmt.Errorf("no 'boxo-sim up' is running on %s (no %s): start one with 'boxo-sim up --data-dir %s', or give --platform-url",
				cfg.DataDir, stack.StateFileName, cfg.DataDir)
		default:
			local := cfg.localURL(cfg.PlatformPort)
			if info, err := fetchStackInfo(ctx, client, local); err == nil {
				found = stackFromInfo(info, "the platform at "+local)
			} else {
				found = foundStack{parties: map[string]stackParty{
					stack.Hostapp:  {URL: cfg.localURL(cfg.HostappPort)},
					stack.Platform: {URL: local},
					stack.Miniapp:  {URL: cfg.localURL(cfg.MiniappPort)},
				}, from: "the default ports", fromDefaults: true}
			}
		}
	}
	for _, o := range []struct{ party, key, v string }{
		{stack.Hostapp, "hostapp_url", cfg.HostappURL},
		{stack.Miniapp, "miniapp_url", cfg.MiniappURL},
	} {
		if o.v == "" {
			continue
		}
		given := strings.TrimRight(o.v, "/")
		known, ok := found.parties[o.party]
		if ok && explicit && !sameURL(known.URL, given) {
			return found, fmt.Errorf("%s %s (%s) is not the %s of the stack found through %s, which is at %s: drop %s, or give the URL of the other stack's platform with --platform-url",
				o.key, given, src[o.key], o.party, found.from, known.URL, o.key)
		}
		if !ok || !explicit {
			// The stack was only guessed (default data directory or ports): the URL given
			// names the party to act on.
			found.parties[o.party] = stackParty{URL: given}
		}
	}
	return found, nil
}

// stackFromState is the stack of a state file. When its platform answers, the platform's
// own account is used (it knows relayed parties too); when nothing of it answers, the file is
// left from an up that did not stop cleanly, and that is an error naming it.
func stackFromState(ctx context.Context, client *http.Client, st stack.State, path string) (foundStack, error) {
	from := "the state file " + path
	if p, ok := st.Parties[stack.Platform]; ok {
		if info, err := fetchStackInfo(ctx, client, p.URL); err == nil {
			return stackFromInfo(info, from), nil
		}
	}
	found := foundStack{parties: map[string]stackParty{}, from: from}
	alive := false
	for name, p := range st.Parties {
		found.parties[name] = stackParty{URL: strings.TrimRight(p.URL, "/"), Relayed: p.Relayed}
		if !p.Relayed && healthy(ctx, p.URL) {
			alive = true
		}
	}
	if !alive {
		return found, fmt.Errorf("the 'boxo-sim up' of %s (pid %d, started %s) does not answer: it did not stop cleanly; start it again, or delete the file",
			path, st.PID, st.StartedAt.Local().Format(time.DateTime))
	}
	return found, nil
}

// stackFromInfo is the stack a platform describes in GET /_sim/stack.
func stackFromInfo(info platform.StackInfo, from string) foundStack {
	found := foundStack{parties: map[string]stackParty{}, from: from}
	for name, p := range map[string]platform.StackParty{stack.Hostapp: info.Hostapp, stack.Platform: info.Platform, stack.Miniapp: info.Miniapp} {
		if p.URL == "" || p.Mode == platform.ModeUnknown {
			continue
		}
		found.parties[name] = stackParty{URL: strings.TrimRight(p.URL, "/"), Relayed: p.Mode == platform.ModeRelayed}
	}
	return found
}

// fetchStackInfo asks a platform where its parties are (GET /_sim/stack).
func fetchStackInfo(ctx context.Context, client *http.Client, base string) (platform.StackInfo, error) {
	var info platform.StackInfo
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/_sim/stack", nil)
	if err != nil {
		return info, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return info, notAnsweringError{unwrapURLError(err)}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return info, fmt.Errorf("GET /_sim/stack needs the stack's admin token%s", tokenHint(resp.StatusCode))
	case resp.StatusCode != http.StatusOK:
		return info, fmt.Errorf("GET /_sim/stack answered %s: is it a boxo-sim platform?", resp.Status)
	}
	if err := json.Unmarshal(b, &info); err != nil || info.Platform.URL == "" {
		return info, fmt.Errorf("GET /_sim/stack answered no stack: is it a boxo-sim platform?")
	}
	return info, nil
}

// notAnsweringError is a platform that gave no HTTP answer at all.
type notAnsweringError struct{ err error }

func (e notAnsweringError) Error() string { return fmt.Sprintf("it does not answer (%v)", e.err) }

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// sameURL reports whether two base URLs name the same place: scheme and host compared
// case-insensitively, localhost as 127.0.0.1, trailing slashes ignored.
func sameURL(a, b string) bool {
	norm := func(s string) string {
		u, err := url.Parse(strings.TrimRight(s, "/"))
		if err != nil {
			return s
		}
		host := strings.ToLower(u.Host)
		if h, port, ok := strings.Cut(host, ":"); ok && h == "localhost" {
			host = "127.0.0.1:" + port
		}
		return strings.ToLower(u.Scheme) + "://" + host + u.Path
	}
	return norm(a) == norm(b)
}
