package store

import (
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"testing"
	"time"
)

// TestCommitsReachTheDatabaseFileInTheBackground: the writer leaves checkpoints to the
// background connection, which copies what was committed from the write-ahead log into the
// database file while the writer goes on. The database file is read on its own (immutable=1
// ignores the log), so only a checkpoint can make the rows appear there.
func TestCommitsReachTheDatabaseFileInTheBackground(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	db, err := Open(t.Context(), path, migrations)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var limit int
	if err := db.QueryRowContext(t.Context(), `PRAGMA wal_autocheckpoint`).Scan(&limit); err != nil || limit != writerCheckpointPages {
		t.Fatalf("writer's wal_autocheckpoint = %d (%v), want %d", limit, err, writerCheckpointPages)
	}
	const n = 300 // commits: far fewer pages than the writer's own threshold
	for i := range n {
		if _, err := db.ExecContext(t.Context(), `INSERT INTO t (name) VALUES (?)`, fmt.Sprint("n", i)); err != nil {
			t.Fatal(err)
		}
	}
	file, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: path}).EscapedPath()+"?immutable=1&mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	var rows int
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		// A fresh connection each time: an immutable database is cached by its connection.
		file.SetMaxIdleConns(0)
		if err := file.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM t`).Scan(&rows); err != nil {
			rows = 0 // the table itself is still in the log only
		}
		if rows == n || time.Now().After(deadline) {
			break
		}
	}
	if rows != n {
		t.Fatalf("the database file holds %d of %d committed rows: the log was not checkpointed", rows, n)
	}
}
