package sdkstub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// AuthCodeFunc is the host app's answer to the SDK's auth callback (PROTOCOL §3.6 items 1–3):
// it returns a fresh auth code for the signed-in user. Tests and relay mode replace the fake
// host app with their own.
type AuthCodeFunc func(ctx context.Context) (string, error)

// hostApp is the fake host app: it signs its user in to the host's authorization server and
// asks it for an auth code with the Boxo-facing OAuth client (PROTOCOL §6.10). Each user has
// their own cookie jar, so their host session is kept between flows.
type hostApp struct {
	baseURL     string
	clientID    string // the Boxo-facing OAuth client (hostapp_client_id)
	redirectURI string
	transport   http.RoundTripper

	mu    sync.Mutex
	users map[string]*http.Client
}

func (h *hostApp) client(username string) *http.Client {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c, ok := h.users[username]; ok {
		return c
	}
	jar, _ := cookiejar.New(nil) // never fails without options
	c := &http.Client{
		Transport:     h.transport,
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	h.users[username] = c
	return c
}

// signOut forgets a user's host session.
func (h *hostApp) signOut(username string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.users, username)
}

// signIn posts the host's sign-in form (PROTOCOL §9.31).
func (h *hostApp) signIn(ctx context.Context, c *http.Client, username, password string) error {
	form := url.Values{"username": {username}, "password": {password}, "return_to": {"/"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.baseURL+"/auth/v1/login", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("host sign-in: %w", contract.AsConnectError(err))
	}
	defer drain(resp)
	switch {
	case resp.StatusCode == http.StatusFound || resp.StatusCode == http.StatusSeeOther || resp.StatusCode == http.StatusOK:
		return nil
	case resp.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("host sign-in: wrong username or password for %q", username)
	default:
		return fmt.Errorf("host sign-in: unexpected status %d", resp.StatusCode)
	}
}

// authCode signs the user in when needed and runs the authorization-code request with a
// random single-use state, checking it on the way back (PROTOCOL §6.9, §6.10).
func (h *hostApp) authCode(ctx context.Context, username, password string) (string, error) {
	c := h.client(username)
	for attempt := 0; attempt < 2; attempt++ {
		state := contract.RandomHex(16)
		q := url.Values{
			"client_id": {h.clientID}, "response_type": {"code"}, "response_mode": {"query"},
			"redirect_uri": {h.redirectURI}, "state": {state},
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.baseURL+"/auth/v1/authorize?"+q.Encode(), nil)
		if err != nil {
			return "", err
		}
		resp, err := c.Do(req)
		if err != nil {
			return "", fmt.Errorf("host authorize: %w", contract.AsConnectError(err))
		}
		drain(resp)
		if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
			return "", fmt.Errorf("host authorize: status %d, want a redirect", resp.StatusCode)
		}
		loc, err := resp.Location()
		if err != nil {
			return "", fmt.Errorf("host authorize: bad redirect: %w", err)
		}
		if strings.HasSuffix(loc.Path, "/auth/v1/login") {
			if attempt > 0 {
				return "", errors.New("host authorize: still asked to sign in after signing in")
			}
			if err := h.signIn(ctx, c, username, password); err != nil {
				return "", err
			}
			continue
		}
		got := loc.Query()
		if e := got.Get("error"); e != "" {
			return "", fmt.Errorf("host authorize: %s: %s", e, got.Get("error_description"))
		}
		if got.Get("state") != state {
			return "", errors.New("host authorize: state in the callback does not match the one sent (possible CSRF)")
		}
		code := got.Get("code")
		if code == "" {
			return "", errors.New("host authorize: redirect carries no code")
		}
		return code, nil
	}
	return "", errors.New("host authorize: sign-in loop")
}

// userCall is the fake host app's POST {"app_id"} to its own backend at path for the
// signed-in user (Connect Direct's tokens, the consent lookup), signing in first when the
// backend answers 401. It returns the status and the JSON body; a body that is not JSON is an
// error.
func (h *hostApp) userCall(ctx context.Context, username, password, path, appID, flowID string) (int, json.RawMessage, error) {
	c := h.client(username)
	for attempt := 0; attempt < 2; attempt++ {
		body := `{"app_id":` + quoteJSON(appID) + `}`
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.baseURL+path, strings.NewReader(body))
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		if flowID != "" {
			req.Header.Set(contract.HeaderFlowID, flowID)
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, nil, fmt.Errorf("host %s: %w", path, contract.AsConnectError(err))
		}
		var raw json.RawMessage
		err = json.NewDecoder(io.LimitReader(resp.Body, contract.MaxBodyBytes)).Decode(&raw)
		drain(resp)
		if resp.StatusCode == http.StatusUnauthorized && attempt == 0 {
			if err := h.signIn(ctx, c, username, password); err != nil {
				return 0, nil, err
			}
			continue
		}
		if err != nil {
			return resp.StatusCode, nil, fmt.Errorf("host %s answered %d with a body that is not JSON", path, resp.StatusCode)
		}
		return resp.StatusCode, raw, nil
	}
	return 0, nil, fmt.Errorf("host %s: still not signed in after signing in", path)
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}
