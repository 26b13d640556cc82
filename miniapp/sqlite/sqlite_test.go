package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/miniapp"
)

var t0 = time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)

func openTestDB(t *testing.T) *DB {
	t.Helper()
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "miniapp.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() }) // runs before TempDir's own cleanup
	return db
}

func demoSettings() miniapp.Settings {
	return miniapp.Settings{AppID: "app16973", SecretHash: contract.Hash("s"), RequiredFields: []string{"email", "phone"},
		IPAllowlist: []string{"127.0.0.0/8", "::1/128"}, SigningKey: []byte("0123456789abcdef0123456789abcdef")}
}

func TestSettings(t *testing.T) {
	db, ctx := openTestDB(t), context.Background()
	if _, err := db.Settings(ctx); !errors.Is(err, miniapp.ErrNotFound) {
		t.Fatalf("empty store: %v, want ErrNotFound", err)
	}
	if _, err := db.UpdateSettings(ctx, func(s miniapp.Settings) (miniapp.Settings, error) { return s, nil }); !errors.Is(err, miniapp.ErrNotFound) {
		t.Fatalf("update of none: %v, want ErrNotFound", err)
	}

	// Of concurrent creations exactly one wins.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			err := db.CreateSettings(ctx, demoSettings())
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, miniapp.ErrConflict):
				t.Errorf("create: %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d creations succeeded", wins.Load())
	}
	got, err := db.Settings(ctx)
	if err != nil || fmt.Sprint(got) != fmt.Sprint(demoSettings()) {
		t.Fatalf("Settings = %+v, %v", got, err)
	}

	// A failing update writes nothing and returns the error unchanged.
	boom := errors.New("boom")
	if _, err := db.UpdateSettings(ctx, func(s miniapp.Settings) (miniapp.Settings, error) {
		s.AppID = "changed"
		return s, boom
	}); err != boom { //nolint:errorlint // unchanged means identical
		t.Fatalf("update error %v, want boom", err)
	}
	if _, err := db.UpdateSettings(ctx, func(s miniapp.Settings) (miniapp.Settings, error) {
		s.IPAllowlist = []string{"a,b"}
		return s, nil
	}); err == nil {
		t.Fatal("a list entry with a comma was stored")
	}
	if got, _ := db.Settings(ctx); got.AppID != "app16973" || len(got.IPAllowlist) != 2 {
		t.Fatalf("failed updates changed settings: %+v", got)
	}

	// Concurrent read-modify-writes lose nothing.
	for i := range 20 {
		wg.Go(func() {
			_, err := db.UpdateSettings(ctx, func(s miniapp.Settings) (miniapp.Settings, error) {
				s.IPAllowlist = append(s.IPAllowlist, fmt.Sprintf("10.0.0.%d", i))
				return s, nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, _ = db.Settings(ctx)
	if len(got.IPAllowlist) != 22 {
		t.Fatalf("%d allowlist entries after 20 concurrent appends to 2", len(got.IPAllowlist))
	}
	got, err = db.UpdateSettings(ctx, func(s miniapp.Settings) (miniapp.Settings, error) {
		s.RequiredFields, s.IPAllowlist = nil, []string{}
		return s, nil
	})
	if err != nil || got.RequiredFields != nil {
		t.Fatal(got, err)
	}
	if got, _ = db.Settings(ctx); len(got.RequiredFields) != 0 || len(got.IPAllowlist) != 0 {
		t.Fatalf("lists not emptied: %+v", got)
	}
}

// login is a Login with fresh ids and a refresh token named after the session.
func login(t *testing.T, db *DB, u miniapp.User, sid string) (miniapp.User, bool) {
	t.Helper()
	if u.ID == "" {
		u.ID = "mu_" + contract.RandomHex(8)
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt, u.UpdatedAt = t0, t0
	}
	got, created, err := db.Login(context.Background(), u, miniapp.Session{ID: sid, CreatedAt: u.CreatedAt},
		miniapp.RefreshToken{Hash: contract.Hash("rt-" + sid), CreatedAt: u.CreatedAt, ExpiresAt: u.CreatedAt.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return got, created
}

func TestLoginCreatesOnceUnderConcurrency(t *testing.T) {
	db := openTestDB(t)
	const n = 50
	var created atomic.Int32
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			u, c, err := db.Login(context.Background(),
				miniapp.User{ID: fmt.Sprintf("mu_%d", i), ClientID: "352131", Reference: "u-1", Email: "a@example.com", CreatedAt: t0, UpdatedAt: t0},
				miniapp.Session{ID: fmt.Sprintf("ms_%d", i), CreatedAt: t0},
				miniapp.RefreshToken{Hash: contract.Hash(fmt.Sprint(i)), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)})
			if err != nil {
				t.Error(err)
				return
			}
			if c {
				created.Add(1)
			}
			ids[i] = u.ID
		})
	}
	wg.Wait()
	users, err := db.Users(context.Background(), miniapp.UserFilter{})
	if err != nil || len(users) != 1 {
		t.Fatalf("%d users, %v", len(users), err)
	}
	if created.Load() != 1 {
		t.Fatalf("%d calls created the user", created.Load())
	}
	for i, id := range ids {
		if id != users[0].ID {
			t.Fatalf("call %d got user %s, want %s", i, id, users[0].ID)
		}
		s, err := db.Session(context.Background(), fmt.Sprintf("ms_%d", i))
		if err != nil || s.UserID != users[0].ID || !s.Active() {
			t.Fatalf("session %d: %+v %v", i, s, err)
		}
	}
}

func TestLoginMergesFields(t *testing.T) {
	db := openTestDB(t)
	first, created := login(t, db, miniapp.User{ClientID: "c1", Reference: "u-1", Email: "old@example.com", FirstName: "Ada",
		LastName: "Lee", CustomAttributes: []byte(`{"a":1}`)}, "s1")
	if !created {
		t.Fatal("first login did not create")
	}
	later := t0.Add(time.Minute)
	got, created := login(t, db, miniapp.User{ClientID: "c1", Reference: "u-1", Phone: "+6591234567", FirstName: "Adele",
		CreatedAt: later, UpdatedAt: later}, "s2")
	want := miniapp.User{ID: first.ID, ClientID: "c1", Reference: "u-1", Email: "old@example.com", Phone: "+6591234567",
		FirstName: "Adele", LastName: "Lee", CustomAttributes: []byte(`{"a":1}`), CreatedAt: t0, UpdatedAt: later}
	if created || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("second login: created=%v %+v\nwant %+v", created, got, want)
	}
	if stored, err := db.User(context.Background(), first.ID); err != nil || fmt.Sprint(stored) != fmt.Sprint(want) {
		t.Fatalf("User = %+v, %v", stored, err)
	}
	other, created := login(t, db, miniapp.User{ClientID: "c2", Reference: "u-1", Email: "x@example.com"}, "s3")
	if !created || other.ID == first.ID {
		t.Fatal("same reference under another client id was not a new user")
	}
	if _, err := db.User(context.Background(), "mu_none"); !errors.Is(err, miniapp.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
}

// TestLoginAtomic: when a later part of Login fails, the user it would create is not kept.
func TestLoginAtomic(t *testing.T) {
	db := openTestDB(t)
	login(t, db, miniapp.User{ClientID: "c1", Reference: "u-1", Email: "a@example.com"}, "s1")
	_, _, err := db.Login(context.Background(), miniapp.User{ID: "mu_new", ClientID: "c1", Reference: "u-2", Email: "b@example.com", CreatedAt: t0, UpdatedAt: t0},
		miniapp.Session{ID: "s1", CreatedAt: t0}, // duplicate session id
		miniapp.RefreshToken{Hash: "h", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)})
	if !errors.Is(err, miniapp.ErrConflict) {
		t.Fatalf("duplicate session: %v, want ErrConflict", err)
	}
	if users, _ := db.Users(context.Background(), miniapp.UserFilter{}); len(users) != 1 {
		t.Fatalf("%d users after a failed login, want 1", len(users))
	}
}

func TestUsersFilterAndOrder(t *testing.T) {
	db := openTestDB(t)
	for i, k := range [][2]string{{"c2", "u-1"}, {"c1", "u-1"}, {"c1", "u-2"}} {
		at := t0.Add(time.Duration(i) * time.Second)
		login(t, db, miniapp.User{ClientID: k[0], Reference: k[1], Email: "e", CreatedAt: at, UpdatedAt: at}, fmt.Sprint("s", i))
	}
	for f, want := range map[miniapp.UserFilter]string{
		{}:                                 "c2/u-1 c1/u-1 c1/u-2",
		{ClientID: "c1"}:                   "c1/u-1 c1/u-2",
		{Reference: "u-1"}:                 "c2/u-1 c1/u-1",
		{ClientID: "c1", Reference: "u-2"}: "c1/u-2",
		{ClientID: "c3"}:                   "",
	} {
		users, err := db.Users(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for i, u := range users {
			if i > 0 {
				got += " "
			}
			got += u.ClientID + "/" + u.Reference
		}
		if got != want {
			t.Errorf("Users(%+v) = %q, want %q", f, got, want)
		}
	}
}

func TestRotateRefreshToken(t *testing.T) {
	db, ctx := openTestDB(t), context.Background()
	u, _ := login(t, db, miniapp.User{ClientID: "c1", Reference: "u-1", Email: "e"}, "s1")
	next := func(name string) miniapp.RefreshToken {
		return miniapp.RefreshToken{Hash: contract.Hash(name), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	}

	// Of concurrent rotations of one token exactly one succeeds.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			s, err := db.RotateRefreshToken(ctx, contract.Hash("rt-s1"), t0, next(fmt.Sprint("rt-", i)))
			switch {
			case err == nil:
				wins.Add(1)
				if s.ID != "s1" || s.UserID != u.ID {
					t.Errorf("session %+v", s)
				}
			case !errors.Is(err, miniapp.ErrNotFound):
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d rotations succeeded, want 1", wins.Load())
	}

	// Expired: refused, and deleted, so an earlier clock does not revive it.
	login(t, db, miniapp.User{ClientID: "c1", Reference: "u-1"}, "s2")
	if _, err := db.RotateRefreshToken(ctx, contract.Hash("rt-s2"), t0.Add(time.Hour), next("n2")); !errors.Is(err, miniapp.ErrNotFound) {
		t.Fatalf("expired: %v", err)
	}
	if _, err := db.RotateRefreshToken(ctx, contract.Hash("rt-s2"), t0, next("n3")); !errors.Is(err, miniapp.ErrNotFound) {
		t.Fatalf("expired token revived: %v", err)
	}
	if _, err := db.RotateRefreshToken(ctx, contract.Hash("n2"), t0, next("n4")); !errors.Is(err, miniapp.ErrNotFound) {
		t.Fatalf("refused rotation stored its next token: %v", err)
	}
	// Unexpired one millisecond before expiry.
	login(t, db, miniapp.User{ClientID: "c1", Reference: "u-1"}, "s3")
	if _, err := db.RotateRefreshToken(ctx, contract.Hash("rt-s3"), t0.Add(time.Hour-time.Millisecond), next("n5")); err != nil {
		t.Fatalf("just before expiry: %v", err)
	}
}

func TestEndSession(t *testing.T) {
	db, ctx := openTestDB(t), context.Background()
	login(t, db, miniapp.User{ClientID: "c1", Reference: "u-1", Email: "e"}, "s1")
	login(t, db, miniapp.User{ClientID: "c1", Reference: "u-1"}, "s2")
	if err := db.EndSession(ctx, "none", t0); !errors.Is(err, miniapp.ErrNotFound) {
		t.Fatalf("unknown session: %v", err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			err := db.EndSession(ctx, "s1", t0.Add(time.Minute))
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, miniapp.ErrNotFound):
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d EndSession calls succeeded, want 1", wins.Load())
	}
	s, err := db.Session(ctx, "s1")
	if err != nil || s.Active() || !s.EndedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("ended session %+v, %v", s, err)
	}
	if _, err := db.RotateRefreshToken(ctx, contract.Hash("rt-s1"), t0, miniapp.RefreshToken{Hash: "x", ExpiresAt: t0.Add(time.Hour)}); !errors.Is(err, miniapp.ErrNotFound) {
		t.Fatalf("refresh token of an ended session: %v", err)
	}
	if s, err := db.Session(ctx, "s2"); err != nil || !s.Active() {
		t.Fatalf("other session %+v, %v", s, err)
	}
	if _, err := db.RotateRefreshToken(ctx, contract.Hash("rt-s2"), t0, miniapp.RefreshToken{Hash: "y", ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatalf("other session's refresh: %v", err)
	}
	if _, err := db.Session(ctx, "none"); !errors.Is(err, miniapp.ErrNotFound) {
		t.Fatalf("unknown session: %v", err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "miniapp.db")
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSettings(t.Context(), demoSettings()); err != nil {
		t.Fatal(err)
	}
	login(t, db, miniapp.User{ClientID: "c1", Reference: "u-1", Email: "e"}, "s1")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(t.Context(), path) // migrations run once only
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if s, err := db.Settings(t.Context()); err != nil || string(s.SigningKey) != string(demoSettings().SigningKey) {
		t.Fatalf("settings after reopen: %+v %v", s, err)
	}
	if users, _ := db.Users(t.Context(), miniapp.UserFilter{}); len(users) != 1 {
		t.Fatalf("%d users after reopen", len(users))
	}
}

// TestSessionEndedAtTheEpochStaysEnded: 1970-01-01T00:00:00Z is a time like any other.
func TestSessionEndedAtTheEpochStaysEnded(t *testing.T) {
	db, ctx := openTestDB(t), context.Background()
	login(t, db, miniapp.User{ClientID: "c1", Reference: "u-1", Email: "e"}, "s1")
	if err := db.EndSession(ctx, "s1", time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	if s, err := db.Session(ctx, "s1"); err != nil || s.Active() {
		t.Fatalf("session ended at the epoch reads as %+v, %v", s, err)
	}
	if err := db.EndSession(ctx, "s1", time.Unix(0, 0)); !errors.Is(err, miniapp.ErrNotFound) {
		t.Fatalf("ending it again: %v, want ErrNotFound", err)
	}
}
