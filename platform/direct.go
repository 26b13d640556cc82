package platform

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// Connect Direct (PROTOCOL §7.3): the host backend sends its signed-in user's data to the
// platform itself. The platform's steps of the 12 are 6 (the call arrives and is checked),
// 7–8 (the miniapp's Get Auth Token, as OAuth steps 10–11) and 9 (the answer to the host).

// handleConnect is POST /api/v1/connect/. Checks, in order, each a 400 envelope at step 6:
// the body (PARSING_ERROR_INVALID_REQUEST_BODY; INVALID_REQUEST for a field of the wrong
// type), client_id, app_id and user_data present (INVALID_REQUEST), the host app
// (HOSTAPP_NOT_FOUND), the caller's address against the host app's or the miniapp's allowlist
// (NOT_A_WHITELISTED_IP, §7.6, behind trusted proxies as callerAllowed says), the signature when the host app signs (§7.8), the miniapp
// (MINIAPP_NOT_FOUND), the partnership (NO_INTEGRATION), Connect on for the host app
// (FEATURE_DISABLED_IN_HOSTAPP) and Direct on for the partnership
// (FEATURE_DISABLED_IN_INTEGRATION), then user_data as §3.10 checks step 9's
// (INVALID_USER_DATA; RESPONSE_ATTRIBUTE_MISSING for the miniapp's required fields). Then
// steps 7–8, whose failures pass through as in the OAuth flow; on success the consent record
// for (client_id, app_id, reference) is written with the flow log, and the answer is 200
// {"token", "refresh_token"}.
func (s *server) handleConnect() contract.HandlerFunc {
	end := flowAnswer{
		step: 9, actor: contract.PartyPlatform + " → " + contract.PartyHostapp, call: "POST /api/v1/connect/ response",
		name: "direct connect", lost: "the platform could not store the flow's consent",
	}
	return s.serveFlow(end, func(w http.ResponseWriter, r *http.Request, f *flowRun, t0 time.Time) (any, FlowRecord, *contract.Error) {
		run := &directRun{s: s, flow: f}
		resp, cerr := run.exec(r.Context(), w, r, t0)
		rec := FlowRecord{Mode: ModeDirect, ClientID: run.req.ClientID, AppID: run.req.AppID, UserReference: run.ref, Consent: run.consent}
		if cerr != nil {
			return nil, rec, cerr
		}
		return resp, rec, nil
	})
}

// directRun is the state of one /api/v1/connect/ request.
type directRun struct {
	s       *server
	flow    *flowRun
	req     contract.ConnectRequest
	ref     string   // the user's reference, once user_data gave one
	consent *Consent // written only on success
}

func (d *directRun) exec(ctx context.Context, w http.ResponseWriter, r *http.Request, t0 time.Time) (*contract.AuthorizeResponse, *contract.Error) {
	s := d.s
	// Step 6: the call arrives. The raw body is kept: the signature covers it (§7.8).
	arrived := contract.FlowStep{
		Step: 6, Actor: contract.PartyHostapp + " → " + contract.PartyPlatform, Call: "POST /api/v1/connect/",
		StartedAt: s.now(), Outcome: contract.OutcomeOK,
		Request: &contract.Exchange{Headers: contract.MaskHeaders(r.Header)},
	}
	i := d.flow.add(arrived)
	fail := func(e *contract.Error) (*contract.AuthorizeResponse, *contract.Error) {
		d.flow.steps[i].DurationMS = float64(time.Since(t0).Microseconds()) / 1000
		d.flow.fail(i, e)
		return nil, e
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, contract.MaxBodyBytes))
	if err != nil {
		return fail(platformErr(contract.CodeInvalidRequest, 6, "request body is larger than %d bytes or unreadable", contract.MaxBodyBytes))
	}
	d.flow.steps[i].Request.Body = maskedBody(raw)
	r.Body = io.NopCloser(bytes.NewReader(raw))
	if err := contract.DecodeJSONCodes(w, r, &d.req, contract.CodeParsingErrorInvalidRequestBody, contract.CodeInvalidRequest); err != nil {
		return fail(atStep(err, 6))
	}
	req := &d.req
	for _, f := range []struct{ name, v string }{{"client_id", req.ClientID}, {"app_id", req.AppID}} {
		if strings.TrimSpace(f.v) == "" {
			return fail(platformErr(contract.CodeInvalidRequest, 6, "%s is required", f.name))
		}
	}
	if t := bytes.TrimSpace(req.UserData); len(t) == 0 || string(t) == "null" {
		return fail(platformErr(contract.CodeInvalidRequest, 6, "user_data is required"))
	}

	// Who may call (§7.3 "Authentication"): the host app's allowlist, then its signature.
	host, cerr := s.lookupHost(ctx, req.ClientID, 6)
	if cerr != nil {
		return fail(cerr)
	}
	if ok, err := s.callerAllowed(r, host, req.AppID); err != nil {
		return fail(s.internal(ctx, 6, "IP filter", err))
	} else if !ok {
		return fail(platformErr(contract.CodeNotAWhitelistedIP, 6, "the caller's address is in neither the IP allowlist of host app %q nor the miniapp's", req.ClientID))
	}
	if cerr := s.verifySigned(r, raw, host, 6); cerr != nil {
		return fail(cerr)
	}

	// The Dashboard: miniapp, partnership, and the switches.
	app, part, cerr := s.lookupPartner(ctx, req.ClientID, req.AppID, 6)
	if cerr != nil {
		return fail(cerr)
	}
	if cerr := signingSettings(host, app, 6); cerr != nil {
		return fail(cerr)
	}
	if cerr := endpointsSet(nil, app, 6); cerr != nil {
		return fail(cerr)
	}
	if !host.ConnectEnabled {
		return fail(platformFill(contract.CodeFeatureDisabledInHostapp, 6, []string{"Connect"}, "Connect is not enabled for host app %q", req.ClientID))
	}
	if !part.DirectEnabled {
		return fail(platformFill(contract.CodeFeatureDisabledInIntegration, 6, []string{"Direct"}, "Direct is not enabled for the partnership of %q and %q", req.ClientID, req.AppID))
	}

	// The user data, as step 9 of the OAuth flow checks it (§3.10, §7.3). Encrypted user
	// data is not part of Direct (§7.3).
	if t := bytes.TrimSpace(req.UserData); t[0] == '"' {
		d.flow.violate(i, "§7.3", "user_data is a string; Direct takes the user data as an object (encrypted user data is not supported)")
		return fail(platformErr(contract.CodeInvalidUserData, 6, "user_data must be an object: encrypted user data is not supported in Direct"))
	}
	body, ref, _, cerr := checkUserData(req.UserData, app.RequiredFields)
	d.ref = ref
	if cerr != nil {
		cerr.Step = 6
		if cerr.Code == contract.CodeInvalidUserData {
			d.flow.violate(i, "§7.3", "%s", cerr.Explanation())
		}
		return fail(cerr)
	}
	d.flow.steps[i].DurationMS = float64(time.Since(t0).Microseconds()) / 1000

	// Steps 7–8: the miniapp registers or finds the user and issues its token.
	resp, cerr := s.authToken(ctx, d.flow, req.ClientID, app, body, 7)
	if cerr != nil {
		return nil, cerr
	}
	d.consent = s.consent(req.ClientID, req.AppID, app.RequiredFields, ref)
	return resp, nil
}
