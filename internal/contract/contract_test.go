package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Golden round trips of PROTOCOL.md's example bodies: a JSON tag that drifts from the
// contract fails here, not by agreeing with itself on both ends of the wire.
func TestWireTypesRoundTripProtocolExamples(t *testing.T) {
	cases := []struct {
		name string
		body string // as PROTOCOL.md spells it
		into any
	}{
		{"§3.6 authorize", `{"auth_code":"<code>","client_id":"<client_id>","app_id":"<app_id>","user_reference":"<reference>"}`, &AuthorizeRequest{}},
		{"§3.7 access token request", `{"auth_code":"<code>"}`, &AccessTokenRequest{}},
		{"§3.8 access token answer", `{"access_token":"a","refresh_token":"r"}`, &TokenPair{}},
		{"§3.8 error answer", `{"error_code":"INVALID_AUTH_CODE"}`, &TokenPair{}},
		{"§3.11 user data", `{"reference":"u-42","email":"user@example.com","phone":"+6591234567","first_name":"Ada","last_name":"Lee","custom_attributes":{"tier":"gold"}}`, &UserData{}},
		{"§3.12 auth token", `{"auth_token":"t","refresh_token":"r"}`, &AuthTokenResponse{}},
		{"§3.13 platform answer", `{"token":"t","refresh_token":"r"}`, &AuthorizeResponse{}},
		{"§7.1 refresh", `{"refresh_token":"<refresh>"}`, &RefreshTokenRequest{}},
		{"§2.5 envelope", `{"error_code":"UNEXPECTED_RESPONSE_ERROR","error_message":"m","custom_attributes":{"source":"hostapp","step":7}}`, &ErrorEnvelope{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dec := json.NewDecoder(strings.NewReader(tc.body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(tc.into); err != nil {
				t.Fatalf("decode: %v", err)
			}
			out, err := json.Marshal(tc.into)
			if err != nil {
				t.Fatal(err)
			}
			var want, got any
			_ = json.Unmarshal([]byte(tc.body), &want)
			_ = json.Unmarshal(out, &got)
			w, _ := json.Marshal(want)
			g, _ := json.Marshal(got)
			if !bytes.Equal(w, g) {
				t.Fatalf("round trip\n got %s\nwant %s", g, w)
			}
		})
	}
	// Absent optional fields are omitted, never sent as null (§3.11).
	b, _ := json.Marshal(UserData{Reference: "u-1", Email: "a@b.c"})
	if string(b) != `{"reference":"u-1","email":"a@b.c"}` {
		t.Errorf("sparse user data = %s", b)
	}
	var env ErrorEnvelope
	_ = json.Unmarshal([]byte(cases[8].body), &env)
	if env.Source() != "hostapp" || env.Step() != 7 {
		t.Errorf("envelope source/step = %q/%d", env.Source(), env.Step())
	}
}

// PROTOCOL §7.7's worked examples.
func TestBasicCredentialWorkedExamples(t *testing.T) {
	if got := "Basic " + BasicCredential("app16973", "miniapp-secret-1"); got != "Basic YXBwMTY5NzM6bWluaWFwcC1zZWNyZXQtMQ==" {
		t.Errorf("miniapp credential = %s", got)
	}
	if got := "Token " + BasicCredential("hostapp-client-1", "hostapp-secret-1"); got != "Token aG9zdGFwcC1jbGllbnQtMTpob3N0YXBwLXNlY3JldC0x" {
		t.Errorf("host credential = %s", got)
	}
	cred, ok := SchemeCredential("token   aG9zdGFwcC1jbGllbnQtMTpob3N0YXBwLXNlY3JldC0x", "Token")
	if !ok {
		t.Fatal("scheme word must compare case-insensitively (§9.5)")
	}
	if u, p, ok := DecodeBasic(cred); !ok || u != "hostapp-client-1" || p != "hostapp-secret-1" {
		t.Errorf("DecodeBasic = %q %q %v", u, p, ok)
	}
	for _, h := range []string{"", "Token", "Bearer abc", "Tokenabc"} {
		if _, ok := SchemeCredential(h, "Token"); ok {
			t.Errorf("SchemeCredential(%q) accepted", h)
		}
	}
}

func TestSecretsHelpers(t *testing.T) {
	if !Equal("s3cret", "s3cret") || Equal("s3cret", "s3cret!") || Equal("", "x") {
		t.Error("Equal")
	}
	tok := RandomToken()
	if len(tok) != 43 || tok == RandomToken() {
		t.Errorf("RandomToken = %q", tok)
	}
	if m := Mask(tok); strings.Contains(m, tok[4:]) || !strings.HasSuffix(m, "[43]") {
		t.Errorf("Mask = %q", m)
	}
	if m := Mask("short"); strings.Contains(m, "short") {
		t.Errorf("Mask(short) = %q", m)
	}
	masked, ok := MaskJSON([]byte(`{"auth_code":"0123456789abcdef0123","nested":{"access_token":"abcdefghijklmnopqrstuvwxyz"},"reference":"u-1"}`))
	if !ok || strings.Contains(string(masked), "0123456789abcdef0123") || strings.Contains(string(masked), "abcdefghijklmnop") || !strings.Contains(string(masked), "u-1") {
		t.Errorf("MaskJSON = %s", masked)
	}
	h := MaskHeaders(http.Header{"Authorization": {"Basic YXBwMTY5NzM6bWluaWFwcC1zZWNyZXQtMQ=="}, "X-Miniapp-App-Id": {"app16973"}})
	if strings.Contains(h["Authorization"], "YXBwMTY5NzM6bWluaWFwcC1zZWNyZXQtMQ") || h["X-Miniapp-App-Id"] != "app16973" {
		t.Errorf("MaskHeaders = %v", h)
	}
}

func TestValidE164AndLen(t *testing.T) {
	for p, want := range map[string]bool{"+6591234567": true, "+123456789012345": true, "+1234567890123456": false, "6591234567": false, "+0123": false, "+65 9123": false} {
		if ValidE164(p) != want {
			t.Errorf("ValidE164(%q) = %v", p, !want)
		}
	}
	if Len("héllo") != 5 {
		t.Error("Len counts bytes, not code points (§2.9)")
	}
}

func TestIPFilter(t *testing.T) {
	f, err := ParseIPFilter(DefaultAllowlist)
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]bool{"127.0.0.1:5000": true, "[::1]:80": true, "10.0.0.1:80": false, "[::ffff:127.0.0.1]:1": true, "garbage": false} {
		if f.Allows(addr) != want {
			t.Errorf("Allows(%q) = %v", addr, !want)
		}
	}
	if _, err := ParseIPFilter([]string{"10.0.0.0/33"}); err == nil {
		t.Error("a bad CIDR parsed")
	}
	one, _ := ParseIPFilter([]string{"192.0.2.7"})
	if !one.Allows("192.0.2.7:1") || one.Allows("192.0.2.8:1") {
		t.Error("a bare address must mean just that address")
	}
}

func TestDecodeJSONRejections(t *testing.T) {
	cases := map[string]struct{ ct, body string }{
		"wrong content type": {"text/plain", `{}`},
		"empty":              {"application/json", ``},
		"not JSON":           {"application/json", `{"a":`},
		"too large":          {"application/json", `{"a":"` + strings.Repeat("x", MaxBodyBytes) + `"}`},
	}
	for name, tc := range cases {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
		r.Header.Set("Content-Type", tc.ct)
		var dst map[string]any
		err := DecodeJSON(httptest.NewRecorder(), r, &dst, CodeInvalidRequest)
		var ce *Error
		if !errors.As(err, &ce) || ce.Code != CodeInvalidRequest || ce.Message == "" {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	// No content type is accepted when the body parses (PROTOCOL §9.3).
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"a":1}`))
	var dst map[string]any
	if err := DecodeJSON(httptest.NewRecorder(), r, &dst, CodeInvalidRequest); err != nil {
		t.Errorf("no content type: %v", err)
	}
}

func TestFormsRenderErrorsAndRecoverPanics(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cases := []struct {
		name   string
		form   Form
		h      HandlerFunc
		status int
		body   string
	}{
		{"always200", Always200(log), func(http.ResponseWriter, *http.Request) error { return Errorf(CodeInvalidAuthCode, "x") }, 200, `{"error_code":"INVALID_AUTH_CODE"}`},
		{"always200 ip", Always200(log), func(http.ResponseWriter, *http.Request) error {
			return &Error{Code: CodeNotAWhitelistedIP, Status: http.StatusForbidden}
		}, 403, `{"error_code":"NOT_A_WHITELISTED_IP"}`},
		{"always200 panic", Always200(log), func(http.ResponseWriter, *http.Request) error { panic("boom") }, 200, `{"error_code":"UNKNOWN_ERROR"}`},
		{"always200 plain error hides details", Always200(log), func(http.ResponseWriter, *http.Request) error { return errors.New("db is on fire") }, 200, `{"error_code":"UNKNOWN_ERROR"}`},
		{"envelope", Envelope(log), func(http.ResponseWriter, *http.Request) error {
			return &Error{Code: CodeHostappNotFound, Message: "no such client", Step: 5}
		}, 400, `{"error_code":"HOSTAPP_NOT_FOUND","error_message":"no such client","custom_attributes":{"source":"platform","step":5}}`},
		{"oauth", OAuth(log), func(http.ResponseWriter, *http.Request) error {
			return &Error{Code: OAuthInvalidClient, Message: "bad", Status: 401, Header: http.Header{"Www-Authenticate": {`Basic realm="token"`}}}
		}, 401, `{"error":"invalid_client","error_description":"bad"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			tc.form(tc.h).ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", nil))
			if w.Code != tc.status || strings.TrimSpace(w.Body.String()) != tc.body {
				t.Fatalf("got %d %s, want %d %s", w.Code, w.Body, tc.status, tc.body)
			}
			if w.Header().Get("Content-Type") != "application/json" {
				t.Errorf("content type %q", w.Header().Get("Content-Type"))
			}
		})
	}
}

// TestMaskExact pins Mask's output, multi-byte and invalid UTF-8 included: the flow log and
// the logs show these strings, and an invalid byte among the first four shows as U+FFFD.
func TestMaskExact(t *testing.T) {
	for in, want := range map[string]string{
		"":                "",
		"abc":             "…[3]",
		"abcdefghijk":     "…[11]",
		"abcdefghijkl":    "abcd…[12]",
		"héllo-wörld-xyz": "héll…[15]",
		"日本語テキストはここにある":            "日本語テ…[13]",
		"\xffabcdefghijklmnop":     "\uFFFDabc…[17]",
		"ab\xc3cdefghijklmnopqrst": "ab\uFFFDc…[21]",
		"a\xe6\x97b0123456789":     "a\uFFFD\uFFFDb…[14]",
	} {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
		if IsMasked(want) != (in != "") || IsMasked(in) {
			t.Errorf("IsMasked(%q) = %v, IsMasked(%q) = %v; want only the mask masked", want, IsMasked(want), in, IsMasked(in))
		}
	}
}

// TestMaskJSONKeepsWhatItDoesNotMask: MaskJSON masks the string value of each secret key at
// any depth and keeps everything else as sent (compacted): key order, number literals,
// escapes, strings that look like JSON.
func TestMaskJSONKeepsWhatItDoesNotMask(t *testing.T) {
	const tok = "abcdefghijklmnopqrstuvwxyz"
	m := Mask(tok)
	for _, c := range []struct{ in, want string }{
		{`{"z":1,"access_token":"` + tok + `","a":12345678901234567890}`, `{"z":1,"access_token":"` + m + `","a":12345678901234567890}`},
		{` { "list" : [ {"refresh_token":"` + tok + `"}, "access_token", 1.50 ] } `, `{"list":[{"refresh_token":"` + m + `"},"access_token",1.50]}`},
		{`{"acc\u0065ss_token":"` + tok + `","note":"a \"quoted\" {access_token} , ]"}`, `{"acc\u0065ss_token":"` + m + `","note":"a \"quoted\" {access_token} , ]"}`},
		{`{"access_token":{"access_token":"` + tok + `","n":null},"client_secret":7,"x":"é\u00e9"}`, `{"access_token":{"access_token":"` + m + `","n":null},"client_secret":7,"x":"é\u00e9"}`},
		{`{"access_token":"short"}`, `{"access_token":"` + Mask("short") + `"}`},
		{`["access_token","` + tok + `"]`, `["access_token","` + tok + `"]`},
		{`"` + tok + `"`, `"` + tok + `"`},
		{`{"access_token":["` + tok + `"]}`, `{"access_token":["` + tok + `"]}`},
		{`{}`, `{}`},
	} {
		got, ok := MaskJSON([]byte(c.in))
		if !ok || string(got) != c.want {
			t.Errorf("MaskJSON(%s)\n = %s (%v)\nwant %s", c.in, got, ok, c.want)
		}
	}
	for _, bad := range []string{``, `{`, `{"a":}`, `{"a":1}x`, `nul`} {
		if got, ok := MaskJSON([]byte(bad)); ok {
			t.Errorf("MaskJSON(%q) = %s, true; want false", bad, got)
		}
	}
}
