package miniapp

import (
	"context"
	"encoding/json"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/store"
)

// Sentinel errors that Store methods wrap; test them with errors.Is.
var (
	// ErrNotFound: the record does not exist (or, for sessions and refresh tokens, is no
	// longer usable).
	ErrNotFound = store.ErrNotFound
	// ErrConflict: the record already exists.
	ErrConflict = store.ErrConflict
)

// Store holds everything the miniapp backend keeps: its own settings, its users keyed by
// (client_id, reference) (PROTOCOL §9.17), their sessions and the sessions' refresh tokens.
//
// The store never reads the clock: callers pass every instant in. Refresh tokens are stored
// and looked up by contract.Hash, never raw; so is the settings' secret key. Every method is
// safe for concurrent use. Methods wrap ErrNotFound for a missing record and ErrConflict for a
// duplicate; other errors are failures of the backend.
type Store interface {
	// Settings returns the miniapp's own settings, or ErrNotFound when none were created yet.
	Settings(ctx context.Context) (Settings, error)
	// CreateSettings stores the settings when there are none, or returns ErrConflict and
	// changes nothing. Of several concurrent calls exactly one succeeds.
	CreateSettings(ctx context.Context, s Settings) error
	// UpdateSettings reads the settings, passes them to update and stores what it returns,
	// atomically: no other write happens in between. It returns the stored settings,
	// ErrNotFound when there are none, or update's error unchanged (nothing is written then).
	// update must not call the Store.
	UpdateSettings(ctx context.Context, update func(Settings) (Settings, error)) (Settings, error)

	// Login is step 11's write (PROTOCOL §3.12, §9.18, §9.45), in one transaction:
	//   - create the user u keyed by (u.ClientID, u.Reference), or, when that key exists,
	//     overwrite the existing user's fields with the non-empty fields of u (Email, Phone,
	//     FirstName, LastName, CustomAttributes) and set its UpdatedAt; the existing ID and
	//     CreatedAt are kept;
	//   - create session s for that user (s.UserID is set by Login);
	//   - store refresh token rt bound to s (rt.SessionID is set by Login).
	// It returns the user as stored and whether this call created it. Of several concurrent
	// calls with one new key exactly one creates the user; the others find it. On error
	// nothing is written.
	Login(ctx context.Context, u User, s Session, rt RefreshToken) (stored User, created bool, err error)

	// User returns the user with that ID, or ErrNotFound.
	User(ctx context.Context, id string) (User, error)
	// Users lists the users matching f (empty fields match anything), oldest first.
	Users(ctx context.Context, f UserFilter) ([]User, error)

	// Session returns the session with that ID, ended or not, or ErrNotFound.
	Session(ctx context.Context, id string) (Session, error)
	// EndSession ends an active session at the given instant and deletes its refresh tokens,
	// in one transaction. It returns ErrNotFound when no active session has that ID (unknown
	// or already ended), so of several concurrent calls exactly one succeeds.
	EndSession(ctx context.Context, id string, at time.Time) error

	// RotateRefreshToken is the single-use gate of the miniapp's refresh (PROTOCOL §7.1). In
	// one transaction it deletes the refresh token with hash oldHash and, when that token had
	// not expired at now and its session is still active, stores next bound to the same
	// session (next.SessionID is set) and returns that session. Otherwise it returns
	// ErrNotFound; a token found expired or orphaned is deleted all the same. Of several
	// concurrent calls with one hash at most one succeeds.
	RotateRefreshToken(ctx context.Context, oldHash string, now time.Time, next RefreshToken) (Session, error)
	// DeleteExpired deletes the refresh tokens that expired at or before now and the
	// sessions that ended a day or more before now (the retention sweep), and returns how
	// many.
	DeleteExpired(ctx context.Context, now time.Time) (int, error)
}

// Settings are the miniapp's own Dashboard-like settings (PROTOCOL §1.3): the credentials the
// platform must present in step 10, its own required user fields, its IP allowlist, and the
// key that signs its auth_token JWTs (HS256).
type Settings struct {
	AppID          string
	SecretHash     string   // contract.Hash of secret_key
	RequiredFields []string // subset of contract.UserFields
	IPAllowlist    []string // CIDRs or addresses, see contract.ParseIPFilter
	SigningKey     []byte   // 32 random bytes, made once and kept
	// UserDataKey is the key of encrypted user_data shared with the host app (PROTOCOL §7.2),
	// in its exchange form (userdata.Key.Text); "" means none: an encrypted body is refused.
	UserDataKey string
	// TrustedProxies are the CIDRs of proxies whose X-Forwarded-For the IP filter believes
	// (PROTOCOL §7.6); empty means the peer address alone counts.
	TrustedProxies []string
	// RequestSigning switches request signing on (PROTOCOL §7.8): the platform's Get Auth
	// Token calls must be signed with RequestSigningSecret, which is kept raw (verifying
	// needs it), never logged and never shown.
	RequestSigning       bool
	RequestSigningSecret string
}

// User is a miniapp user, created or found by (ClientID, Reference) in step 11. Empty strings
// mean "not provided"; CustomAttributes is compact JSON object text or nil.
type User struct {
	ID               string
	ClientID         string // X-Hostapp-Client-ID of the host app the user came from
	Reference        string
	Email            string
	Phone            string
	FirstName        string
	LastName         string
	CustomAttributes json.RawMessage
	CreatedAt        time.Time
	UpdatedAt        time.Time // last time a login wrote the record
}

// UserFilter selects users; an empty field matches any value.
type UserFilter struct {
	ClientID  string
	Reference string
}

// Session is one sign-in of a user: every auth_token carries its ID (claim sid), and logout
// ends it (PROTOCOL §7.5). EndedAt is zero while the session is active.
type Session struct {
	ID        string
	UserID    string
	CreatedAt time.Time
	EndedAt   time.Time
}

// Active reports whether the session has not been ended.
func (s Session) Active() bool { return s.EndedAt.IsZero() }

// RefreshToken is a stored refresh token: opaque, single use, bound to a session.
type RefreshToken struct {
	Hash      string // contract.Hash of the token
	SessionID string
	CreatedAt time.Time
	ExpiresAt time.Time
}
