package fault

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/clock"
	"github.com/boxo-sim/boxo-sim/internal/contract"
)

// TokenFields are the answer fields a KindLongToken fault lengthens.
var TokenFields = []string{"access_token", "refresh_token", "auth_token", "token"}

// NonJSONBody is what a KindMalformed fault with body "non-json" answers: the kind of page a
// proxy in front of a backend sends.
const NonJSONBody = "<html><head><title>Error</title></head><body><h1>Something went wrong</h1></body></html>\n"

// Middleware applies party's fault table to the requests next serves. For each request it
// asks t which faults fire (Table.Match) and applies them in id order, the first outermost, so
// a delay followed by a status waits and then answers the status. Kinds:
//
//   - error_code: the endpoint's error form. At the platform, the 400 envelope of PROTOCOL
//     §2.5 (source platform, the step served there, message "injected fault"); at the
//     miniapp's /api/me, 401 {"error":"invalid_token"}; elsewhere (the host's /boxo/connect/*,
//     the miniapp's /boxo/auth-token) 200 {"error_code": X} (PROTOCOL §2.3).
//   - delay: waits Delay (or until the caller gives up), then handles the call.
//   - status: answers Status with {"error":"injected_fault"}.
//   - malformed: handles the call, then answers "non-json" (an HTML page, 200), "truncated"
//     (the first half of the real body) or "wrong-types" (the real JSON with every string
//     value replaced by a number).
//   - long_token: the real answer with every token field (TokenFields) replaced by
//     contract.MaxTokenLen+1 characters.
//   - missing_field: the real answer without Field (dotted: "user_data.email").
//   - reset: closes the connection with SO_LINGER 0, so the caller sees a TCP reset.
//   - replay_code: handles the call twice and answers the second, so the host sees the auth
//     code it has just redeemed (INVALID_AUTH_CODE, and the host revokes the first tokens).
//   - expire: advances clk by ExpireBy (with the table's lifetimes), then handles the call.
//
// Transforming kinds leave an answer they cannot parse as it is.
func Middleware(party string, t *Table, clk *clock.Clock, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fired := t.Match(r.URL.Path)
		h := next
		lt := t.getLifetimes()
		for i := len(fired) - 1; i >= 0; i-- {
			h = apply(party, fired[i], clk, lt, h)
		}
		h.ServeHTTP(w, r)
	})
}

func apply(party string, f Fault, clk *clock.Clock, lt Lifetimes, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch f.Kind {
		case KindErrorCode:
			writeErrorCode(w, party, f, r.URL.Path)
		case KindDelay:
			// Reading the body to its end lets the server notice a caller that hangs up
			// (net/http watches the connection only then), which ends the wait below.
			body, _ := io.ReadAll(io.LimitReader(r.Body, contract.MaxBodyBytes+1))
			r = withBody(r, body)
			timer := time.NewTimer(time.Duration(f.Delay))
			defer timer.Stop()
			select {
			case <-timer.C:
				next.ServeHTTP(w, r)
			case <-r.Context().Done(): // the caller gave up; nobody reads an answer
			}
		case KindStatus:
			contract.WriteJSON(w, f.Status, map[string]string{"error": "injected_fault"})
		case KindMalformed, KindLongToken, KindMissingField:
			rec := newRecorder()
			next.ServeHTTP(rec, r)
			if f.Kind == KindMalformed && f.Body == "non-json" {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.WriteHeader(http.StatusOK)
				_, _ = io.WriteString(w, NonJSONBody)
				return
			}
			rec.writeTo(w, transform(f, rec.body.Bytes()))
		case KindReset:
			reset(w)
		case KindReplayCode:
			body, _ := io.ReadAll(io.LimitReader(r.Body, contract.MaxBodyBytes+1))
			next.ServeHTTP(newRecorder(), withBody(r, body)) // redeems the code; answer dropped
			next.ServeHTTP(w, withBody(r, body))
		case KindExpire:
			if d, ok := lt.ExpireBy(f); ok {
				clk.Advance(d)
			}
			next.ServeHTTP(w, r)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func writeErrorCode(w http.ResponseWriter, party string, f Fault, path string) {
	switch {
	case party == contract.PartyPlatform:
		step := f.Step
		if step == 0 {
			step = stepAt(party, path)
		}
		if step == 0 {
			step = 5
		}
		e := contract.BoxoError(f.ErrorCode, nil, "injected fault")
		e.Source, e.Step = contract.PartyPlatform, step
		contract.WriteEnvelope(w, e)
	case party == contract.PartyMiniapp && matchPath(miniappRefreshPath, path):
		// The miniapp frontend's refresh refuses with RFC 6749's form (PROTOCOL §7.1).
		contract.WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": contract.OAuthInvalidGrant, "error_description": "injected fault: " + f.ErrorCode})
	case party == contract.PartyMiniapp && strings.HasPrefix(path, "/api/"):
		// The rest of the miniapp frontend's API (/api/me, logout) refuses the token (§3.15).
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		contract.WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": contract.OAuthInvalidToken, "error_description": "injected fault: " + f.ErrorCode})
	case party == contract.PartyHostapp && !strings.HasPrefix(path, "/boxo/"):
		// The authorization server and the legacy API answer in RFC 6749's form (§6.6).
		contract.WriteOAuthError(w, &contract.Error{Code: contract.OAuthServerError, Message: "injected fault: " + f.ErrorCode})
	default:
		// The endpoints Boxo calls answer 200 with the code (PROTOCOL §2.3).
		contract.WriteJSON(w, http.StatusOK, map[string]string{"error_code": f.ErrorCode})
	}
}

// reset drops the connection with a TCP RST. Where the connection cannot be taken over (a
// recorder of an outer fault, HTTP/2), it aborts the answer instead.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

func withBody(r *http.Request, body []byte) *http.Request {
	c := r.Clone(r.Context())
	c.Body = io.NopCloser(bytes.NewReader(body))
	c.ContentLength = int64(len(body))
	return c
}

// transform changes a real answer body as a malformed, long_token or missing_field fault
// asks. A body that is not JSON is returned unchanged, except when truncated.
func transform(f Fault, body []byte) []byte {
	if f.Kind == KindMalformed && f.Body == "truncated" {
		return body[:len(body)/2]
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return body
	}
	switch f.Kind {
	case KindMalformed: // wrong-types
		v = numbersForStrings(v)
	case KindLongToken:
		lengthenTokens(v)
	case KindMissingField:
		removeField(v, strings.Split(f.Field, "."))
	}
	out, err := json.Marshal(v)
	if err != nil {
		return body
	}
	return append(out, '\n')
}

// numbersForStrings replaces every string value, at any depth, by its length in bytes.
func numbersForStrings(v any) any {
	switch x := v.(type) {
	case string:
		return len(x)
	case map[string]any:
		for k, e := range x {
			x[k] = numbersForStrings(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbersForStrings(e)
		}
	}
	return v
}

// lengthenTokens replaces the string value of every token field, at any depth, by one of
// contract.MaxTokenLen+1 characters.
func lengthenTokens(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if _, ok := e.(string); ok && isTokenField(k) {
				x[k] = strings.Repeat("t", contract.MaxTokenLen+1)
				continue
			}
			lengthenTokens(e)
		}
	case []any:
		for _, e := range x {
			lengthenTokens(e)
		}
	}
}

func isTokenField(k string) bool {
	for _, t := range TokenFields {
		if k == t {
			return true
		}
	}
	return false
}

// removeField deletes the dotted path from nested objects; a missing path changes nothing.
func removeField(v any, path []string) {
	m, ok := v.(map[string]any)
	if !ok || len(path) == 0 {
		return
	}
	if len(path) == 1 {
		delete(m, path[0])
		return
	}
	removeField(m[path[0]], path[1:])
}

// recorder keeps a handler's answer so a fault can change it before it is sent.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

// writeTo sends the recorded headers and status with body.
func (r *recorder) writeTo(w http.ResponseWriter, body []byte) {
	for k, vs := range r.header {
		if k != "Content-Length" {
			w.Header()[k] = vs
		}
	}
	status := r.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
