package platform

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/gorilla/mux"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// Peer is a host app or miniapp backend this platform works with.
type Peer struct {
	// URL is the party's base URL (no trailing slash); "" means this platform does not know it.
	URL string
	// Relayed marks a backend not simulated by this stack (relay mode): a team's real backend,
	// which has no fault table, and to which the platform never forwards admin requests.
	Relayed bool
}

// Peers are the host app and miniapp of the stack around this platform.
type Peers struct {
	Hostapp, Miniapp Peer
}

func (p Peers) validate() error {
	for _, x := range []struct {
		name string
		peer Peer
	}{{"Hostapp", p.Hostapp}, {"Miniapp", p.Miniapp}} {
		if x.peer.URL == "" {
			if x.peer.Relayed {
				return fmt.Errorf("platform: Config.Peers.%s is relayed but has no URL", x.name)
			}
			continue
		}
		u, err := url.Parse(x.peer.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("platform: Config.Peers.%s.URL must be an absolute http(s) base URL", x.name)
		}
	}
	return nil
}

func (p Peers) trimmed() Peers {
	p.Hostapp.URL = strings.TrimRight(p.Hostapp.URL, "/")
	p.Miniapp.URL = strings.TrimRight(p.Miniapp.URL, "/")
	return p
}

// Modes of a party in GET /_sim/stack.
const (
	ModeSimulated = "simulated" // served by this boxo-sim stack; has /_sim/faults
	ModeRelayed   = "relayed"   // a backend not started here that the platform calls
	ModeUnknown   = "unknown"   // not started here and not located: the platform has no URL
)

// StackParty is one party in GET /_sim/stack.
type StackParty struct {
	URL  string `json:"url,omitempty"`
	Mode string `json:"mode"`
}

// StackInfo is the body of GET /_sim/stack: where the three parties of this platform's stack
// are and which of them are simulated.
type StackInfo struct {
	Hostapp  StackParty `json:"hostapp"`
	Platform StackParty `json:"platform"`
	Miniapp  StackParty `json:"miniapp"`
}

func (s *server) stackInfo() StackInfo {
	party := func(p Peer) StackParty {
		switch {
		case p.URL == "":
			return StackParty{Mode: ModeUnknown}
		case p.Relayed:
			return StackParty{URL: p.URL, Mode: ModeRelayed}
		}
		return StackParty{URL: p.URL, Mode: ModeSimulated}
	}
	return StackInfo{
		Hostapp:  party(s.peers.Hostapp),
		Platform: party(Peer{URL: s.baseURL}),
		Miniapp:  party(s.peers.Miniapp),
	}
}

// handleStack is GET /_sim/stack → StackInfo.
func (s *server) handleStack() contract.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) error {
		contract.WriteJSON(w, http.StatusOK, s.stackInfo())
		return nil
	}
}

// faultID is what a fault id may look like in a proxied path (the tables number them f1, f2…).
var faultID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// handlePartyFaults forwards /_sim/parties/{party}/faults[/{id}] to that party's own
// /_sim/faults[/{id}], so the console, served by the platform, reaches every fault table
// from its own origin (the /_sim/ routes answer no CORS, PROTOCOL §2.12). Method, query,
// body, Content-Type and Authorization go as they came (an admin token keeps working,
// PROTOCOL §2.13); the party's status and JSON come back unchanged. A relayed party is never
// called: it has no fault table, and it must not see the stack's admin token.
func (s *server) handlePartyFaults() contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		vars := mux.Vars(r)
		name, id := vars["party"], vars["id"]
		info := s.stackInfo()
		var p StackParty
		switch name {
		case contract.PartyHostapp:
			p = info.Hostapp
		case contract.PartyPlatform:
			p = info.Platform
		case contract.PartyMiniapp:
			p = info.Miniapp
		default:
			return notFoundErr("party %s: use hostapp, platform or miniapp", quote(name))
		}
		switch p.Mode {
		case ModeUnknown:
			return notFoundErr("this platform does not know where the %s is (not started in its stack, no URL given)", name)
		case ModeRelayed:
			return &contract.Error{Code: "not_simulated", Status: http.StatusConflict,
				Message: fmt.Sprintf("the %s at %s is a backend this platform relays to, not a simulated party: it has no fault table", name, p.URL)}
		}
		target := p.URL + "/_sim/faults"
		if id != "" {
			if !faultID.MatchString(id) {
				return invalidField("id", "a fault id is 1 to 64 characters of A-Z a-z 0-9 _ -")
			}
			target += "/" + id
		}
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, contract.MaxBodyBytes))
		if err != nil {
			return invalidField("body", "larger than %d bytes", contract.MaxBodyBytes)
		}
		ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
		defer cancel()
		var rd io.Reader
		if len(body) > 0 {
			rd = bytes.NewReader(body)
		}
		out, err := http.NewRequestWithContext(ctx, r.Method, target, rd)
		if err != nil {
			return err
		}
		for _, k := range []string{"Authorization", "Content-Type", "Accept"} {
			if v := r.Header.Values(k); len(v) > 0 {
				out.Header[k] = v
			}
		}
		resp, err := s.client.Do(out)
		if err != nil {
			if errors.Is(ctx.Err(), context.Canceled) {
				return nil // the caller left
			}
			return &contract.Error{Code: "bad_gateway", Status: http.StatusBadGateway,
				Message: fmt.Sprintf("the %s at %s did not answer: %v", name, p.URL, err)}
		}
		defer resp.Body.Close()
		answer, err := io.ReadAll(io.LimitReader(resp.Body, contract.MaxBodyBytes+1))
		if err != nil || len(answer) > contract.MaxBodyBytes {
			return &contract.Error{Code: "bad_gateway", Status: http.StatusBadGateway,
				Message: fmt.Sprintf("the %s at %s sent an unreadable or oversized answer", name, p.URL)}
		}
		for _, k := range []string{"Content-Type", "WWW-Authenticate", "Cache-Control"} {
			if v := resp.Header.Values(k); len(v) > 0 {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(answer)
		return nil
	}
}
