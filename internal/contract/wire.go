package contract

import (
	"encoding/json"
	"regexp"
	"time"
	"unicode/utf8"
)

// AuthorizeRequest is the SDK's step-5 call, POST /api/v1/authorize/ (PROTOCOL §3.6).
type AuthorizeRequest struct {
	AuthCode      string `json:"auth_code"`
	ClientID      string `json:"client_id"`
	AppID         string `json:"app_id"`
	UserReference string `json:"user_reference,omitempty"`
}

// LegacyLoginRequest is the body of the legacy payload login, POST /api/v1/partner/login/
// (PROTOCOL §4.3 b, §7.10).
type LegacyLoginRequest struct {
	ClientID string `json:"client_id"`
	AppID    string `json:"app_id"`
	Payload  string `json:"payload"`
}

// LegacyLoginResponse is its success answer.
type LegacyLoginResponse struct {
	Token string `json:"token"`
}

// AuthorizeResponse is the platform's step-12 success answer (PROTOCOL §3.13).
type AuthorizeResponse struct {
	Token        string `json:"token"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

// AccessTokenRequest is the body of step 6 (PROTOCOL §3.7).
type AccessTokenRequest struct {
	AuthCode string `json:"auth_code"`
}

// TokenPair is the "always 200" answer of step 7 and of the host refresh call (PROTOCOL §3.8,
// §7.1): tokens, or an error code.
type TokenPair struct {
	AccessToken  string `json:"access_token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	ErrorCode    string `json:"error_code,omitempty"`
}

// RefreshTokenRequest is the body of the host refresh call (PROTOCOL §7.1).
type RefreshTokenRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// UserDataResponse is the "always 200" answer of step 9 (PROTOCOL §3.10). UserData stays raw
// because it may be an object or, with encryption on, a string (§7.2).
type UserDataResponse struct {
	UserData  json.RawMessage `json:"user_data,omitempty"`
	ErrorCode string          `json:"error_code,omitempty"`
}

// UserData is the host's profile of a user (PROTOCOL §3.10), and the flat body of step 10
// (§3.11). Optional fields are omitted when empty, never sent as null.
type UserData struct {
	Reference        string          `json:"reference"`
	Email            string          `json:"email,omitempty"`
	Phone            string          `json:"phone,omitempty"`
	FirstName        string          `json:"first_name,omitempty"`
	LastName         string          `json:"last_name,omitempty"`
	CustomAttributes json.RawMessage `json:"custom_attributes,omitempty"`
}

// UserFields are the field names a miniapp may mark required (PROTOCOL §1.3).
var UserFields = []string{"email", "phone", "first_name", "last_name", "custom_attributes"}

// IsUserField reports whether name is one of UserFields.
func IsUserField(name string) bool {
	for _, f := range UserFields {
		if f == name {
			return true
		}
	}
	return false
}

// Field returns the value of a named field as text, "" when absent; custom_attributes counts
// as present when it is a non-empty JSON value other than null and {}.
func (u UserData) Field(name string) string {
	switch name {
	case "reference":
		return u.Reference
	case "email":
		return u.Email
	case "phone":
		return u.Phone
	case "first_name":
		return u.FirstName
	case "last_name":
		return u.LastName
	case "custom_attributes":
		s := string(u.CustomAttributes)
		if s == "null" || s == "{}" {
			return ""
		}
		return s
	}
	return ""
}

// AuthTokenResponse is the miniapp's "always 200" answer of step 11 (PROTOCOL §3.12).
type AuthTokenResponse struct {
	AuthToken    string `json:"auth_token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	ErrorCode    string `json:"error_code,omitempty"`
}

// MiniappSettings is the answer of GET /api/v1/miniapps/{app_id}/settings/ (PROTOCOL §9.42).
type MiniappSettings struct {
	Miniapp struct {
		AppID string `json:"app_id"`
		Name  string `json:"name"`
		URL   string `json:"url"`
	} `json:"miniapp"`
	// RequiredFields is what the SDK lists on its consent prompt (PROTOCOL §3.5).
	RequiredFields []string `json:"required_fields,omitempty"`
	// ConsentLinks are the Dashboard's links the SDK shows on its consent prompt (PROTOCOL
	// §3.5), e.g. the miniapp's terms and privacy policy.
	ConsentLinks []ConsentLink `json:"consent_links,omitempty"`
}

// ConsentLink is one link of the consent prompt: its text and where it leads.
type ConsentLink struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

// Me is the miniapp backend's answer to GET /api/me (PROTOCOL §3.15).
type Me struct {
	ID               string          `json:"id"`
	Reference        string          `json:"reference"`
	ClientID         string          `json:"client_id,omitempty"`
	Email            string          `json:"email,omitempty"`
	Phone            string          `json:"phone,omitempty"`
	FirstName        string          `json:"first_name,omitempty"`
	LastName         string          `json:"last_name,omitempty"`
	CustomAttributes json.RawMessage `json:"custom_attributes,omitempty"`
	// Created says whether step 11 created the user. It is boxo-sim's own field (no Boxo
	// page has it): nil when a backend does not report it.
	Created *bool `json:"created,omitempty"`
}

// CreatedText is Created as "true", "false" or "unknown" (not reported).
func (m Me) CreatedText() string {
	if m.Created == nil {
		return "unknown"
	}
	if *m.Created {
		return "true"
	}
	return "false"
}

// MiniappTokens is the miniapp's own refresh answer, POST /api/auth/refresh (PROTOCOL §7.1).
type MiniappTokens struct {
	AuthToken    string `json:"auth_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

// Flow is one Connect flow as the platform's flow log keeps it (DESIGN.md "Flow log").
type Flow struct {
	ID            string    `json:"id"`
	StartedAt     time.Time `json:"started_at"`
	ClientID      string    `json:"client_id,omitempty"`
	AppID         string    `json:"app_id,omitempty"`
	UserReference string    `json:"user_reference,omitempty"`
	// Mode is "connect" for the 16 steps of PROTOCOL §3, "direct" for the 12 of §7.3; the
	// steps' numbers follow the mode's own table.
	Mode      string `json:"mode,omitempty"`
	Outcome   string `json:"outcome"` // "running", "ok" or "failed"
	ErrorCode string `json:"error_code,omitempty"`
	// Note says what the log lacks, e.g. that the SDK's own steps were not reported.
	Note  string     `json:"note,omitempty"`
	Steps []FlowStep `json:"steps"`
}

// Flow outcomes.
const (
	OutcomeRunning = "running"
	OutcomeOK      = "ok"
	OutcomeFailed  = "failed"
	// OutcomeSkipped is a step's only: the SDK did not run it (steps 14–15 against a miniapp
	// whose own frontend API is unknown).
	OutcomeSkipped = "skipped"
)

// FlowStep is one step of a flow: who did what, what went over the wire (secrets and tokens
// masked), how long it took and how it ended.
type FlowStep struct {
	Step       int       `json:"step"`
	Actor      string    `json:"actor"` // e.g. "platform → hostapp"
	Call       string    `json:"call"`  // e.g. "POST /boxo/connect/access-token"
	Status     int       `json:"status,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	DurationMS float64   `json:"duration_ms"`
	Outcome    string    `json:"outcome"` // "ok", "failed" or "skipped"
	ErrorCode  string    `json:"error_code,omitempty"`
	Note       string    `json:"note,omitempty"`
	// Violations are the contract rules the answer of this step broke, each as
	// "PROTOCOL §x.y: what was broken"; a flow may succeed with violations.
	Violations []string  `json:"violations,omitempty"`
	Request    *Exchange `json:"request,omitempty"`
	Response   *Exchange `json:"response,omitempty"`
}

// Exchange is one side of an HTTP exchange as the flow log keeps it, already masked.
type Exchange struct {
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
	Text    string            `json:"text,omitempty"` // a body that is not JSON
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// ValidE164 reports whether phone is E.164 as PROTOCOL §3.11 checks it.
func ValidE164(phone string) bool { return e164.MatchString(phone) }

// Len counts Unicode code points, as PROTOCOL §2.9 measures String(n).
func Len(s string) int { return utf8.RuneCountInString(s) }

// ConnectRequest is the host backend's POST /api/v1/connect/ body (PROTOCOL §7.3, Direct).
// UserData stays raw so the platform applies §3.10's checks to exactly what was sent.
type ConnectRequest struct {
	ClientID string          `json:"client_id"`
	AppID    string          `json:"app_id"`
	UserData json.RawMessage `json:"user_data"`
}

// DirectTokensRequest is the host app's call to its own backend at step 5 of Direct
// (POST /boxo/direct/tokens, PROTOCOL §7.3); the answer is an AuthorizeResponse, or the
// platform's error envelope.
type DirectTokensRequest struct {
	AppID string `json:"app_id"`
}
