package check

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/demo"
)

// Host-backend plans. hostapp-v2 adds malformed bodies, concurrent redemption of one code,
// refresh, the token's binding to its miniapp and the scheme word's case to hostapp-v1, and
// both skip a check whose precondition failed (blocked by the check that failed);
// hostapp-v1 is kept runnable for reports that compare with older runs.
const (
	HostappPlanV1 = "hostapp-v1"
	HostappPlanV2 = "hostapp-v2"
	// HostappPlanName is the current plan, run when HostappConfig.Plan is empty.
	HostappPlanName = HostappPlanV2
)

// HostappPlans lists the runnable host plans, the current one first.
var HostappPlans = []string{HostappPlanV2, HostappPlanV1}

// HostappConfig says which host backend to check and how the platform authenticates to it
// (PROTOCOL §3.7, §3.9, §7.7).
type HostappConfig struct {
	AccessTokenURL string // e.g. http://127.0.0.1:8081/boxo/connect/access-token
	UserDataURL    string // e.g. http://127.0.0.1:8081/boxo/connect/user-data
	ClientID       string // hostapp_client_id
	Secret         string // hostapp_secret_key
	Prefix         string // the access token prefix; "" means Token
	// AuthCode mints a fresh auth code for a user of the host (required): the plan asks
	// for four.
	AuthCode AuthCodeFunc
	// AppID is sent as X-Miniapp-App-ID; "" means demo.AppID.
	AppID string
	// PlatformClientID is the host app's client_id at Boxo, sent as X-Hostapp-Client-ID;
	// "" means demo.ClientID.
	PlatformClientID string
	// UserDataMethod is GET (the default) or POST with {} (PROTOCOL §3.9, §9.1).
	UserDataMethod string
	// Plan is HostappPlanV1 or HostappPlanV2; "" means HostappPlanName.
	Plan string
	// RefreshTokenURL is the host's refresh endpoint (contract §7.1); "" skips the refresh
	// check of hostapp-v2.
	RefreshTokenURL string
	// Concurrency is how many redemptions of one code concurrent-redemption sends; 0 means 8.
	Concurrency int
	// RequiredFields are the user fields a miniapp marks required (contract §1.3): a test
	// user whose user_data lacks one is a WARN, as the platform would stop such a flow at
	// step 9 with MISSING_REQUIRED_FIELDS.
	RequiredFields []string
	HTTPClient     *http.Client
	Timeout        time.Duration // each call; 0 means DefaultTimeout
	// AuthCodeTimeout bounds each AuthCode call; 0 means 30 s (PROTOCOL §9.36).
	AuthCodeTimeout time.Duration
}

func (c *HostappConfig) validate() error {
	if c.Plan == "" {
		c.Plan = HostappPlanName
	}
	if !slices.Contains(HostappPlans, c.Plan) {
		return fmt.Errorf("unknown plan %q: use %s", c.Plan, strings.Join(HostappPlans, " or "))
	}
	if c.RefreshTokenURL != "" {
		if err := checkURL("the refresh token URL", c.RefreshTokenURL); err != nil {
			return err
		}
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 8
	}
	if err := checkURL("the access token URL", c.AccessTokenURL); err != nil {
		return err
	}
	if err := checkURL("the user data URL", c.UserDataURL); err != nil {
		return err
	}
	if c.ClientID == "" || strings.Contains(c.ClientID, ":") {
		return fmt.Errorf("the hostapp_client_id is required and cannot contain ':' (it is the user part of the credential)")
	}
	if c.Secret == "" {
		return fmt.Errorf("the hostapp_secret_key is required")
	}
	if c.AuthCode == nil {
		return fmt.Errorf("an auth code source is required: only the host's system can mint a code")
	}
	if c.Prefix == "" {
		c.Prefix = demo.TokenPrefix
	}
	if strings.ContainsAny(c.Prefix, " \t") {
		return fmt.Errorf("the token prefix %q must be one word", c.Prefix)
	}
	c.AppID, c.PlatformClientID = or(c.AppID, demo.AppID), or(c.PlatformClientID, demo.ClientID)
	switch c.UserDataMethod = strings.ToUpper(c.UserDataMethod); c.UserDataMethod {
	case "":
		c.UserDataMethod = http.MethodGet
	case http.MethodGet, http.MethodPost:
	default:
		return fmt.Errorf("the user data method %q must be GET or POST", c.UserDataMethod)
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.AuthCodeTimeout <= 0 {
		c.AuthCodeTimeout = 30 * time.Second
	}
	return nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// hostRun is the state of one run of the host plan.
type hostRun struct {
	cfg HostappConfig
	c   *caller

	mu          sync.Mutex
	setupErrors []string // what kept checks from running that is not the backend's doing

	code      string // the code code-to-token redeemed
	codeCall  *call
	token     string // the access token it gave
	refresh   string // the refresh token it gave, if any
	reuseCall *call
	reuse     answer
}

func (r *hostRun) unreachable() string { return r.c.unreachable() }

// HostappPlan lists the checks of HostappPlanName in the order they run.
func HostappPlan() []Check { return checksOf(hostappV2Steps) }

// HostappPlanOf lists the checks of a named host plan.
func HostappPlanOf(name string) ([]Check, bool) {
	switch name {
	case HostappPlanV1:
		return checksOf(hostappSteps), true
	case HostappPlanV2:
		return checksOf(hostappV2Steps), true
	}
	return nil, false
}

var hostappSteps = []step[*hostRun]{
	{Check{"code-to-token", "exchanges a fresh auth code for access_token", "contract §3.7, §3.8"}, (*hostRun).codeToToken},
	{Check{"token-to-user-data", "answers user_data for the access token: reference of at most 100 characters, email or phone", "contract §3.9, §3.10"}, (*hostRun).tokenToUserData},
	{Check{"user-data-wrong-prefix", "refuses the user-data call under another scheme word than the prefix", "contract §3.9, §9.5"}, (*hostRun).userDataWrongPrefix},
	{Check{"bad-token", "refuses an unknown access token with INVALID_ACCESS_TOKEN", "contract §3.9, §5.1"}, (*hostRun).badToken},
	{Check{"code-reuse", "refuses a code used before with INVALID_AUTH_CODE", "contract §3.7, §9.26"}, (*hostRun).codeReuse},
	{Check{"code-reuse-revokes", "revokes the tokens issued from a replayed code (recommended)", "contract §9.26"}, (*hostRun).codeReuseRevokes},
	{Check{"unknown-code", "refuses an unknown auth code with INVALID_AUTH_CODE", "contract §3.7, §5.1"}, (*hostRun).unknownCode},
	{Check{"wrong-secret", "refuses a wrong hostapp_secret_key: error_code, no token", "contract §3.7, §7.7"}, (*hostRun).wrongSecret},
	{Check{"wrong-prefix", "refuses another scheme word than the access token prefix: error_code, no token", "contract §3.7, §9.5"}, (*hostRun).wrongPrefix},
	{Check{"client-id-header-optional", "does not require X-Hostapp-Client-ID", "contract §3.7, §8"}, (*hostRun).clientIDHeaderOptional},
	{Check{"always-200", "answers HTTP 200 for every outcome", "contract §2.3, §3.8, §3.10"}, func(h *hostRun, _ context.Context) verdict {
		return checkAlways200(h.c, "access-token", "user-data")
	}},
	{Check{"answer-shape", "answers a token (at most 1000 characters) or user_data, or error_code, not both", "contract §2.3, §3.8, §3.10"}, func(h *hostRun, _ context.Context) verdict {
		return checkShapes(h.c, map[string]func(*call) answer{"access-token": parseAccessToken, "user-data": parseUserData})
	}},
	{Check{"json-content-type", "answers with Content-Type application/json", "contract §2.2"}, func(h *hostRun, _ context.Context) verdict {
		return checkJSONContentType(h.c, "access-token", "user-data")
	}},
	{Check{"within-10s", "answers every call within 10 s", "contract §2.11"}, func(h *hostRun, _ context.Context) verdict {
		return checkWithin(h.c, h.cfg.Timeout)
	}},
}

// RunHostapp runs HostappPlanName against the host backend. The error is only for an
// invalid configuration; what the backend did is in the report.
func RunHostapp(ctx context.Context, cfg HostappConfig) (*Report, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	h := &hostRun{cfg: cfg, c: newCaller(cfg.HTTPClient, cfg.Timeout, 4)}
	settings := []string{"hostapp_client_id " + cfg.ClientID, "prefix " + cfg.Prefix, "user data " + cfg.UserDataMethod + " " + cfg.UserDataURL,
		"X-Miniapp-App-ID " + cfg.AppID, "X-Hostapp-Client-ID " + cfg.PlatformClientID}
	if len(cfg.RequiredFields) > 0 {
		settings = append(settings, "required fields "+strings.Join(cfg.RequiredFields, ", "))
	}
	steps := hostappV2Steps
	if cfg.Plan == HostappPlanV1 {
		steps = hostappSteps
	} else if cfg.RefreshTokenURL != "" {
		settings = append(settings, "refresh "+cfg.RefreshTokenURL)
	}
	rep := runPlan(ctx, cfg.Plan, cfg.AccessTokenURL, settings, steps, hostappNeeds, h)
	rep.SetupErrors = append(rep.SetupErrors, h.setupErrors...)
	return rep, nil
}

func parseAccessToken(c *call) answer { return parseAnswer(c, "access_token", "§3.8") }
func parseUserData(c *call) answer    { return parseAnswer(c, "user_data", "§3.10") }

// ---- requests ----

// freshCode asks the host's system for a code, bounded by AuthCodeTimeout.
func (h *hostRun) freshCode(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.AuthCodeTimeout)
	defer cancel()
	code, err := h.cfg.AuthCode(ctx)
	if err != nil {
		return "", fmt.Errorf("could not get a fresh auth code: %w", err)
	}
	if code = strings.TrimSpace(code); code == "" {
		return "", fmt.Errorf("could not get a fresh auth code: the source gave an empty one")
	}
	return code, nil
}

// header is the platform's header set towards the host (PROTOCOL §3.7, §3.9).
func (h *hostRun) header(scheme, credential string, body bool) http.Header {
	hd := http.Header{}
	hd.Set("Authorization", scheme+" "+credential)
	setExact(hd, contract.HeaderMiniappAppID, h.cfg.AppID)
	setExact(hd, contract.HeaderHostappClientID, h.cfg.PlatformClientID)
	if body {
		hd.Set("Content-Type", "application/json")
	}
	return hd
}

func (h *hostRun) credential() string { return contract.BasicCredential(h.cfg.ClientID, h.cfg.Secret) }

// otherScheme is a scheme word that is not the prefix.
func (h *hostRun) otherScheme() string {
	if strings.EqualFold(h.cfg.Prefix, "Bearer") {
		return "Token"
	}
	return "Bearer"
}

func (h *hostRun) exchange(ctx context.Context, label, code string, hd http.Header) (*call, answer) {
	b, _ := json.Marshal(contract.AccessTokenRequest{AuthCode: code})
	c := h.c.do(ctx, request{label: label, endpoint: "access-token", method: http.MethodPost, url: h.cfg.AccessTokenURL, header: hd, body: b})
	return c, parseAccessToken(c)
}

func (h *hostRun) userData(ctx context.Context, label string, hd http.Header) (*call, answer) {
	var body []byte
	if h.cfg.UserDataMethod == http.MethodPost {
		body = []byte("{}")
		hd.Set("Content-Type", "application/json")
	}
	c := h.c.do(ctx, request{label: label, endpoint: "user-data", method: h.cfg.UserDataMethod, url: h.cfg.UserDataURL, header: hd, body: body})
	return c, parseUserData(c)
}

// ---- checks ----

func (h *hostRun) codeToToken(ctx context.Context) verdict {
	code, v, ok := h.setupCode(ctx)
	if !ok {
		return v
	}
	h.code = code
	c, a := h.exchange(ctx, "a fresh auth code", code, h.header(h.cfg.Prefix, h.credential(), true))
	h.codeCall = c
	if !a.hasToken() || a.code != "" {
		v := fail("a fresh code was not exchanged for access_token: "+describe(c, a, "access_token"), c)
		v.diagnosis = diagnose(c, a, "--access-token-url", "--hostapp-client-id, --hostapp-secret and --token-prefix")
		if v.diagnosis != "" {
			v.message += "; likely cause: " + v.diagnosis
		} else {
			v.diagnosis = "a fresh code got no access_token (" + describe(c, a, "access_token") + ")"
		}
		return v
	}
	h.token, h.refresh = a.token, a.refresh
	msg := fmt.Sprintf("answered access_token (%d characters)", contract.Len(a.token))
	if a.refresh != "" {
		msg += fmt.Sprintf(" and refresh_token (%d characters)", contract.Len(a.refresh))
	}
	return pass(msg, c)
}

func (h *hostRun) tokenToUserData(ctx context.Context) verdict {
	if h.token == "" {
		return skip("code-to-token got no access token")
	}
	c, a := h.userData(ctx, "the access token from code-to-token", h.header(h.cfg.Prefix, h.token, false))
	if !a.hasToken() || a.code != "" {
		v := fail("the access token was not answered with user_data: "+describe(c, a, "user_data"), c)
		v.diagnosis = diagnose(c, a, "--user-data-url", "--token-prefix")
		if v.diagnosis != "" {
			v.message += "; likely cause: " + v.diagnosis
		} else {
			v.diagnosis = "the access token got no user_data (" + describe(c, a, "user_data") + ")"
		}
		return v
	}
	problems, warnings, summary := judgeUserData(json.RawMessage(a.token))
	if missing := missingFields(json.RawMessage(a.token), h.cfg.RequiredFields); len(missing) > 0 {
		warnings = append(warnings, fmt.Sprintf("contract §3.10: user_data lacks %s, which the miniapp requires (--required-fields): the platform stops this user's flow at step 9 with %s",
			strings.Join(missing, ", "), contract.CodeResponseAttributeMissing))
	}
	switch {
	case len(problems) > 0:
		v := fail(strings.Join(problems, "; "), c)
		v.usable = true // user_data came back: the checks that need the call can run
		return v
	case len(warnings) > 0:
		return warn(strings.Join(warnings, "; "), c)
	}
	return pass("answered user_data "+summary, c)
}

// missingFields are the required fields that user_data (an object) lacks or has empty.
func missingFields(raw json.RawMessage, required []string) []string {
	var m map[string]json.RawMessage
	if len(required) == 0 || json.Unmarshal(raw, &m) != nil {
		return nil
	}
	var missing []string
	for _, f := range required {
		v := bytes.TrimSpace(m[f])
		var s string
		if len(v) == 0 || string(v) == "null" || (json.Unmarshal(v, &s) == nil && strings.TrimSpace(s) == "") {
			missing = append(missing, f) // as the platform judges it (contract §3.10)
		}
	}
	return missing
}

// judgeUserData applies PROTOCOL §3.10 to user_data: problems fail the flow at the platform
// (INVALID_USER_DATA), warnings fail it later at a strict miniapp.
func judgeUserData(raw json.RawMessage) (problems, warnings []string, summary string) {
	t := bytes.TrimSpace(raw)
	if len(t) > 0 && t[0] == '"' {
		return nil, []string{"user_data is a string (encrypted, contract §7.2): an optional feature the checker cannot judge"}, ""
	}
	var m map[string]json.RawMessage
	if len(t) == 0 || t[0] != '{' || json.Unmarshal(t, &m) != nil {
		return []string{"contract §3.10: user_data is " + jsonKind(raw) + ", not an object"}, nil, ""
	}
	fields := map[string]string{}
	for _, k := range []string{"reference", "email", "phone", "first_name", "last_name"} {
		v, ok := m[k]
		if !ok || string(v) == "null" {
			continue
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			problems = append(problems, fmt.Sprintf("contract §3.10: user_data.%s is %s, not a string", k, jsonKind(v)))
			continue
		}
		fields[k] = s
	}
	ref := strings.TrimSpace(fields["reference"])
	switch n := contract.Len(fields["reference"]); {
	case ref == "":
		problems = append(problems, "contract §3.10: user_data.reference is missing or empty")
	case n > contract.MaxReferenceLen:
		problems = append(problems, fmt.Sprintf("contract §3.10: user_data.reference is %d characters; String(100) allows no more", n))
	}
	if fields["email"] == "" && fields["phone"] == "" {
		problems = append(problems, "contract §3.10: user_data has neither email nor phone")
	}
	if ca, ok := m["custom_attributes"]; ok && string(ca) != "null" {
		if c := bytes.TrimSpace(ca); len(c) == 0 || c[0] != '{' {
			problems = append(problems, "contract §3.10: user_data.custom_attributes is "+jsonKind(ca)+", not an object")
		}
	}
	if p := fields["phone"]; p != "" && !contract.ValidE164(p) {
		warnings = append(warnings, fmt.Sprintf("contract §3.10: user_data.phone %q is not E.164; miniapps refuse it with INVALID_USER_DATA (§3.11)", p))
	}
	var have []string
	for _, k := range []string{"email", "phone", "first_name", "last_name"} {
		if fields[k] != "" {
			have = append(have, k)
		}
	}
	return problems, warnings, fmt.Sprintf("with reference (%d characters) and %s", contract.Len(fields["reference"]), strings.Join(have, ", "))
}

func (h *hostRun) userDataWrongPrefix(ctx context.Context) verdict {
	if h.token == "" {
		return skip("code-to-token got no access token")
	}
	c, a := h.userData(ctx, "the access token under scheme "+h.otherScheme(), h.header(h.otherScheme(), h.token, false))
	v, _ := refused(c, a, "user_data")
	return v
}

func (h *hostRun) badToken(ctx context.Context) verdict {
	c, a := h.userData(ctx, "an access token the host never issued", h.header(h.cfg.Prefix, "boxo-sim-check-"+contract.RandomHex(16), false))
	v, _ := refused(c, a, "user_data", contract.CodeInvalidAccessToken)
	return v
}

func (h *hostRun) codeReuse(ctx context.Context) verdict {
	if h.code == "" || h.token == "" {
		return skip("code-to-token redeemed no code")
	}
	c, a := h.exchange(ctx, "the code code-to-token redeemed, again", h.code, h.header(h.cfg.Prefix, h.credential(), true))
	h.reuseCall, h.reuse = c, a
	if a.hasToken() && a.code == "" {
		return fail("the host exchanged a code that was already used for a new access_token; codes are single-use (RFC 6749 §4.1.2)", h.codeCall, c)
	}
	v, _ := refused(c, a, "access_token", contract.CodeInvalidAuthCode)
	return v
}

func (h *hostRun) codeReuseRevokes(ctx context.Context) verdict {
	if h.reuseCall == nil || h.token == "" {
		return skip("code-reuse did not run")
	}
	c, a := h.userData(ctx, "the first access token, after its code was replayed", h.header(h.cfg.Prefix, h.token, false))
	switch {
	case !c.answered():
		return fail("no answer: "+c.x.Error, c)
	case a.code != "" && !a.hasToken():
		return pass(fmt.Sprintf("the token issued from the replayed code was revoked (error_code %s)", a.code), c)
	}
	return warn("the token issued from the replayed code still answers user_data; revoking it is recommended (contract §9.26, RFC 6749 §4.1.2)", c)
}

func (h *hostRun) unknownCode(ctx context.Context) verdict {
	c, a := h.exchange(ctx, "an auth code the host never issued", contract.RandomHex(20), h.header(h.cfg.Prefix, h.credential(), true))
	v, _ := refused(c, a, "access_token", contract.CodeInvalidAuthCode)
	return v
}

func (h *hostRun) wrongSecret(ctx context.Context) verdict {
	code, v, ok := h.setupCode(ctx)
	if !ok {
		return v
	}
	cred := contract.BasicCredential(h.cfg.ClientID, h.cfg.Secret+"-wrong")
	c, a := h.exchange(ctx, "a fresh code with a wrong hostapp_secret_key", code, h.header(h.cfg.Prefix, cred, true))
	v, _ = refused(c, a, "access_token", contract.CodeAccessDenied)
	return v
}

func (h *hostRun) wrongPrefix(ctx context.Context) verdict {
	code, v, ok := h.setupCode(ctx)
	if !ok {
		return v
	}
	c, a := h.exchange(ctx, "a fresh code under scheme "+h.otherScheme()+" instead of "+h.cfg.Prefix, code, h.header(h.otherScheme(), h.credential(), true))
	v, _ = refused(c, a, "access_token", contract.CodeAccessDenied)
	return v
}

func (h *hostRun) clientIDHeaderOptional(ctx context.Context) verdict {
	code, v, ok := h.setupCode(ctx)
	if !ok {
		return v
	}
	hd := h.header(h.cfg.Prefix, h.credential(), true)
	delete(hd, contract.HeaderHostappClientID)
	c, a := h.exchange(ctx, "a fresh code without X-Hostapp-Client-ID", code, hd)
	if !a.hasToken() || a.code != "" {
		return fail("without X-Hostapp-Client-ID a fresh code was answered "+describe(c, a, "access_token")+"; older Boxo versions do not send it, so hosts must not require it", c)
	}
	hd = h.header(h.cfg.Prefix, a.token, false)
	delete(hd, contract.HeaderHostappClientID)
	uc, ua := h.userData(ctx, "its access token without X-Hostapp-Client-ID", hd)
	if !ua.hasToken() || ua.code != "" {
		return fail("without X-Hostapp-Client-ID the user-data call was answered "+describe(uc, ua, "user_data")+"; hosts must not require the header", c, uc)
	}
	return pass("both calls worked without the header", c, uc)
}
