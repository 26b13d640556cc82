package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

var migrations = fstest.MapFS{
	"001_init.sql": {Data: []byte(`CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);`)},
	"002_more.sql": {Data: []byte(`ALTER TABLE t ADD COLUMN note TEXT NOT NULL DEFAULT '';`)},
}

func TestOpenMigratesOnceAndMapsErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "x.db")
	for i := 0; i < 2; i++ { // the second open must not apply the migrations again
		db, err := Open(t.Context(), path, migrations)
		if err != nil {
			t.Fatalf("open #%d: %v", i+1, err)
		}
		var n int
		if err := db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n != 2 {
			t.Fatalf("open #%d: %d migrations recorded (%v), want 2", i+1, n, err)
		}
		var mode string
		if err := db.QueryRowContext(t.Context(), `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
			t.Fatalf("journal_mode = %q (%v), want wal", mode, err)
		}
		db.Close()
	}
	db, err := Open(t.Context(), path, migrations)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), `INSERT INTO t (name) VALUES ('a')`); err != nil {
		t.Fatal(err)
	}
	_, err = db.ExecContext(t.Context(), `INSERT INTO t (name) VALUES ('a')`)
	if !IsUnique(err) {
		t.Fatalf("duplicate insert: %v is not reported as a unique violation", err)
	}
	if IsUnique(errors.New("UNIQUE constraint failed")) {
		t.Fatal("IsUnique matched an error by its text")
	}
	// A failing function rolls the whole transaction back.
	boom := errors.New("boom")
	err = InTx(t.Context(), db, func(tx Tx) error {
		if _, err := tx.ExecContext(t.Context(), `INSERT INTO t (name) VALUES ('b')`); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v", err)
	}
	var n int
	_ = db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM t WHERE name = 'b'`).Scan(&n)
	if n != 0 {
		t.Fatal("InTx kept a row from a failed transaction")
	}
}

func TestOpenRejectsBadMigration(t *testing.T) {
	bad := fstest.MapFS{"001_bad.sql": {Data: []byte(`CREATE TABLE (;`)}}
	if _, err := Open(t.Context(), filepath.Join(t.TempDir(), "x.db"), bad); err == nil {
		t.Fatal("a broken migration opened")
	}
	if _, err := Open(t.Context(), "", migrations); err == nil {
		t.Fatal("an empty path opened")
	}
}

func TestMillisAndLists(t *testing.T) {
	if Millis(FromMillis(0)) != 0 || !FromMillis(0).IsZero() {
		t.Error("zero time must map to 0 and back")
	}
	if got := SplitList(JoinList([]string{"email", "phone"})); len(got) != 2 || got[1] != "phone" {
		t.Errorf("lists: %v", got)
	}
	if SplitList("") != nil {
		t.Error("empty list")
	}
}

// TestOpenRefusesADamagedDatabase damages a page of a database with data and reopens it:
// Open refuses, naming the file and how to recover.
func TestOpenRefusesADamagedDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	db, err := Open(t.Context(), path, migrations)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2000; i++ {
		if _, err := db.ExecContext(t.Context(), `INSERT INTO t (name, note) VALUES (?, ?)`, fmt.Sprintf("name-%d", i), strings.Repeat("n", 100)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(t.Context(), `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 40*4096 {
		t.Fatalf("database only %d bytes", len(b))
	}
	for i := 20 * 4096; i < 20*4096+4096; i++ { // one page in the middle of the table
		b[i] = 0xA5
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err = Open(t.Context(), path, migrations)
	if err == nil {
		db.Close()
		t.Fatal("a damaged database opened")
	}
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "--reset") {
		t.Fatalf("error %q does not name the file and how to recover", err)
	}
}

func TestNewDatabaseIsPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	db, err := Open(t.Context(), filepath.Join(dir, "x.db"), migrations)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, "x.db"): 0o600, filepath.Join(dir, "x.db-wal"): 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %v", path, fi.Mode().Perm(), err, want)
		}
	}
}

// TestNullMillisKeepsTheEpoch: the epoch is a time, not "unset".
func TestNullMillisKeepsTheEpoch(t *testing.T) {
	epoch := time.Unix(0, 0)
	if v := NullMillis(epoch); !v.Valid || v.Int64 != 0 {
		t.Fatalf("NullMillis(epoch) = %+v", v)
	}
	if got := FromNullMillis(NullMillis(epoch)); got.IsZero() || !got.Equal(epoch) {
		t.Fatalf("the epoch read back as %v", got)
	}
	if v := NullMillis(time.Time{}); v.Valid {
		t.Fatalf("NullMillis(zero) = %+v, want NULL", v)
	}
}

// TestReadOnlyRefusesWritesAndKeepsReads: with the switch on, reads work and every write,
// in a transaction or not, fails; off again, writes work.
func TestReadOnlyRefusesWritesAndKeepsReads(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "x.db"), migrations)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), `INSERT INTO t (name) VALUES ('a')`); err != nil {
		t.Fatal(err)
	}
	if err := SetReadOnly(t.Context(), db, true); err != nil {
		t.Fatal(err)
	}
	if on, err := ReadOnly(t.Context(), db); err != nil || !on {
		t.Fatalf("ReadOnly = %t, %v; want true", on, err)
	}
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM t`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("read while read-only: %d, %v", n, err)
	}
	if _, err := db.ExecContext(t.Context(), `INSERT INTO t (name) VALUES ('b')`); err == nil {
		t.Fatal("a write succeeded while read-only")
	}
	if err := InTx(t.Context(), db, func(tx Tx) error {
		_, err := tx.ExecContext(t.Context(), `UPDATE t SET note = 'x'`)
		return err
	}); err == nil {
		t.Fatal("a write in a transaction succeeded while read-only")
	}
	if err := SetReadOnly(t.Context(), db, false); err != nil {
		t.Fatal(err)
	}
	if on, _ := ReadOnly(t.Context(), db); on {
		t.Fatal("still read-only after switching back")
	}
	if _, err := db.ExecContext(t.Context(), `INSERT INTO t (name) VALUES ('b')`); err != nil {
		t.Fatalf("write after switching back: %v", err)
	}
}

// TestInTxLeavesTheConnectionClean: a transaction whose function panics, or whose COMMIT
// fails, is rolled back, and the one connection is ready for the next transaction.
func TestInTxLeavesTheConnectionClean(t *testing.T) {
	inModes(t, func(t *testing.T, db *DB) {
		ctx := t.Context()
		count := func(name string) int {
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM t WHERE name = ?`, name).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		func() {
			defer func() { _ = recover() }()
			_ = InTx(ctx, db, func(tx Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO t (name) VALUES ('panicked')`); err != nil {
					t.Fatal(err)
				}
				panic("oops")
			})
		}()
		// COMMIT itself fails on a deferred foreign key that points nowhere.
		if _, err := db.ExecContext(ctx, `CREATE TABLE child (parent INTEGER REFERENCES t (id) DEFERRABLE INITIALLY DEFERRED)`); err != nil {
			t.Fatal(err)
		}
		err := InTx(ctx, db, func(tx Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO t (name) VALUES ('uncommitted')`); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO child (parent) VALUES (424242)`)
			return err
		})
		if err == nil {
			t.Fatal("a COMMIT with a broken foreign key succeeded")
		}
		if err := InTx(ctx, db, func(tx Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO t (name) VALUES ('next')`)
			return err
		}); err != nil {
			t.Fatalf("the transaction after them: %v", err)
		}
		if p, u, n := count("panicked"), count("uncommitted"), count("next"); p != 0 || u != 0 || n != 1 {
			t.Fatalf("rows panicked=%d uncommitted=%d next=%d, want 0 0 1", p, u, n)
		}
	})
}

// TestEphemeralSkipsTheLog: an ephemeral database keeps its rollback journal in memory and
// writes no log beside its file.
func TestEphemeralSkipsTheLog(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(t.Context(), filepath.Join(dir, "x.db"), migrations, Ephemeral)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), `INSERT INTO t (name) VALUES ('a')`); err != nil {
		t.Fatal(err)
	}
	var mode string
	if err := db.QueryRowContext(t.Context(), `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "memory" {
		t.Fatalf("journal_mode = %q (%v), want memory", mode, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("files beside the database: %v, want none", entries)
	}
}
