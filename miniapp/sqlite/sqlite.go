// Package sqlite is miniapp.Store on SQLite: one database file, migrations embedded from
// migrations/*.sql, times as INTEGER Unix milliseconds.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/store"
	"github.com/boxo-sim/boxo-sim/miniapp"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the miniapp's SQLite store.
type DB struct {
	db *store.DB
	// Read on every request, seldom written: kept in memory, dropped by its writes.
	settings store.Cache[struct{}, miniapp.Settings]
}

var _ miniapp.Store = (*DB)(nil)

// Open opens (creating when needed) the database at path and migrates it.
func Open(ctx context.Context, path string, opts ...store.Option) (*DB, error) {
	db, err := store.Open(ctx, path, migrations, opts...)
	if err != nil {
		return nil, fmt.Errorf("miniapp store: %w", err)
	}
	return &DB{db: db}, nil
}

// Close closes the database.
func (db *DB) Close() error { return db.db.Close() }

// rowScanner is what *sql.Row and *sql.Rows have in common.
type rowScanner interface{ Scan(dest ...any) error }

const settingsColumns = `app_id, secret_hash, required_fields, ip_allowlist, signing_key, user_data_key, trusted_proxies, request_signing, request_signing_secret`

func scanSettings(row rowScanner) (miniapp.Settings, error) {
	var s miniapp.Settings
	var fields, allow, proxies string
	err := row.Scan(&s.AppID, &s.SecretHash, &fields, &allow, &s.SigningKey, &s.UserDataKey, &proxies, &s.RequestSigning, &s.RequestSigningSecret)
	if errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("settings: %w", miniapp.ErrNotFound)
	}
	if err != nil {
		return s, fmt.Errorf("settings: %w", err)
	}
	s.RequiredFields, s.IPAllowlist = store.SplitList(fields), store.SplitList(allow)
	s.TrustedProxies = store.SplitList(proxies)
	return s, nil
}

func settingsArgs(s miniapp.Settings) []any {
	return []any{s.AppID, s.SecretHash, store.JoinList(s.RequiredFields), store.JoinList(s.IPAllowlist), s.SigningKey, s.UserDataKey, store.JoinList(s.TrustedProxies),
		s.RequestSigning, s.RequestSigningSecret}
}

// Settings implements miniapp.Store.
func (db *DB) Settings(ctx context.Context) (miniapp.Settings, error) {
	s, err := db.settings.Get(struct{}{}, func() (miniapp.Settings, error) {
		return scanSettings(db.db.QueryRowContext(ctx, `SELECT `+settingsColumns+` FROM settings WHERE id = 1`))
	})
	s.RequiredFields, s.IPAllowlist, s.TrustedProxies = slices.Clone(s.RequiredFields), slices.Clone(s.IPAllowlist), slices.Clone(s.TrustedProxies)
	s.SigningKey = slices.Clone(s.SigningKey)
	return s, err
}

// CreateSettings implements miniapp.Store.
func (db *DB) CreateSettings(ctx context.Context, s miniapp.Settings) error {
	defer db.settings.Clear()
	if err := checkList(s.RequiredFields, s.IPAllowlist); err != nil {
		return err
	}
	_, err := db.db.ExecContext(ctx, `INSERT INTO settings (id, `+settingsColumns+`) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, settingsArgs(s)...)
	if store.IsUnique(err) {
		return fmt.Errorf("create settings: %w", miniapp.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create settings: %w", err)
	}
	return nil
}

// UpdateSettings implements miniapp.Store.
func (db *DB) UpdateSettings(ctx context.Context, update func(miniapp.Settings) (miniapp.Settings, error)) (miniapp.Settings, error) {
	defer db.settings.Clear()
	var out miniapp.Settings
	err := store.InTx(ctx, db.db, func(tx store.Tx) error {
		cur, err := scanSettings(tx.QueryRowContext(ctx, `SELECT `+settingsColumns+` FROM settings WHERE id = 1`))
		if err != nil {
			return err
		}
		next, err := update(cur)
		if err != nil {
			return err
		}
		if err := checkList(next.RequiredFields, next.IPAllowlist); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE settings SET app_id = ?, secret_hash = ?, required_fields = ?, ip_allowlist = ?, signing_key = ?, user_data_key = ?, trusted_proxies = ?,
			request_signing = ?, request_signing_secret = ? WHERE id = 1`,
			settingsArgs(next)...)
		if err != nil {
			return fmt.Errorf("update settings: %w", err)
		}
		out = next
		return nil
	})
	return out, err
}

// checkList refuses list entries that a comma-separated column cannot hold.
func checkList(lists ...[]string) error {
	for _, l := range lists {
		for _, e := range l {
			if e == "" || strings.Contains(e, ",") {
				return fmt.Errorf("settings: list entry %q is empty or holds a comma", e)
			}
		}
	}
	return nil
}

const userColumns = `id, client_id, reference, email, phone, first_name, last_name, custom_attributes, created_at, updated_at`

func scanUser(row rowScanner) (miniapp.User, error) {
	var u miniapp.User
	var attrs string
	var created, updated int64
	if err := row.Scan(&u.ID, &u.ClientID, &u.Reference, &u.Email, &u.Phone, &u.FirstName, &u.LastName, &attrs, &created, &updated); err != nil {
		return u, err
	}
	if attrs != "" {
		u.CustomAttributes = json.RawMessage(attrs)
	}
	u.CreatedAt, u.UpdatedAt = store.FromMillis(created), store.FromMillis(updated)
	return u, nil
}

// Login implements miniapp.Store. The create-or-find is one INSERT … ON CONFLICT DO UPDATE
// on the UNIQUE (client_id, reference) key, so it is atomic on its own; the user is new when
// the returned id is the proposed one.
// Logins made at the same time share one commit (store.DB.Batch).
func (db *DB) Login(ctx context.Context, u miniapp.User, s miniapp.Session, rt miniapp.RefreshToken) (miniapp.User, bool, error) {
	var out miniapp.User
	err := db.db.Batch(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		out, err = scanUser(tx.QueryRowContext(ctx, `
			INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (client_id, reference) DO UPDATE SET
				email             = CASE WHEN excluded.email             <> '' THEN excluded.email             ELSE users.email             END,
				phone             = CASE WHEN excluded.phone             <> '' THEN excluded.phone             ELSE users.phone             END,
				first_name        = CASE WHEN excluded.first_name        <> '' THEN excluded.first_name        ELSE users.first_name        END,
				last_name         = CASE WHEN excluded.last_name         <> '' THEN excluded.last_name         ELSE users.last_name         END,
				custom_attributes = CASE WHEN excluded.custom_attributes <> '' THEN excluded.custom_attributes ELSE users.custom_attributes END,
				updated_at        = excluded.updated_at
			RETURNING `+userColumns,
			u.ID, u.ClientID, u.Reference, u.Email, u.Phone, u.FirstName, u.LastName, string(u.CustomAttributes),
			store.Millis(u.CreatedAt), store.Millis(u.UpdatedAt)))
		if err != nil {
			return mapErr("upsert user", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, created_at, ended_at) VALUES (?, ?, ?, NULL)`,
			s.ID, out.ID, store.Millis(s.CreatedAt)); err != nil {
			return mapErr("create session", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO refresh_tokens (hash, session_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			rt.Hash, s.ID, store.Millis(rt.CreatedAt), store.Millis(rt.ExpiresAt)); err != nil {
			return mapErr("store refresh token", err)
		}
		return nil
	})
	if err != nil {
		return miniapp.User{}, false, err
	}
	return out, out.ID == u.ID, nil
}

// User implements miniapp.Store.
func (db *DB) User(ctx context.Context, id string) (miniapp.User, error) {
	u, err := scanUser(db.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if err != nil {
		return miniapp.User{}, mapErr("user", err)
	}
	return u, nil
}

// Users implements miniapp.Store.
func (db *DB) Users(ctx context.Context, f miniapp.UserFilter) ([]miniapp.User, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users
		WHERE (? = '' OR client_id = ?) AND (? = '' OR reference = ?)
		ORDER BY created_at, rowid`, f.ClientID, f.ClientID, f.Reference, f.Reference)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []miniapp.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// Session implements miniapp.Store.
func (db *DB) Session(ctx context.Context, id string) (miniapp.Session, error) {
	var s miniapp.Session
	var created int64
	var ended sql.NullInt64
	err := db.db.QueryRowContext(ctx, `SELECT id, user_id, created_at, ended_at FROM sessions WHERE id = ?`, id).
		Scan(&s.ID, &s.UserID, &created, &ended)
	if err != nil {
		return miniapp.Session{}, mapErr("session", err)
	}
	s.CreatedAt, s.EndedAt = store.FromMillis(created), store.FromNullMillis(ended)
	return s, nil
}

// EndSession implements miniapp.Store.
func (db *DB) EndSession(ctx context.Context, id string, at time.Time) error {
	return store.InTx(ctx, db.db, func(tx store.Tx) error {
		ended := at.UnixMilli() // never NULL: NULL is "active", and the epoch is a time like any other
		res, err := tx.ExecContext(ctx, `UPDATE sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL`, ended, id)
		if err != nil {
			return fmt.Errorf("end session: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("end session: %w", err)
		} else if n == 0 {
			return fmt.Errorf("end session: %w", miniapp.ErrNotFound)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM refresh_tokens WHERE session_id = ?`, id); err != nil {
			return fmt.Errorf("revoke refresh tokens: %w", err)
		}
		return nil
	})
}

// RotateRefreshToken implements miniapp.Store. The gate is one DELETE … RETURNING: of
// several calls with one hash only the first finds the row.
func (db *DB) RotateRefreshToken(ctx context.Context, oldHash string, now time.Time, next miniapp.RefreshToken) (miniapp.Session, error) {
	var sess miniapp.Session
	var found bool
	err := store.InTx(ctx, db.db, func(tx store.Tx) error {
		var sessionID string
		var expires int64
		err := tx.QueryRowContext(ctx, `DELETE FROM refresh_tokens WHERE hash = ? RETURNING session_id, expires_at`, oldHash).
			Scan(&sessionID, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("spend refresh token: %w", err)
		}
		if expires <= store.Millis(now) {
			return nil // expired: stays deleted
		}
		var created int64
		err = tx.QueryRowContext(ctx, `SELECT id, user_id, created_at FROM sessions WHERE id = ? AND ended_at IS NULL`, sessionID).
			Scan(&sess.ID, &sess.UserID, &created)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("load session: %w", err)
		}
		sess.CreatedAt = store.FromMillis(created)
		if _, err := tx.ExecContext(ctx, `INSERT INTO refresh_tokens (hash, session_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			next.Hash, sess.ID, store.Millis(next.CreatedAt), store.Millis(next.ExpiresAt)); err != nil {
			return mapErr("store refresh token", err)
		}
		found = true
		return nil
	})
	if err != nil {
		return miniapp.Session{}, err
	}
	if !found {
		return miniapp.Session{}, fmt.Errorf("refresh token: %w", miniapp.ErrNotFound)
	}
	return sess, nil
}

// mapErr wraps err with what was being done, mapping "no rows" to ErrNotFound and unique
// violations to ErrConflict.
func mapErr(what string, err error) error {
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%s: %w", what, miniapp.ErrNotFound)
	case store.IsUnique(err):
		return fmt.Errorf("%s: %w", what, miniapp.ErrConflict)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// DeleteExpired implements miniapp.Store.
func (db *DB) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	n := 0
	err := store.InTx(ctx, db.db, func(tx store.Tx) error {
		for _, q := range []struct {
			sql string
			at  time.Time
		}{
			{`DELETE FROM refresh_tokens WHERE expires_at <= ?`, now},
			{`DELETE FROM sessions WHERE ended_at IS NOT NULL AND ended_at <= ?`, now.Add(-24 * time.Hour)},
		} {
			res, err := tx.ExecContext(ctx, q.sql, store.Millis(q.at))
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n += int(k)
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("delete expired: %w", err)
	}
	return n, nil
}
