package sdkstub

// The token store: the miniapp token pairs the SDK keeps per user and miniapp, and what the
// host app does with them (refresh, read the user, forget, log out).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
)

type tokenKey struct{ user, appID string }

// session is a miniapp token pair the SDK keeps, with the miniapp backend it belongs to.
type session struct {
	LoginPayload
	base string
}

// Tokens returns the miniapp token pair the SDK holds for a user and miniapp.
func (s *SDK) Tokens(user, appID string) (LoginPayload, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.tokens[tokenKey{user, appID}]
	return p.LoginPayload, ok
}

func (s *SDK) storeTokens(user, appID string, p session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[tokenKey{user, appID}] = p
	s.saveLocked(tokenKey{user, appID})
}

// Refresh renews a user's miniapp session with the stored refresh token, as the miniapp
// frontend does with its backend (PROTOCOL §7.1, miniapp side), and stores the rotated pair.
func (s *SDK) Refresh(ctx context.Context, user, appID string) (LoginPayload, error) {
	if appID == "" {
		appID = demo.AppID
	}
	s.mu.Lock()
	sess, ok := s.tokens[tokenKey{user, appID}]
	s.mu.Unlock()
	if !ok || sess.RefreshToken == "" {
		return LoginPayload{}, fmt.Errorf("sdkstub: no refresh token held for user %q and miniapp %q: run Connect first: %w", user, appID, ErrNoTokens)
	}
	var got contract.MiniappTokens
	var fail backendRefusal
	status, err := s.doJSON(ctx, http.MethodPost, sess.base+"/api/auth/refresh", nil, "", map[string]string{"refresh_token": sess.RefreshToken}, &got, &fail)
	if err != nil {
		return LoginPayload{}, fmt.Errorf("sdkstub: refresh: %w", err)
	}
	if status != http.StatusOK {
		return LoginPayload{}, fail.err(14, status, "refresh refused")
	}
	if got.AuthToken == "" {
		return LoginPayload{}, &Error{Step: 14, Party: contract.PartyMiniapp, Status: status, Code: CodeNoAuthToken, Message: "the refresh answer carries no auth_token"}
	}
	p := LoginPayload{Token: got.AuthToken, RefreshToken: got.RefreshToken}
	s.storeTokens(user, appID, session{LoginPayload: p, base: sess.base})
	return p, nil
}

// Me reads the user from the miniapp backend with the stored token (steps 14–15).
func (s *SDK) Me(ctx context.Context, user, appID string) (*contract.Me, int, error) {
	if appID == "" {
		appID = demo.AppID
	}
	s.mu.Lock()
	sess, ok := s.tokens[tokenKey{user, appID}]
	s.mu.Unlock()
	if !ok {
		return nil, 0, fmt.Errorf("sdkstub: no token held for user %q and miniapp %q: %w", user, appID, ErrNoTokens)
	}
	return s.me(ctx, sess.base+"/api/me", sess.Token, "")
}

// ErrNoTokens is wrapped by Refresh and Me when the SDK holds no tokens for the user and
// miniapp: none were issued, or logout or a consent revocation dropped them.
var ErrNoTokens = errors.New("no miniapp tokens held")

// Forget drops the tokens held for one user and miniapp, as the SDK does when the user's
// consent for that miniapp is revoked (PROTOCOL §7.4). It reports whether any were held.
func (s *SDK) Forget(user, appID string) bool {
	if appID == "" {
		appID = demo.AppID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.tokens[tokenKey{user, appID}]
	delete(s.tokens, tokenKey{user, appID})
	s.saveLocked(tokenKey{user, appID})
	return ok
}

// Logout is the host app's SDK logout (PROTOCOL §7.5): every miniapp session of the user is
// ended at its backend (the miniapp frontend's POST /api/auth/logout), the stored token pairs
// are dropped and the host session is forgotten. All sessions are tried; the first failure is
// returned.
func (s *SDK) Logout(ctx context.Context, user string) error {
	s.mu.Lock()
	var ended []session
	var keys []tokenKey
	for k, sess := range s.tokens {
		if k.user == user {
			ended = append(ended, sess)
			keys = append(keys, k)
			delete(s.tokens, k)
		}
	}
	s.saveLocked(keys...)
	s.mu.Unlock()
	s.host.signOut(user)
	var first error
	for _, sess := range ended {
		if err := s.logoutMiniapp(ctx, sess); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// logoutMiniapp sends the logout message to an open miniapp over its bridge, in the web host
// SDK's form {"type":"appboxo-host-response","handler":"AppBoxoWebAppLogout","data":{"action":
// "logout"}} (PROTOCOL §7.5). Every session the SDK holds is a miniapp the host app has open:
// the simulator keeps no closed ones. The miniapp frontend answers by ending its session.
func (s *SDK) logoutMiniapp(ctx context.Context, sess session) error {
	b := newBridge()
	done := make(chan error, 1)
	go func() { done <- s.miniappLogout(ctx, b, sess) }()
	if err := b.push(ctx, HandlerLogout, map[string]string{"action": "logout"}); err != nil {
		return err
	}
	return <-done
}

// miniappLogout is the frontend of an open miniapp: on the SDK's logout message it ends its
// session at its backend (POST /api/auth/logout with its token, which revokes its refresh
// token) and forgets its token.
func (s *SDK) miniappLogout(ctx context.Context, b *bridge, sess session) error {
	msg, err := b.receive(ctx)
	if err != nil {
		return err
	}
	var ev struct {
		Type    string `json:"type"`
		Handler string `json:"handler"`
		Data    struct {
			Action string `json:"action"`
		} `json:"data"`
	}
	if err := json.Unmarshal(msg, &ev); err != nil || ev.Type != typeResponse || ev.Handler != HandlerLogout || ev.Data.Action != "logout" {
		return fmt.Errorf("sdkstub: the miniapp got %s over the bridge, not the logout message", msg)
	}
	return s.logoutAtBackend(ctx, sess)
}

// logoutAtBackend ends a miniapp session at its backend: POST /api/auth/logout with the
// session's auth_token (PROTOCOL §7.5). A refusal is an *Error with the backend's code.
func (s *SDK) logoutAtBackend(ctx context.Context, sess session) error {
	h := http.Header{"Authorization": {"Bearer " + sess.Token}}
	var fail backendRefusal
	status, err := s.doJSON(ctx, http.MethodPost, sess.base+"/api/auth/logout", h, "", map[string]any{}, nil, &fail)
	if err != nil {
		return fmt.Errorf("sdkstub: miniapp logout: %w", err)
	}
	if status != http.StatusOK {
		return fail.err(0, status, fmt.Sprintf("miniapp logout answered %d", status))
	}
	return nil
}

// EndSession ends one miniapp session of a user, as the miniapp's own "log out" does: the
// stored token pair is dropped, whatever happens next, and the session is ended at the
// miniapp backend (logoutAtBackend). ErrNoTokens when the SDK holds none for the user and
// miniapp.
func (s *SDK) EndSession(ctx context.Context, user, appID string) error {
	if appID == "" {
		appID = demo.AppID
	}
	k := tokenKey{user, appID}
	s.mu.Lock()
	sess, ok := s.tokens[k]
	delete(s.tokens, k)
	if ok {
		s.saveLocked(k)
	}
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("sdkstub: no session held for user %q and miniapp %q: %w", user, appID, ErrNoTokens)
	}
	return s.logoutAtBackend(ctx, sess)
}

// backendRefusal is a miniapp backend's error answer ({"error", "error_description"}).
type backendRefusal struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// err is the refusal as an *Error of the miniapp at step; fallback is its message when the
// backend gave no description.
func (f backendRefusal) err(step, status int, fallback string) *Error {
	msg := f.Description
	if msg == "" {
		msg = fallback
	}
	return &Error{Step: step, Party: contract.PartyMiniapp, Status: status, Code: f.Error, Message: msg}
}
