package platform

import (
	"context"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/store"
)

// Sentinels the Store wraps (errors.Is works on every returned error).
var (
	ErrNotFound = store.ErrNotFound
	ErrConflict = store.ErrConflict
)

// HostApp is a host app as the Dashboard knows it (PROTOCOL §1.3). HostappSecretKey is kept
// raw because the platform has to send it (§3.7); it is never logged and always masked in
// admin answers.
type HostApp struct {
	ClientID         string
	Name             string
	ConnectEnabled   bool
	AccessTokenURL   string
	UserDataURL      string
	RefreshTokenURL  string // "" means the host app has no refresh URL (PROTOCOL §7.1)
	HostappClientID  string
	HostappSecretKey string
	TokenPrefix      string   // the scheme word of platform → host calls, e.g. "Token"
	UserDataMethod   string   // "GET" or "POST" (PROTOCOL §3.9, §9.1)
	IPAllowlist      []string // CIDRs allowed to call the platform on this host app's behalf (§7.6)
	// LegacyLogin switches on POST /api/v1/partner/login/ for the host app's older SDKs
	// (PROTOCOL §7.10); off by default.
	LegacyLogin bool
	// UseAccessToken is the Dashboard's "use access token" for Boxo Payments (§1.3, §7.9):
	// Payments calls would carry the step-7 access token instead of the client credential.
	// Payments are outside the simulator; the flow log notes it at step 7.
	UseAccessToken bool
	// SigningEnabled switches request signing on (PROTOCOL §7.8): the platform signs its calls
	// to the host with SigningSecret and requires the host's Direct and consent calls to be
	// signed with it. SigningSecret is kept raw, never logged, masked in admin answers.
	SigningEnabled bool
	SigningSecret  string
}

// Settings are the platform's own settings.
type Settings struct {
	// TrustedProxies are the CIDRs of proxies whose X-Forwarded-For the IP filter believes
	// (PROTOCOL §7.6); empty means the peer address alone counts.
	TrustedProxies []string
}

// Miniapp is a miniapp as the Dashboard knows it (PROTOCOL §1.3). SecretKey is kept raw
// because the platform has to send it (§3.11).
type Miniapp struct {
	AppID          string
	Name           string
	URL            string
	AuthTokenURL   string
	SecretKey      string
	RequiredFields []string // a subset of contract.UserFields
	IPAllowlist    []string
	ConsentLinks   []contract.ConsentLink // shown on the SDK's consent prompt (PROTOCOL §3.5)
	// SigningEnabled and SigningSecret: the platform signs its calls to the miniapp (§7.8).
	SigningEnabled bool
	SigningSecret  string
}

// Partnership links a host app and a miniapp (PROTOCOL §1.3).
type Partnership struct {
	ClientID       string
	AppID          string
	ConnectEnabled bool
	DirectEnabled  bool
}

// Consent is the record written when an authorize with user_reference succeeds (PROTOCOL §7.4).
type Consent struct {
	ClientID      string
	AppID         string
	UserReference string
	Fields        []string
	GrantedAt     time.Time
}

// HostTokens is the host's step-7 token pair kept per (client_id, app_id, reference)
// (PROTOCOL §3.8, §9.14). The tokens are kept raw: the platform sends them back to the host
// (refresh, payments). They never reach the SDK or the miniapp.
type HostTokens struct {
	ClientID     string
	AppID        string
	Reference    string
	AccessToken  string
	RefreshToken string
	UpdatedAt    time.Time
}

// FlowRecord is what one writer adds to the flow log in one go: the flow's fields (empty
// ones leave the stored value alone), its new steps and, for an authorize, the host tokens
// and consent it produced.
type FlowRecord struct {
	FlowID        string
	ClientID      string
	AppID         string
	UserReference string
	// StartedAt is used when the flow is created; an existing flow keeps the earlier of its
	// own start and this one.
	StartedAt time.Time
	// RecordedAt is the platform's clock when it records; a new flow keeps it as the instant
	// the flow log's retention counts from. Zero means StartedAt.
	RecordedAt time.Time
	// Mode is ModeConnect or ModeDirect; "" leaves the flow's mode alone (a new flow is
	// ModeConnect).
	Mode string
	// CodeHash is contract.Hash of the auth code the flow submitted; "" leaves it alone.
	CodeHash   string
	Steps      []contract.FlowStep
	HostTokens *HostTokens // nil: none to keep
	Consent    *Consent    // nil: none to write
}

// Flow modes (contract.Flow.Mode).
const (
	ModeConnect = "connect" // the 16 steps of PROTOCOL §3
	ModeDirect  = "direct"  // the 12 steps of PROTOCOL §7.3
)

// StepsOf is the shape of a flow of mode: the platform's steps are 6 to platformLast, whose
// answer closes the flow on the platform's side; the SDK's (in Direct the host app's too) are
// 1–5 and those after it, up to last, the user continuing.
func StepsOf(mode string) (platformLast, last int) {
	if mode == ModeDirect {
		return 9, 12
	}
	return 12, 16
}

// FlowFilter selects flows of the flow log (ListFlows). An empty field matches every flow.
type FlowFilter struct {
	ID            string
	ClientID      string
	AppID         string
	UserReference string
	Outcome       string // contract.OutcomeOK, OutcomeFailed or OutcomeRunning
	ErrorCode     string // the flow's error code (contract.Flow.ErrorCode)
	Limit         int    // at most this many flows; must be positive
}

// FlowSummary is a flow of the list: the flow without its steps, and how long it took.
type FlowSummary struct {
	contract.Flow
	// DurationMS runs from the start of the flow's first step to the end of its last. It is
	// measured over the steps of the SDK and the host app when there are any: they enclose
	// the platform's steps, and a moved platform clock (boxo-sim clock) does not stretch them.
	// A flow that has only the platform's steps is measured over those.
	DurationMS float64
}

// Store holds everything the platform keeps: the Dashboard registry, consents, the host
// token pairs and the flow log.
//
// Lookups return an error wrapping ErrNotFound when the record is absent. The store never
// reads the clock: instants come in through the records.
type Store interface {
	// ListHostApps returns every host app ordered by client_id.
	ListHostApps(ctx context.Context) ([]HostApp, error)
	// GetSettings returns the platform's settings; never stored means the zero Settings.
	GetSettings(ctx context.Context) (Settings, error)
	// PutSettings replaces the platform's settings.
	PutSettings(ctx context.Context, s Settings) error
	// GetHostApp returns one host app, or ErrNotFound.
	GetHostApp(ctx context.Context, clientID string) (HostApp, error)
	// UpdateHostApp is the atomic read-modify-write of one host app: fn receives the stored
	// record (exists false and a zero record when absent) and returns the record to store,
	// or an error, which aborts the update and is returned unchanged. fn runs inside the
	// store's transaction and must not call the store. created reports an insert.
	UpdateHostApp(ctx context.Context, clientID string, fn func(old HostApp, exists bool) (HostApp, error)) (h HostApp, created bool, err error)
	// DeleteHostApp deletes a host app with its partnerships, consents and host tokens, in
	// one transaction; ErrNotFound when absent.
	DeleteHostApp(ctx context.Context, clientID string) error

	// ListMiniapps, GetMiniapp, UpdateMiniapp and DeleteMiniapp do the same for miniapps.
	ListMiniapps(ctx context.Context) ([]Miniapp, error)
	GetMiniapp(ctx context.Context, appID string) (Miniapp, error)
	UpdateMiniapp(ctx context.Context, appID string, fn func(old Miniapp, exists bool) (Miniapp, error)) (m Miniapp, created bool, err error)
	DeleteMiniapp(ctx context.Context, appID string) error

	// ListPartnerships returns every partnership ordered by (client_id, app_id).
	ListPartnerships(ctx context.Context) ([]Partnership, error)
	GetPartnership(ctx context.Context, clientID, appID string) (Partnership, error)
	// UpdatePartnership is UpdateHostApp's counterpart; it returns an error wrapping
	// ErrNotFound when the host app or the miniapp does not exist.
	UpdatePartnership(ctx context.Context, clientID, appID string, fn func(old Partnership, exists bool) (Partnership, error)) (p Partnership, created bool, err error)
	// DeletePartnership deletes one partnership (its consents and host tokens stay until
	// the host app or miniapp goes); ErrNotFound when absent.
	DeletePartnership(ctx context.Context, clientID, appID string) error

	// GetConsent returns the consent record, or ErrNotFound.
	GetConsent(ctx context.Context, clientID, appID, userReference string) (Consent, error)
	// DeleteConsent deletes the consent record; ErrNotFound when absent.
	DeleteConsent(ctx context.Context, clientID, appID, userReference string) error
	// GetHostTokens returns the kept host token pair, or ErrNotFound.
	GetHostTokens(ctx context.Context, clientID, appID, reference string) (HostTokens, error)

	// RecordFlow adds rec to the flow log in one transaction: it creates the flow when
	// absent, sets its non-empty fields, appends the steps, recomputes the flow's outcome
	// ("failed" if any step failed; "ok" if step 16, or the platform's answer at step 12, is
	// recorded ok; else "running"; the error code is the first failing step's among the
	// platform's steps 6–12, else among all, by step number then start), and stores
	// rec.HostTokens and rec.Consent (replacing earlier ones for the same key). Either all
	// of it is written or none.
	RecordFlow(ctx context.Context, rec FlowRecord) error
	// RecordSDKSteps is RecordFlow for steps reported from outside the platform (the SDK's
	// steps 1–5 and 13–16, or 1–5 and 10–12 of Direct). In one transaction it calls check with
	// whether the flow exists, its mode (rec.Mode, else ModeConnect, for a new flow) and its
	// recorded steps (Step, Outcome and ErrorCode only); an error from check aborts
	// the write and is returned unchanged. rec's ClientID, AppID and UserReference only fill
	// fields the flow has empty; rec.HostTokens and rec.Consent must be nil.
	RecordSDKSteps(ctx context.Context, rec FlowRecord, check func(exists bool, mode string, steps []contract.FlowStep) error) error
	// ListFlows returns up to f.Limit flows that match f, newest (most recently created)
	// first, without their steps.
	ListFlows(ctx context.Context, f FlowFilter) ([]FlowSummary, error)
	// GetFlow returns a flow with its steps ordered by step number, then start time, then
	// insertion; ErrNotFound when absent.
	GetFlow(ctx context.Context, id string) (contract.Flow, error)
	// LatestFlow returns the most recently created flow with its steps; ErrNotFound when the
	// log is empty.
	LatestFlow(ctx context.Context) (contract.Flow, error)
	// FlowsSharingCode returns the other flows that submitted the same auth code as flowID,
	// oldest first, without their steps; none when flowID submitted none.
	FlowsSharingCode(ctx context.Context, flowID string) ([]contract.Flow, error)
	// DeleteFlows empties the flow log and returns how many flows it held.
	DeleteFlows(ctx context.Context) (int, error)
	// PruneFlows deletes the flows beyond the newest keep, and those first recorded before
	// before, with their steps, and returns how many it deleted.
	PruneFlows(ctx context.Context, keep int, before time.Time) (int, error)

	// SetReadOnly makes every later write fail, as on a read-only or full disk, while reads
	// keep working; false writes again. ReadOnly reports the switch.
	SetReadOnly(ctx context.Context, on bool) error
	ReadOnly(ctx context.Context) (bool, error)
}
