package hostapp

import (
	"context"
	"errors"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/store"
)

// Sentinel errors of the Store contract. ErrNotFound and ErrConflict are the shared ones of
// internal/store, so errors.Is works with either name.
var (
	// ErrNotFound: no record with that key.
	ErrNotFound = store.ErrNotFound
	// ErrConflict: a record with that key already exists.
	ErrConflict = store.ErrConflict
	// ErrUsed: the one-time value (auth code, refresh token) was already spent, or revoked;
	// nothing was written.
	ErrUsed = errors.New("already used")
)

// Store holds everything hostapp keeps. Methods wrap ErrNotFound for a missing record and
// ErrConflict for a duplicate. Codes, tokens, session ids and client secrets are stored and
// looked up by their contract.Hash, never raw. The store never reads the clock: callers
// pass instants in, and records carry their own expiry for the caller to compare.
//
// Atomicity: RedeemAuthCode and RotateRefreshToken are single-use gates. Of several
// concurrent calls with one code (or refresh token), exactly one succeeds; the others get
// ErrUsed and write nothing. The tokens given to the winner are stored in the same
// transaction, so a caller that sees ErrUsed and then revokes the grant also revokes them.
type Store interface {
	// GetUser returns the user with that username, or ErrNotFound.
	GetUser(ctx context.Context, username string) (User, error)
	// GetUserByID returns the user with that id, or ErrNotFound (deleted since).
	GetUserByID(ctx context.Context, id string) (User, error)
	// ListUsers returns every user ordered by username.
	ListUsers(ctx context.Context) ([]User, error)
	// PutUser creates the user (u.ID, u.CreatedAt used as given) or, when one with
	// u.Username exists, replaces every field but ID and CreatedAt; an empty PasswordHash
	// keeps the stored one. It returns the stored record and whether it was created.
	PutUser(ctx context.Context, u User) (stored User, created bool, err error)
	// DeleteUser deletes the user and its sessions, or returns ErrNotFound. Codes and
	// tokens issued to the user stay, so their use reports the user as gone (HOSTAPP_USER_NOT_FOUND).
	DeleteUser(ctx context.Context, username string) error

	// GetClient returns the OAuth client with that id, or ErrNotFound.
	GetClient(ctx context.Context, id string) (Client, error)
	// ListClients returns every client ordered by id.
	ListClients(ctx context.Context) ([]Client, error)
	// PutClient creates the client or replaces every field of an existing one but
	// CreatedAt. It returns whether it was created.
	PutClient(ctx context.Context, c Client) (created bool, err error)
	// DeleteClient deletes the client with its codes, tokens and consents, or returns
	// ErrNotFound.
	DeleteClient(ctx context.Context, id string) error

	// GetSettings returns the host settings, or ErrNotFound when none were ever stored.
	GetSettings(ctx context.Context) (Settings, error)
	// PutSettings stores the host settings, replacing the previous ones.
	PutSettings(ctx context.Context, s Settings) error

	// CreateSession stores a sign-in session; ErrConflict if the hash exists.
	CreateSession(ctx context.Context, s Session) error
	// GetSession returns the session with that hash, or ErrNotFound (also once its user is
	// deleted).
	GetSession(ctx context.Context, hash string) (Session, error)
	// DeleteSession deletes the session; deleting an unknown one is not an error.
	DeleteSession(ctx context.Context, hash string) error

	// CreateAuthCode stores a new code; ErrConflict if the hash exists.
	CreateAuthCode(ctx context.Context, c AuthCode) error
	// GetAuthCode returns the code with that hash, used or not, or ErrNotFound.
	GetAuthCode(ctx context.Context, hash string) (AuthCode, error)
	// RedeemAuthCode is the single-use gate of PROTOCOL §6.4: in one transaction it marks
	// the code used at usedAt if it is unused, and stores tokens. ErrNotFound for an
	// unknown code, ErrUsed when it was already used (nothing is stored then).
	RedeemAuthCode(ctx context.Context, hash string, usedAt time.Time, tokens []Token) error

	// CreateTokens stores tokens in one transaction; ErrConflict if a hash exists.
	CreateTokens(ctx context.Context, tokens []Token) error
	// GetToken returns the token with that hash, whatever its state, or ErrNotFound.
	GetToken(ctx context.Context, hash string) (Token, error)
	// RotateRefreshToken spends a refresh token (PROTOCOL §7.1): in one transaction it
	// marks it used at usedAt if it is unused, unrevoked and not expired at usedAt, and
	// stores tokens. ErrNotFound for an unknown hash, ErrUsed otherwise (nothing stored).
	RotateRefreshToken(ctx context.Context, hash string, usedAt time.Time, tokens []Token) error
	// RevokeGrant revokes, at at, every token of the grant not yet revoked and returns how
	// many it revoked (PROTOCOL §6.4 code replay, §6.12).
	RevokeGrant(ctx context.Context, grantID string, at time.Time) (int, error)
	// RevokeUserTokens revokes, at at, every token issued to the user not yet revoked (every
	// client and API, access and refresh alike) and returns how many it revoked.
	RevokeUserTokens(ctx context.Context, userID string, at time.Time) (int, error)

	// GetConsent returns the user's consent for the client, or ErrNotFound.
	GetConsent(ctx context.Context, userID, clientID string) (Consent, error)
	// PutConsent stores a consent, replacing the user's earlier one for that client.
	PutConsent(ctx context.Context, c Consent) error

	// GetSigningKey returns the newest stored signing key, or ErrNotFound.
	GetSigningKey(ctx context.Context) (SigningKey, error)
	// CreateSigningKey stores a key; ErrConflict if its id exists.
	CreateSigningKey(ctx context.Context, k SigningKey) error

	// CreateDemoState stores a state value of the demo client page (PROTOCOL §6.9).
	CreateDemoState(ctx context.Context, s DemoState) error
	// ConsumeDemoState deletes and returns the state with that hash if it belongs to
	// browserHash and has not expired at now; otherwise ErrNotFound and nothing changes
	// (an expired state is deleted all the same). Of concurrent calls one succeeds.
	ConsumeDemoState(ctx context.Context, hash, browserHash string, now time.Time) (DemoState, error)
	// DeleteExpired deletes the auth codes, tokens, sign-in sessions and demo states that
	// expired at or before now (the retention sweep) and returns how many. Tokens without an
	// expiry stay. A used code stays until it expires, so a replay is still recognised.
	DeleteExpired(ctx context.Context, now time.Time) (int, error)
}

// Consent records that a user authorized a client for a set of scopes (PROTOCOL §6.2 step
// 6). It counts only while the client's scopes are the same set.
type Consent struct {
	UserID    string
	ClientID  string
	Scopes    []string
	GrantedAt time.Time
}

// SigningKey is the authorization server's RSA key (PROTOCOL §6.8).
type SigningKey struct {
	ID        string // kid: lowercase hex SHA-1 of the DER (PKIX) public key
	DER       []byte // PKCS#8 private key
	CreatedAt time.Time
}

// DemoState is a state value issued by the demo client page, bound to a browser.
type DemoState struct {
	Hash        string // contract.Hash of the state
	BrowserHash string // contract.Hash of the demo browser cookie
	Nonce       string // the OIDC nonce sent with it
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// User is a host user. Fields are stored as given, valid for the Connect contract or not:
// the platform's checks are what tests of it provoke (PROTOCOL §3.10).
type User struct {
	ID           string // stable internal id; the ID token's sub; new when a user is re-created
	Username     string // sign-in name, unique
	PasswordHash string // see hashPassword; "" means the user cannot sign in
	Reference    string // PROTOCOL §1.2 user reference
	Email        string
	Phone        string
	FirstName    string
	LastName     string
	// CustomAttributes is JSON text, "" for none.
	CustomAttributes string
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Redirect URI matching modes of a client (PROTOCOL §6.2).
const (
	RedirectMatchExact = "exact" // the whole string equals a registered URI (the default)
	RedirectMatchHost  = "host"  // scheme and host[:port] equal those of a registered URI (the seed's rule)
)

// How a client authenticates at the token and revocation endpoints (PROTOCOL §6.13,
// RFC 7591 token_endpoint_auth_method).
const (
	AuthClientSecretBasic = "client_secret_basic" // Basic base64(id:secret); the default
	AuthClientSecretPost  = "client_secret_post"  // client_id and client_secret in the form
	AuthNone              = "none"                // a public client: client_id only, PKCE required
)

// Client is an OAuth client of the authorization server (PROTOCOL §6, §6.10).
type Client struct {
	ID            string
	SecretHash    string // contract.Hash of the secret; "" for a public client
	Name          string
	RedirectURIs  []string
	RedirectMatch string   // RedirectMatchExact or RedirectMatchHost; "" means exact
	Scopes        []string // the scopes granted on every request (PROTOCOL §6.2)
	SkipConsent   bool     // no consent screen (the Boxo client, PROTOCOL §6.10)
	// AuthMethod is the one token_endpoint_auth_method the client may use: AuthClientSecretBasic
	// ("" means it), AuthClientSecretPost or AuthNone.
	AuthMethod string
	// RequirePKCE: authorization requests for a code must carry a code_challenge (RFC 7636).
	// Always true for an AuthNone client.
	RequirePKCE bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// TokenAuthMethod returns the client's authentication method, the default filled in.
func (c Client) TokenAuthMethod() string {
	if c.AuthMethod == "" {
		return AuthClientSecretBasic
	}
	return c.AuthMethod
}

// PKCERequired reports whether the client's code requests must carry a code_challenge:
// when it asks for it, and always for a public client.
func (c Client) PKCERequired() bool { return c.RequirePKCE || c.TokenAuthMethod() == AuthNone }

// Settings are the host app's Connect settings (PROTOCOL §2.7, §7.2, §7.6).
type Settings struct {
	TokenPrefix string   // the Authorization scheme word of the platform's calls
	IPAllowlist []string // CIDRs or addresses allowed to call /boxo/connect/*
	// UserDataKeys switches encrypted user_data on per miniapp (PROTOCOL §7.2): app_id → the
	// key shared with that miniapp's owner, in its exchange form (userdata.Key.Text). A
	// miniapp not listed gets the user data as a JSON object.
	UserDataKeys map[string]string
	// TrustedProxies are the CIDRs of proxies whose X-Forwarded-For the IP filter believes
	// (PROTOCOL §7.6); empty means the peer address alone counts.
	TrustedProxies []string
	// SigningEnabled switches request signing on (PROTOCOL §7.8): the platform's calls to
	// /boxo/connect/* must carry a valid signature made with SigningSecret, and the host's
	// own Direct calls to the platform are signed with it. The secret is never logged and
	// masked in admin answers.
	SigningEnabled bool
	SigningSecret  string
}

// Session is a signed-in browser (PROTOCOL §9.31).
type Session struct {
	Hash      string // contract.Hash of the cookie value
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Kinds of one-time codes.
const (
	CodeKindOAuth = "oauth" // an authorization code of /auth/v1/authorize (PROTOCOL §6.4)
	CodeKindV1    = "v1"    // a legacy v1 nonce (PROTOCOL §6.11)
)

// AuthCode is a one-time code bound to what PROTOCOL §6.4 lists.
type AuthCode struct {
	Hash        string // contract.Hash of the code
	Kind        string // CodeKindOAuth or CodeKindV1
	ClientID    string
	UserID      string
	RedirectURI string // as sent in the authorization request
	Nonce       string // OIDC nonce, "" if none
	Scopes      []string
	IssuedAt    time.Time
	ExpiresAt   time.Time
	UsedAt      time.Time // zero while unused
	// CodeChallenge and CodeChallengeMethod are the PKCE binding (RFC 7636): method
	// PKCES256 with the challenge as sent, or PKCEPlain with the contract.Hash of the
	// challenge; both "" when the request had none.
	CodeChallenge       string
	CodeChallengeMethod string
	// AuthTime is when the user signed in to the session that authorized the code (OIDC
	// Core auth_time); zero for codes that never lead to an ID token.
	AuthTime time.Time
}

// PKCE code challenge methods (RFC 7636 §4.2).
const (
	PKCES256  = "S256"
	PKCEPlain = "plain"
)

// Token kinds.
const (
	TokenAccess  = "access"
	TokenRefresh = "refresh"
)

// The APIs a token belongs to; each endpoint accepts only its own.
const (
	APIConnect = "connect" // /boxo/connect/* (PROTOCOL §6.10)
	APIOAuth   = "oauth"   // /auth/v1/* (PROTOCOL §6.5)
	APIV1      = "v1"      // /v1/oauth/* (PROTOCOL §6.11)
)

// Token is an issued access or refresh token, stored by hash.
type Token struct {
	Hash     string // contract.Hash of the token (for a JWT: of the whole compact form)
	Kind     string // TokenAccess or TokenRefresh
	API      string // APIConnect, APIOAuth or APIV1
	ClientID string
	UserID   string
	AppID    string // the X-Miniapp-App-ID it was issued for, "" if none
	Scopes   []string
	// GrantID groups every token that descends from one grant: the hash of the code they
	// came from, kept through refresh rotations, or a random id for tokens issued without
	// a code. Revoking the grant revokes them all.
	GrantID   string
	IssuedAt  time.Time
	ExpiresAt time.Time // zero: never expires (v1 tokens)
	RevokedAt time.Time // zero while not revoked
	UsedAt    time.Time // refresh tokens: when rotated; zero while unused
	// AuthTime is the sign-in time behind the grant, kept through rotations so that a
	// refreshed ID token carries the original auth_time (OIDC Core §12.2); zero if unknown.
	AuthTime time.Time
}

// Active reports whether the token can be used at now: not revoked, not spent, unexpired.
func (t Token) Active(now time.Time) bool {
	return t.RevokedAt.IsZero() && t.UsedAt.IsZero() && (t.ExpiresAt.IsZero() || now.Before(t.ExpiresAt))
}
