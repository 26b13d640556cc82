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
}

// Miniapp is a miniapp backend serving POST /boxo/auth-token (PROTOCOL §3.11, §3.12) and
// GET /api/me (§3.15), with app_id AppID and secret_key Secret. Its tokens are unsigned
// JWTs with sub (the user id) and created claims, unless Opaque.
type Miniapp struct {
	o     MiniappOptions
	srv   *httptest.Server
	mu    sync.Mutex
	users map[string]string // client_id + " " + reference → user id
	seq   int
	toks  map[string]meAnswer
}

type meAnswer struct {
	ID      string `json:"id"`
	Created bool   `json:"created"`
}

// NewMiniapp starts a miniapp backend on a loopback port until the test ends.
func NewMiniapp(t testing.TB, o MiniappOptions) *Miniapp {
	f := &Miniapp{o: o, users: map[string]string{}, toks: map[string]meAnswer{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /boxo/auth-token", f.authToken)
	mux.HandleFunc("GET /api/me", f.me)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// URL is its Get Auth Token URL.
func (f *Miniapp) URL() string { return f.srv.URL + "/boxo/auth-token" }

// MeURL is its GET /api/me.
func (f *Miniapp) MeURL() string { return f.srv.URL + "/api/me" }

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
	body := map[string]string{"error_code": code}
	if f.o.BothOnError {
		body["auth_token"] = "token-despite-the-error"
	}
	f.answer(w, status, body)
}

func (f *Miniapp) authToken(w http.ResponseWriter, r *http.Request) {
	if f.o.Delay > 0 {
		select {
		case <-time.After(f.o.Delay):
		case <-r.Context().Done():
			return
		}
	}
	user, pass, ok := r.BasicAuth()
	if !ok || user != AppID || (pass != Secret && !f.o.AcceptWrongSecret) || r.Header.Get(contract.HeaderMiniappAppID) != user {
		f.refuse(w, contract.CodeInvalidCredentials)
		return
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body == nil {
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
		if ref, _ := body["reference"].(string); ref == "" && f.o.EncNoValidation {
			id, created := f.login(r.Header.Get(contract.HeaderHostappClientID), "", body)
			f.answer(w, http.StatusOK, map[string]string{"auth_token": f.token(id, created)})
			return
		}
	}
	ref, _ := body["reference"].(string)
	n := utf8.RuneCountInString(ref)
	if f.o.ByteLimit {
		n = len(ref)
	}
	if ref == "" || n > contract.MaxReferenceLen {
		f.refuse(w, contract.CodeInvalidUserData)
		return
	}
	client := r.Header.Get(contract.HeaderHostappClientID)
	var id string
	var created bool
	if f.o.CreateFirst {
		id, created = f.login(client, ref, body)
	}
	email, _ := body["email"].(string)
	phone, _ := body["phone"].(string)
	if (email == "" && phone == "") || (phone != "" && !contract.ValidE164(phone)) {
		f.refuse(w, contract.CodeInvalidUserData)
		return
	}
	if !f.o.CreateFirst {
		id, created = f.login(client, ref, body)
	}
	tok := f.token(id, created)
	f.answer(w, http.StatusOK, map[string]string{"auth_token": tok})
}

func (f *Miniapp) login(client, ref string, body map[string]any) (id string, created bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := client + " " + ref
	if id, ok := f.users[key]; ok && !f.o.DuplicateUsers {
		return id, false
	}
	f.seq++
	id = fmt.Sprintf("user-%d", f.seq)
	if s, ok := body["id"].(string); ok && f.o.MassAssign {
		id = s
	}
	f.users[key] = id
	return id, true
}

func (f *Miniapp) token(id string, created bool) string {
	var tok string
	if f.o.Opaque {
		tok = contract.RandomToken()
	} else {
		claims := map[string]any{"sub": id}
		if !f.o.NoCreatedClaim {
			claims["created"] = created
		}
		p, _ := json.Marshal(claims)
		tok = "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString(p) + ".c2ln"
	}
	f.mu.Lock()
	f.toks[tok] = meAnswer{ID: id, Created: created}
	f.mu.Unlock()
	return tok
}

func (f *Miniapp) me(w http.ResponseWriter, r *http.Request) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	me, ok := f.toks[tok]
	f.mu.Unlock()
	if !ok {
		f.answer(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return
	}
	f.answer(w, http.StatusOK, me)
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
}

// The credentials Host accepts: Token base64(HostClientID:HostSecret).
const (
	HostClientID = "host-client-under-test"
	HostSecret   = "host-secret-under-test"
)

// Host is a host backend serving POST /connect/token (PROTOCOL §3.7, §3.8) and GET
// /connect/user (§3.9, §3.10) under prefix Token. Mint hands out its auth codes.
type Host struct {
	o      HostOptions
	srv    *httptest.Server
	mu     sync.Mutex
	codes  map[string]bool     // code → used
	tokens map[string]string   // access token → code it came from
	byCode map[string][]string // code → tokens
}

// NewHost starts a host backend on a loopback port until the test ends.
func NewHost(t testing.TB, o HostOptions) *Host {
	h := &Host{o: o, codes: map[string]bool{}, tokens: map[string]string{}, byCode: map[string][]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /connect/token", h.accessToken)
	mux.HandleFunc("GET /connect/user", h.userData)
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	return h
}

// TokenURL is its access token URL.
func (h *Host) TokenURL() string { return h.srv.URL + "/connect/token" }

// UserDataURL is its user data URL.
func (h *Host) UserDataURL() string { return h.srv.URL + "/connect/user" }

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
	status := http.StatusOK
	if h.o.ErrStatus != 0 {
		status = h.o.ErrStatus
	}
	h.answer(w, status, map[string]string{"error_code": code})
}

func (h *Host) accessToken(w http.ResponseWriter, r *http.Request) {
	cred, ok := contract.SchemeCredential(r.Header.Get("Authorization"), "Token")
	user, pass, _ := contract.DecodeBasic(cred)
	if !ok || user != HostClientID || (pass != HostSecret && !h.o.IgnoreSecret) ||
		(h.o.RequireClientID && r.Header.Get(contract.HeaderHostappClientID) == "") {
		h.refuse(w, contract.CodeInvalidCredentials)
		return
	}
	var body contract.AccessTokenRequest
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		h.refuse(w, contract.CodeInvalidRequest)
		return
	}
	h.mu.Lock()
	used, known := h.codes[body.AuthCode]
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
	tok := contract.RandomToken()
	h.tokens[tok] = body.AuthCode
	h.byCode[body.AuthCode] = append(h.byCode[body.AuthCode], tok)
	h.mu.Unlock()
	h.answer(w, http.StatusOK, contract.TokenPair{AccessToken: tok, RefreshToken: contract.RandomToken()})
}

func (h *Host) userData(w http.ResponseWriter, r *http.Request) {
	tok, ok := contract.SchemeCredential(r.Header.Get("Authorization"), "Token")
	h.mu.Lock()
	_, known := h.tokens[tok]
	h.mu.Unlock()
	switch {
	case !ok:
		h.refuse(w, contract.CodeInvalidCredentials)
		return
	case !known:
		h.refuse(w, contract.CodeInvalidAccessToken)
		return
	case h.o.RequireClientID && r.Header.Get(contract.HeaderHostappClientID) == "":
		h.refuse(w, contract.CodeInvalidCredentials)
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
