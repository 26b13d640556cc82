package sqlite

import (
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/boxo-sim/boxo-sim/hostapp"
	"github.com/boxo-sim/boxo-sim/internal/store"
)

var t0 = time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)

func openTestDB(t *testing.T) *DB {
	t.Helper()
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "hostapp.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// fixture stores a client and a user and returns them.
func fixture(t *testing.T, db *DB) (hostapp.Client, hostapp.User) {
	t.Helper()
	c := hostapp.Client{ID: "c1", SecretHash: "h", RedirectURIs: []string{"http://a/cb", "http://b/cb?x=1,2"},
		Scopes: []string{"openid", "email"}, SkipConsent: true, CreatedAt: t0}
	if _, err := db.PutClient(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	u := hostapp.User{ID: "usr_1", Username: "alice", PasswordHash: "ph", Reference: "r1", Email: "a@x", CreatedAt: t0}
	if _, _, err := db.PutUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	return c, u
}

func code(hash string) hostapp.AuthCode {
	return hostapp.AuthCode{Hash: hash, Kind: hostapp.CodeKindOAuth, ClientID: "c1", UserID: "usr_1", RedirectURI: "http://a/cb",
		Nonce: "n", Scopes: []string{"openid"}, IssuedAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}
}

func token(hash, kind, grant string) hostapp.Token {
	return hostapp.Token{Hash: hash, Kind: kind, API: hostapp.APIConnect, ClientID: "c1", UserID: "usr_1", AppID: "app",
		Scopes: []string{"openid"}, GrantID: grant, IssuedAt: t0, ExpiresAt: t0.Add(time.Hour)}
}

func TestClientRoundTrip(t *testing.T) {
	db := openTestDB(t)
	c, _ := fixture(t, db)
	got, err := db.GetClient(t.Context(), "c1")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.RedirectURIs, c.RedirectURIs) || !slices.Equal(got.Scopes, c.Scopes) || !got.SkipConsent ||
		got.RedirectMatch != hostapp.RedirectMatchExact || !got.CreatedAt.Equal(t0) {
		t.Fatalf("got %+v", got)
	}
	c.RedirectMatch, c.SkipConsent, c.UpdatedAt = hostapp.RedirectMatchHost, false, t0.Add(time.Hour)
	created, err := db.PutClient(t.Context(), c)
	if err != nil || created {
		t.Fatalf("replace: created=%v err=%v", created, err)
	}
	got, _ = db.GetClient(t.Context(), "c1")
	if got.RedirectMatch != hostapp.RedirectMatchHost || got.SkipConsent || !got.UpdatedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("replaced %+v", got)
	}
	if _, err := db.GetClient(t.Context(), "nope"); !errors.Is(err, hostapp.ErrNotFound) {
		t.Fatalf("unknown client: %v", err)
	}
	if err := db.DeleteClient(t.Context(), "nope"); !errors.Is(err, hostapp.ErrNotFound) {
		t.Fatalf("delete unknown client: %v", err)
	}
}

func TestPutUser(t *testing.T) {
	db := openTestDB(t)
	_, u := fixture(t, db)
	if _, err := db.GetUserByID(t.Context(), u.ID); err != nil { // now kept in memory
		t.Fatal(err)
	}
	// Replace: id, created_at and (empty hash) password kept.
	stored, created, err := db.PutUser(t.Context(), hostapp.User{ID: "usr_other", Username: "alice", Reference: "r2", UpdatedAt: t0.Add(time.Minute)})
	if err != nil || created {
		t.Fatalf("created=%v err=%v", created, err)
	}
	if stored.ID != u.ID || stored.PasswordHash != "ph" || stored.Email != "" || stored.Reference != "r2" || !stored.CreatedAt.Equal(t0) {
		t.Fatalf("stored %+v", stored)
	}
	got, err := db.GetUserByID(t.Context(), u.ID)
	if err != nil || got != stored {
		t.Fatalf("GetUserByID %+v %v, want %+v", got, err, stored)
	}
	if _, _, err := db.PutUser(t.Context(), hostapp.User{ID: "usr_1", Username: "bob", CreatedAt: t0}); !errors.Is(err, hostapp.ErrConflict) {
		t.Fatalf("duplicate id: %v", err)
	}
}

func TestDeleteUserEndsSessionsKeepsTokens(t *testing.T) {
	db := openTestDB(t)
	fixture(t, db)
	ctx := t.Context()
	if err := db.CreateSession(ctx, hostapp.Session{Hash: "s1", UserID: "usr_1", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSession(ctx, hostapp.Session{Hash: "s1", UserID: "usr_1", CreatedAt: t0, ExpiresAt: t0}); !errors.Is(err, hostapp.ErrConflict) {
		t.Fatalf("duplicate session: %v", err)
	}
	if err := db.CreateTokens(ctx, []hostapp.Token{token("a1", hostapp.TokenAccess, "g")}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetUserByID(ctx, "usr_1"); err != nil { // now kept in memory
		t.Fatal(err)
	}
	if _, err := db.GetSession(ctx, "s1"); err != nil { // now kept in memory
		t.Fatal(err)
	}
	if err := db.DeleteUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetUserByID(ctx, "usr_1"); !errors.Is(err, hostapp.ErrNotFound) {
		t.Fatalf("user by id after delete: %v", err)
	}
	if _, err := db.GetSession(ctx, "s1"); !errors.Is(err, hostapp.ErrNotFound) {
		t.Fatalf("session after user delete: %v", err)
	}
	if _, err := db.GetToken(ctx, "a1"); err != nil {
		t.Fatalf("token after user delete: %v", err)
	}
	if err := db.DeleteUser(ctx, "alice"); !errors.Is(err, hostapp.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

// TestSessionReadsFollowWrites: a session read once is kept in memory, and each way a
// session ends (sign-out, expiry sweep) is seen by the next read.
func TestSessionReadsFollowWrites(t *testing.T) {
	db := openTestDB(t)
	fixture(t, db)
	ctx := t.Context()
	for _, h := range []string{"s1", "s2"} {
		if err := db.CreateSession(ctx, hostapp.Session{Hash: h, UserID: "usr_1", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if s, err := db.GetSession(ctx, h); err != nil || s.UserID != "usr_1" || !s.ExpiresAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("session %s: %+v %v", h, s, err)
		}
	}
	if err := db.DeleteSession(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetSession(ctx, "s1"); !errors.Is(err, hostapp.ErrNotFound) {
		t.Fatalf("session after sign-out: %v", err)
	}
	if _, err := db.GetSession(ctx, "s2"); err != nil { // kept again
		t.Fatal(err)
	}
	if n, err := db.DeleteExpired(ctx, t0.Add(2*time.Hour)); err != nil || n != 1 {
		t.Fatalf("sweep removed %d (%v), want 1", n, err)
	}
	if _, err := db.GetSession(ctx, "s2"); !errors.Is(err, hostapp.ErrNotFound) {
		t.Fatalf("session after the expiry sweep: %v", err)
	}
}

func TestDeleteClientCascades(t *testing.T) {
	db := openTestDB(t)
	fixture(t, db)
	ctx := t.Context()
	if err := db.CreateAuthCode(ctx, code("k1")); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateTokens(ctx, []hostapp.Token{token("a1", hostapp.TokenAccess, "g")}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteClient(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetAuthCode(ctx, "k1"); !errors.Is(err, hostapp.ErrNotFound) {
		t.Fatalf("code after client delete: %v", err)
	}
	if _, err := db.GetToken(ctx, "a1"); !errors.Is(err, hostapp.ErrNotFound) {
		t.Fatalf("token after client delete: %v", err)
	}
}

func TestRedeemAuthCodeConcurrent(t *testing.T) {
	db := openTestDB(t)
	fixture(t, db)
	ctx := t.Context()
	if err := db.CreateAuthCode(ctx, code("k1")); err != nil {
		t.Fatal(err)
	}
	const n = 20
	var ok, used atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			tokens := []hostapp.Token{token("a"+string(rune('A'+i)), hostapp.TokenAccess, "k1")}
			switch err := db.RedeemAuthCode(ctx, "k1", t0.Add(time.Second), tokens); {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, hostapp.ErrUsed):
				used.Add(1)
			default:
				t.Errorf("redeem: %v", err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || used.Load() != n-1 {
		t.Fatalf("ok=%d used=%d, want 1 and %d", ok.Load(), used.Load(), n-1)
	}
	c, err := db.GetAuthCode(ctx, "k1")
	if err != nil || !c.UsedAt.Equal(t0.Add(time.Second)) || c.Nonce != "n" || !slices.Equal(c.Scopes, []string{"openid"}) {
		t.Fatalf("code %+v %v", c, err)
	}
	// Only the winner's token was stored: the revocation finds exactly one.
	if n, err := db.RevokeGrant(ctx, "k1", t0.Add(2*time.Second)); err != nil || n != 1 {
		t.Fatalf("RevokeGrant = %d, %v; want 1", n, err)
	}
	if n, _ := db.RevokeGrant(ctx, "k1", t0.Add(3*time.Second)); n != 0 {
		t.Fatalf("second RevokeGrant revoked %d", n)
	}
	if err := db.RedeemAuthCode(ctx, "unknown", t0, nil); !errors.Is(err, hostapp.ErrNotFound) {
		t.Fatalf("unknown code: %v", err)
	}
}

// A failed insert of the tokens rolls the code's use back.
func TestRedeemAuthCodeAtomic(t *testing.T) {
	db := openTestDB(t)
	fixture(t, db)
	ctx := t.Context()
	if err := db.CreateTokens(ctx, []hostapp.Token{token("dup", hostapp.TokenAccess, "x")}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateAuthCode(ctx, code("k1")); err != nil {
		t.Fatal(err)
	}
	if err := db.RedeemAuthCode(ctx, "k1", t0, []hostapp.Token{token("dup", hostapp.TokenAccess, "k1")}); !errors.Is(err, hostapp.ErrConflict) {
		t.Fatalf("redeem with duplicate token: %v", err)
	}
	if c, _ := db.GetAuthCode(ctx, "k1"); !c.UsedAt.IsZero() {
		t.Fatal("code marked used though its tokens were not stored")
	}
}

func TestRotateRefreshToken(t *testing.T) {
	db := openTestDB(t)
	fixture(t, db)
	ctx := t.Context()
	if err := db.CreateTokens(ctx, []hostapp.Token{token("r1", hostapp.TokenRefresh, "g"), token("a1", hostapp.TokenAccess, "g")}); err != nil {
		t.Fatal(err)
	}
	const n = 10
	var ok atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			next := []hostapp.Token{token("r2-"+string(rune('A'+i)), hostapp.TokenRefresh, "g")}
			if err := db.RotateRefreshToken(ctx, "r1", t0.Add(time.Minute), next); err == nil {
				ok.Add(1)
			} else if !errors.Is(err, hostapp.ErrUsed) {
				t.Errorf("rotate: %v", err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d rotations succeeded", ok.Load())
	}
	old, _ := db.GetToken(ctx, "r1")
	if !old.UsedAt.Equal(t0.Add(time.Minute)) || old.Active(t0.Add(time.Minute)) {
		t.Fatalf("old refresh token %+v", old)
	}
	for _, tc := range []struct {
		hash string
		at   time.Time
		want error
	}{
		{"a1", t0, hostapp.ErrNotFound},                  // not a refresh token
		{"nope", t0, hostapp.ErrNotFound},                // unknown
		{"expiring", t0.Add(time.Hour), hostapp.ErrUsed}, // expired at usedAt
	} {
		if tc.hash == "expiring" {
			if err := db.CreateTokens(ctx, []hostapp.Token{token("expiring", hostapp.TokenRefresh, "g2")}); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.RotateRefreshToken(ctx, tc.hash, tc.at, nil); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.hash, err, tc.want)
		}
	}
	// Revoked refresh tokens cannot rotate.
	if err := db.CreateTokens(ctx, []hostapp.Token{token("r3", hostapp.TokenRefresh, "g3")}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RevokeGrant(ctx, "g3", t0); err != nil {
		t.Fatal(err)
	}
	if err := db.RotateRefreshToken(ctx, "r3", t0, nil); !errors.Is(err, hostapp.ErrUsed) {
		t.Fatalf("revoked: %v", err)
	}
}

func TestSettingsAndReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hostapp.db")
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetSettings(t.Context()); !errors.Is(err, hostapp.ErrNotFound) {
		t.Fatalf("settings before any: %v", err)
	}
	want := hostapp.Settings{TokenPrefix: "Bearer", IPAllowlist: []string{"10.0.0.0/8"}}
	if err := db.PutSettings(t.Context(), want); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(t.Context(), path) // migrations already applied: no error
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.GetSettings(t.Context())
	if err != nil || got.TokenPrefix != want.TokenPrefix || !slices.Equal(got.IPAllowlist, want.IPAllowlist) {
		t.Fatalf("settings after reopen %+v %v", got, err)
	}
}

// The fields of PROTOCOL §6.13 round-trip: a client's authentication method and PKCE flag, a
// code's challenge and sign-in time, a token's sign-in time (kept through rotation).
func TestOIDCFieldsRoundTrip(t *testing.T) {
	db := openTestDB(t)
	ctx := t.Context()
	c, _ := fixture(t, db)
	if got, _ := db.GetClient(ctx, "c1"); got.AuthMethod != hostapp.AuthClientSecretBasic || got.RequirePKCE {
		t.Fatalf("defaults: %q %v", got.AuthMethod, got.RequirePKCE)
	}
	c.AuthMethod, c.RequirePKCE, c.SecretHash = hostapp.AuthNone, true, ""
	if _, err := db.PutClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.GetClient(ctx, "c1"); got.AuthMethod != hostapp.AuthNone || !got.RequirePKCE || got.SecretHash != "" {
		t.Fatalf("public client: %+v", got)
	}
	k := code("k1")
	k.CodeChallenge, k.CodeChallengeMethod, k.AuthTime = "challenge", hostapp.PKCES256, t0.Add(-time.Hour)
	if err := db.CreateAuthCode(ctx, k); err != nil {
		t.Fatal(err)
	}
	got, err := db.GetAuthCode(ctx, "k1")
	if err != nil || got.CodeChallenge != "challenge" || got.CodeChallengeMethod != hostapp.PKCES256 || !got.AuthTime.Equal(k.AuthTime) {
		t.Fatalf("code %+v %v", got, err)
	}
	r := token("r1", hostapp.TokenRefresh, "g")
	r.AuthTime = t0.Add(-time.Hour)
	if err := db.CreateTokens(ctx, []hostapp.Token{r}); err != nil {
		t.Fatal(err)
	}
	if got, err := db.GetToken(ctx, "r1"); err != nil || !got.AuthTime.Equal(r.AuthTime) {
		t.Fatalf("token auth_time %v %v", got.AuthTime, err)
	}
	// Unknown stays unknown, and the epoch (where a fake clock may stand) stays the epoch.
	epoch := time.UnixMilli(0).UTC()
	r2, r3 := token("r2", hostapp.TokenRefresh, "g"), token("r3", hostapp.TokenRefresh, "g")
	r3.AuthTime = epoch
	if err := db.CreateTokens(ctx, []hostapp.Token{r2, r3}); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.GetToken(ctx, "r2"); !got.AuthTime.IsZero() {
		t.Fatalf("unknown auth_time read back as %v", got.AuthTime)
	}
	if got, _ := db.GetToken(ctx, "r3"); !got.AuthTime.Equal(epoch) || got.AuthTime.IsZero() {
		t.Fatalf("epoch auth_time read back as %v", got.AuthTime)
	}
}

// TestMigrationTurnsZeroIntoNull opens a database written before migration 030, where 0
// meant "unset": its zeros become NULL, other times stay, and a code redeemed at the epoch
// stays redeemed.
func TestMigrationTurnsZeroIntoNull(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hostapp.db")
	old := fstest.MapFS{}
	for _, n := range []string{"001_init.sql", "002_oauth.sql"} {
		b, err := migrationsFS.ReadFile("migrations/" + n)
		if err != nil {
			t.Fatal(err)
		}
		old[n] = &fstest.MapFile{Data: b}
	}
	raw, err := store.Open(t.Context(), path, old)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO clients (id, secret_hash, created_at, updated_at) VALUES ('c1', 'h', 1, 1)`,
		`INSERT INTO auth_codes (hash, kind, client_id, user_id, issued_at, expires_at, used_at) VALUES ('unused', 'oauth', 'c1', 'u', 1, 99999999999999, 0), ('used', 'oauth', 'c1', 'u', 1, 99999999999999, 1234)`,
		`INSERT INTO tokens (hash, kind, api, client_id, user_id, grant_id, issued_at, expires_at, revoked_at, used_at) VALUES ('t', 'access', 'connect', 'c1', 'u', 'g', 1, 0, 0, 0)`,
	} {
		if _, err := raw.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()

	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if c, err := db.GetAuthCode(t.Context(), "unused"); err != nil || !c.UsedAt.IsZero() {
		t.Fatalf("unused code: %+v %v", c, err)
	}
	if c, err := db.GetAuthCode(t.Context(), "used"); err != nil || c.UsedAt.UnixMilli() != 1234 {
		t.Fatalf("used code: %+v %v", c, err)
	}
	if tok, err := db.GetToken(t.Context(), "t"); err != nil || !tok.ExpiresAt.IsZero() || !tok.RevokedAt.IsZero() || !tok.UsedAt.IsZero() {
		t.Fatalf("token: %+v %v", tok, err)
	}
	epoch := time.Unix(0, 0)
	if err := db.RedeemAuthCode(t.Context(), "unused", epoch, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.RedeemAuthCode(t.Context(), "unused", epoch, nil); !errors.Is(err, hostapp.ErrUsed) {
		t.Fatalf("second redemption at the epoch: %v, want ErrUsed", err)
	}
}
