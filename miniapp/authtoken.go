package miniapp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/userdata"
)

// maxClientIDLen bounds X-Hostapp-Client-ID (PROTOCOL §1.2: opaque string ≤ 64 chars).
const maxClientIDLen = 64

// authTokenBody is step 10's body (PROTOCOL §3.11): the UserData fields, flat. Unknown keys
// are ignored; null counts as absent (§2.3).
type authTokenBody struct {
	Reference        string          `json:"reference"`
	Email            string          `json:"email"`
	Phone            string          `json:"phone"`
	FirstName        string          `json:"first_name"`
	LastName         string          `json:"last_name"`
	CustomAttributes json.RawMessage `json:"custom_attributes"`
	// UserData is the encrypted form of PROTOCOL §7.2: {"user_data": "<base64>"}.
	UserData json.RawMessage `json:"user_data"`
}

// handleAuthToken is the Get Auth Token endpoint, steps 10–11 (PROTOCOL §3.11, §3.12). It
// answers HTTP 200 {"auth_token", "refresh_token"} or HTTP 200 {"error_code"}, except for a
// caller outside the IP allowlist, which gets HTTP 403 NOT_A_WHITELISTED_IP (§7.6). The checks
// run in this order and nothing is written unless all pass:
//  1. the caller's address in the allowlist → else NOT_A_WHITELISTED_IP (403); it is the
//     peer address, or behind a trusted proxy the address X-Forwarded-For gives (§7.6);
//  2. Authorization: Basic base64(app_id:secret_key) matching the settings → else
//     ACCESS_DENIED (§7.7, §9.7); X-Miniapp-App-ID present → else MISSING_HEADER, and
//     equal to the credential's app_id → else ACCESS_DENIED;
//  3. X-Hostapp-Client-ID present → else MISSING_HEADER; at most 64 characters → else
//     INVALID_REQUEST;
//  4. a JSON object body → else INVALID_REQUEST;
//  5. an encrypted body {"user_data": "<base64>"} decrypted with the settings' key (§7.2) →
//     else INVALID_USER_DATA;
//  6. the user data (§3.11, §3.10) → else INVALID_USER_DATA.
//
// Then the user is created or found atomically by (client_id, reference) and updated with
// the received non-empty fields (§9.17, §9.18, §9.45), and a new session is issued.
func handleAuthToken(c Config) contract.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx, log := r.Context(), c.logger(r)
		set, err := c.Store.Settings(ctx)
		if err != nil {
			return fmt.Errorf("load miniapp settings (seed them or PUT /_sim/settings): %w", err)
		}
		filter, err := contract.ParseIPFilter(set.IPAllowlist)
		if err != nil {
			return fmt.Errorf("stored IP allowlist: %w", err)
		}
		proxies, err := contract.ParseIPFilter(set.TrustedProxies)
		if err != nil {
			return fmt.Errorf("stored trusted proxies: %w", err)
		}
		if !filter.Allows(contract.ClientAddr(r, proxies)) {
			return refuse(log, &contract.Error{Code: contract.CodeNotAWhitelistedIP, Status: http.StatusForbidden,
				Message: "caller address is not in the miniapp's IP allowlist"})
		}
		if err := checkPlatformCredentials(set, r); err != nil {
			return refuse(log, err)
		}
		// The signing headers when signing is on (PROTOCOL §7.8); the body is read and put back.
		if e := c.verifier.VerifyRequest(w, r, set.RequestSigning, set.RequestSigningSecret); e != nil {
			return refuse(log, e)
		}
		clientID := r.Header.Get(contract.HeaderHostappClientID)
		if clientID == "" {
			return refuse(log, contract.Errorf(contract.CodeMissingHeader, "%s is missing", contract.HeaderHostappClientID))
		}
		if contract.Len(clientID) > maxClientIDLen {
			return refuse(log, contract.Errorf(contract.CodeInvalidRequest, "%s is longer than %d characters",
				contract.HeaderHostappClientID, maxClientIDLen))
		}
		// The body's form (JSON, one object) is INVALID_REQUEST; what it says about the user,
		// field types included, is user data (PROTOCOL §3.11, §5.1): INVALID_USER_DATA.
		var raw json.RawMessage
		if err := contract.DecodeJSON(w, r, &raw, contract.CodeInvalidRequest); err != nil {
			return refuse(log, err)
		}
		if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
			return refuse(log, contract.Errorf(contract.CodeInvalidRequest, "request body must be a JSON object"))
		}
		var body *authTokenBody
		if err := json.Unmarshal(raw, &body); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				return refuse(log, contract.Errorf(contract.CodeInvalidUserData, "%s must be a %s, not a JSON %s", te.Field, te.Type, te.Value))
			}
			return refuse(log, contract.Errorf(contract.CodeInvalidRequest, "request body is not valid JSON: %v", err))
		}
		if body, err = body.decrypt(set.UserDataKey); err != nil {
			return refuse(log, err)
		}
		u, err := body.user(set.RequiredFields)
		if err != nil {
			return refuse(log, err)
		}

		now := c.Now()
		u.ID, u.ClientID, u.CreatedAt, u.UpdatedAt = newUserID(), clientID, now, now
		sess := Session{ID: newSessionID(), CreatedAt: now}
		refresh := contract.RandomToken()
		stored, created, err := c.Store.Login(ctx, u, sess,
			RefreshToken{Hash: contract.Hash(refresh), CreatedAt: now, ExpiresAt: now.Add(c.RefreshTokenTTL)})
		if err != nil {
			return fmt.Errorf("login user: %w", err)
		}
		token, err := signAuthToken(c, set, stored, sess.ID, created, now)
		if err != nil {
			return err
		}
		log.DebugContext(ctx, "auth token issued", "user_id", stored.ID, "client_id", stored.ClientID,
			"reference", stored.Reference, "created", created, "session_id", sess.ID,
			"auth_token", contract.Secret(token), "refresh_token", contract.Secret(refresh))
		contract.WriteJSON(w, http.StatusOK, contract.AuthTokenResponse{AuthToken: token, RefreshToken: refresh})
		return nil
	}
}

// checkPlatformCredentials checks step 10's Basic credential (PROTOCOL §3.11, §7.7): it must
// decode to the settings' app_id and secret_key, and its user must equal X-Miniapp-App-ID.
// Both comparisons run in constant time and both always run.
func checkPlatformCredentials(set Settings, r *http.Request) error {
	fail := func(msg string) error { return contract.Errorf(contract.CodeAccessDenied, "%s", msg) }
	cred, ok := contract.SchemeCredential(r.Header.Get("Authorization"), "Basic")
	if !ok {
		return fail("Authorization: Basic credential is missing")
	}
	user, pass, ok := contract.DecodeBasic(cred)
	if !ok {
		return fail("Authorization: Basic credential is not base64(app_id:secret_key)")
	}
	idOK := contract.Equal(user, set.AppID)
	secretOK := contract.Equal(contract.Hash(pass), set.SecretHash)
	if !idOK || !secretOK {
		return fail("app_id or secret_key does not match the miniapp's settings")
	}
	header := r.Header.Get(contract.HeaderMiniappAppID)
	if header == "" {
		return contract.Errorf(contract.CodeMissingHeader, "%s is missing", contract.HeaderMiniappAppID)
	}
	if !contract.Equal(header, user) {
		return fail(contract.HeaderMiniappAppID + " differs from the Basic credential's app_id")
	}
	return nil
}

// decrypt returns the body itself when it carries no user_data, and otherwise the body that
// user_data decrypts to with key (PROTOCOL §7.2): the UserData object's JSON text. A body
// with user_data and other fields, a miniapp without a key, and anything that does not
// decrypt to a JSON object are INVALID_USER_DATA.
func (b *authTokenBody) decrypt(keyText string) (*authTokenBody, error) {
	invalid := func(format string, args ...any) (*authTokenBody, error) {
		return nil, contract.Errorf(contract.CodeInvalidUserData, format, args...)
	}
	if len(b.UserData) == 0 || string(b.UserData) == "null" {
		return b, nil
	}
	var text string
	if err := json.Unmarshal(b.UserData, &text); err != nil {
		return invalid("user_data must be a string: the encrypted user data of contract §7.2")
	}
	if b.Reference != "" || b.Email != "" || b.Phone != "" || b.FirstName != "" || b.LastName != "" || len(b.CustomAttributes) > 0 {
		return invalid("the body has both encrypted user_data and plain user fields")
	}
	if keyText == "" {
		return invalid("user_data is encrypted (contract §7.2) but this miniapp has no user_data_key configured")
	}
	key, err := userdata.ParseKey(keyText)
	if err != nil {
		return nil, fmt.Errorf("stored user_data_key: %w", err)
	}
	plain, err := userdata.Decrypt(key, text)
	if err != nil {
		return invalid("user_data cannot be decrypted: %v", err)
	}
	if t := bytes.TrimSpace(plain); len(t) == 0 || t[0] != '{' {
		return invalid("decrypted user_data is not a JSON object")
	}
	var inner *authTokenBody
	if err := json.Unmarshal(plain, &inner); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return invalid("decrypted user_data: %s must be a %s, not a JSON %s", te.Field, te.Type, te.Value)
		}
		return invalid("decrypted user_data is not valid JSON: %v", err)
	}
	if len(inner.UserData) > 0 && string(inner.UserData) != "null" {
		return invalid("decrypted user_data holds user_data again")
	}
	return inner, nil
}

// user validates the body as PROTOCOL §3.11 asks and returns the user it describes; every
// failure is INVALID_USER_DATA.
func (b *authTokenBody) user(required []string) (User, error) {
	invalid := func(format string, args ...any) (User, error) {
		return User{}, contract.Errorf(contract.CodeInvalidUserData, format, args...)
	}
	if b.Reference == "" {
		return invalid("reference is missing")
	}
	if n := contract.Len(b.Reference); n > contract.MaxReferenceLen {
		return invalid("reference is %d characters long; at most %d are allowed", n, contract.MaxReferenceLen)
	}
	if b.Email == "" && b.Phone == "" {
		return invalid("neither email nor phone is given")
	}
	if b.Phone != "" && !contract.ValidE164(b.Phone) {
		return invalid("phone is not in E.164 form (+ and 2 to 15 digits)")
	}
	var attrs json.RawMessage
	if raw := bytes.TrimSpace(b.CustomAttributes); len(raw) > 0 && string(raw) != "null" {
		if raw[0] != '{' {
			return invalid("custom_attributes must be a JSON object")
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return invalid("custom_attributes is not valid JSON")
		}
		if buf.String() != "{}" {
			attrs = json.RawMessage(buf.Bytes())
		}
	}
	data := contract.UserData{Reference: b.Reference, Email: b.Email, Phone: b.Phone,
		FirstName: b.FirstName, LastName: b.LastName, CustomAttributes: attrs}
	var missing []string
	for _, f := range required {
		if data.Field(f) == "" {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return invalid("required fields missing: %v", missing)
	}
	return User{Reference: b.Reference, Email: b.Email, Phone: b.Phone,
		FirstName: b.FirstName, LastName: b.LastName, CustomAttributes: attrs}, nil
}

func newUserID() string    { return "mu_" + contract.RandomHex(8) }
func newSessionID() string { return "ms_" + contract.RandomHex(12) }
