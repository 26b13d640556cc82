package check

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"sync"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// hostappNeeds is what each host check depends on (both plans). A check that needs
// code-to-token judges answers that mean something only once the backend accepts the
// credentials and redeems a fresh code; one that needs token-to-user-data only once the
// user data call works at this URL with this method. The form checks (always-200, …) judge
// the answers that came back and need nothing.
var hostappNeeds = needs{
	"token-to-user-data":        {"code-to-token"},
	"user-data-wrong-prefix":    {"token-to-user-data"},
	"bad-token":                 {"token-to-user-data"},
	"code-reuse":                {"code-to-token"},
	"code-reuse-revokes":        {"code-reuse", "token-to-user-data"},
	"unknown-code":              {"code-to-token"},
	"wrong-secret":              {"code-to-token"},
	"wrong-prefix":              {"code-to-token"},
	"client-id-header-optional": {"token-to-user-data"},
	"malformed-bodies":          {"code-to-token"},
	"concurrent-redemption":     {"code-to-token"},
	"refresh":                   {"code-to-token"},
	"token-bound-to-miniapp":    {"token-to-user-data"},
	"scheme-case-insensitive":   {"code-to-token"},
}

var hostappV2Steps = []step[*hostRun]{
	hostappSteps[0], hostappSteps[1], hostappSteps[2], hostappSteps[3], hostappSteps[4], hostappSteps[5],
	hostappSteps[6], hostappSteps[7], hostappSteps[8], hostappSteps[9],
	{Check{"malformed-bodies", "answers an empty body, {}, non-JSON, a body without auth_code and a wrong Content-Type with HTTP 200 and error_code", "contract §2.2, §2.3, §3.7"}, (*hostRun).malformedBodies},
	{Check{"concurrent-redemption", "of concurrent redemptions of one code, exactly one gets access_token", "contract §3.7, §9.26"}, (*hostRun).concurrentRedemption},
	{Check{"refresh", "the refresh token gives a new access_token; a rotated refresh token is refused when used again", "contract §7.1"}, (*hostRun).refreshCheck},
	{Check{"token-bound-to-miniapp", "refuses the access token for another miniapp's X-Miniapp-App-ID (recommended)", "contract §3.9"}, (*hostRun).tokenBoundToMiniapp},
	{Check{"scheme-case-insensitive", "accepts the scheme word in another case (recommended)", "contract §9.5, RFC 9110 §11.1"}, (*hostRun).schemeCaseInsensitive},
	hostappSteps[10], hostappSteps[11], hostappSteps[12], hostappSteps[13],
}

// setupCode gets a fresh code for a check. When the code source fails, that is a setup
// error, not something the backend did: the check is SKIP and the run reports it (exit
// status 2 at the command line).
func (h *hostRun) setupCode(ctx context.Context) (string, verdict, bool) {
	code, err := h.freshCode(ctx)
	if err != nil {
		msg := "setup error: " + err.Error() + " (check --auth-code-cmd or --auth-code-url; the backend was not called)"
		h.mu.Lock()
		if len(h.setupErrors) == 0 {
			h.setupErrors = append(h.setupErrors, msg)
		}
		h.mu.Unlock()
		return "", skip(msg), false
	}
	return code, verdict{}, true
}

// diagnose names the likely cause of an answer that did not give what a valid call should:
// urlFlag and credFlags are the flags to check.
func diagnose(c *call, a answer, urlFlag, credFlags string) string {
	switch {
	case !c.answered():
		return c.x.Error
	case c.status == http.StatusNotFound:
		return fmt.Sprintf("HTTP 404: no route at %s: check %s", c.x.URL, urlFlag)
	case c.status == http.StatusMethodNotAllowed:
		d := fmt.Sprintf("HTTP 405: %s does not take %s", c.x.URL, c.x.Method)
		if allow := c.header.Get("Allow"); allow != "" {
			d += " (it allows " + allow + ")"
		}
		if urlFlag == "--user-data-url" {
			other := http.MethodPost
			if c.x.Method == http.MethodPost {
				other = http.MethodGet
			}
			d += "; try --user-data-method " + other
		}
		return d
	case refusedHostCredentials(a.code) || c.status == http.StatusUnauthorized || c.status == http.StatusForbidden:
		what := a.code
		if what == "" {
			what = fmt.Sprintf("HTTP %d", c.status)
		}
		return fmt.Sprintf("the backend refused the credentials (%s): check %s", what, credFlags)
	case looksHTML(c):
		return fmt.Sprintf("HTTP %d with an HTML page: probably not the API endpoint (check %s)", c.status, urlFlag)
	}
	return ""
}

// refusedHostCredentials says whether an error_code says the host refused the platform's
// credentials: ACCESS_DENIED (or an earlier boxo-sim name for it).
func refusedHostCredentials(code string) bool {
	r, _ := contract.Replacement(code)
	return r == contract.CodeAccessDenied
}

// looksHTML reports whether an answer is an HTML page rather than an API's JSON.
func looksHTML(c *call) bool {
	if mt, _, err := mime.ParseMediaType(c.header.Get("Content-Type")); err == nil && mt == "text/html" {
		return true
	}
	t := bytes.ToLower(bytes.TrimSpace(c.body))
	return bytes.HasPrefix(t, []byte("<!doctype html")) || bytes.HasPrefix(t, []byte("<html"))
}

// malformedBodies sends the access token endpoint bodies a platform bug or an attacker may
// send: each must get HTTP 200 with error_code and no token (contract §2.3).
func (h *hostRun) malformedBodies(ctx context.Context) verdict {
	unknown, _ := json.Marshal(contract.AccessTokenRequest{AuthCode: contract.RandomHex(20)})
	cases := []struct {
		label, ctype string
		body         []byte
	}{
		{"an empty body", "application/json", []byte{}},
		{"the body {}", "application/json", []byte("{}")},
		{"a body that is not JSON", "application/json", []byte("auth_code=not-json")},
		{"a body without auth_code", "application/json", []byte(`{"code":"` + contract.RandomHex(8) + `"}`)},
		{"an unknown code under Content-Type text/plain", "text/plain", unknown},
	}
	var bad []string
	var ev []*call
	for _, tc := range cases {
		hd := h.header(h.cfg.Prefix, h.credential(), true)
		hd.Set("Content-Type", tc.ctype)
		c := h.c.do(ctx, request{label: tc.label, endpoint: "access-token", method: http.MethodPost, url: h.cfg.AccessTokenURL, header: hd, body: tc.body})
		a := parseAccessToken(c)
		ev = append(ev, c)
		switch {
		case !c.answered():
			bad = append(bad, tc.label+": no answer ("+c.x.Error+")")
		case a.hasToken():
			bad = append(bad, tc.label+": accepted, answered access_token")
		case c.status != http.StatusOK || a.code == "":
			bad = append(bad, tc.label+": "+describe(c, a, "access_token"))
		}
	}
	if len(bad) > 0 {
		return fail(fmt.Sprintf("%d of %d malformed requests were not answered HTTP 200 with error_code (the platform reports anything else as an error of its own): %s",
			len(bad), len(cases), strings.Join(bad, "; ")), ev...)
	}
	return pass(fmt.Sprintf("all %d malformed requests got HTTP 200 with error_code", len(cases)), ev...)
}

// concurrentRedemption redeems one fresh code N times at once: a host that reads the code
// and deletes it in two steps hands out several tokens (contract §9.26: codes are single-use).
func (h *hostRun) concurrentRedemption(ctx context.Context) verdict {
	code, v, ok := h.setupCode(ctx)
	if !ok {
		return v
	}
	n := h.cfg.Concurrency
	calls := make([]*call, n)
	answers := make([]answer, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			calls[i], answers[i] = h.exchange(ctx, fmt.Sprintf("one fresh code, redemption %d of %d at once", i+1, n), code, h.header(h.cfg.Prefix, h.credential(), true))
		}()
	}
	close(start)
	wg.Wait()
	var won, lost []*call
	for i, a := range answers {
		if a.hasToken() && a.code == "" {
			won = append(won, calls[i])
		} else if calls[i].answered() {
			lost = append(lost, calls[i])
		}
	}
	answered := len(won) + len(lost)
	switch {
	case len(won) > 1:
		return fail(fmt.Sprintf("%d of %d concurrent redemptions of one code got an access_token; exactly one may (redeem the code in one atomic step: delete it and check that it was there)", len(won), n), firstN(won, 5)...)
	case len(won) == 0 && answered == 0:
		return fail(fmt.Sprintf("none of %d concurrent redemptions was answered: %s", n, calls[0].x.Error), calls[0])
	case len(won) == 0:
		return fail(fmt.Sprintf("none of %d concurrent redemptions of a fresh code got an access_token (first: %s)", n, describe(lost[0], parseAccessToken(lost[0]), "access_token")), lost[0])
	}
	return pass(fmt.Sprintf("exactly one of %d concurrent redemptions (%d answered) got an access_token", n, answered), won[0])
}

// refreshCheck uses the refresh token from code-to-token (contract §7.1): it must give a new
// access_token, and a refresh token that was rotated must not work a second time.
func (h *hostRun) refreshCheck(ctx context.Context) verdict {
	switch {
	case h.cfg.RefreshTokenURL == "":
		return skip("not run: give --refresh-token-url to check refresh")
	case h.refresh == "":
		return skip("not run: code-to-token got no refresh_token; refresh is optional (contract §7.1)")
	}
	// A pair of its own: code-reuse may rightly have revoked code-to-token's.
	code, v, ok := h.setupCode(ctx)
	if !ok {
		return v
	}
	tc, ta := h.exchange(ctx, "a fresh code, for its refresh token", code, h.header(h.cfg.Prefix, h.credential(), true))
	if ta.refresh == "" || ta.code != "" {
		return fail("a fresh code gave no refresh_token this time: "+describe(tc, ta, "access_token"), tc)
	}
	first := ta.refresh
	refresh := func(label, rt string) (*call, answer) {
		b, _ := json.Marshal(contract.RefreshTokenRequest{RefreshToken: rt})
		c := h.c.do(ctx, request{label: label, endpoint: "refresh", method: http.MethodPost, url: h.cfg.RefreshTokenURL,
			header: h.header(h.cfg.Prefix, h.credential(), true), body: b})
		return c, parseAnswer(c, "access_token", "§7.1")
	}
	c, a := refresh("the refresh token of that code", first)
	if !a.hasToken() || a.code != "" {
		v := fail("the refresh token was not exchanged for a new access_token: "+describe(c, a, "access_token"), c)
		if d := diagnose(c, a, "--refresh-token-url", "--hostapp-client-id, --hostapp-secret and --token-prefix"); d != "" {
			v.message += " (" + d + ")"
		}
		return v
	}
	if a.refresh == "" || a.refresh == first {
		return warn("refresh gave a new access_token but did not rotate the refresh token; rotating it (a new refresh_token each time, the old one refused) is recommended (contract §7.1)", c)
	}
	rc, ra := refresh("the first refresh token again, after it was rotated", first)
	switch {
	case !rc.answered():
		return fail("no answer: "+rc.x.Error, c, rc)
	case ra.hasToken() && ra.code == "":
		return fail("a rotated refresh token worked a second time: once rotated, it must be refused (contract §7.1)", c, rc)
	}
	return pass(fmt.Sprintf("refresh gave a new access_token and refresh_token; the old refresh token was then refused (%s)", ra.code), c, rc)
}

// tokenBoundToMiniapp sends the access token with another miniapp's X-Miniapp-App-ID: a token
// issued for one miniapp should not answer for another (contract §3.9's recommendation).
func (h *hostRun) tokenBoundToMiniapp(ctx context.Context) verdict {
	code, v, ok := h.setupCode(ctx)
	if !ok {
		return v
	}
	tc, ta := h.exchange(ctx, "a fresh code for "+h.cfg.AppID, code, h.header(h.cfg.Prefix, h.credential(), true))
	if !ta.hasToken() || ta.code != "" {
		return fail("a fresh code was not exchanged for access_token: "+describe(tc, ta, "access_token"), tc)
	}
	other := "boxo-sim-check-other-app"
	hd := h.header(h.cfg.Prefix, ta.token, false)
	setExact(hd, contract.HeaderMiniappAppID, other)
	c, a := h.userData(ctx, "its access token with X-Miniapp-App-ID "+other, hd)
	switch {
	case !c.answered():
		return fail("no answer: "+c.x.Error, tc, c)
	case a.hasToken() && a.code == "":
		return warn(fmt.Sprintf("the access token issued for %s answered user_data for app_id %s; binding it to its miniapp is recommended (contract §3.9)", h.cfg.AppID, other), tc, c)
	}
	// The refusal means something only if the token answers for its own miniapp.
	oc, oa := h.userData(ctx, "the same access token with X-Miniapp-App-ID "+h.cfg.AppID, h.header(h.cfg.Prefix, ta.token, false))
	if !oa.hasToken() || oa.code != "" {
		return fail("the access token was refused for another app_id, but also for its own ("+describe(oc, oa, "user_data")+"); a fresh token must answer user_data", tc, c, oc)
	}
	return pass(fmt.Sprintf("refused for another app_id (%s), answered for its own", describe(c, a, "user_data")), tc, c, oc)
}

// schemeCaseInsensitive redeems a fresh code under the prefix in another case: scheme words
// compare case-insensitively (RFC 9110 §11.1), and Boxo's Dashboard does not fix the case.
func (h *hostRun) schemeCaseInsensitive(ctx context.Context) verdict {
	code, v, ok := h.setupCode(ctx)
	if !ok {
		return v
	}
	scheme := strings.ToLower(h.cfg.Prefix)
	if scheme == h.cfg.Prefix {
		scheme = strings.ToUpper(h.cfg.Prefix)
	}
	c, a := h.exchange(ctx, "a fresh code under scheme "+scheme+" instead of "+h.cfg.Prefix, code, h.header(scheme, h.credential(), true))
	switch {
	case !c.answered():
		return fail("no answer: "+c.x.Error, c)
	case a.hasToken() && a.code == "":
		return pass("accepted the scheme word "+scheme, c)
	}
	return warn(fmt.Sprintf("the scheme word %s was refused (%s): scheme words compare case-insensitively (RFC 9110 §11.1); accepting any case is recommended", scheme, describe(c, a, "access_token")), c)
}
