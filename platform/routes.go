package platform

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// addRoutes lists the platform's whole API surface.
func addRoutes(r *mux.Router, s *server) {
	envelope, plain := contract.Envelope(s.log), contract.Plain(s.log)

	r.Handle("/healthz", plain(handleHealth())).Methods(http.MethodGet)

	// Contract endpoints (PROTOCOL §3, §7.4), both slash forms without redirect (§2.8).
	both(r, "/api/v1/miniapps/{app_id}/settings/", envelope(s.handleSettings()), http.MethodGet)
	both(r, "/api/v1/authorize/", envelope(s.handleAuthorize()), http.MethodPost)
	both(r, legacyLoginPath, envelope(s.handleLegacyLogin()), http.MethodPost)
	both(r, "/api/v1/accounts/consent/get_consent/", envelope(s.handleGetConsent()), http.MethodGet)
	both(r, "/api/v1/connect/", envelope(s.handleConnect()), http.MethodPost) // Direct (§7.3)

	// Dashboard registry (PROTOCOL §1.3), simulator-only.
	r.Handle("/_sim/settings", plain(s.handleGetSettings())).Methods(http.MethodGet)
	r.Handle("/_sim/settings", plain(s.handlePutSettings())).Methods(http.MethodPut)
	r.Handle("/_sim/storage", plain(s.handleStorage())).Methods(http.MethodGet, http.MethodPut)
	r.Handle("/_sim/hostapps", plain(s.handleListHostApps())).Methods(http.MethodGet)
	r.Handle("/_sim/hostapps/{client_id}", plain(s.handleGetHostApp())).Methods(http.MethodGet)
	r.Handle("/_sim/hostapps/{client_id}", plain(s.handlePutHostApp())).Methods(http.MethodPut)
	r.Handle("/_sim/hostapps/{client_id}", plain(s.handleDeleteHostApp())).Methods(http.MethodDelete)
	r.Handle("/_sim/miniapps", plain(s.handleListMiniapps())).Methods(http.MethodGet)
	r.Handle("/_sim/miniapps/{app_id}", plain(s.handleGetMiniapp())).Methods(http.MethodGet)
	r.Handle("/_sim/miniapps/{app_id}", plain(s.handlePutMiniapp())).Methods(http.MethodPut)
	r.Handle("/_sim/miniapps/{app_id}", plain(s.handleDeleteMiniapp())).Methods(http.MethodDelete)
	r.Handle("/_sim/partnerships", plain(s.handleListPartnerships())).Methods(http.MethodGet)
	r.Handle("/_sim/partnerships/{client_id}/{app_id}", plain(s.handleGetPartnership())).Methods(http.MethodGet)
	r.Handle("/_sim/partnerships/{client_id}/{app_id}", plain(s.handlePutPartnership())).Methods(http.MethodPut)
	r.Handle("/_sim/partnerships/{client_id}/{app_id}", plain(s.handleDeletePartnership())).Methods(http.MethodDelete)

	// Consent revocation (PROTOCOL §7.4), simulator-only.
	r.Handle("/_sim/consent/revoke", plain(s.handleRevokeConsent())).Methods(http.MethodPost)

	// Flow log (DESIGN.md "Flow log").
	r.Handle("/_sim/flows", plain(s.handleListFlows())).Methods(http.MethodGet)
	r.Handle("/_sim/flows", plain(s.handleDeleteFlows())).Methods(http.MethodDelete)
	r.Handle("/_sim/flows/latest", plain(s.handleLatestFlow())).Methods(http.MethodGet)
	r.Handle("/_sim/flows/events", plain(s.handleFlowEvents())).Methods(http.MethodGet) // before {id}
	r.Handle("/_sim/flows/{id}", plain(s.handleGetFlow())).Methods(http.MethodGet)
	r.Handle("/_sim/flows/{id}/steps", plain(s.handleReportSteps())).Methods(http.MethodPost)
	// The same for pages in a browser, outside /_sim/ and with CORS (sdksteps.go).
	both(r, "/api/v1/sim/flows/{id}/steps/", plain(s.handleReportSteps()), http.MethodPost)

	// The console (console.go): the page, its embedded assets, and what it reads besides the
	// flow log: where the stack's parties are, and each party's fault table through the
	// platform's origin (console_stack.go).
	r.Handle("/", plain(s.handleConsole())).Methods(http.MethodGet, http.MethodHead)
	r.PathPrefix("/_sim/console/").Handler(consoleAssets()).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/_sim/stack", plain(s.handleStack())).Methods(http.MethodGet)
	for _, p := range []string{"/_sim/parties/{party}/faults", "/_sim/parties/{party}/faults/",
		"/_sim/parties/{party}/faults/{id}", "/_sim/parties/{party}/faults/{id}/"} {
		r.Handle(p, plain(s.handlePartyFaults())).Methods(http.MethodGet, http.MethodPut, http.MethodDelete)
	}
}

// both registers a platform path with and without its trailing slash (PROTOCOL §2.8, §9.38).
func both(r *mux.Router, path string, h http.Handler, methods ...string) {
	r.Handle(path, h).Methods(methods...)
	r.Handle(path[:len(path)-1], h).Methods(methods...)
}

func handleHealth() contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		contract.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok", "party": contract.PartyPlatform})
		return nil
	}
}
