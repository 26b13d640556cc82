// Package checktest holds deliberately configurable backends for testing the conformance
// checker (package check): with zero options each conforms to PROTOCOL.md; each option
// breaks one rule, so a test can show that the checker reports exactly that rule. Test
// code only.
package checktest

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/userdata"
)

const (
	AppID  = "app-under-test"
	Secret = "miniapp-secret-under-test"
)

// MiniappOptions breaks a conforming miniapp backend in chosen ways.
type MiniappOptions struct {
	ErrStatus         int    // HTTP status of error answers; 0 means 200
	DuplicateUsers    bool   // every login creates a new user
	AcceptWrongSecret bool   // checks the app_id of the Basic credential, not the secret
	CreateFirst       bool   // creates the user before validating the phone
	Opaque            bool   // opaque tokens instead of JWTs
	NoCreatedClaim    bool   // JWTs without the created claim
	ContentType       string // "" means application/json
	ByteLimit         bool   // limits the reference to 100 bytes, not characters
	MassAssign        bool   // a body "id" becomes the user's id
	BothOnError       bool   // error answers carry an auth_token too
	Delay             time.Duration

	// UserDataKey makes it take encrypted user data (PROTOCOL §7.2) with this key; the
	// options after it break its decryption.
	UserDataKey       string
	EncStdOnly        bool // only the standard base64 alphabet with padding
	EncNoLengthCheck  bool // no length checks: short or partial-block input panics the handler (HTTP 500)
	EncNoPaddingCheck bool // strips "last byte" bytes without checking them (Boxo's Go sample)
	EncErrStatus500   bool // answers HTTP 500 when it cannot decrypt
	EncNoValidation   bool // decrypted data is not validated: no reference is fine

	// The mistakes of a team working from Boxo's documents alone.
	CaseSensitiveBasic   bool   // refuses the scheme written "basic"
	IgnoreClientID       bool   // keys users on the reference alone: two host apps' users merge
	DropCustomAttributes bool   // never stores custom_attributes
	NoExpiry             bool   // JWTs without exp
	MeCrashes            bool   // GET /api/me answers 500 with a stack trace to a token it does not know
	Racy                 bool   // create-or-find is not atomic: concurrent first logins make several users
	SplitAtLastColon     bool   // splits the Basic credential at its last colon (RFC 7617 says the first)
	CreateBeforeAuth     bool   // creates the user before checking the credentials
	OldCodes             bool   // answers boxo-sim's earlier INVALID_CREDENTIALS instead of Boxo's codes
	RequireEmailOrPhone  bool   // refuses a user with neither email nor phone (stricter than Boxo asks)
	NoCreated            bool   // neither the token nor /api/me says whether the user was created
	SubjectClaim         string // the token claim carrying the user id; "" means sub
	Secret               string // its secret_key; "" means Secret
	RequireHeader        string // a header the platform never sends, required: MISSING_HEADER
}

// Miniapp is a miniapp backend serving POST /boxo/auth-token (PROTOCOL §3.11, §3.12) and
// GET /api/me (§3.15), with app_id AppID and secret_key Secret. Its tokens are unsigned
// JWTs with sub (the user id), exp (one hour) and created claims, unless Opaque. With zero
// options it follows Boxo's documents and boxo-sim's contract: it answers ACCESS_DENIED and
// MISSING_HEADER, requires e-mail or phone only when told to (RequireEmailOrPhone), and keys
// users on (X-Hostapp-Client-ID, reference).
type Miniapp struct {
	o     MiniappOptions
	srv   *httptest.Server
	mu    sync.Mutex
	users map[string]*fakeUser // client_id + " " + reference → user
	seq   int
	toks  map[string]meAnswer
}

type fakeUser struct {
	ID, Reference, Email, Phone, FirstName, LastName string
	CustomAttributes                                 json.RawMessage
}

type meAnswer struct {
	user    *fakeUser
	created bool
}

// NewMiniapp starts a miniapp backend on a loopback port until the test ends.
func NewMiniapp(t testing.TB, o MiniappOptions) *Miniapp {
	f := &Miniapp{o: o, users: map[string]*fakeUser{}, toks: map[string]meAnswer{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /boxo/auth-token", f.authToken)
	mux.HandleFunc("GET /api/me", f.me)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// NewDocMiniapp starts a miniapp backend written from Boxo's documents alone, correctly: it
// accepts a user with neither e-mail nor phone, answers ACCESS_DENIED and MISSING_HEADER,
// reports no created field, and its tokens carry the user id as user_id.
func NewDocMiniapp(t testing.TB) *Miniapp {
	return NewMiniapp(t, MiniappOptions{NoCreated: true, SubjectClaim: "user_id"})
}

// URL is its Get Auth Token URL.
func (f *Miniapp) URL() string { return f.srv.URL + "/boxo/auth-token" }

// MeURL is its GET /api/me.
func (f *Miniapp) MeURL() string { return f.srv.URL + "/api/me" }

// Users counts the users it holds for a reference, over every host app.
func (f *Miniapp) Users(reference string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := map[string]bool{}
	for k, u := range f.users {
		if strings.HasSuffix(k, " "+reference) {
			ids[u.ID] = true
		}
	}
	return len(ids)
}

func (f *Miniapp) answer(w http.ResponseWriter, status int, v any) {
	ct := f.o.ContentType
	if ct == "" {
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *Miniapp) refuse(w http.ResponseWriter, code string) {
	status := http.StatusOK
	if f.o.ErrStatus != 0 {
		status = f.o.ErrStatus
	}
	if f.o.OldCodes && (code == contract.CodeAccessDenied || code == contract.CodeMissingHeader) {
		code = "INVALID_CREDENTIALS"
	}
	body := map[string]string{"error_code": code}
	if f.o.BothOnError {
		body["auth_token"] = "token-despite-the-error"
	}
	f.answer(w, status, body)
}

// basicAuth takes the Basic credential apart as the options say: scheme word compared
// case-insensitively, split at the first colon (RFC 7617), unless broken.
func (f *Miniapp) basicAuth(r *http.Request) (user, pass string, ok bool) {
	scheme, cred, found := strings.Cut(r.Header.Get("Authorization"), " ")
	if !found || !strings.EqualFold(scheme, "Basic") || (f.o.CaseSensitiveBasic && scheme != "Basic") {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return "", "", false
	}
	i := strings.IndexByte(string(raw), ':')
	if f.o.SplitAtLastColon {
		i = strings.LastIndexByte(string(raw), ':')
	}
	if i < 0 {
		return "", "", false
	}
	return string(raw[:i]), string(raw[i+1:]), true
}

func (f *Miniapp) authToken(w http.ResponseWriter, r *http.Request) {
	if f.o.Delay > 0 {
		select {
		case <-time.After(f.o.Delay):
		case <-r.Context().Done():
			return
		}
	}
	var body map[string]any
	decodeErr := json.NewDecoder(r.Body).Decode(&body)
	client := r.Header.Get(contract.HeaderHostappClientID)
	ref, _ := body["reference"].(string)
	if f.o.CreateBeforeAuth && ref != "" {
		f.login(client, ref, body)
	}
	user, pass, ok := f.basicAuth(r)
	secret := f.o.Secret
	if secret == "" {
		secret = Secret
	}
	if !ok || user != AppID || (pass != secret && !f.o.AcceptWrongSecret) {
		f.refuse(w, contract.CodeAccessDenied)
		return
	}
	switch h := r.Header.Get(contract.HeaderMiniappAppID); {
	case f.o.RequireHeader != "" && r.Header.Get(f.o.RequireHeader) == "":
		f.refuse(w, contract.CodeMissingHeader)
		return
	case h == "":
		f.refuse(w, contract.CodeMissingHeader)
		return
	case h != user:
		f.refuse(w, contract.CodeAccessDenied)
		return
	}
	if decodeErr != nil || body == nil {
		f.refuse(w, contract.CodeInvalidRequest)
		return
	}
	if enc, ok := body["user_data"].(string); ok && f.o.UserDataKey != "" {
		defer func() { // a web framework's answer to a panic
			if recover() != nil {
				http.Error(w, "internal server error", http.StatusInternalServerError)
			}
		}()
		plain, err := f.decrypt(enc)
		if err == nil {
			body = nil
			err = json.Unmarshal(plain, &body)
		}
		if err != nil || body == nil {
			if f.o.EncErrStatus500 {
				http.Error(w, "cannot decrypt", http.StatusInternalServerError)
				return
			}
			f.refuse(w, contract.CodeInvalidUserData)
			return
		}
		ref, _ = body["reference"].(string)
		if ref == "" && f.o.EncNoValidation {
			u, created := f.login(client, "", body)
			f.answer(w, http.StatusOK, map[string]string{"auth_token": f.token(u, created)})
			return
		}
	}
	n := utf8.RuneCountInString(ref)
	if f.o.ByteLimit {
		n = len(ref)
	}
	if ref == "" || n > contract.MaxReferenceLen {
		f.refuse(w, contract.CodeInvalidUserData)
		return
	}
	var u *fakeUser
	var created bool
	if f.o.CreateFirst {
		u, created = f.login(client, ref, body)
	}
	email, _ := body["email"].(string)
	phone, _ := body["phone"].(string)
	if (f.o.RequireEmailOrPhone && email == "" && phone == "") || (phone != "" && !contract.ValidE164(phone)) {
		f.refuse(w, contract.CodeInvalidUserData)
		return
	}
	if !f.o.CreateFirst {
		u, created = f.login(client, ref, body)
	}
	f.answer(w, http.StatusOK, map[string]string{"auth_token": f.token(u, created)})
}

// login finds or creates the user of (client, reference) and overwrites its fields with the
// non-empty ones received (PROTOCOL §3.12).
func (f *Miniapp) login(client, ref string, body map[string]any) (*fakeUser, bool) {
	key := client + " " + ref
	if f.o.IgnoreClientID {
		key = " " + ref
	}
	f.mu.Lock()
	u, ok := f.users[key]
	if f.o.Racy && !ok {
		// A find, then a create, not one atomic step: logins arriving meanwhile create too.
		f.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		f.mu.Lock()
	}
	created := false
	if !ok || f.o.DuplicateUsers {
		f.seq++
		u = &fakeUser{ID: fmt.Sprintf("user-%d", f.seq), Reference: ref}
		if s, ok := body["id"].(string); ok && f.o.MassAssign {
			u.ID = s
		}
		f.users[key] = u
		created = true
	}
	for _, fd := range []struct {
		key string
		dst *string
	}{{"email", &u.Email}, {"phone", &u.Phone}, {"first_name", &u.FirstName}, {"last_name", &u.LastName}} {
		if v, _ := body[fd.key].(string); v != "" {
			*fd.dst = v
		}
	}
	if ca, ok := body["custom_attributes"].(map[string]any); ok && !f.o.DropCustomAttributes {
		u.CustomAttributes, _ = json.Marshal(ca)
	}
	f.mu.Unlock()
	return u, created
}

func (f *Miniapp) token(u *fakeUser, created bool) string {
	var tok string
	if f.o.Opaque {
		tok = contract.RandomToken()
	} else {
		claim := f.o.SubjectClaim
		if claim == "" {
			claim = "sub"
		}
		claims := map[string]any{claim: u.ID, "iat": time.Now().Unix(), "jti": contract.RandomHex(8)}
		if !f.o.NoExpiry {
			claims["exp"] = time.Now().Add(time.Hour).Unix()
		}
		if !f.o.NoCreatedClaim && !f.o.NoCreated {
			claims["created"] = created
		}
		p, _ := json.Marshal(claims)
		tok = "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString(p) + ".c2ln"
	}
	f.mu.Lock()
	f.toks[tok] = meAnswer{user: u, created: created}
	f.mu.Unlock()
	return tok
}

func (f *Miniapp) me(w http.ResponseWriter, r *http.Request) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	me, ok := f.toks[tok]
	var u fakeUser
	if ok {
		u = *me.user
	}
	f.mu.Unlock()
	if !ok {
		if f.o.MeCrashes {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte("<pre>JsonWebTokenError: jwt malformed\n    at Object.verify (/app/node_modules/jsonwebtoken/verify.js:63:17)</pre>"))
			return
		}
		f.answer(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return
	}
	out := map[string]any{"id": u.ID, "reference": u.Reference}
	for k, v := range map[string]string{"email": u.Email, "phone": u.Phone, "first_name": u.FirstName, "last_name": u.LastName} {
		if v != "" {
			out[k] = v
		}
	}
	if u.CustomAttributes != nil {
		out["custom_attributes"] = u.CustomAttributes
	}
	if !f.o.NoCreated {
		out["created"] = me.created
	}
	f.answer(w, http.StatusOK, out)
}

// HostOptions breaks a conforming host backend in chosen ways.
type HostOptions struct {
	AcceptReuse     bool   // a used code gives new tokens; earlier tokens stay valid
	KeepOnReuse     bool   // refuses a used code but does not revoke its tokens
	IgnoreSecret    bool   // checks the client id only
	RequireClientID bool   // refuses calls without X-Hostapp-Client-ID
	UserData        string // user_data JSON; "" means a valid user
	ErrStatus       int    // HTTP status of error answers; 0 means 200
	TextPlain       bool   // answers with Content-Type text/plain
	// AccessDeniedAs is the code answered where ACCESS_DENIED belongs; "" means ACCESS_DENIED.
	AccessDeniedAs string
	// StrictBodies answers an empty, non-JSON or auth_code-less body, or one that is not
	// application/json, with HTTP 400 and no body, as web frameworks do by default.
	StrictBodies bool
	// RacyRedemption reads a code and marks it used in two steps, so concurrent
	// redemptions of one code all get tokens.
	RacyRedemption bool
	// UnboundTokens answer user data for any X-Miniapp-App-ID, not only their own.
	UnboundTokens bool
	// CaseSensitiveScheme accepts the scheme word only as "Token".
	CaseSensitiveScheme bool
	// NoRotation keeps the refresh token on refresh; ReusableRefresh rotates it but keeps
	// the old one working.
	NoRotation, ReusableRefresh bool
}

// The credentials Host accepts: Token base64(HostClientID:HostSecret).
const (
	HostClientID = "host-client-under-test"
	HostSecret   = "host-secret-under-test"
)

// Host is a host backend serving POST /connect/token (PROTOCOL §3.7, §3.8) and GET
// /connect/user (§3.9, §3.10) under prefix Token. Mint hands out its auth codes.
type Host struct {
	o       HostOptions
	srv     *httptest.Server
	mu      sync.Mutex
	codes   map[string]bool     // code → used
	tokens  map[string]string   // access token → code it came from
	byCode  map[string][]string // code → tokens
	apps    map[string]string   // access token → the X-Miniapp-App-ID it was issued for
	refresh map[string]string   // refresh token → the X-Miniapp-App-ID
}

// NewHost starts a host backend on a loopback port until the test ends.
func NewHost(t testing.TB, o HostOptions) *Host {
	h := &Host{o: o, codes: map[string]bool{}, tokens: map[string]string{}, byCode: map[string][]string{},
		apps: map[string]string{}, refresh: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /connect/token", h.accessToken)
	mux.HandleFunc("GET /connect/user", h.userData)
	mux.HandleFunc("POST /connect/refresh", h.refreshToken)
	for path, allow := range map[string]string{"/connect/token": "POST", "/connect/user": "GET, HEAD", "/connect/refresh": "POST"} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			w.WriteHeader(http.StatusMethodNotAllowed)
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { // as a web framework's 404 page
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("<!DOCTYPE html><html><body><h1>404</h1>This page could not be found.</body></html>"))
	})
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	return h
}

// TokenURL is its access token URL.
func (h *Host) TokenURL() string { return h.srv.URL + "/connect/token" }

// UserDataURL is its user data URL.
func (h *Host) UserDataURL() string { return h.srv.URL + "/connect/user" }

// RefreshURL is its refresh token URL (contract §7.1).
func (h *Host) RefreshURL() string { return h.srv.URL + "/connect/refresh" }

// Mint is the host's system handing out a fresh auth code (a check.AuthCodeFunc).
func (h *Host) Mint(context.Context) (string, error) {
	code := contract.RandomHex(20)
	h.mu.Lock()
	h.codes[code] = false
	h.mu.Unlock()
	return code, nil
}

func (h *Host) answer(w http.ResponseWriter, status int, v any) {
	if h.o.TextPlain {
		w.Header().Set("Content-Type", "text/plain")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (h *Host) refuse(w http.ResponseWriter, code string) {
	if code == contract.CodeAccessDenied && h.o.AccessDeniedAs != "" {
		code = h.o.AccessDeniedAs
	}
	status := http.StatusOK
	if h.o.ErrStatus != 0 {
		status = h.o.ErrStatus
	}
	h.answer(w, status, map[string]string{"error_code": code})
}

// credential is the Authorization credential under the scheme Token.
func (h *Host) credential(r *http.Request) (string, bool) {
	if h.o.CaseSensitiveScheme && !strings.HasPrefix(r.Header.Get("Authorization"), "Token ") {
		return "", false
	}
	return contract.SchemeCredential(r.Header.Get("Authorization"), "Token")
}

func (h *Host) authorized(r *http.Request) bool {
	cred, ok := h.credential(r)
	user, pass, _ := contract.DecodeBasic(cred)
	return ok && user == HostClientID && (pass == HostSecret || h.o.IgnoreSecret) &&
		(!h.o.RequireClientID || r.Header.Get(contract.HeaderHostappClientID) != "")
}

func (h *Host) accessToken(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(r) {
		h.refuse(w, contract.CodeAccessDenied)
		return
	}
	var body contract.AccessTokenRequest
	err := json.NewDecoder(r.Body).Decode(&body)
	if h.o.StrictBodies && (err != nil || body.AuthCode == "" || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json")) {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if err != nil {
		h.refuse(w, contract.CodeInvalidRequest)
		return
	}
	h.mu.Lock()
	used, known := h.codes[body.AuthCode]
	if h.o.RacyRedemption && known && !used {
		h.mu.Unlock()
		// The gap between its read and its delete: wide enough that the checker's concurrent
		// redemptions all fall in it on a loaded machine too.
		time.Sleep(200 * time.Millisecond)
		h.mu.Lock()
	}
	switch {
	case !known || (used && !h.o.AcceptReuse):
		if used && !h.o.KeepOnReuse {
			for _, t := range h.byCode[body.AuthCode] {
				delete(h.tokens, t)
			}
		}
		h.mu.Unlock()
		h.refuse(w, contract.CodeInvalidAuthCode)
		return
	}
	h.codes[body.AuthCode] = true
	pair := h.issue(body.AuthCode, r.Header.Get(contract.HeaderMiniappAppID))
	h.mu.Unlock()
	h.answer(w, http.StatusOK, pair)
}

// issue makes a token pair for a code and a miniapp; h.mu is held.
func (h *Host) issue(code, app string) contract.TokenPair {
	tok, rt := contract.RandomToken(), contract.RandomToken()
	h.tokens[tok], h.apps[tok], h.refresh[rt] = code, app, app
	h.byCode[code] = append(h.byCode[code], tok)
	return contract.TokenPair{AccessToken: tok, RefreshToken: rt}
}

// refreshToken is POST /connect/refresh (contract §7.1): a new pair for a refresh token,
// which is then used up (rotation) unless NoRotation or ReusableRefresh.
func (h *Host) refreshToken(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(r) {
		h.refuse(w, contract.CodeAccessDenied)
		return
	}
	var body contract.RefreshTokenRequest
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		h.refuse(w, contract.CodeInvalidRequest)
		return
	}
	h.mu.Lock()
	app, ok := h.refresh[body.RefreshToken]
	if !ok {
		h.mu.Unlock()
		h.refuse(w, contract.CodeInvalidRefreshToken)
		return
	}
	pair := h.issue("refresh", app)
	switch {
	case h.o.NoRotation:
		delete(h.refresh, pair.RefreshToken)
		pair.RefreshToken = body.RefreshToken
	case !h.o.ReusableRefresh:
		delete(h.refresh, body.RefreshToken)
	}
	h.mu.Unlock()
	h.answer(w, http.StatusOK, pair)
}

func (h *Host) userData(w http.ResponseWriter, r *http.Request) {
	tok, ok := h.credential(r)
	h.mu.Lock()
	_, known := h.tokens[tok]
	app := h.apps[tok]
	h.mu.Unlock()
	if known && !h.o.UnboundTokens && app != r.Header.Get(contract.HeaderMiniappAppID) {
		h.refuse(w, contract.CodeInvalidAccessToken)
		return
	}
	switch {
	case !ok:
		h.refuse(w, contract.CodeAccessDenied)
		return
	case !known:
		h.refuse(w, contract.CodeInvalidAccessToken)
		return
	case h.o.RequireClientID && r.Header.Get(contract.HeaderHostappClientID) == "":
		h.refuse(w, contract.CodeAccessDenied)
		return
	}
	ud := h.o.UserData
	if ud == "" {
		ud = `{"reference":"u-42","email":"user@example.com","phone":"+6591234567","first_name":"Ada"}`
	}
	h.answer(w, http.StatusOK, map[string]json.RawMessage{"user_data": json.RawMessage(ud)})
}

// decrypt is PROTOCOL §7.2's decryption, broken as the options say.
func (f *Miniapp) decrypt(text string) ([]byte, error) {
	key, err := userdata.ParseKey(f.o.UserDataKey)
	if err != nil {
		return nil, err
	}
	if !f.o.EncStdOnly && !f.o.EncNoLengthCheck && !f.o.EncNoPaddingCheck {
		return userdata.Decrypt(key, text)
	}
	var raw []byte
	if f.o.EncStdOnly {
		raw, err = base64.StdEncoding.DecodeString(text)
	} else {
		raw, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(strings.NewReplacer("-", "+", "_", "/").Replace(text), "="))
	}
	if err != nil {
		return nil, err
	}
	if !f.o.EncNoLengthCheck && (len(raw) < 32 || len(raw)%16 != 0) {
		return nil, errors.New("bad length")
	}
	block, _ := aes.NewCipher(key[:])
	pt := make([]byte, len(raw)-16)
	cipher.NewCBCDecrypter(block, raw[:16]).CryptBlocks(pt, raw[16:]) // panics on partial blocks
	n := int(pt[len(pt)-1])                                           // panics on empty input
	if f.o.EncNoPaddingCheck {
		if n > len(pt) {
			return nil, errors.New("bad padding")
		}
		return pt[:len(pt)-n], nil
	}
	if n < 1 || n > 16 || n > len(pt) || !bytes.Equal(pt[len(pt)-n:], bytes.Repeat([]byte{byte(n)}, n)) {
		return nil, errors.New("bad padding")
	}
	return pt[:len(pt)-n], nil
}
