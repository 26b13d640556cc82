package check

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// The checks miniapp-v2 adds or judges differently from miniapp-v1: by what Boxo asks of a
// miniapp (contract §3.11, §5.1), with Boxo's published error codes, and without relying on
// boxo-sim's own created field.

// judgeCode judges the error_code of a refusal: a code the contract names for the case
// passes; any other code of Boxo's list, or of boxo-sim's, is conformant and noted (INFO);
// an earlier boxo-sim name is a WARN naming Boxo's code; a code on neither list is noted.
func judgeCode(code string, want []string) (Status, string) {
	switch {
	case len(want) == 0 || slices.Contains(want, code):
		return Pass, fmt.Sprintf("refused with error_code %s", code)
	case contract.DeprecationWarning(code) != "":
		return Warn, fmt.Sprintf("refused with error_code %s, an earlier boxo-sim name that Boxo never sends: Boxo's code is %s (contract §5.1)",
			code, strings.Join(contract.Deprecated[code], " or "))
	case contract.IsBoxoCode(code) || contract.IsKnownCode(code):
		return Info, fmt.Sprintf("refused with error_code %s, a code of contract §5.1; the table names %s for this case", code, strings.Join(want, " or "))
	}
	return Info, fmt.Sprintf("refused with error_code %s, which is on neither Boxo's list nor boxo-sim's; the platform passes it through (contract §5.1)", code)
}

// worst combines verdict statuses: FAIL, then WARN, then INFO, then PASS.
func worst(a, b Status) Status {
	rank := map[Status]int{Pass: 0, Info: 1, Warn: 2, Fail: 3}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// refusedMarker is a last_name only a refused request carries: if the user later shows it,
// the refused request created (or changed) the user.
const refusedMarker = "boxo-sim-refused"

// markedUser is a valid step-10 body for ref that also carries refusedMarker.
func (m *miniRun) markedUser(ref string) map[string]any {
	u := m.user(ref)
	u["last_name"] = refusedMarker
	u["custom_attributes"] = map[string]any{"boxo_sim_refused": true}
	return u
}

// plainUser is a valid body for ref without last_name and custom_attributes.
func (m *miniRun) plainUser(ref string) map[string]any {
	return map[string]any{"reference": ref, "email": "check-" + contract.RandomHex(4) + "@example.com", "first_name": "Check"}
}

// refusalV2 sends a request the backend must refuse and judges its code with judgeCode.
// When ref is not "", it then logs ref in validly and observes whether the refused request
// created a user: by created when the backend reports it, else by the fields GET /api/me
// shows (the refused request alone carried last_name refusedMarker).
func (m *miniRun) refusalV2(ctx context.Context, label string, want []string, ref string, h http.Header, body []byte) verdict {
	c, a := m.post(ctx, label, h, body)
	switch {
	case !c.answered():
		return fail("no answer: "+c.x.Error, c)
	case a.token != "":
		return fail(fmt.Sprintf("accepted it: answered %s", describe(c, a, "auth_token")), c)
	case a.code == "":
		return fail(fmt.Sprintf("answered %s; an error_code was expected", describe(c, a, "auth_token")), c)
	}
	status, msg := judgeCode(a.code, want)
	if ref == "" {
		return verdict{status: status, message: msg + "; judged by the answer alone: the request has no reference a later login could use", evidence: []*call{c}}
	}
	st, created, ev := m.observeCreation(ctx, ref)
	return verdict{status: worst(status, st), message: msg + "; " + created, evidence: append([]*call{c}, ev...)}
}

// observeCreation logs ref in validly after a refused request and says whether that refused
// request had created the user.
func (m *miniRun) observeCreation(ctx context.Context, ref string) (Status, string, []*call) {
	return m.observeCreationBy(ctx, ref, m.login)
}

// observeCreationBy is observeCreation with the valid login made by login.
func (m *miniRun) observeCreationBy(ctx context.Context, ref string, login func(context.Context, string, map[string]any) (*call, answer)) (Status, string, []*call) {
	lc, la := login(ctx, "a valid login of the same reference afterwards", m.plainUser(ref))
	ev := []*call{lc}
	if !la.hasToken() || la.code != "" {
		return Warn, "cannot observe whether a user was created: the valid login afterwards was answered " + describe(lc, la, "auth_token"), ev
	}
	id := m.identify(ctx, la.token)
	ev = append(ev, id.me)
	if id.created != nil {
		if !*id.created {
			return Fail, fmt.Sprintf("but the valid login afterwards found the user already existing (created: false, judged by %s): the refused request created it", id.how), ev
		}
		return Pass, fmt.Sprintf("no user was created: the valid login afterwards created it (created: true, judged by %s)", id.how), ev
	}
	if id.fields == nil {
		return Warn, "cannot observe whether a user was created: the backend does not report created (created: unknown), and without --me-url the user's fields are not visible", ev
	}
	if _, ok := id.fields["first_name"]; !ok {
		return Warn, "cannot observe whether a user was created: GET /api/me shows neither created nor the user's fields (first_name)", ev
	}
	if scalar(id.fields["last_name"]) == refusedMarker || bytes.Contains(id.fields["custom_attributes"], []byte("boxo_sim_refused")) {
		return Fail, fmt.Sprintf("but the user the valid login afterwards reached carries last_name %q, which only the refused request sent: the refused request created or changed the user (judged by GET /api/me)", refusedMarker), ev
	}
	return Pass, "no user was created: the user the valid login afterwards reached has none of the fields only the refused request sent (judged by GET /api/me; created: unknown)", ev
}

func (m *miniRun) wrongSecretV2(ctx context.Context) verdict {
	return m.wrongSecretBy(ctx, m.markedUser, m.refusalV2)
}

func (m *miniRun) missingAppIDHeaderV2(ctx context.Context) verdict {
	return m.missingAppIDHeaderBy(ctx, m.markedUser, m.refusalV2)
}

func (m *miniRun) basicUserMismatchV2(ctx context.Context) verdict {
	return m.basicUserMismatchBy(ctx, m.markedUser, m.refusalV2)
}

func (m *miniRun) reference101V2(ctx context.Context) verdict {
	return m.reference101By(ctx, m.refusalV2)
}

func (m *miniRun) badE164V2(ctx context.Context) verdict {
	return m.badE164By(ctx, m.markedUser, m.refusalV2)
}

func (m *miniRun) emptyBodyV2(ctx context.Context) verdict { return m.emptyBodyBy(ctx, m.refusalV2) }

func (m *miniRun) nonJSONBodyV2(ctx context.Context) verdict {
	return m.nonJSONBodyBy(ctx, m.refusalV2)
}

// noEmailNoPhoneV2: Boxo's miniapp page does not ask the miniapp to require e-mail or phone;
// the platform does (contract §3.10, §5.1). Accepting such a user passes; refusing it is
// conformant too, and noted.
func (m *miniRun) noEmailNoPhoneV2(ctx context.Context) verdict {
	ref := m.ref("no-email-no-phone")
	c, a := m.login(ctx, "neither email nor phone", map[string]any{"reference": ref, "first_name": "Check", "last_name": "Runner"})
	switch {
	case !c.answered():
		return fail("no answer: "+c.x.Error, c)
	case a.hasToken() && a.code == "":
		return pass("accepted it: Boxo's miniapp page asks no more (the platform is the party that requires email or phone, contract §3.10)", c)
	case a.code != "" && !a.hasToken():
		return info(fmt.Sprintf("refused it with error_code %s: stricter than Boxo asks, and harmless, since the platform never forwards such a user (contract §3.10, §5.1)", a.code), c)
	}
	return fail("answered "+describe(c, a, "auth_token"), c)
}

// basicSchemeCase sends the Basic scheme written in lower case: the scheme is a
// case-insensitive token (RFC 7235 §2.1, RFC 7617 §2).
func (m *miniRun) basicSchemeCase(ctx context.Context) verdict {
	h := m.header()
	h.Set("Authorization", "basic "+contract.BasicCredential(m.cfg.AppID, m.cfg.Secret))
	b, _ := json.Marshal(m.user(m.ref("basic-lower-case")))
	c, a := m.post(ctx, "Authorization: basic … (the scheme in lower case)", h, b)
	switch {
	case !c.answered():
		return fail("no answer: "+c.x.Error, c)
	case a.hasToken() && a.code == "":
		return pass("accepted the scheme written basic", c)
	}
	return warn(fmt.Sprintf("the scheme written basic was answered %s; the authentication scheme is case-insensitive (RFC 7235 §2.1), so compare it without regard to case", describe(c, a, "auth_token")), c)
}

// sameUserV2 logs the first reference in again: one user, judged by stable ids.
func (m *miniRun) sameUserV2(ctx context.Context) verdict {
	c, a := m.login(ctx, "the same reference again", m.user(m.firstRef))
	if !a.hasToken() || a.code != "" {
		return fail("a second valid login of the same reference was not answered with auth_token: "+describe(c, a, "auth_token"), m.first, c)
	}
	second := m.identify(ctx, a.token)
	ev := []*call{m.first, m.firstID.me, c, second.me}
	if m.firstID.subject == "" || second.subject == "" {
		return warn("cannot observe whether both logins reached one user: "+orText(m.firstID.subject == "", m.firstID.how, second.how)+"; give --me-url", ev...)
	}
	if m.firstID.subject != second.subject {
		return fail(fmt.Sprintf("two logins of reference %q reached two users (%s then %s; judged by %s); a miniapp keys its user on (X-Hostapp-Client-ID, reference)",
			m.firstRef, m.firstID.subject, second.subject, second.how), ev...)
	}
	return pass(fmt.Sprintf("both logins reached user %s (judged by %s)", second.subject, second.how), ev...)
}

// hostappsApart logs one reference in from two host apps: two users (contract §9.17).
func (m *miniRun) hostappsApart(ctx context.Context) verdict {
	ref := m.ref("two-hostapps")
	c1, a1 := m.login(ctx, "reference from host app "+m.cfg.ClientID, m.user(ref))
	h := m.header()
	setExact(h, contract.HeaderHostappClientID, m.cfg.OtherClientID)
	b, _ := json.Marshal(m.user(ref))
	c2, a2 := m.post(ctx, "the same reference from host app "+m.cfg.OtherClientID, h, b)
	switch {
	case !a1.hasToken() || a1.code != "":
		return fail("a valid login was answered "+describe(c1, a1, "auth_token"), c1)
	case !a2.hasToken() || a2.code != "":
		return warn(fmt.Sprintf("a valid login from a second host app (X-Hostapp-Client-ID %s) was answered %s; a miniapp may serve several host apps (give --other-client-id if it knows its host apps)",
			m.cfg.OtherClientID, describe(c2, a2, "auth_token")), c1, c2)
	}
	id1, id2 := m.identify(ctx, a1.token), m.identify(ctx, a2.token)
	ev := []*call{c1, id1.me, c2, id2.me}
	if id1.subject == "" || id2.subject == "" {
		return warn("cannot observe whether the two host apps' users stayed apart: "+orText(id1.subject == "", id1.how, id2.how)+"; give --me-url", ev...)
	}
	if id1.subject == id2.subject {
		return fail(fmt.Sprintf("reference %q from host apps %s and %s reached one user %s (judged by %s): the two host apps' users are merged; key the user on (X-Hostapp-Client-ID, reference) and store the header",
			ref, m.cfg.ClientID, m.cfg.OtherClientID, id1.subject, id1.how), ev...)
	}
	return pass(fmt.Sprintf("two users, %s and %s (judged by %s)", id1.subject, id2.subject, id1.how), ev...)
}

// customAttributes sends custom_attributes and reads them back on GET /api/me.
func (m *miniRun) customAttributes(ctx context.Context) verdict {
	if m.cfg.MeURL == "" {
		return skip("not run: custom_attributes can only be seen on GET /api/me; give --me-url")
	}
	sent := map[string]any{"tier": "gold", "points": 42, "nested": map[string]any{"list": []any{1, "two", true}}}
	body := m.user(m.ref("custom-attributes"))
	body["custom_attributes"] = sent
	c, a := m.login(ctx, "custom_attributes with a string, a number and a nested object", body)
	if !a.hasToken() || a.code != "" {
		return fail("a valid login with custom_attributes was answered "+describe(c, a, "auth_token"), c)
	}
	id := m.identify(ctx, a.token)
	if id.fields == nil {
		return warn("cannot read the user back: "+id.how, c, id.me)
	}
	raw, ok := id.fields["custom_attributes"]
	if !ok || string(raw) == "null" {
		return fail("GET /api/me shows no custom_attributes: the backend dropped what the host sent (contract §3.11 forwards them)", c, id.me)
	}
	var got any
	want, _ := json.Marshal(sent)
	var wantV any
	_ = json.Unmarshal(want, &wantV)
	if json.Unmarshal(raw, &got) != nil || !jsonEqual(got, wantV) {
		return fail(fmt.Sprintf("GET /api/me shows custom_attributes %s; %s was sent", raw, want), c, id.me)
	}
	return pass("GET /api/me shows custom_attributes exactly as sent", c, id.me)
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// maxTokenLifetime is the longest auth_token lifetime the checker accepts without a WARN.
const maxTokenLifetime = 30 * 24 * time.Hour

// tokenLifetime reads exp of valid-request's auth_token, when it is a JWT.
func (m *miniRun) tokenLifetime(context.Context) verdict {
	claims, ok := jwtClaims(m.firstCall.token)
	if !ok {
		return info("the auth_token is opaque: its lifetime cannot be seen from outside", m.first)
	}
	raw, ok := claims["exp"]
	var exp float64
	if !ok || json.Unmarshal(raw, &exp) != nil {
		return warn("the auth_token (a JWT) has no exp claim: it never expires, so a leaked token works forever; give it a lifetime (boxo-sim's choice: 3600 s, contract §9.12)", m.first)
	}
	// Measured from iat when the token has one, so the backend's clock does not matter.
	from, judged := time.Now(), "from now"
	var iat float64
	if raw, ok := claims["iat"]; ok && json.Unmarshal(raw, &iat) == nil {
		from, judged = time.Unix(int64(iat), 0), "from its iat"
	}
	life := time.Unix(int64(exp), 0).Sub(from).Round(time.Second)
	switch {
	case life <= 0:
		return warn(fmt.Sprintf("the auth_token had expired when it was issued (exp %v before, %s): check the backend's clock", -life, judged), m.first)
	case life > maxTokenLifetime:
		return warn(fmt.Sprintf("the auth_token expires %v after it is issued (%s), more than 30 days; a leaked token works that long (boxo-sim's choice: 3600 s, contract §9.12)", life, judged), m.first)
	}
	return pass(fmt.Sprintf("the auth_token expires %v after it is issued (%s)", life, judged), m.first)
}

// meRefusesBadToken sends GET /api/me tokens the backend never issued: a random string and
// an unsigned JWT naming valid-request's user.
func (m *miniRun) meRefusesBadToken(ctx context.Context) verdict {
	if m.cfg.MeURL == "" {
		return skip("not run: give --me-url")
	}
	forged := "eyJhbGciOiJub25lIn0." + b64json(map[string]any{"sub": m.firstID.subject, "user_id": m.firstID.subject, "exp": time.Now().Add(time.Hour).Unix()}) + "."
	st, msgs := Pass, []string{}
	var ev []*call
	for _, t := range []struct{ label, token string }{
		{"a token it never issued", "boxo-sim-check-not-a-token-" + contract.RandomHex(8)},
		{"an unsigned JWT (alg none) naming a user", forged},
	} {
		h := http.Header{}
		h.Set("Authorization", "Bearer "+t.token)
		c := m.c.do(ctx, request{label: t.label, endpoint: "me", method: http.MethodGet, url: m.cfg.MeURL, header: h})
		ev = append(ev, c)
		switch {
		case !c.answered():
			st, msgs = worst(st, Fail), append(msgs, t.label+": no answer: "+c.x.Error)
		case c.status == http.StatusUnauthorized:
			msgs = append(msgs, t.label+": 401")
		case c.status >= 200 && c.status < 300:
			st, msgs = worst(st, Fail), append(msgs, fmt.Sprintf("%s: HTTP %d, accepted", t.label, c.status))
		case c.status >= 500:
			st, msgs = worst(st, Warn), append(msgs, fmt.Sprintf("%s: HTTP %d; a bad token is the caller's mistake: answer 401 {\"error\": \"invalid_token\"} and keep stack traces out of answers", t.label, c.status))
		default:
			st, msgs = worst(st, Warn), append(msgs, fmt.Sprintf("%s: HTTP %d; the contract answers 401", t.label, c.status))
		}
	}
	return verdict{status: st, message: strings.Join(msgs, "; "), evidence: ev}
}

func b64json(v any) string {
	b, _ := json.Marshal(v)
	return strings.TrimRight(base64URL(b), "=")
}

// roundsFor is how many rounds find, with probability p, a race that shows in a fraction q
// of rounds.
func roundsFor(q, p float64) int { return int(math.Ceil(math.Log(1-p) / math.Log(1-q))) }

// concurrentRounds runs Rounds rounds of Concurrency simultaneous first logins, each round
// with a new reference, and stops at the first round that made more than one user.
func (m *miniRun) concurrentRounds(ctx context.Context) verdict {
	n, rounds := m.cfg.Concurrency, m.cfg.Rounds
	how := ""
	for round := 1; round <= rounds; round++ {
		ref := m.ref(fmt.Sprintf("concurrent-%d", round))
		calls := make([]*call, n)
		answers := make([]answer, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				calls[i], answers[i] = m.login(ctx, fmt.Sprintf("round %d: first login %d of %d at once", round, i+1, n), m.user(ref))
			})
		}
		close(start)
		wg.Wait()
		subjects := map[string]int{}
		for i := range n {
			if !answers[i].hasToken() || answers[i].code != "" {
				return fail(fmt.Sprintf("round %d of %d: login %d of %d concurrent first logins was answered %s; a create-or-find keyed on the reference must not fail under concurrency",
					round, rounds, i+1, n, describe(calls[i], answers[i], "auth_token")), calls[i])
			}
			id := m.identify(ctx, answers[i].token)
			if id.subject == "" {
				return warn(fmt.Sprintf("all %d concurrent logins got auth_token, but whether they reached one user cannot be observed: %s; give --me-url", n, id.how), calls[0])
			}
			how = id.how
			subjects[id.subject]++
		}
		if len(subjects) > 1 {
			var list []string
			for s, k := range subjects {
				list = append(list, fmt.Sprintf("%s ×%d", s, k))
			}
			slices.Sort(list)
			return fail(fmt.Sprintf("round %d of %d: %d concurrent first logins of one reference made %d users (%s; judged by %s); make the create-or-find atomic, e.g. a unique key on (client_id, reference)",
				round, rounds, n, len(subjects), strings.Join(list, ", "), how), firstN(calls, 3)...)
		}
	}
	return pass(fmt.Sprintf("%d rounds of %d concurrent first logins each reached one user (judged by %s); %d rounds find a race that shows in one round of seven with 99%% probability",
		rounds, n, how, roundsFor(1.0/7, 0.99)))
}

func base64URL(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
