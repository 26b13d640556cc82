// Package store opens the parties' SQLite databases the same way: per-connection settings in
// the DSN, one connection (one writer, no SQLITE_BUSY), embedded migrations applied in order
// and recorded, a transaction helper, group commit for the writes many requests make at
// once, WAL checkpoints on a second connection in the background, and a cache for records
// read often and written seldom.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
)

// ErrNotFound and ErrConflict are the sentinels party stores wrap.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// DB is a party's database on one connection: SQLite has one writer anyway, a second
// connection would only meet SQLITE_BUSY, and a pool of readers beside the writer costs more
// than it gives here: every commit empties each other connection's page cache, and the
// reads that remain per request are few once Cache keeps the hot records. Never use the DB
// while holding a transaction on it from the same goroutine.
type DB struct {
	db    *sql.DB
	batch batcher
	ckpt  *checkpointer
	once  sync.Once
}

// wrote tells the background checkpointer, if there is one, that a commit happened.
func (d *DB) wrote() {
	if d.ckpt != nil {
		d.ckpt.commits.Add(1)
	}
}

// QueryContext runs a query. It is not canceled with ctx: a read takes microseconds, and a
// cancelable context costs each query a goroutine in database/sql and a callback in the
// driver, which wait for a cancellation that never comes in time to matter.
func (d *DB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return d.db.QueryContext(context.WithoutCancel(ctx), query, args...)
}

// QueryRowContext runs a query that returns at most one row; like QueryContext, it is not
// canceled with ctx.
func (d *DB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return d.db.QueryRowContext(context.WithoutCancel(ctx), query, args...)
}

// ExecContext runs a statement in a transaction of its own.
func (d *DB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	defer d.wrote()
	return d.db.ExecContext(ctx, query, args...)
}

// Close waits for the Batch calls in progress, stops the background checkpoints, then
// closes the connection (which checkpoints the rest of the log).
func (d *DB) Close() error {
	d.once.Do(d.closeBatches)
	var cerr error
	if d.ckpt != nil {
		cerr = d.ckpt.close()
	}
	if err := d.db.Close(); err != nil {
		return err
	}
	return cerr
}

// Open opens (creating if needed) the SQLite database at path, checks it (PRAGMA
// quick_check: a damaged database is refused with ErrDamaged, naming the file) and applies
// every migration in migrations (files *.sql, applied in name order, each once, in its own
// transaction). A new database file, and its directory, are readable by the owner only
// (0600, 0700): they hold signing keys and secrets; SQLite gives its -wal and -shm files the
// database file's mode.
//
// An Ephemeral database is opened for speed instead: no write-ahead log, no syncs, its file
// locked by its connection alone.
func Open(ctx context.Context, path string, migrations fs.FS, opts ...Option) (*DB, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if path == "" {
		return nil, errors.New("store: empty database path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("store: create data directory: %w", err)
		}
	}
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("store: create %s: %w", path, err)
	}
	q := url.Values{}
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", "5000")
	if o.ephemeral {
		// The rollback journal in memory still undoes a failed transaction or savepoint;
		// only a crash in the middle of a commit could leave the file damaged, and the file
		// goes with the process anyway.
		q.Set("_journal_mode", "MEMORY")
		q.Set("_synchronous", "OFF")
		q.Set("_locking_mode", "EXCLUSIVE")
	} else {
		q.Set("_journal_mode", "WAL")
		q.Set("_synchronous", "NORMAL")
	}
	q.Set("_txlock", "immediate")
	// database/sql hands the connection to one goroutine at a time: SQLite's own mutex
	// around each call would only cost time.
	q.Set("_mutex", "no")
	// Reuse prepared statements: preparing every query again costs more than running it.
	q.Set("_stmt_cache_size", "64")
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// One connection (DB says why), kept open for good: the idle limit follows it down to 1
	// and connections have no age limits by default. PRAGMA query_only (SetReadOnly) lives on it.
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		if isCorrupt(err) {
			return nil, damaged(path, err.Error())
		}
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := quickCheck(ctx, db, path); err != nil {
		db.Close()
		return nil, err
	}
	if err := migrate(ctx, db, migrations); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: migrate %s: %w", path, err)
	}
	if o.ephemeral {
		return &DB{db: db}, nil
	}
	ckpt, err := startCheckpointer(dsn)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return &DB{db: db, ckpt: ckpt}, nil
}

// Option changes how Open opens a database.
type Option func(*options)

type options struct{ ephemeral bool }

// Ephemeral is for a database removed with its process (an ephemeral stack's): commits skip
// the write-ahead log and its checkpoints and are never synced, as nothing is kept anyway.
// Transactions and savepoints roll back as ever; only a crash can damage the file.
func Ephemeral(o *options) { o.ephemeral = true }

// ErrDamaged is wrapped by Open's error for a database that fails its integrity check.
var ErrDamaged = errors.New("database is damaged")

func damaged(path, detail string) error {
	return fmt.Errorf("store: %s: %w (%s): start with --reset to begin again with fresh demo data, or move the file aside (with its -wal and -shm files) to keep it for inspection",
		path, ErrDamaged, detail)
}

func isCorrupt(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrCorrupt || se.Code == sqlite3.ErrNotADB)
}

// quickCheck runs PRAGMA quick_check, which reads every page, and refuses a database that
// does not answer "ok".
func quickCheck(ctx context.Context, db *sql.DB, path string) error {
	rows, err := db.QueryContext(ctx, `PRAGMA quick_check`)
	if err != nil {
		if isCorrupt(err) {
			return damaged(path, err.Error())
		}
		return fmt.Errorf("store: check %s: %w", path, err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return fmt.Errorf("store: check %s: %w", path, err)
		}
		if line != "ok" && len(problems) < 3 {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		if isCorrupt(err) {
			return damaged(path, err.Error())
		}
		return fmt.Errorf("store: check %s: %w", path, err)
	}
	if len(problems) > 0 {
		return damaged(path, strings.Join(problems, "; "))
	}
	return nil
}

func migrate(ctx context.Context, db *sql.DB, migrations fs.FS) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return err
	}
	names, err := fs.Glob(migrations, "*.sql")
	if err != nil {
		return err
	}
	if len(names) == 0 {
		names, err = fs.Glob(migrations, "*/*.sql")
		if err != nil {
			return err
		}
	}
	sort.Strings(names)
	for _, name := range names {
		body, err := fs.ReadFile(migrations, name)
		if err != nil {
			return err
		}
		base := filepath.Base(name)
		err = inTx(ctx, db, func(tx Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE name = ?`, base).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("%s: %w", base, err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, base, Millis(time.Now()))
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Tx is a transaction as its function sees it: the statements of *sql.Tx.
type Tx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// InTx runs fn in one transaction, committing when it returns nil and rolling
// back otherwise.
func InTx(ctx context.Context, db *DB, fn func(Tx) error) error {
	defer db.wrote()
	return inTx(ctx, db.db, fn)
}

// inTx runs fn between BEGIN IMMEDIATE and COMMIT on the connection, taken for the whole
// transaction. It does not use database/sql's transactions: each of those starts a goroutine
// to watch its context, and so does each query inside one — a third of the goroutines a
// Connect flow started, for cancellations that never come while a transaction of a few
// statements runs. A statement's own context still cancels it.
func inTx(ctx context.Context, db *sql.DB, fn func(Tx) error) (err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	bg := context.WithoutCancel(ctx)
	if _, err := conn.ExecContext(bg, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	done := false
	defer func() {
		if !done { // fn failed or panicked, or COMMIT failed: leave the connection clean
			_, _ = conn.ExecContext(bg, "ROLLBACK")
		}
	}()
	if err := fn(conn); err != nil {
		return err
	}
	if _, err := conn.ExecContext(bg, "COMMIT"); err != nil {
		return err
	}
	done = true
	return nil
}

// IsUnique reports whether err is a UNIQUE or PRIMARY KEY constraint violation, by the
// driver's extended code rather than its text.
func IsUnique(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey
	}
	return false
}

// Millis stores an instant as INTEGER Unix milliseconds in UTC; the zero time is 0.
func Millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// FromMillis is the inverse of Millis.
func FromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// NullString maps "" to SQL NULL.
func NullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// JoinList and SplitList store a short list of words as one comma-separated TEXT column.
func JoinList(xs []string) string { return strings.Join(xs, ",") }

// SplitList is the inverse of JoinList; "" is the empty list.
func SplitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// NullMillis stores an instant that may be unset, such as a code's redemption: the zero time
// is NULL. 0 is never "unset": it is 1970-01-01T00:00:00Z, where the simulator's clock may stand.
func NullMillis(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

// FromNullMillis is the inverse of NullMillis.
func FromNullMillis(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}

// Scanner is what a row scanner needs: *sql.Row and *sql.Rows both are one.
type Scanner interface{ Scan(dest ...any) error }

// Collect scans every row of rows with scan and closes rows: the loop each List method
// would otherwise write again.
func Collect[T any](rows *sql.Rows, scan func(Scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// SetReadOnly switches the database's one connection to refuse every write (PRAGMA
// query_only) or back: reads keep working and each write fails as on a read-only disk. It is
// the simulator's way to show how a party answers when its own storage fails.
func SetReadOnly(ctx context.Context, db *DB, on bool) error {
	v := "OFF"
	if on {
		v = "ON"
	}
	_, err := db.ExecContext(ctx, "PRAGMA query_only = "+v)
	return err
}

// ReadOnly reports whether SetReadOnly switched writes off.
func ReadOnly(ctx context.Context, db *DB) (bool, error) {
	var on bool
	err := db.QueryRowContext(ctx, "PRAGMA query_only").Scan(&on)
	return on, err
}
