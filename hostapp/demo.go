package hostapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// The demo client page (PROTOCOL §6.9): an ordinary OAuth client of this authorization
// server, served by the host app itself. It starts a code flow with a random single-use
// state bound to a browser cookie, checks the state on the callback, exchanges the code at
// the token endpoint over HTTP like any client, verifies the ID token and shows the result.

// The seeded demo clients of the authorization server.
const (
	DemoWebClientID     = "demo-web-client"
	DemoWebClientSecret = "demo-web-secret"
	DemoWebCallbackPath = "/demo/callback"

	// DemoV1AppID is the seeded legacy v1 application (PROTOCOL §6.11: a 16-character id
	// and a UUID secret).
	DemoV1AppID         = "demoV1App0000001"
	DemoV1AppSecret     = "6f1c0a52-8a5e-4c1e-9d7a-3b2f4e5d6c7b"
	DemoV1CallbackPath  = "/demo/v1/callback"
	demoBrowserCookie   = "demo_browser"
	demoStateTTL        = 10 * time.Minute
	demoStateBytes      = 16
	demoMaxTokenRespLen = 1 << 20
)

// handleDemoStart serves GET /demo: a new state (16 bytes hex, 10 min, single use) bound to
// this browser's demo cookie, then a redirect to the authorization endpoint.
func handleDemoStart(s *server) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		browser := ""
		if c, err := r.Cookie(demoBrowserCookie); err == nil && len(c.Value) >= 32 && len(c.Value) <= 64 {
			browser = c.Value
		} else {
			browser = contract.RandomToken()
			http.SetCookie(w, &http.Cookie{Name: demoBrowserCookie, Value: browser, Path: "/demo", HttpOnly: true,
				SameSite: http.SameSiteLaxMode, Secure: s.baseURL.Scheme == "https"})
		}
		state, nonce := contract.RandomHex(demoStateBytes), contract.RandomHex(demoStateBytes)
		now := s.Now()
		err := s.Store.CreateDemoState(r.Context(), DemoState{Hash: contract.Hash(state), BrowserHash: contract.Hash(browser),
			Nonce: nonce, CreatedAt: now, ExpiresAt: now.Add(demoStateTTL)})
		if err != nil {
			s.log(r).ErrorContext(r.Context(), "demo: store state", "err", err)
			s.page(w, r, http.StatusInternalServerError, "demo", demoPage{Title: "Demo client", Error: "server_error", Description: "could not start the sign-in"})
			return
		}
		q := url.Values{"client_id": {DemoWebClientID}, "response_type": {"code"}, "redirect_uri": {s.BaseURL + DemoWebCallbackPath},
			"state": {state}, "nonce": {nonce}}
		http.Redirect(w, r, "/auth/v1/authorize?"+q.Encode(), http.StatusFound)
	}
}

// demoPage is the data of the demo template. Tokens are shown masked.
type demoPage struct {
	Title, Error, Description                  string
	AccessToken, RefreshToken, IDToken, Scope  string
	Subject, Name, Email, Nonce, Issuer, KeyID string
	ExpiresIn                                  int64
}

// handleDemoCallback serves GET /demo/callback: state check first (a mismatch or a missing
// value is rejected, PROTOCOL §6.9), then the error or the code exchange.
func handleDemoCallback(s *server) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		fail := func(status int, code, desc string) {
			s.page(w, r, status, "demo", demoPage{Title: "Demo client", Error: code, Description: desc})
		}
		q := r.URL.Query()
		c, err := r.Cookie(demoBrowserCookie)
		state := q.Get("state")
		if err != nil || c.Value == "" || state == "" {
			fail(http.StatusBadRequest, "state_mismatch", "the callback has no state or this browser started no sign-in; rejected (CSRF protection)")
			return
		}
		ds, err := s.Store.ConsumeDemoState(r.Context(), contract.Hash(state), contract.Hash(c.Value), s.Now())
		if errors.Is(err, ErrNotFound) {
			fail(http.StatusBadRequest, "state_mismatch", "the state is unknown, expired, already used or was issued to another browser; rejected (CSRF protection)")
			return
		}
		if err != nil {
			s.log(r).ErrorContext(r.Context(), "demo: consume state", "err", err)
			fail(http.StatusInternalServerError, "server_error", "could not check the state")
			return
		}
		if e := q.Get("error"); e != "" {
			fail(http.StatusOK, e, q.Get("error_description"))
			return
		}
		code := q.Get("code")
		if code == "" {
			fail(http.StatusBadRequest, "invalid_request", "the callback carries neither code nor error")
			return
		}
		tr, err := s.demoExchange(r, code)
		if err != nil {
			s.log(r).DebugContext(r.Context(), "demo: code exchange failed", "err", err)
			fail(http.StatusBadGateway, "exchange_failed", err.Error())
			return
		}
		sg, err := s.keys.signer(r.Context())
		if err != nil {
			fail(http.StatusInternalServerError, "server_error", err.Error())
			return
		}
		claims, err := sg.parse(tr.IDToken, s.BaseURL, DemoWebClientID, s.Now)
		if err != nil {
			fail(http.StatusBadGateway, "invalid_id_token", "the ID token does not verify: "+err.Error())
			return
		}
		if n, _ := claims["nonce"].(string); n != ds.Nonce {
			fail(http.StatusBadGateway, "invalid_id_token", "the ID token's nonce does not match the request's")
			return
		}
		str := func(k string) string { v, _ := claims[k].(string); return v }
		s.page(w, r, http.StatusOK, "demo", demoPage{
			Title: "Demo client: signed in", AccessToken: contract.Mask(tr.AccessToken), RefreshToken: contract.Mask(tr.RefreshToken),
			IDToken: contract.Mask(tr.IDToken), Scope: tr.Scope, ExpiresIn: tr.ExpiresIn, Subject: str("sub"), Name: str("name"),
			Email: str("email"), Nonce: str("nonce"), Issuer: str("iss"), KeyID: sg.kid,
		})
	}
}

// demoExchange redeems code at our own token endpoint over HTTP with Basic client auth.
func (s *server) demoExchange(r *http.Request, code string) (tokenResponse, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {s.BaseURL + DemoWebCallbackPath}}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, s.BaseURL+"/auth/v1/token", strings.NewReader(form.Encode()))
	if err != nil {
		return tokenResponse{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(DemoWebClientID), url.QueryEscape(DemoWebClientSecret))
	if id := r.Header.Get(contract.HeaderFlowID); id != "" {
		req.Header.Set(contract.HeaderFlowID, id)
	}
	resp, err := s.HTTPClient.Do(req)
	if err != nil {
		return tokenResponse{}, fmt.Errorf("token endpoint unreachable: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, demoMaxTokenRespLen))
	if err != nil {
		return tokenResponse{}, fmt.Errorf("reading the token response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(body, &e)
		return tokenResponse{}, fmt.Errorf("token endpoint answered %d %s: %s", resp.StatusCode, e.Error, e.Description)
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" || tr.IDToken == "" {
		return tokenResponse{}, errors.New("token response lacks access_token or id_token")
	}
	return tr, nil
}

// handleDemoV1Callback serves GET /demo/v1/callback, the demo v1 application's return_uri:
// a page saying the nonce arrived (masked).
func handleDemoV1Callback(s *server) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		s.page(w, r, http.StatusOK, "callback", callbackPage{Title: "Legacy v1 callback", What: "A v1 nonce",
			Note: "The application exchanges it at POST /v1/oauth/access_token.", Code: contract.Mask(q.Get("nonce")),
			Error: q.Get("error"), Description: q.Get("error_description")})
	}
}
