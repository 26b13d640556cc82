package check

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
	"github.com/boxo-sim/boxo-sim/internal/userdata"
)

// The miniapp plans. A check's id and meaning never change within a version; a changed
// plan gets a new version. miniapp-v2 judges a backend by what Boxo asks of a miniapp and
// accepts Boxo's published codes; miniapp-v1 is kept runnable for reports that compare with
// older runs.
const (
	MiniappPlanV1 = "miniapp-v1"
	MiniappPlanV2 = "miniapp-v2"
	// MiniappPlanName is the current plan, run when MiniappConfig.Plan is empty.
	MiniappPlanName = MiniappPlanV2
)

// MiniappPlans lists the runnable miniapp plans, the current one first.
var MiniappPlans = []string{MiniappPlanV2, MiniappPlanV1}

// DefaultRounds is how many rounds concurrent-first-login runs: enough to see, with 99%
// probability, a race that shows in one round of seven (1 − (6/7)^30 > 0.99).
const DefaultRounds = 30

// MiniappConfig says which miniapp backend to check and how the platform authenticates to
// it (PROTOCOL §3.11, §7.7).
type MiniappConfig struct {
	Plan     string // MiniappPlanV1 or MiniappPlanV2; "" means MiniappPlanName
	URL      string // its Get Auth Token URL, e.g. http://127.0.0.1:8083/boxo/auth-token
	AppID    string // app_id: the Basic user and X-Miniapp-App-ID
	Secret   string // secret_key
	ClientID string // X-Hostapp-Client-ID sent; "" means demo.ClientID
	// OtherClientID is a second host app's client_id, for hostapps-apart; "" means "777777".
	OtherClientID string
	// MeURL is the backend's GET /api/me (PROTOCOL §3.15), if it has one: the checker then
	// tells users apart by its id and sees the user's fields.
	MeURL string
	// HTTPClient makes the calls; nil means the checker's own. Redirects are never followed.
	HTTPClient *http.Client
	// Timeout bounds each call; 0 means DefaultTimeout.
	Timeout time.Duration
	// Concurrency is the number of simultaneous first logins; 0 means 8.
	Concurrency int
	// UserDataKey is the key the miniapp decrypts encrypted user data with (PROTOCOL §7.2),
	// in base64. When given, the checks of EncryptedPlan run too.
	UserDataKey string
	// Rounds is how many rounds of concurrent first logins miniapp-v2 runs; 0 means
	// DefaultRounds.
	Rounds int
}

func (c *MiniappConfig) validate() error {
	if c.Plan == "" {
		c.Plan = MiniappPlanName
	}
	if !slices.Contains(MiniappPlans, c.Plan) {
		return fmt.Errorf("unknown plan %q: use %s", c.Plan, strings.Join(MiniappPlans, " or "))
	}
	if err := checkURL("the miniapp's Get Auth Token URL", c.URL); err != nil {
		return err
	}
	if c.MeURL != "" {
		if err := checkURL("the /api/me URL", c.MeURL); err != nil {
			return err
		}
	}
	if c.AppID == "" || strings.Contains(c.AppID, ":") {
		return fmt.Errorf("the app_id is required and cannot contain ':' (it is the Basic user name)")
	}
	if c.Secret == "" {
		return fmt.Errorf("the miniapp's secret_key is required")
	}
	if c.ClientID == "" {
		c.ClientID = demo.ClientID
	}
	if c.OtherClientID == "" {
		c.OtherClientID = "777777"
	}
	if c.OtherClientID == c.ClientID {
		return fmt.Errorf("the second host app's client_id must differ from the first (%s)", c.ClientID)
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 8
	}
	if c.Rounds <= 0 {
		c.Rounds = DefaultRounds
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.UserDataKey != "" {
		if _, err := userdata.ParseKey(c.UserDataKey); err != nil {
			return fmt.Errorf("the user data key: %w", err)
		}
	}
	return nil
}

// miniRun is the state of one run of a miniapp plan.
type miniRun struct {
	cfg    MiniappConfig
	c      *caller
	prefix string // of every reference this run sends: boxo-sim-check-<8 hex>
	key    userdata.Key

	first     *call // valid-request's answer and identity, for same-user
	firstRef  string
	firstID   identity
	firstCall answer
}

func (r *miniRun) unreachable() string { return r.c.unreachable() }

// MiniappPlan lists the checks of MiniappPlanName in the order they run.
func MiniappPlan() []Check { return checksOf(miniappV2Steps) }

// MiniappPlanOf lists the checks of a named miniapp plan.
func MiniappPlanOf(name string) ([]Check, bool) {
	switch name {
	case MiniappPlanV1:
		return checksOf(miniappV1Steps), true
	case MiniappPlanV2:
		return checksOf(miniappV2Steps), true
	}
	return nil, false
}

// formChecks judge the answers already got: they need no check to succeed first.
var formChecks = []string{"always-200", "answer-shape", "json-content-type", "within-10s"}

// needValidRequest makes every check of steps but valid-request, the form checks and those
// listed depend on valid-request: without a working login they cannot judge anything.
func needValidRequest[R run](steps []step[R], independent ...string) needs {
	n := needs{}
	for _, s := range steps {
		if s.ID != "valid-request" && !slices.Contains(formChecks, s.ID) && !slices.Contains(independent, s.ID) {
			n[s.ID] = []string{"valid-request"}
		}
	}
	return n
}

var miniappV1Steps = []step[*miniRun]{
	{Check{"valid-request", "accepts a valid request: answers auth_token", "contract §3.11, §3.12"}, (*miniRun).validRequest},
	{Check{"same-user", "the same reference twice is the same user", "contract §3.12, §9.17"}, (*miniRun).sameUser},
	{Check{"optional-fields", "accepts a body with only reference and email, or reference and phone", "contract §3.10, §8"}, (*miniRun).optionalFields},
	{Check{"reference-100", "accepts a reference of exactly 100 characters (Unicode code points)", "contract §2.9, §3.10"}, (*miniRun).reference100},
	{Check{"wrong-secret", "refuses a wrong secret_key: error_code, no user created", "contract §3.11, §7.7, §9.7"}, (*miniRun).wrongSecret},
	{Check{"missing-app-id-header", "refuses a request without X-Miniapp-App-ID: error_code, no user created", "contract §3.11"}, (*miniRun).missingAppIDHeader},
	{Check{"basic-user-mismatch", "refuses a Basic user that differs from X-Miniapp-App-ID: error_code, no user created", "contract §3.11"}, (*miniRun).basicUserMismatch},
	{Check{"no-email-no-phone", "refuses user data with neither email nor phone: error_code, no user created", "contract §3.10, §3.11"}, (*miniRun).noEmailNoPhone},
	{Check{"reference-101", "refuses a reference of 101 characters: error_code", "contract §3.10, §3.11"}, (*miniRun).reference101},
	{Check{"bad-e164", "refuses a phone that is not E.164: error_code, no user created", "contract §3.11"}, (*miniRun).badE164},
	{Check{"unknown-fields", "ignores unknown body keys (or refuses them); they never set the user's identity", "contract §3.10"}, (*miniRun).unknownFields},
	{Check{"empty-body", "refuses an empty body: error_code", "contract §2.2, §2.3"}, (*miniRun).emptyBody},
	{Check{"non-json-body", "refuses a body that is not JSON: error_code", "contract §2.2, §2.3"}, (*miniRun).nonJSONBody},
	{Check{"concurrent-first-login", "concurrent first logins of one reference make one user", "contract §9.45"}, (*miniRun).concurrentFirstLogin},
	{Check{"always-200", "answers HTTP 200 for every outcome", "contract §2.3, §3.12"}, (*miniRun).always200},
	{Check{"answer-shape", "answers auth_token (at most 1000 characters) or error_code, not both", "contract §2.3, §3.12"}, (*miniRun).answerShape},
	{Check{"json-content-type", "answers with Content-Type application/json", "contract §2.2"}, (*miniRun).jsonContentType},
	{Check{"within-10s", "answers every call within 10 s", "contract §2.11"}, (*miniRun).within10s},
}

var miniappV2Steps = []step[*miniRun]{
	{Check{"valid-request", "accepts a valid request: answers auth_token", "contract §3.11, §3.12"}, (*miniRun).validRequest},
	{Check{"basic-scheme-case", "accepts the Basic scheme in any letter case", "contract §2.7"}, (*miniRun).basicSchemeCase},
	{Check{"same-user", "the same reference twice is the same user", "contract §3.12, §9.17"}, (*miniRun).sameUserV2},
	{Check{"hostapps-apart", "the same reference from two host apps is two users (keyed on X-Hostapp-Client-ID)", "contract §3.12, §9.17"}, (*miniRun).hostappsApart},
	{Check{"optional-fields", "accepts a body with only reference and email, or reference and phone", "contract §3.10, §8"}, (*miniRun).optionalFields},
	{Check{"no-email-no-phone", "a user with neither email nor phone: accepting it is what Boxo asks; refusing it is noted", "contract §3.11, §5.1"}, (*miniRun).noEmailNoPhoneV2},
	{Check{"reference-100", "accepts a reference of exactly 100 characters (Unicode code points)", "contract §2.9, §3.10"}, (*miniRun).reference100},
	{Check{"custom-attributes", "keeps custom_attributes as sent (seen on GET /api/me)", "contract §3.11, §3.15"}, (*miniRun).customAttributes},
	{Check{"wrong-secret", "refuses a wrong secret_key: ACCESS_DENIED, no user created", "contract §3.11, §5.1, §7.7"}, (*miniRun).wrongSecretV2},
	{Check{"missing-app-id-header", "refuses a request without X-Miniapp-App-ID: MISSING_HEADER, no user created", "contract §3.11, §5.1"}, (*miniRun).missingAppIDHeaderV2},
	{Check{"basic-user-mismatch", "refuses a Basic user that differs from X-Miniapp-App-ID: ACCESS_DENIED, no user created", "contract §3.11, §5.1"}, (*miniRun).basicUserMismatchV2},
	{Check{"reference-101", "refuses a reference of 101 characters: INVALID_USER_DATA", "contract §3.11, §5.1"}, (*miniRun).reference101V2},
	{Check{"bad-e164", "refuses a phone that is not E.164: INVALID_USER_DATA, no user created", "contract §3.11, §5.1"}, (*miniRun).badE164V2},
	{Check{"unknown-fields", "ignores unknown body keys (or refuses them); they never set the user's identity", "contract §3.10"}, (*miniRun).unknownFields},
	{Check{"empty-body", "refuses an empty body: error_code", "contract §2.2, §2.3"}, (*miniRun).emptyBodyV2},
	{Check{"non-json-body", "refuses a body that is not JSON: error_code", "contract §2.2, §2.3"}, (*miniRun).nonJSONBodyV2},
	{Check{"token-lifetime", "the auth_token expires, within 30 days", "contract §3.12, §9.12"}, (*miniRun).tokenLifetime},
	{Check{"me-refuses-bad-token", "GET /api/me refuses a token it did not issue with 401", "contract §3.15"}, (*miniRun).meRefusesBadToken},
	{Check{"concurrent-first-login", "concurrent first logins of one reference make one user", "contract §9.45"}, (*miniRun).concurrentRounds},
	{Check{"always-200", "answers HTTP 200 for every outcome", "contract §2.3, §3.12"}, (*miniRun).always200},
	{Check{"answer-shape", "answers auth_token (at most 1000 characters) or error_code, not both", "contract §2.3, §3.12"}, (*miniRun).answerShape},
	{Check{"json-content-type", "answers with Content-Type application/json", "contract §2.2"}, (*miniRun).jsonContentType},
	{Check{"within-10s", "answers every call within 10 s", "contract §2.11"}, (*miniRun).within10s},
}

var (
	miniappV1Needs = needValidRequest(miniappV1Steps)
	miniappV2Needs = needValidRequest(miniappV2Steps, "me-refuses-bad-token")
)

func (m *miniRun) always200(context.Context) verdict { return checkAlways200(m.c, "auth-token") }
func (m *miniRun) answerShape(context.Context) verdict {
	return checkShapes(m.c, map[string]func(*call) answer{"auth-token": parseAuthToken})
}
func (m *miniRun) jsonContentType(context.Context) verdict {
	return checkJSONContentType(m.c, "auth-token")
}
func (m *miniRun) within10s(context.Context) verdict { return checkWithin(m.c, m.cfg.Timeout) }

// RunMiniapp runs a miniapp plan against the backend. It creates users whose references
// start with "boxo-sim-check-". The error is only for an invalid configuration; what the
// backend did is in the report.
func RunMiniapp(ctx context.Context, cfg MiniappConfig) (*Report, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	m := &miniRun{cfg: cfg, c: newCaller(cfg.HTTPClient, cfg.Timeout, cfg.Concurrency), prefix: "boxo-sim-check-" + contract.RandomHex(4)}
	settings := []string{"app_id " + cfg.AppID, "X-Hostapp-Client-ID " + cfg.ClientID, "references " + m.prefix + "-…"}
	if cfg.MeURL != "" {
		settings = append(settings, "users told apart by the id on GET "+cfg.MeURL)
	} else {
		settings = append(settings, "users told apart by the auth_token's sub, user_id, uid or id claim (decoded without verification); give --me-url to see the user's fields")
	}
	steps, deps := miniappV2Steps, miniappV2Needs
	if cfg.Plan == MiniappPlanV1 {
		steps, deps = miniappV1Steps, miniappV1Needs
	} else {
		settings = append(settings, fmt.Sprintf("concurrent-first-login: %d rounds of %d", cfg.Rounds, cfg.Concurrency))
	}
	if cfg.UserDataKey != "" {
		m.key, _ = userdata.ParseKey(cfg.UserDataKey) // validate has checked it
		settings = append(settings, "encrypted user_data checks with key "+userdata.Mask(m.key.Text()))
		// Before the checks that judge every answer, so those judge the encrypted calls too.
		i := slices.IndexFunc(steps, func(s step[*miniRun]) bool { return s.ID == "always-200" })
		steps = slices.Concat(steps[:i], encryptedSteps, steps[i:])
		deps = maps.Clone(deps)
		maps.Copy(deps, encryptedNeeds)
	}
	return runPlan(ctx, cfg.Plan, cfg.URL, settings, steps, deps, m), nil
}

// ---- requests ----

func (m *miniRun) ref(name string) string { return m.prefix + "-" + name }

// user is a valid step-10 body (PROTOCOL §3.11) for a reference.
func (m *miniRun) user(ref string) map[string]any {
	return map[string]any{
		"reference": ref, "email": "check-" + contract.RandomHex(4) + "@example.com", "phone": "+6591234567",
		"first_name": "Check", "last_name": "Runner", "custom_attributes": map[string]any{"source": "boxo-sim check"},
	}
}

// header is the platform's step-10 header set (PROTOCOL §3.11, §7.7).
func (m *miniRun) header() http.Header {
	h := http.Header{}
	h.Set("Authorization", "Basic "+contract.BasicCredential(m.cfg.AppID, m.cfg.Secret))
	setExact(h, contract.HeaderHostappClientID, m.cfg.ClientID)
	setExact(h, contract.HeaderMiniappAppID, m.cfg.AppID)
	h.Set("Content-Type", "application/json")
	return h
}

func (m *miniRun) post(ctx context.Context, label string, h http.Header, body []byte) (*call, answer) {
	c := m.c.do(ctx, request{label: label, endpoint: "auth-token", method: http.MethodPost, url: m.cfg.URL, header: h, body: body})
	return c, parseAuthToken(c)
}

func (m *miniRun) login(ctx context.Context, label string, body map[string]any) (*call, answer) {
	b, _ := json.Marshal(body)
	return m.post(ctx, label, m.header(), b)
}

func parseAuthToken(c *call) answer { return parseAnswer(c, "auth_token", "§3.12") }

// ---- telling users apart ----

// identity is what can be observed of the user behind a token.
type identity struct {
	subject string // "" when not observable
	created *bool  // nil when not reported (created is boxo-sim's own field, optional)
	how     string // how it was observed, or why it could not be
	me      *call  // the GET /api/me call, if one was made
	// fields is the user as GET /api/me answered it; nil without --me-url.
	fields map[string]json.RawMessage
}

// subjectClaims are the claim names a token's user id is looked for under, in order.
var subjectClaims = []string{"sub", "user_id", "uid", "id"}

// identify observes the user behind an auth_token: GET MeURL (its id, fields and, when
// reported, created) when given, else the token's sub, user_id, uid or id claim and
// created claim, decoded without verifying the signature.
func (m *miniRun) identify(ctx context.Context, token string) identity {
	if m.cfg.MeURL != "" {
		h := http.Header{}
		h.Set("Authorization", "Bearer "+token)
		c := m.c.do(ctx, request{label: "who is this token's user?", endpoint: "me", method: http.MethodGet, url: m.cfg.MeURL, header: h})
		id := identity{me: c, how: "the id on GET /api/me"}
		if !c.answered() || c.status != http.StatusOK {
			id.how = fmt.Sprintf("GET /api/me failed (%s)", orStatus(c))
			return id
		}
		if json.Unmarshal(c.body, &id.fields) != nil || id.fields == nil {
			id.how = "GET /api/me answered no JSON object"
			return id
		}
		id.subject = scalar(id.fields["id"])
		if id.subject == "" {
			id.how = "GET /api/me answered no id"
		}
		var created bool
		if raw, ok := id.fields["created"]; ok && json.Unmarshal(raw, &created) == nil {
			id.created = &created
		}
		return id
	}
	claims, ok := jwtClaims(token)
	if !ok {
		return identity{how: "the auth_token is opaque (not a JWT) and no --me-url was given"}
	}
	id := identity{how: "the auth_token has none of the claims " + strings.Join(subjectClaims, ", ") + " and no --me-url was given"}
	for _, name := range subjectClaims {
		if v := scalar(claims[name]); v != "" {
			id.subject, id.how = v, "the auth_token's "+name+" claim (decoded without verification)"
			break
		}
	}
	var created bool
	if raw, ok := claims["created"]; ok && json.Unmarshal(raw, &created) == nil {
		id.created = &created
	}
	return id
}

// jwtClaims decodes a JWT's payload without verifying it; ok is false for anything else.
func jwtClaims(token string) (map[string]json.RawMessage, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	var claims map[string]json.RawMessage
	if err != nil || json.Unmarshal(payload, &claims) != nil || claims == nil {
		return nil, false
	}
	return claims, true
}

// scalar is a JSON string or number as text, "" for anything else.
func scalar(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

func orStatus(c *call) string {
	if !c.answered() {
		return c.x.Error
	}
	return fmt.Sprintf("HTTP %d", c.status)
}

// ---- positive checks ----

// refusedCredentials says whether an error_code says the backend refused the platform's
// credentials: ACCESS_DENIED, MISSING_HEADER, or an earlier boxo-sim name for them.
func refusedCredentials(code string) bool {
	r, _ := contract.Replacement(code)
	return r == contract.CodeAccessDenied || r == contract.CodeMissingHeader
}

func (m *miniRun) validRequest(ctx context.Context) verdict {
	m.firstRef = m.ref("valid")
	c, a := m.login(ctx, "a valid step-10 request", m.user(m.firstRef))
	m.first, m.firstCall = c, a
	if !a.hasToken() && refusedCredentials(a.code) {
		v := fail(fmt.Sprintf("a valid request was refused with %s: %s", a.code, credentialsHint), c)
		v.diagnosis = fmt.Sprintf("the backend refused the credentials (%s): check --app-id and --miniapp-secret", a.code)
		if r, _ := contract.Replacement(a.code); r == contract.CodeMissingHeader {
			v.diagnosis = fmt.Sprintf("the backend says a header is missing (%s), though the checker sends Authorization, %s and %s: check the header names it reads (they are case-insensitive, contract §2.6)",
				a.code, contract.HeaderMiniappAppID, contract.HeaderHostappClientID)
		} else if strings.Contains(m.cfg.Secret, ":") {
			v.diagnosis += "; if --miniapp-secret is right, note that it contains ':': the backend must split the Basic credential at its first colon (RFC 7617 §2)"
		}
		return v
	}
	if !a.hasToken() || a.code != "" {
		v := fail("a valid request was not answered with auth_token: "+describe(c, a, "auth_token"), c)
		v.diagnosis = "a valid request got no auth_token (" + describe(c, a, "auth_token") + ")"
		if d := diagnose(c, a, "--auth-token-url", "--app-id and --miniapp-secret"); d != "" && c.answered() {
			v.message += "; likely cause: " + d
			v.diagnosis = d
		}
		return v
	}
	m.firstID = m.identify(ctx, a.token)
	msg := fmt.Sprintf("answered auth_token (%d characters)", contract.Len(a.token))
	if a.refresh != "" {
		msg += fmt.Sprintf(" and refresh_token (%d characters)", contract.Len(a.refresh))
	}
	return pass(msg, c, m.firstID.me)
}

// credentialsHint says what to look at when the backend refused the credentials.
const credentialsHint = "the backend refused the credentials: check --app-id and --miniapp-secret"

func (m *miniRun) sameUser(ctx context.Context) verdict {
	if m.first == nil || !m.firstCall.hasToken() {
		return skip("valid-request got no auth_token")
	}
	c, a := m.login(ctx, "the same reference again", m.user(m.firstRef))
	if !a.hasToken() || a.code != "" {
		return fail("a second valid login of the same reference was not answered with auth_token: "+describe(c, a, "auth_token"), m.first, c)
	}
	second := m.identify(ctx, a.token)
	ev := []*call{m.first, m.firstID.me, c, second.me}
	if m.firstID.subject == "" || second.subject == "" {
		return warn("cannot observe whether both logins reached one user: "+orText(m.firstID.subject == "", m.firstID.how, second.how), ev...)
	}
	if m.firstID.subject != second.subject {
		return fail(fmt.Sprintf("two logins of reference %q reached two users (%s then %s; judged by %s); a miniapp keys its user on (X-Hostapp-Client-ID, reference)",
			m.firstRef, m.firstID.subject, second.subject, second.how), ev...)
	}
	if second.created != nil && *second.created {
		return fail(fmt.Sprintf("the second login reported the user as created again (judged by %s)", second.how), ev...)
	}
	return pass(fmt.Sprintf("both logins reached user %s (judged by %s)", second.subject, second.how), ev...)
}

func orText(first bool, a, b string) string {
	if first {
		return a
	}
	return b
}

func (m *miniRun) optionalFields(ctx context.Context) verdict {
	var ev []*call
	for _, f := range []struct{ name, key, value string }{
		{"email-only", "email", "check-" + contract.RandomHex(4) + "@example.com"},
		{"phone-only", "phone", "+6581234567"},
	} {
		c, a := m.login(ctx, "only reference and "+f.key, map[string]any{"reference": m.ref(f.name), f.key: f.value})
		ev = append(ev, c)
		switch {
		case a.hasToken() && a.code == "":
		case a.code == contract.CodeInvalidUserData:
			return warn(fmt.Sprintf("refused a body with only reference and %s with INVALID_USER_DATA: fine only if this miniapp marks fields required in the Dashboard (§1.3); otherwise optional fields may be missing (§8)", f.key), ev...)
		default:
			return fail(fmt.Sprintf("a body with only reference and %s was answered %s; every field but reference is optional, with email or phone (§3.10)", f.key, describe(c, a, "auth_token")), ev...)
		}
	}
	return pass("accepted both minimal bodies", ev...)
}

func (m *miniRun) reference100(ctx context.Context) verdict {
	base := m.ref("100-")
	ref := base + strings.Repeat("é", contract.MaxReferenceLen-contract.Len(base))
	body := m.user(ref)
	c, a := m.login(ctx, "a reference of 100 code points (200 bytes of UTF-8 for the é)", body)
	if !a.hasToken() || a.code != "" {
		return fail(fmt.Sprintf("a reference of exactly %d code points was answered %s; String(100) counts characters, not bytes (§2.9)", contract.MaxReferenceLen, describe(c, a, "auth_token")), c)
	}
	return pass("accepted it", c)
}

// ---- refusals ----

// refusal sends a request the backend must refuse, and judges the answer and, when ref is
// not "", whether it created a user: a later valid login of ref must be the one that
// creates it.
func (m *miniRun) refusal(ctx context.Context, label string, want []string, ref string, h http.Header, body []byte) verdict {
	c, a := m.post(ctx, label, h, body)
	v, ok := refused(c, a, "auth_token", want...)
	if !ok || ref == "" {
		if ok {
			v.message += "; judged by the answer alone: the request has no reference a later login could use"
		}
		return v
	}
	lc, la := m.login(ctx, "a valid login of the same reference afterwards", m.user(ref))
	ev := []*call{c, lc}
	if !la.hasToken() || la.code != "" {
		return warn(v.message+"; cannot observe whether a user was created: the valid login afterwards was answered "+describe(lc, la, "auth_token"), ev...)
	}
	id := m.identify(ctx, la.token)
	ev = append(ev, id.me)
	switch {
	case id.created == nil:
		return warn(v.message+"; cannot observe whether a user was created: "+id.how+" says nothing of creation", ev...)
	case !*id.created:
		return fail(v.message+fmt.Sprintf("; but the valid login afterwards found the user already existing (judged by %s): the refused request created it", id.how), ev...)
	}
	return verdict{status: v.status, message: v.message + fmt.Sprintf("; no user was created: the valid login afterwards created it (judged by %s)", id.how), evidence: ev}
}

// refusalJudge sends a request the backend must refuse and judges the answer: refusal in
// the miniapp-v1 plan, refusalV2 in the current one. The refusal cases below build the
// request once for both plans and leave the judging to the plan's refusalJudge.
type refusalJudge func(ctx context.Context, label string, want []string, ref string, h http.Header, body []byte) verdict

func (m *miniRun) wrongSecret(ctx context.Context) verdict {
	return m.wrongSecretBy(ctx, m.user, m.refusal)
}

func (m *miniRun) wrongSecretBy(ctx context.Context, user func(string) map[string]any, judge refusalJudge) verdict {
	ref := m.ref("wrong-secret")
	h := m.header()
	h.Set("Authorization", "Basic "+contract.BasicCredential(m.cfg.AppID, m.cfg.Secret+"-wrong"))
	b, _ := json.Marshal(user(ref))
	return judge(ctx, "Basic app_id:secret_key with a wrong secret_key", []string{contract.CodeAccessDenied}, ref, h, b)
}

func (m *miniRun) missingAppIDHeader(ctx context.Context) verdict {
	return m.missingAppIDHeaderBy(ctx, m.user, m.refusal)
}

func (m *miniRun) missingAppIDHeaderBy(ctx context.Context, user func(string) map[string]any, judge refusalJudge) verdict {
	ref := m.ref("no-app-id-header")
	h := m.header()
	delete(h, contract.HeaderMiniappAppID)
	b, _ := json.Marshal(user(ref))
	return judge(ctx, "no X-Miniapp-App-ID header", []string{contract.CodeMissingHeader, contract.CodeAccessDenied}, ref, h, b)
}

func (m *miniRun) basicUserMismatch(ctx context.Context) verdict {
	return m.basicUserMismatchBy(ctx, m.user, m.refusal)
}

func (m *miniRun) basicUserMismatchBy(ctx context.Context, user func(string) map[string]any, judge refusalJudge) verdict {
	ref := m.ref("app-id-mismatch")
	h := m.header()
	setExact(h, contract.HeaderMiniappAppID, "other-"+m.cfg.AppID)
	b, _ := json.Marshal(user(ref))
	return judge(ctx, "X-Miniapp-App-ID differs from the Basic user", []string{contract.CodeAccessDenied}, ref, h, b)
}

func (m *miniRun) noEmailNoPhone(ctx context.Context) verdict {
	ref := m.ref("no-email-no-phone")
	b, _ := json.Marshal(map[string]any{"reference": ref, "first_name": "Check", "last_name": "Runner"})
	return m.refusal(ctx, "neither email nor phone", []string{contract.CodeInvalidUserData}, ref, m.header(), b)
}

func (m *miniRun) reference101(ctx context.Context) verdict { return m.reference101By(ctx, m.refusal) }

func (m *miniRun) reference101By(ctx context.Context, judge refusalJudge) verdict {
	base := m.ref("101-")
	b, _ := json.Marshal(m.user(base + strings.Repeat("x", contract.MaxReferenceLen+1-contract.Len(base))))
	return judge(ctx, "a reference of 101 characters", []string{contract.CodeInvalidUserData}, "", m.header(), b)
}

func (m *miniRun) badE164(ctx context.Context) verdict { return m.badE164By(ctx, m.user, m.refusal) }

func (m *miniRun) badE164By(ctx context.Context, user func(string) map[string]any, judge refusalJudge) verdict {
	ref := m.ref("bad-e164")
	body := user(ref)
	body["phone"] = "091-234-5678"
	b, _ := json.Marshal(body)
	return judge(ctx, "phone 091-234-5678, not E.164", []string{contract.CodeInvalidUserData}, ref, m.header(), b)
}

func (m *miniRun) emptyBody(ctx context.Context) verdict { return m.emptyBodyBy(ctx, m.refusal) }

func (m *miniRun) emptyBodyBy(ctx context.Context, judge refusalJudge) verdict {
	return judge(ctx, "an empty body", nil, "", m.header(), []byte{})
}

func (m *miniRun) nonJSONBody(ctx context.Context) verdict { return m.nonJSONBodyBy(ctx, m.refusal) }

func (m *miniRun) nonJSONBodyBy(ctx context.Context, judge refusalJudge) verdict {
	return judge(ctx, "a body that is not JSON", nil, "", m.header(), []byte("reference=boxo-sim-check&email=check@example.com"))
}

// unknownFields sends keys the contract does not have, some named like a user's identity.
// PROTOCOL §3.10 drops unknown keys, so accepting the request is right, refusing it is
// tolerated; letting a key set the user's id is a failure.
func (m *miniRun) unknownFields(ctx context.Context) verdict {
	ref := m.ref("unknown-fields")
	injected := m.ref("injected-id")
	body := m.user(ref)
	for k, v := range map[string]any{"id": injected, "user_id": injected, "sub": injected, "is_admin": true, "created": false,
		"boxo_sim_unknown": map[string]any{"nested": []int{1, 2}}} {
		body[k] = v
	}
	c, a := m.login(ctx, "extra keys id, user_id, sub, is_admin, created, boxo_sim_unknown", body)
	switch {
	case !c.answered():
		return fail("no answer: "+c.x.Error, c)
	case a.code != "" && !a.hasToken():
		return pass(fmt.Sprintf("refused it with error_code %s (contract §3.10 drops unknown keys; refusing them is stricter, and tolerated)", a.code), c)
	case !a.hasToken():
		return fail("answered "+describe(c, a, "auth_token"), c)
	}
	id := m.identify(ctx, a.token)
	if id.subject == injected {
		return fail(fmt.Sprintf("the body's id key became the user's id %q (judged by %s): unknown keys must be dropped", injected, id.how), c, id.me)
	}
	if id.subject == "" {
		return pass("accepted it, ignoring the unknown keys (the user's id is not observable: "+id.how+")", c, id.me)
	}
	return pass(fmt.Sprintf("accepted it; the user's id %s did not come from the body (judged by %s)", id.subject, id.how), c, id.me)
}

// concurrentFirstLogin sends the first login of one reference several times at once: the
// miniapp's create-or-find must be atomic (PROTOCOL §9.45).
func (m *miniRun) concurrentFirstLogin(ctx context.Context) verdict {
	ref := m.ref("concurrent")
	n := m.cfg.Concurrency
	calls := make([]*call, n)
	answers := make([]answer, n)
	ids := make([]identity, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			calls[i], answers[i] = m.login(ctx, fmt.Sprintf("first login %d of %d at once", i+1, n), m.user(ref))
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		if !answers[i].hasToken() || answers[i].code != "" {
			return fail(fmt.Sprintf("login %d of %d concurrent first logins was answered %s; a create-or-find keyed on the reference must not fail under concurrency",
				i+1, n, describe(calls[i], answers[i], "auth_token")), calls[i])
		}
		ids[i] = m.identify(ctx, answers[i].token)
	}
	subjects := map[string]int{}
	created := 0
	for _, id := range ids {
		if id.subject == "" {
			return warn(fmt.Sprintf("all %d concurrent logins got auth_token, but whether they reached one user cannot be observed: %s", n, id.how), calls[0])
		}
		subjects[id.subject]++
		if id.created != nil && *id.created {
			created++
		}
	}
	if len(subjects) > 1 {
		var list []string
		for s, k := range subjects {
			list = append(list, fmt.Sprintf("%s ×%d", s, k))
		}
		slices.Sort(list)
		return fail(fmt.Sprintf("%d concurrent first logins of one reference made %d users (%s; judged by %s)", n, len(subjects), strings.Join(list, ", "), ids[0].how), firstN(calls, 3)...)
	}
	if created > 1 {
		return fail(fmt.Sprintf("%d concurrent first logins reached one user, but %d of them reported it created (judged by %s)", n, created, ids[0].how), firstN(calls, 3)...)
	}
	return pass(fmt.Sprintf("%d concurrent first logins reached one user (judged by %s)", n, ids[0].how), calls[0])
}
