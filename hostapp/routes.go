package hostapp

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// addRoutes lists the host app's whole API surface.
func addRoutes(r *mux.Router, s *server) {
	always200, plain, oauth := contract.Always200(s.Logger), contract.Plain(s.Logger), contract.OAuth(s.Logger)
	get, post := http.MethodGet, http.MethodPost

	r.Handle("/healthz", handleHealthz()).Methods(get)
	addWebRoutes(r, s) // the demo web host app at "/" (web.go)

	// Sign-in (PROTOCOL §9.31) and the authorization server (PROTOCOL §6).
	r.Handle("/auth/v1/login", handleLoginPage(s)).Methods(get)
	r.Handle("/auth/v1/login", handleLogin(s)).Methods(post)
	r.Handle("/auth/v1/logout", handleLogout(s)).Methods(post)
	r.Handle("/auth/v1/authorize", handleAuthorize(s)).Methods(get)
	r.Handle("/auth/v1/authorize", handleAuthorizeDecision(s)).Methods(post) // the consent form
	r.Handle("/auth/v1/token", oauth(handleToken(s))).Methods(post)
	r.Handle("/auth/v1/userinfo", oauth(handleUserinfo(s))).Methods(get, post)
	r.Handle("/auth/v1/revoke", oauth(handleRevoke(s))).Methods(post)
	r.Handle("/auth/v1/jwks", oauth(handleJWKS(s))).Methods(get)
	r.Handle("/.well-known/openid-configuration", handleDiscovery(s)).Methods(get)
	r.Handle("/boxo/callback", handleBoxoCallback(s)).Methods(get)

	// The legacy v1 API (PROTOCOL §6.11, §6.12).
	r.Handle("/v1/oauth/authorize", handleV1Authorize(s)).Methods(get)
	r.Handle("/v1/oauth/authorize", handleV1Decision(s)).Methods(post) // the consent form
	r.Handle("/v1/oauth/access_token", oauth(handleV1AccessToken(s))).Methods(post)
	r.Handle("/v1/oauth/{access_token}", oauth(handleV1Revoke(s))).Methods(http.MethodDelete)

	// The demo client page (PROTOCOL §6.9).
	r.Handle("/demo", handleDemoStart(s)).Methods(get)
	r.Handle(DemoWebCallbackPath, handleDemoCallback(s)).Methods(get)
	r.Handle(DemoV1CallbackPath, handleDemoV1Callback(s)).Methods(get)

	// The endpoints the platform calls (PROTOCOL §3.7–§3.10, §7.1), both slash forms.
	for _, p := range bothSlashes("/boxo/connect/access-token") {
		r.Handle(p, always200(s.connect(handleAccessToken(s)))).Methods(post)
	}
	for _, p := range bothSlashes("/boxo/connect/user-data") {
		r.Handle(p, always200(s.connect(handleUserData(s)))).Methods(get, post)
	}
	for _, p := range bothSlashes("/boxo/connect/refresh-token") {
		r.Handle(p, always200(s.connect(handleRefreshToken(s)))).Methods(post)
	}

	// Connect Direct (PROTOCOL §7.3): the host app's own call for its signed-in user.
	for _, p := range bothSlashes("/boxo/direct/tokens") {
		r.Handle(p, contract.Envelope(s.Logger)(handleDirectTokens(s, false))).Methods(post)
	}
	// Consent lookup (PROTOCOL §7.4): the host app's call for the SDK's prompt-skip switch.
	for _, p := range bothSlashes("/boxo/consent") {
		r.Handle(p, contract.Envelope(s.Logger)(handleConsentLookup(s))).Methods(post)
	}

	// Simulator-only admin routes.
	r.Handle("/_sim/users", plain(handleListUsers(s))).Methods(get)
	r.Handle("/_sim/users/{username}", plain(handleGetUser(s))).Methods(get)
	r.Handle("/_sim/users/{username}", plain(handlePutUser(s))).Methods(http.MethodPut)
	r.Handle("/_sim/users/{username}", plain(handleDeleteUser(s))).Methods(http.MethodDelete)
	r.Handle("/_sim/users/{username}/revoke-tokens", plain(handleRevokeUserTokens(s))).Methods(post)
	r.Handle("/_sim/settings", plain(handleGetSettings(s))).Methods(get)
	r.Handle("/_sim/settings", plain(handlePutSettings(s))).Methods(http.MethodPut)
	r.Handle("/_sim/clients", plain(handleListClients(s))).Methods(get)
	r.Handle("/_sim/clients/{client_id}", plain(handleGetClient(s))).Methods(get)
	r.Handle("/_sim/clients/{client_id}", plain(handlePutClient(s))).Methods(http.MethodPut)
	r.Handle("/_sim/clients/{client_id}", plain(handleDeleteClient(s))).Methods(http.MethodDelete)
}

// bothSlashes returns p without and with a trailing slash (served alike, no redirect).
func bothSlashes(p string) []string {
	p = strings.TrimSuffix(p, "/")
	return []string{p, p + "/"}
}
