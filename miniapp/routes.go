package miniapp

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// addRoutes lists the miniapp's whole HTTP surface. Every path except "/" is served with and
// without a trailing slash, without redirecting (PROTOCOL §2.8, §9.38).
func addRoutes(r *mux.Router, c Config) {
	always200, plain := contract.Always200(c.Logger), contract.Plain(c.Logger)
	handle := func(path string, h http.Handler, methods ...string) {
		r.Handle(path, h).Methods(methods...)
		r.Handle(path+"/", h).Methods(methods...)
	}

	// Step 10 → 11: the platform's Get Auth Token call (PROTOCOL §3.11, §3.12).
	handle("/boxo/auth-token", always200(handleAuthToken(c)), http.MethodPost)

	// Steps 14–15 and the session API of the miniapp frontend (PROTOCOL §3.15, §7.1, §7.5).
	handle("/api/me", plain(handleMe(c)), http.MethodGet)
	handle("/api/auth/refresh", plain(handleRefresh(c)), http.MethodPost)
	handle("/api/auth/logout", plain(handleLogout(c)), http.MethodPost)

	// The miniapp frontend: the URL the platform hands to the SDK (PROTOCOL §3.2).
	r.Handle("/", handlePage(c)).Methods(http.MethodGet, http.MethodHead)
	r.PathPrefix("/web/").Handler(handleAssets()).Methods(http.MethodGet, http.MethodHead)

	// Simulator-only routes (PROTOCOL §1.4).
	handle("/healthz", plain(handleHealthz()), http.MethodGet, http.MethodHead)
	handle("/_sim/settings", plain(handleGetSettings(c)), http.MethodGet)
	handle("/_sim/settings", plain(handlePutSettings(c)), http.MethodPut)
	handle("/_sim/users", plain(handleUsers(c)), http.MethodGet)
}
