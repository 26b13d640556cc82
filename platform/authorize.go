package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// consentPromptFields are the fields the SDK lists when a miniapp requires none (PROTOCOL
// §3.5); a consent record stores what the prompt listed.
var consentPromptFields = []string{"email", "phone", "first_name", "last_name"}

// consent is the consent record a successful flow writes for the user reference with host
// app clientID and miniapp appID: the fields the prompt listed (the miniapp's required ones,
// else consentPromptFields), granted now.
func (s *server) consent(clientID, appID string, required []string, reference string) *Consent {
	fields := required
	if len(fields) == 0 {
		fields = consentPromptFields
	}
	return &Consent{ClientID: clientID, AppID: appID, UserReference: reference, Fields: fields, GrantedAt: s.now()}
}

// handleAuthorize is POST /api/v1/authorize/, PROTOCOL steps 5 to 12 (§3.6–§3.13, §5.2).
// It answers 200 {"token", "refresh_token"?} or 400 with the envelope, always with the
// X-Sim-Flow-Id header, and writes the flow's platform steps in one transaction before
// answering.
func (s *server) handleAuthorize() contract.HandlerFunc { return s.authorizeHandler(false) }

// handleLegacyLogin is POST /api/v1/partner/login/, the legacy payload login of older SDKs
// (PROTOCOL §7.10), behind the host app's legacy_login_enabled switch: the payload is taken
// as an auth code and runs steps 6–11 as authorize does; the answer is {"token"} or 400 with
// the envelope.
func (s *server) handleLegacyLogin() contract.HandlerFunc { return s.authorizeHandler(true) }

func (s *server) authorizeHandler(legacy bool) contract.HandlerFunc {
	path, caller := "/api/v1/authorize/", contract.PartySDK
	if legacy {
		path, caller = legacyLoginPath, "miniapp frontend"
	}
	end := flowAnswer{
		step: 12, actor: contract.PartyPlatform + " → " + caller, call: "POST " + path + " response",
		name: "authorize", okAttrs: []any{"legacy", legacy},
		lost: "the platform could not store the flow's consent and tokens",
	}
	return s.serveFlow(end, func(w http.ResponseWriter, r *http.Request, f *flowRun, _ time.Time) (any, FlowRecord, *contract.Error) {
		run := &authorizeRun{s: s, flow: f, legacy: legacy}
		resp, cerr := run.exec(r.Context(), w, r)
		rec := FlowRecord{
			ClientID: run.req.ClientID, AppID: run.req.AppID, UserReference: run.req.UserReference,
			HostTokens: run.tokens, Consent: run.consent,
		}
		if run.req.AuthCode != "" {
			rec.CodeHash = contract.Hash(run.req.AuthCode)
		}
		if rec.UserReference == "" {
			rec.UserReference = run.hostRef
		}
		if cerr != nil {
			return nil, rec, cerr
		}
		if legacy {
			return contract.LegacyLoginResponse{Token: resp.Token}, rec, nil
		}
		return resp, rec, nil
	})
}

// flowAnswer is how a flow endpoint (authorize, the legacy login, Connect Direct) ends: the
// trace step of its answer to the caller, and what its log and a lost record say.
type flowAnswer struct {
	step        int    // the answer's step number
	actor, call string // the answer's trace step
	name        string // the flow in the debug log: "<name> ok", "<name> failed"
	okAttrs     []any  // more debug-log attributes of a success
	lost        string // the detail of the UNKNOWN_ERROR when a success's consent or host tokens could not be stored
}

// flowExec runs one flow request on f, started at t0. It returns the 200 body, or the
// error, and the flow record without its id, start and steps; the record's consent is kept
// only on success.
type flowExec func(w http.ResponseWriter, r *http.Request, f *flowRun, t0 time.Time) (out any, rec FlowRecord, cerr *contract.Error)

// serveFlow is the handler of a flow endpoint: it takes the caller's X-Sim-Flow-Id (or mints
// one) and echoes it, runs the flow, adds the answer's trace step, writes the flow record in
// one transaction and then answers, 200 with the body or 400 with the envelope.
func (s *server) serveFlow(end flowAnswer, run flowExec) contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		t0, startedAt := time.Now(), s.now()
		flowID := r.Header.Get(contract.HeaderFlowID)
		if !contract.ValidFlowID(flowID) {
			flowID = contract.NewFlowID()
		}
		w.Header().Set(contract.HeaderFlowID, flowID)
		log := s.log.With("flow_id", flowID)

		flow := &flowRun{id: flowID}
		out, rec, cerr := run(w, r, flow, t0)

		final := contract.FlowStep{
			Step: end.step, Actor: end.actor, Call: end.call,
			StartedAt: s.now(), DurationMS: float64(time.Since(t0).Microseconds()) / 1000, Outcome: contract.OutcomeOK,
			Status: http.StatusOK,
		}
		if cerr != nil {
			final.Status = cerr.Status
			if final.Status == 0 {
				final.Status = http.StatusBadRequest
			}
			final.Outcome, final.ErrorCode, final.Note = contract.OutcomeFailed, cerr.Code, cerr.Explanation()
			final.Response = &contract.Exchange{Body: mustJSON(envelopeOf(cerr))}
		} else {
			final.Response = &contract.Exchange{Body: maskedBody(mustJSON(out))}
		}
		flow.add(final)

		rec.FlowID, rec.StartedAt, rec.Steps = flowID, startedAt, flow.steps
		if cerr != nil {
			rec.Consent = nil
		}
		// The caller may have hung up; the record is still worth keeping.
		if err := s.store.RecordFlow(context.WithoutCancel(r.Context()), rec); err != nil {
			log.ErrorContext(r.Context(), "record flow", "err", err)
			if cerr == nil && (rec.Consent != nil || rec.HostTokens != nil) {
				// The consent record (and the host pair) were lost with the flow log: a
				// success now would leave get_consent and the refresh state contradicting it.
				cerr = platformErr(contract.CodeUnknownError, end.step, "%s", end.lost)
			}
		}
		if cerr != nil {
			log.DebugContext(r.Context(), end.name+" failed", "error_code", cerr.Code, "source", sourceOf(cerr), "step", cerr.Step)
			return cerr
		}
		log.DebugContext(r.Context(), end.name+" ok", append([]any{"client_id", rec.ClientID, "app_id", rec.AppID}, end.okAttrs...)...)
		contract.WriteJSON(w, http.StatusOK, out)
		return nil
	}
}

// authorizeRun is the state of one authorize request.
type authorizeRun struct {
	s       *server
	flow    *flowRun
	req     contract.AuthorizeRequest
	hostRef string      // the host's reference, once step 9 gave one
	tokens  *HostTokens // the host pair to keep (§3.8), once step 9 gave a reference
	consent *Consent    // written only on success (§7.4)
	legacy  bool        // the legacy payload login (§7.10): payload in place of auth_code
}

const legacyLoginPath = "/api/v1/partner/login/"

func (a *authorizeRun) exec(ctx context.Context, w http.ResponseWriter, r *http.Request) (*contract.AuthorizeResponse, *contract.Error) {
	s := a.s
	// Step 5: the platform's own checks (PROTOCOL §3.6).
	codeField := "auth_code"
	if a.legacy {
		var body contract.LegacyLoginRequest
		if err := contract.DecodeJSONCodes(w, r, &body, contract.CodeParsingErrorInvalidRequestBody, contract.CodeInvalidRequest); err != nil {
			return nil, atStep(err, 5)
		}
		a.req = contract.AuthorizeRequest{AuthCode: body.Payload, ClientID: body.ClientID, AppID: body.AppID}
		codeField = "payload"
	} else if err := contract.DecodeJSONCodes(w, r, &a.req, contract.CodeParsingErrorInvalidRequestBody, contract.CodeInvalidRequest); err != nil {
		return nil, atStep(err, 5)
	}
	req := &a.req
	for _, f := range []struct{ name, v string }{{codeField, req.AuthCode}, {"client_id", req.ClientID}, {"app_id", req.AppID}} {
		if strings.TrimSpace(f.v) == "" {
			return nil, platformErr(contract.CodeInvalidRequest, 5, "%s is required", f.name)
		}
	}
	if contract.Len(req.AuthCode) > contract.MaxTokenLen {
		return nil, platformErr(contract.CodeInvalidRequest, 5, "%s is longer than %d characters", codeField, contract.MaxTokenLen)
	}
	if contract.Len(req.UserReference) > contract.MaxReferenceLen {
		return nil, platformErr(contract.CodeInvalidRequest, 5, "user_reference is longer than %d characters", contract.MaxReferenceLen)
	}
	host, app, cerr := s.lookupPair(ctx, req.ClientID, req.AppID, 5, true)
	if cerr != nil {
		return nil, cerr
	}
	if cerr := signingSettings(host, app, 5); cerr != nil {
		return nil, cerr
	}
	if cerr := endpointsSet(&host, app, 5); cerr != nil {
		return nil, cerr
	}
	if a.legacy && !host.LegacyLogin {
		return nil, platformFill(contract.CodeFeatureDisabledInHostapp, 5, []string{"the legacy payload login"},
			"the legacy payload login (contract §7.10) is switched off for host app %s: set legacy_login_enabled in its Dashboard record", quote(req.ClientID))
	}

	// Steps 6–7: auth code → access token. Never retried: the code is single-use (§2.11).
	pair, cerr := s.accessToken(ctx, a.flow, host, req.AppID, req.AuthCode)
	if cerr != nil {
		return nil, cerr
	}

	// Steps 8–9: user data, with the one refresh-and-retry of §5.2.
	raw, cerr := a.userData(ctx, host, &pair)
	if cerr != nil {
		return nil, cerr
	}
	i := len(a.flow.steps) - 1 // the step-9 answer that gave the user data
	body, ref, p, cerr := checkUserData(raw, app.RequiredFields)
	if p != "" && !contract.ValidE164(p) {
		// The platform forwards it, but a miniapp refuses it at step 11 (§3.11): the rule
		// was broken here, by the host, and the trace says so at this step.
		a.flow.violate(i, "§3.10", "user_data.phone %q is not E.164 (+ and 2 to 15 digits); miniapps refuse it with INVALID_USER_DATA at step 11", p)
	}
	if ref != "" {
		a.hostRef = ref
	}
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '"' {
		a.flow.steps[i].Note = joinNote(a.flow.steps[i].Note,
			"user_data is encrypted (contract §7.2): the platform forwards it to the miniapp unchecked")
	}
	// The pair is kept under the host's own reference only: with encrypted user data the
	// platform knows none, and the SDK's user_reference is not authenticated (§9.37).
	if keyRef := a.hostRef; keyRef != "" {
		a.tokens = &HostTokens{ClientID: req.ClientID, AppID: req.AppID, Reference: keyRef,
			AccessToken: pair.AccessToken, RefreshToken: pair.RefreshToken, UpdatedAt: s.now()}
	}
	if cerr != nil {
		if cerr.Code == contract.CodeInvalidUserData {
			a.flow.violate(i, "§3.10", "%s", cerr.Explanation())
		}
		a.flow.fail(i, cerr)
		return nil, cerr
	}
	if req.UserReference != "" && a.hostRef != "" && req.UserReference != a.hostRef {
		a.flow.steps[i].Note = joinNote(a.flow.steps[i].Note, fmt.Sprintf(
			"user_reference %q sent by the SDK differs from the host's reference %q (contract §9.37)", req.UserReference, a.hostRef))
	}

	// Steps 10–11: the miniapp registers or finds the user and issues its token.
	resp, cerr := s.authToken(ctx, a.flow, req.ClientID, app, body, 10)
	if cerr != nil {
		return nil, cerr
	}
	if req.UserReference != "" {
		a.consent = s.consent(req.ClientID, req.AppID, app.RequiredFields, req.UserReference)
	}
	return resp, nil
}

// endpointsSet checks, at step, that the Dashboard has every endpoint URL the flow calls:
// the host app's access-token and user-data URLs, the miniapp's auth-token URL. A record may
// be saved without them, as in Boxo's Dashboard; the flow then stops before calling anyone
// (ENDPOINT_URL_NOT_SET, contract §5.1). host is nil for Connect Direct, which calls the
// miniapp only.
func endpointsSet(host *HostApp, app Miniapp, step int) *contract.Error {
	var setting string
	switch {
	case host != nil && host.AccessTokenURL == "":
		setting = "access_token_url"
	case host != nil && host.UserDataURL == "":
		setting = "user_data_url"
	case app.AuthTokenURL == "":
		setting = "auth_token_url"
	default:
		return nil
	}
	return platformFill(contract.CodeEndpointURLNotSet, step, []string{setting}, "the Dashboard has no %s: set it before running Connect", setting)
}

// lookupPair finds the host app, the miniapp and their partnership, as steps 1 and 5 check
// them (PROTOCOL §3.2, §3.6); needConnect also checks Connect is on for both.
func (s *server) lookupPair(ctx context.Context, clientID, appID string, step int, needConnect bool) (HostApp, Miniapp, *contract.Error) {
	host, cerr := s.lookupHost(ctx, clientID, step)
	if cerr != nil {
		return HostApp{}, Miniapp{}, cerr
	}
	app, part, cerr := s.lookupPartner(ctx, clientID, appID, step)
	if cerr != nil {
		return HostApp{}, Miniapp{}, cerr
	}
	if needConnect {
		if !host.ConnectEnabled {
			return HostApp{}, Miniapp{}, platformFill(contract.CodeFeatureDisabledInHostapp, step, []string{"Connect"}, "Connect is not enabled for host app %q", clientID)
		}
		if !part.ConnectEnabled {
			return HostApp{}, Miniapp{}, platformFill(contract.CodeFeatureDisabledInIntegration, step, []string{"Connect"}, "Connect is not enabled for the partnership of %q and %q", clientID, appID)
		}
	}
	return host, app, nil
}

// lookupHost is lookupPair's first check, apart for Direct, which checks who calls before it
// looks at the miniapp.
func (s *server) lookupHost(ctx context.Context, clientID string, step int) (HostApp, *contract.Error) {
	host, err := s.store.GetHostApp(ctx, clientID)
	if errors.Is(err, ErrNotFound) {
		return HostApp{}, platformErr(contract.CodeHostappNotFound, step, "no host app with client_id %q", clientID)
	} else if err != nil {
		return HostApp{}, s.internal(ctx, step, "get host app", err)
	}
	return host, nil
}

// lookupPartner is the rest of lookupPair's finding: the miniapp and its partnership.
func (s *server) lookupPartner(ctx context.Context, clientID, appID string, step int) (Miniapp, Partnership, *contract.Error) {
	app, err := s.store.GetMiniapp(ctx, appID)
	if errors.Is(err, ErrNotFound) {
		return Miniapp{}, Partnership{}, platformErr(contract.CodeMiniappNotFound, step, "no miniapp with app_id %q", appID)
	} else if err != nil {
		return Miniapp{}, Partnership{}, s.internal(ctx, step, "get miniapp", err)
	}
	part, err := s.store.GetPartnership(ctx, clientID, appID)
	if errors.Is(err, ErrNotFound) {
		return Miniapp{}, Partnership{}, platformErr(contract.CodeNoIntegration, step, "miniapp %q is not partnered with host app %q", appID, clientID)
	} else if err != nil {
		return Miniapp{}, Partnership{}, s.internal(ctx, step, "get partnership", err)
	}
	return app, part, nil
}

// setExact sets a header under the exact spelling of PROTOCOL §2.6 ("X-Miniapp-App-ID"),
// which http.Header.Set would canonicalize to "X-Miniapp-App-Id". Receivers compare names
// case-insensitively either way.
func setExact(h http.Header, name, value string) { h[name] = []string{value} }

// hostHeader builds the headers of a platform → host call (PROTOCOL §3.7, §3.9, §7.1).
func hostHeader(host HostApp, appID, credential, flowID string, hasBody bool) http.Header {
	h := http.Header{}
	h.Set("Authorization", host.TokenPrefix+" "+credential)
	setExact(h, contract.HeaderMiniappAppID, appID)
	setExact(h, contract.HeaderHostappClientID, host.ClientID)
	if hasBody {
		h.Set("Content-Type", "application/json")
	}
	setExact(h, contract.HeaderFlowID, flowID)
	return h
}

// accessToken is steps 6 and 7 (PROTOCOL §3.7, §3.8).
func (s *server) accessToken(ctx context.Context, f *flowRun, host HostApp, appID, authCode string) (contract.TokenPair, *contract.Error) {
	body := mustJSON(contract.AccessTokenRequest{AuthCode: authCode})
	a := s.do(ctx, f, outcall{
		step: 6, toward: contract.PartyHostapp, method: http.MethodPost, url: host.AccessTokenURL,
		header: hostHeader(host, appID, contract.BasicCredential(host.HostappClientID, host.HostappSecretKey), f.id, true),
		body:   body, failCode: contract.CodeUnexpectedResponseError, signWith: signSecret(host.SigningEnabled, host.SigningSecret),
	})
	pair, cerr := checkTokenPair(a, 7, "access_token", "§3.8")
	if cerr != nil {
		f.fail(a.index, cerr)
		return pair, cerr
	}
	if host.UseAccessToken {
		f.steps[a.index].Note = joinNote(f.steps[a.index].Note,
			`"use access token" is on: Boxo Payments calls for this user would carry this access token and X-User-ID (contract §7.9)`)
	}
	return pair, nil
}

// checkTokenPair checks a host answer carrying tokens: step 7 (§3.8) or the refresh (§7.1);
// section names the table the answer follows.
func checkTokenPair(a answer, step int, what, section string) (contract.TokenPair, *contract.Error) {
	var p contract.TokenPair
	if code, problem := decodeAnswer(a, &p, contract.PartyHostapp, section); problem != "" {
		return p, platformErr(code, step, "%s", problem)
	}
	if p.ErrorCode != "" { // error wins over a token (PROTOCOL §2.3, §9.9)
		if p.AccessToken != "" || p.RefreshToken != "" {
			a.violate("§2.3", "the answer carries both a token and error_code; the platform treats it as the error (§9.9)")
		}
		codeNote(a, p.ErrorCode)
		return p, passThrough(contract.PartyHostapp, p.ErrorCode, step)
	}
	if p.AccessToken == "" {
		a.violate(section, "the answer has neither %s nor error_code", what)
		return p, missingAttribute(step, what, "host answer has neither %s nor error_code", what)
	}
	for _, t := range []struct{ name, v string }{{"access_token", p.AccessToken}, {"refresh_token", p.RefreshToken}} {
		if n := contract.Len(t.v); n > contract.MaxTokenLen {
			a.violate(section, "%s is %d characters long; String(%d) allows no more", t.name, n, contract.MaxTokenLen)
			return p, platformErr(contract.CodeUnexpectedResponseError, step, "host token is longer than %d characters", contract.MaxTokenLen)
		}
	}
	return p, nil
}

// userData is steps 8 and 9 (PROTOCOL §3.9, §3.10) with the one refresh-and-retry of §5.2:
// when step 9 says INVALID_ACCESS_TOKEN or EXPIRED_ACCESS_TOKEN, step 7 gave a refresh token and the host app has a
// refresh URL, the platform refreshes once and, on success, repeats step 8 once. A failed
// refresh leaves the original INVALID_ACCESS_TOKEN. pair is updated with refreshed tokens.
func (a *authorizeRun) userData(ctx context.Context, host HostApp, pair *contract.TokenPair) (json.RawMessage, *contract.Error) {
	s := a.s
	raw, cerr, i := s.fetchUserData(ctx, a.flow, host, a.req.AppID, pair.AccessToken, "")
	if cerr == nil || (cerr.Code != contract.CodeInvalidAccessToken && cerr.Code != contract.CodeExpiredAccessToken) || cerr.Source != contract.PartyHostapp ||
		pair.RefreshToken == "" || host.RefreshTokenURL == "" {
		return raw, cerr
	}
	const note = "refresh-and-retry"
	ans := s.do(ctx, a.flow, outcall{
		step: 8, toward: contract.PartyHostapp, method: http.MethodPost, url: host.RefreshTokenURL,
		header: hostHeader(host, a.req.AppID, contract.BasicCredential(host.HostappClientID, host.HostappSecretKey), a.flow.id, true),
		body:   mustJSON(contract.RefreshTokenRequest{RefreshToken: pair.RefreshToken}), note: note + " (refresh)",
		failCode: contract.CodeUnexpectedResponseError, signWith: signSecret(host.SigningEnabled, host.SigningSecret),
	})
	fresh, rerr := checkTokenPair(ans, 9, "access_token", "§7.1")
	if rerr != nil {
		a.flow.fail(ans.index, rerr)
		return nil, cerr // the original INVALID_ACCESS_TOKEN or EXPIRED_ACCESS_TOKEN (§5.2)
	}
	// The refresh worked: the first step-9 answer no longer ends the flow.
	a.flow.steps[i].Outcome, a.flow.steps[i].ErrorCode = contract.OutcomeOK, ""
	a.flow.steps[i].Note = "host answered " + cerr.Code + "; refreshed the access token and retried"
	if fresh.RefreshToken == "" {
		fresh.RefreshToken = pair.RefreshToken
	}
	*pair = fresh
	raw, cerr, _ = s.fetchUserData(ctx, a.flow, host, a.req.AppID, pair.AccessToken, note+" (retry)")
	return raw, cerr
}

// fetchUserData makes one step-8 call and checks its step-9 answer up to the user_data
// value; i is the answer's step index.
func (s *server) fetchUserData(ctx context.Context, f *flowRun, host HostApp, appID, accessToken, note string) (json.RawMessage, *contract.Error, int) {
	c := outcall{
		step: 8, toward: contract.PartyHostapp, method: host.UserDataMethod, url: host.UserDataURL,
		note: note, failCode: contract.CodeUnexpectedResponseError, signWith: signSecret(host.SigningEnabled, host.SigningSecret),
	}
	if c.method == http.MethodPost {
		c.body = []byte("{}")
	} else {
		c.method = http.MethodGet
	}
	c.header = hostHeader(host, appID, accessToken, f.id, c.body != nil)
	a := s.do(ctx, f, c)
	fail := func(e *contract.Error) (json.RawMessage, *contract.Error, int) {
		f.fail(a.index, e)
		return nil, e, a.index
	}
	var ud contract.UserDataResponse
	if code, problem := decodeAnswer(a, &ud, contract.PartyHostapp, "§3.10"); problem != "" {
		return fail(platformErr(code, 9, "%s", problem))
	}
	hasData := len(ud.UserData) > 0 && string(ud.UserData) != "null"
	if ud.ErrorCode != "" {
		if hasData {
			a.violate("§2.3", "the answer carries both user_data and error_code; the platform treats it as the error (§9.9)")
		}
		codeNote(a, ud.ErrorCode)
		return fail(passThrough(contract.PartyHostapp, ud.ErrorCode, 9))
	}
	if !hasData {
		a.violate("§3.10", "the answer has neither user_data nor error_code")
		return fail(missingAttribute(9, "user_data", "host answer has neither user_data nor error_code"))
	}
	return ud.UserData, nil, a.index
}

// checkUserData applies PROTOCOL §3.10's checks to step 9's user_data and returns the
// step-10 body, the host's reference and user_data.phone when it is a string (even when a
// check fails: the phone's own rule is the caller's). A JSON string (encrypted, §7.2) is
// forwarded as {"user_data": "<string>"} without checks. Unknown keys are dropped; null
// counts as absent. The object is decoded once.
func checkUserData(raw json.RawMessage, required []string) (body []byte, reference, phone string, cerr *contract.Error) {
	raw = bytes.TrimSpace(raw)
	invalid := func(format string, args ...any) ([]byte, string, string, *contract.Error) {
		return nil, reference, phone, platformErr(contract.CodeInvalidUserData, 9, format, args...)
	}
	if len(raw) == 0 {
		return invalid("user_data is empty")
	}
	switch raw[0] {
	case '"':
		return mustJSON(map[string]json.RawMessage{"user_data": raw}), "", "", nil
	case '{':
	default:
		return invalid("user_data must be an object (or an encrypted string)")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return invalid("user_data is not a valid object: %v", err)
	}
	str := func(key string) (string, bool) {
		v, ok := m[key]
		if !ok || string(v) == "null" {
			return "", true
		}
		// Most values are plain strings: no escapes to undo, nothing to replace.
		if len(v) >= 2 && v[0] == '"' && bytes.IndexByte(v, '\\') < 0 && utf8.Valid(v) {
			return string(v[1 : len(v)-1]), true
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", false
		}
		return s, true
	}
	phone, _ = str("phone")
	var u contract.UserData
	for _, f := range []struct {
		key string
		dst *string
	}{
		{"reference", &u.Reference}, {"email", &u.Email}, {"phone", &u.Phone},
		{"first_name", &u.FirstName}, {"last_name", &u.LastName},
	} {
		v, ok := str(f.key)
		if !ok {
			return invalid("user_data.%s must be a string", f.key)
		}
		*f.dst = v
	}
	if strings.TrimSpace(u.Reference) == "" {
		return invalid("user_data.reference is missing or empty")
	}
	if contract.Len(u.Reference) > contract.MaxReferenceLen {
		return invalid("user_data.reference is longer than %d characters", contract.MaxReferenceLen)
	}
	reference = u.Reference
	if u.Email == "" && u.Phone == "" {
		return invalid("user_data has neither email nor phone")
	}
	if ca, ok := m["custom_attributes"]; ok && string(ca) != "null" {
		var buf bytes.Buffer
		if err := json.Compact(&buf, ca); err != nil || buf.Len() == 0 || buf.Bytes()[0] != '{' {
			return invalid("user_data.custom_attributes must be an object")
		}
		u.CustomAttributes = buf.Bytes()
	}
	var missing []string
	for _, f := range required {
		if strings.TrimSpace(u.Field(f)) == "" {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		e := platformFill(contract.CodeResponseAttributeMissing, 9, []string{strings.Join(missing, ", ")}, "user_data lacks required fields: %s", strings.Join(missing, ", "))
		e.Extra = map[string]any{"missing": missing}
		return nil, reference, phone, e
	}
	return mustJSON(u), reference, phone, nil
}

// authToken is steps 10 and 11 (PROTOCOL §3.11, §3.12), or 7 and 8 of Direct (§7.3): step is
// the call's number, its answer's is step+1.
func (s *server) authToken(ctx context.Context, f *flowRun, clientID string, app Miniapp, body []byte, step int) (*contract.AuthorizeResponse, *contract.Error) {
	h := http.Header{}
	h.Set("Authorization", "Basic "+contract.BasicCredential(app.AppID, app.SecretKey))
	setExact(h, contract.HeaderHostappClientID, clientID)
	setExact(h, contract.HeaderMiniappAppID, app.AppID)
	h.Set("Content-Type", "application/json")
	setExact(h, contract.HeaderFlowID, f.id)
	a := s.do(ctx, f, outcall{
		step: step, toward: contract.PartyMiniapp, method: http.MethodPost, url: app.AuthTokenURL,
		header: h, body: body, failCode: contract.CodeUnexpectedResponseError, signWith: signSecret(app.SigningEnabled, app.SigningSecret),
	})
	fail := func(e *contract.Error) (*contract.AuthorizeResponse, *contract.Error) {
		f.fail(a.index, e)
		return nil, e
	}
	var at contract.AuthTokenResponse
	if code, problem := decodeAnswer(a, &at, contract.PartyMiniapp, "§3.12"); problem != "" {
		return fail(platformErr(code, step+1, "%s", problem))
	}
	if at.ErrorCode != "" {
		if at.AuthToken != "" || at.RefreshToken != "" {
			a.violate("§2.3", "the answer carries both a token and error_code; the platform treats it as the error (§9.9)")
		}
		codeNote(a, at.ErrorCode)
		return fail(passThrough(contract.PartyMiniapp, at.ErrorCode, step+1))
	}
	if at.AuthToken == "" {
		a.violate("§3.12", "the answer has neither auth_token nor error_code")
		return fail(platformErr(contract.CodeUnexpectedResponseError, step+1, "miniapp answer has neither auth_token nor error_code"))
	}
	for _, t := range []struct{ name, v string }{{"auth_token", at.AuthToken}, {"refresh_token", at.RefreshToken}} {
		if n := contract.Len(t.v); n > contract.MaxTokenLen {
			a.violate("§3.12", "%s is %d characters long; String(%d) allows no more", t.name, n, contract.MaxTokenLen)
			return fail(platformErr(contract.CodeUnexpectedResponseError, step+1, "miniapp token is longer than %d characters", contract.MaxTokenLen))
		}
	}
	return &contract.AuthorizeResponse{Token: at.AuthToken, RefreshToken: at.RefreshToken}, nil
}

// platformErr is a failure the platform itself detects: Boxo's error_message for the code
// (contract §5.1), the platform's explanation as its detail.
func platformErr(code string, step int, format string, args ...any) *contract.Error {
	return platformFill(code, step, nil, format, args...)
}

// platformFill is platformErr for a message with placeholders, filled in order by fill.
func platformFill(code string, step int, fill []string, format string, args ...any) *contract.Error {
	e := contract.BoxoError(code, fill, fmt.Sprintf(format, args...))
	e.Source, e.Step = contract.PartyPlatform, step
	return e
}

// missingAttribute is RESPONSE_ATTRIBUTE_MISSING for a host answer without its success
// field (contract §5.1).
func missingAttribute(step int, field, format string, args ...any) *contract.Error {
	e := platformFill(contract.CodeResponseAttributeMissing, step, []string{field}, format, args...)
	e.Extra = map[string]any{"missing": []string{field}}
	return e
}

// passThrough is a host or miniapp error code handed on unchanged (PROTOCOL §3.13, §5.2),
// with Boxo's message for it when the message needs no value the platform lacks.
func passThrough(source, code string, step int) *contract.Error {
	e := contract.BoxoError(code, nil, fmt.Sprintf("%s answered %s at step %d", source, code, step))
	e.Source, e.Step = source, step
	return e
}

// atStep turns a decoding failure into a platform error at step.
func atStep(err error, step int) *contract.Error {
	var ce *contract.Error
	if errors.As(err, &ce) {
		return platformErr(ce.Code, step, "%s", ce.Explanation())
	}
	return platformErr(contract.CodeInvalidRequest, step, "%v", err)
}

// internal logs an unexpected failure and returns UNKNOWN_ERROR without its details.
func (s *server) internal(ctx context.Context, step int, what string, err error) *contract.Error {
	s.log.ErrorContext(ctx, what, "err", err)
	return platformErr(contract.CodeUnknownError, step, "unexpected failure") // 400 like every error (§2.4)
}

// envelopeOf is the envelope contract.WriteEnvelope writes for e, for the flow log.
func envelopeOf(e *contract.Error) contract.ErrorEnvelope {
	attrs := map[string]any{"source": sourceOf(e)}
	if e.Step != 0 {
		attrs["step"] = e.Step
	}
	for k, v := range e.Extra {
		attrs[k] = v
	}
	if e.Detail != "" {
		attrs["detail"] = e.Detail
	}
	msg := e.Message
	if msg == "" {
		msg = e.Code
	}
	return contract.ErrorEnvelope{ErrorCode: e.Code, ErrorMessage: msg, CustomAttributes: attrs}
}

func sourceOf(e *contract.Error) string {
	if e.Source == "" {
		return contract.PartyPlatform
	}
	return e.Source
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only called with values that always marshal
	}
	return b
}
