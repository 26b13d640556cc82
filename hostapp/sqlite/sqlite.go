// Package sqlite implements hostapp.Store on SQLite (DESIGN.md "Storage").
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/boxo-sim/boxo-sim/hostapp"
	"github.com/boxo-sim/boxo-sim/internal/store"
)

//go:embed migrations/*.sql
var migrationsFS embed.FS

// DB is hostapp's store on one SQLite database.
type DB struct {
	db *store.DB
	// Read on every request, seldom written: kept in memory, dropped by their writes.
	settings store.Cache[struct{}, hostapp.Settings]
	clients  store.Cache[string, hostapp.Client]
	// Each Connect flow reads its user twice and its sign-in session once.
	users    store.Cache[string, hostapp.User]
	sessions store.Cache[string, hostapp.Session]
}

var _ hostapp.Store = (*DB)(nil)

// Open opens (creating if needed) the database at path and applies the migrations.
func Open(ctx context.Context, path string, opts ...store.Option) (*DB, error) {
	migrations, err := fs.Sub(migrationsFS, "migrations")
	if err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, path, migrations, opts...)
	if err != nil {
		return nil, fmt.Errorf("hostapp store: %w", err)
	}
	return &DB{db: db}, nil
}

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

func ms(t time.Time) int64     { return store.Millis(t) }
func fromMS(v int64) time.Time { return store.FromMillis(v) }
func nullMS(t time.Time) any   { return store.NullMillis(t) }
func fromNullMS(v sql.NullInt64) time.Time {
	return store.FromNullMillis(v)
}
func joinScopes(s []string) string  { return strings.Join(s, " ") }
func splitScopes(s string) []string { return strings.Fields(s) }

// mapErr turns driver errors into the Store contract's sentinels.
func mapErr(what string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%s: %w", what, hostapp.ErrNotFound)
	case store.IsUnique(err):
		return fmt.Errorf("%s: %w", what, hostapp.ErrConflict)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// ---- users

const userCols = `id, username, password_hash, reference, email, phone, first_name, last_name, custom_attributes, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanUser(s scanner) (hostapp.User, error) {
	var u hostapp.User
	var created, updated int64
	err := s.Scan(&u.ID, &u.Username, &u.PasswordHash, &u.Reference, &u.Email, &u.Phone,
		&u.FirstName, &u.LastName, &u.CustomAttributes, &created, &updated)
	u.CreatedAt, u.UpdatedAt = fromMS(created), fromMS(updated)
	return u, err
}

// GetUser implements hostapp.Store.
func (d *DB) GetUser(ctx context.Context, username string) (hostapp.User, error) {
	u, err := scanUser(d.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE username = ?`, username))
	return u, mapErr("get user", err)
}

// GetUserByID implements hostapp.Store.
func (d *DB) GetUserByID(ctx context.Context, id string) (hostapp.User, error) {
	u, err := d.users.Get(id, func() (hostapp.User, error) {
		return scanUser(d.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	})
	return u, mapErr("get user by id", err)
}

// ListUsers implements hostapp.Store.
func (d *DB) ListUsers(ctx context.Context) ([]hostapp.User, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY username`)
	if err != nil {
		return nil, mapErr("list users", err)
	}
	defer rows.Close()
	users := []hostapp.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, mapErr("list users", err)
		}
		users = append(users, u)
	}
	return users, mapErr("list users", rows.Err())
}

// PutUser implements hostapp.Store.
func (d *DB) PutUser(ctx context.Context, u hostapp.User) (hostapp.User, bool, error) {
	var created bool
	var stored hostapp.User
	defer d.users.Clear()
	err := store.InTx(ctx, d.db, func(tx store.Tx) error {
		old, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE username = ?`, u.Username))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			created = true
			if u.ID == "" {
				return errors.New("user id is empty")
			}
			if u.UpdatedAt.IsZero() {
				u.UpdatedAt = u.CreatedAt
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO users (`+userCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
				u.ID, u.Username, u.PasswordHash, u.Reference, u.Email, u.Phone, u.FirstName, u.LastName,
				u.CustomAttributes, ms(u.CreatedAt), ms(u.UpdatedAt))
			stored = u
			return err
		case err != nil:
			return err
		}
		u.ID, u.CreatedAt = old.ID, old.CreatedAt
		if u.PasswordHash == "" {
			u.PasswordHash = old.PasswordHash
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, reference = ?, email = ?, phone = ?,
			first_name = ?, last_name = ?, custom_attributes = ?, updated_at = ? WHERE id = ?`,
			u.PasswordHash, u.Reference, u.Email, u.Phone, u.FirstName, u.LastName, u.CustomAttributes,
			ms(u.UpdatedAt), u.ID)
		stored = u
		return err
	})
	if err != nil {
		return hostapp.User{}, false, mapErr("put user", err)
	}
	return stored, created, nil
}

// DeleteUser implements hostapp.Store.
func (d *DB) DeleteUser(ctx context.Context, username string) error {
	defer d.users.Clear()
	defer d.sessions.Clear() // the user's sessions go with it
	res, err := d.db.ExecContext(ctx, `DELETE FROM users WHERE username = ?`, username)
	return mapErr("delete user", affected(res, err))
}

// affected turns "no row changed" into sql.ErrNoRows.
func affected(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return sql.ErrNoRows
	}
	return nil
}

// ---- clients

const clientCols = `id, secret_hash, name, redirect_uris, redirect_match, scopes, skip_consent, created_at, updated_at,
	token_endpoint_auth_method, require_pkce`

func scanClient(s scanner) (hostapp.Client, error) {
	var c hostapp.Client
	var uris, scopes string
	var created, updated int64
	if err := s.Scan(&c.ID, &c.SecretHash, &c.Name, &uris, &c.RedirectMatch, &scopes, &c.SkipConsent, &created, &updated,
		&c.AuthMethod, &c.RequirePKCE); err != nil {
		return c, err
	}
	if err := json.Unmarshal([]byte(uris), &c.RedirectURIs); err != nil {
		return c, fmt.Errorf("client %s: redirect_uris: %w", c.ID, err)
	}
	c.Scopes = splitScopes(scopes)
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	return c, nil
}

// GetClient implements hostapp.Store.
func (d *DB) GetClient(ctx context.Context, id string) (hostapp.Client, error) {
	c, err := d.clients.Get(id, func() (hostapp.Client, error) {
		c, err := scanClient(d.db.QueryRowContext(ctx, `SELECT `+clientCols+` FROM clients WHERE id = ?`, id))
		return c, mapErr("get client", err)
	})
	c.RedirectURIs, c.Scopes = slices.Clone(c.RedirectURIs), slices.Clone(c.Scopes)
	return c, err
}

// ListClients implements hostapp.Store.
func (d *DB) ListClients(ctx context.Context) ([]hostapp.Client, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+clientCols+` FROM clients ORDER BY id`)
	if err != nil {
		return nil, mapErr("list clients", err)
	}
	defer rows.Close()
	clients := []hostapp.Client{}
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, mapErr("list clients", err)
		}
		clients = append(clients, c)
	}
	return clients, mapErr("list clients", rows.Err())
}

// PutClient implements hostapp.Store.
func (d *DB) PutClient(ctx context.Context, c hostapp.Client) (bool, error) {
	uris := c.RedirectURIs
	if uris == nil {
		uris = []string{}
	}
	urisJSON, err := json.Marshal(uris)
	if err != nil {
		return false, err
	}
	match := c.RedirectMatch
	if match == "" {
		match = hostapp.RedirectMatchExact
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	method := c.TokenAuthMethod()
	var created bool
	defer d.clients.Clear()
	err = store.InTx(ctx, d.db, func(tx store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE clients SET secret_hash = ?, name = ?, redirect_uris = ?,
			redirect_match = ?, scopes = ?, skip_consent = ?, updated_at = ?, token_endpoint_auth_method = ?,
			require_pkce = ? WHERE id = ?`,
			c.SecretHash, c.Name, string(urisJSON), match, joinScopes(c.Scopes), c.SkipConsent, ms(c.UpdatedAt),
			method, c.RequirePKCE, c.ID)
		if err := affected(res, err); !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		created = true
		_, err = tx.ExecContext(ctx, `INSERT INTO clients (`+clientCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
			c.ID, c.SecretHash, c.Name, string(urisJSON), match, joinScopes(c.Scopes), c.SkipConsent,
			ms(c.CreatedAt), ms(c.UpdatedAt), method, c.RequirePKCE)
		return err
	})
	return created, mapErr("put client", err)
}

// DeleteClient implements hostapp.Store.
func (d *DB) DeleteClient(ctx context.Context, id string) error {
	defer d.clients.Clear()
	res, err := d.db.ExecContext(ctx, `DELETE FROM clients WHERE id = ?`, id)
	return mapErr("delete client", affected(res, err))
}

// ---- settings

// GetSettings implements hostapp.Store.
func (d *DB) GetSettings(ctx context.Context) (hostapp.Settings, error) {
	s, err := d.settings.Get(struct{}{}, func() (hostapp.Settings, error) { return d.getSettings(ctx) })
	s.IPAllowlist, s.TrustedProxies, s.UserDataKeys = slices.Clone(s.IPAllowlist), slices.Clone(s.TrustedProxies), maps.Clone(s.UserDataKeys)
	return s, err
}

func (d *DB) getSettings(ctx context.Context) (hostapp.Settings, error) {
	var s hostapp.Settings
	var list, keys, proxies string
	err := d.db.QueryRowContext(ctx, `SELECT token_prefix, ip_allowlist, encrypted_user_data, trusted_proxies, signing_enabled, signing_secret FROM settings WHERE id = 1`).Scan(
		&s.TokenPrefix, &list, &keys, &proxies, &s.SigningEnabled, &s.SigningSecret)
	if err != nil {
		return s, mapErr("get settings", err)
	}
	if err := json.Unmarshal([]byte(list), &s.IPAllowlist); err != nil {
		return s, fmt.Errorf("get settings: ip_allowlist: %w", err)
	}
	if err := json.Unmarshal([]byte(keys), &s.UserDataKeys); err != nil {
		return s, fmt.Errorf("get settings: encrypted_user_data: %w", err)
	}
	if len(s.UserDataKeys) == 0 {
		s.UserDataKeys = nil
	}
	if err := json.Unmarshal([]byte(proxies), &s.TrustedProxies); err != nil {
		return s, fmt.Errorf("get settings: trusted_proxies: %w", err)
	}
	if len(s.TrustedProxies) == 0 {
		s.TrustedProxies = nil
	}
	return s, nil
}

// PutSettings implements hostapp.Store.
func (d *DB) PutSettings(ctx context.Context, s hostapp.Settings) error {
	defer d.settings.Clear()
	list := s.IPAllowlist
	if list == nil {
		list = []string{}
	}
	b, err := json.Marshal(list)
	if err != nil {
		return err
	}
	keys := s.UserDataKeys
	if keys == nil {
		keys = map[string]string{}
	}
	kb, err := json.Marshal(keys)
	if err != nil {
		return err
	}
	proxies := s.TrustedProxies
	if proxies == nil {
		proxies = []string{}
	}
	pb, err := json.Marshal(proxies)
	if err != nil {
		return err
	}
	_, err = d.db.ExecContext(ctx, `INSERT INTO settings (id, token_prefix, ip_allowlist, encrypted_user_data, trusted_proxies, signing_enabled, signing_secret)
		VALUES (1, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET token_prefix = excluded.token_prefix, ip_allowlist = excluded.ip_allowlist,
			encrypted_user_data = excluded.encrypted_user_data, trusted_proxies = excluded.trusted_proxies,
			signing_enabled = excluded.signing_enabled, signing_secret = excluded.signing_secret`,
		s.TokenPrefix, string(b), string(kb), string(pb), s.SigningEnabled, s.SigningSecret)
	return mapErr("put settings", err)
}

// ---- sessions

// CreateSession implements hostapp.Store.
func (d *DB) CreateSession(ctx context.Context, s hostapp.Session) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO sessions (hash, user_id, created_at, expires_at) VALUES (?,?,?,?)`,
		s.Hash, s.UserID, ms(s.CreatedAt), ms(s.ExpiresAt))
	return mapErr("create session", err)
}

// GetSession implements hostapp.Store.
func (d *DB) GetSession(ctx context.Context, hash string) (hostapp.Session, error) {
	s, err := d.sessions.Get(hash, func() (hostapp.Session, error) {
		s := hostapp.Session{Hash: hash}
		var created, expires int64
		err := d.db.QueryRowContext(ctx, `SELECT user_id, created_at, expires_at FROM sessions WHERE hash = ?`, hash).
			Scan(&s.UserID, &created, &expires)
		s.CreatedAt, s.ExpiresAt = fromMS(created), fromMS(expires)
		return s, err
	})
	return s, mapErr("get session", err)
}

// DeleteSession implements hostapp.Store.
func (d *DB) DeleteSession(ctx context.Context, hash string) error {
	defer d.sessions.Clear()
	_, err := d.db.ExecContext(ctx, `DELETE FROM sessions WHERE hash = ?`, hash)
	return mapErr("delete session", err)
}

// ---- auth codes

const codeCols = `hash, kind, client_id, user_id, redirect_uri, nonce, scopes, issued_at, expires_at, used_at,
	code_challenge, code_challenge_method, auth_time`

func scanCode(s scanner) (hostapp.AuthCode, error) {
	var c hostapp.AuthCode
	var scopes string
	var issued, expires int64
	var used, authTime sql.NullInt64
	err := s.Scan(&c.Hash, &c.Kind, &c.ClientID, &c.UserID, &c.RedirectURI, &c.Nonce, &scopes, &issued, &expires, &used,
		&c.CodeChallenge, &c.CodeChallengeMethod, &authTime)
	c.Scopes = splitScopes(scopes)
	c.IssuedAt, c.ExpiresAt, c.UsedAt, c.AuthTime = fromMS(issued), fromMS(expires), fromNullMS(used), fromNullMS(authTime)
	return c, err
}

// CreateAuthCode implements hostapp.Store.
// Codes issued at the same time share one commit (store.DB.Batch).
func (d *DB) CreateAuthCode(ctx context.Context, c hostapp.AuthCode) error {
	err := d.db.Batch(ctx, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO auth_codes (`+codeCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			c.Hash, c.Kind, c.ClientID, c.UserID, c.RedirectURI, c.Nonce, joinScopes(c.Scopes),
			ms(c.IssuedAt), ms(c.ExpiresAt), nullMS(c.UsedAt), c.CodeChallenge, c.CodeChallengeMethod, nullMS(c.AuthTime))
		return err
	})
	return mapErr("create auth code", err)
}

// GetAuthCode implements hostapp.Store.
func (d *DB) GetAuthCode(ctx context.Context, hash string) (hostapp.AuthCode, error) {
	c, err := scanCode(d.db.QueryRowContext(ctx, `SELECT `+codeCols+` FROM auth_codes WHERE hash = ?`, hash))
	return c, mapErr("get auth code", err)
}

// RedeemAuthCode implements hostapp.Store. The gate is one conditional UPDATE: of several
// transactions only the first finds used_at unset (NULL).
// Redemptions made at the same time share one commit (store.DB.Batch), each in a savepoint
// of its own, so the gate holds inside a batch as across batches.
func (d *DB) RedeemAuthCode(ctx context.Context, hash string, usedAt time.Time, tokens []hostapp.Token) error {
	err := d.db.Batch(ctx, func(ctx context.Context, tx store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE auth_codes SET used_at = ? WHERE hash = ? AND used_at IS NULL`, ms(usedAt), hash)
		if err := affected(res, err); err != nil {
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM auth_codes WHERE hash = ?`, hash).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return hostapp.ErrNotFound
			}
			return hostapp.ErrUsed
		}
		return insertTokens(ctx, tx, tokens)
	})
	return mapErr("redeem auth code", err)
}

// ---- tokens

const tokenCols = `hash, kind, api, client_id, user_id, app_id, scopes, grant_id, issued_at, expires_at, revoked_at, used_at,
	auth_time`

func insertTokens(ctx context.Context, tx store.Tx, tokens []hostapp.Token) error {
	for _, t := range tokens {
		_, err := tx.ExecContext(ctx, `INSERT INTO tokens (`+tokenCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			t.Hash, t.Kind, t.API, t.ClientID, t.UserID, t.AppID, joinScopes(t.Scopes), t.GrantID,
			ms(t.IssuedAt), nullMS(t.ExpiresAt), nullMS(t.RevokedAt), nullMS(t.UsedAt), nullMS(t.AuthTime))
		if err != nil {
			return err
		}
	}
	return nil
}

// CreateTokens implements hostapp.Store.
func (d *DB) CreateTokens(ctx context.Context, tokens []hostapp.Token) error {
	err := store.InTx(ctx, d.db, func(tx store.Tx) error { return insertTokens(ctx, tx, tokens) })
	return mapErr("create tokens", err)
}

// GetToken implements hostapp.Store.
func (d *DB) GetToken(ctx context.Context, hash string) (hostapp.Token, error) {
	var t hostapp.Token
	var scopes string
	var issued int64
	var expires, revoked, used, authTime sql.NullInt64
	err := d.db.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM tokens WHERE hash = ?`, hash).Scan(
		&t.Hash, &t.Kind, &t.API, &t.ClientID, &t.UserID, &t.AppID, &scopes, &t.GrantID, &issued, &expires, &revoked, &used, &authTime)
	t.Scopes = splitScopes(scopes)
	t.IssuedAt, t.ExpiresAt, t.RevokedAt, t.UsedAt = fromMS(issued), fromNullMS(expires), fromNullMS(revoked), fromNullMS(used)
	t.AuthTime = fromNullMS(authTime)
	return t, mapErr("get token", err)
}

// RotateRefreshToken implements hostapp.Store.
func (d *DB) RotateRefreshToken(ctx context.Context, hash string, usedAt time.Time, tokens []hostapp.Token) error {
	at := ms(usedAt)
	err := store.InTx(ctx, d.db, func(tx store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE tokens SET used_at = ? WHERE hash = ? AND kind = ?
			AND used_at IS NULL AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)`, at, hash, hostapp.TokenRefresh, at)
		if err := affected(res, err); err != nil {
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM tokens WHERE hash = ? AND kind = ?`, hash, hostapp.TokenRefresh).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return hostapp.ErrNotFound
			}
			return hostapp.ErrUsed
		}
		return insertTokens(ctx, tx, tokens)
	})
	return mapErr("rotate refresh token", err)
}

// RevokeGrant implements hostapp.Store.
func (d *DB) RevokeGrant(ctx context.Context, grantID string, at time.Time) (int, error) {
	return d.revoke(ctx, "revoke grant", `UPDATE tokens SET revoked_at = ? WHERE grant_id = ? AND revoked_at IS NULL`, grantID, at)
}

// RevokeUserTokens implements hostapp.Store.
func (d *DB) RevokeUserTokens(ctx context.Context, userID string, at time.Time) (int, error) {
	return d.revoke(ctx, "revoke user tokens", `UPDATE tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`, userID, at)
}

// revoke runs an UPDATE that revokes, at at, the tokens it selects by key, and returns how
// many it revoked.
func (d *DB) revoke(ctx context.Context, what, query, key string, at time.Time) (int, error) {
	res, err := d.db.ExecContext(ctx, query, ms(at), key)
	if err != nil {
		return 0, mapErr(what, err)
	}
	n, err := res.RowsAffected()
	return int(n), mapErr(what, err)
}

// ---- consents

// GetConsent implements hostapp.Store.
func (d *DB) GetConsent(ctx context.Context, userID, clientID string) (hostapp.Consent, error) {
	c := hostapp.Consent{UserID: userID, ClientID: clientID}
	var scopes string
	var granted int64
	err := d.db.QueryRowContext(ctx, `SELECT scopes, granted_at FROM consents WHERE user_id = ? AND client_id = ?`, userID, clientID).
		Scan(&scopes, &granted)
	c.Scopes, c.GrantedAt = splitScopes(scopes), fromMS(granted)
	return c, mapErr("get consent", err)
}

// PutConsent implements hostapp.Store.
func (d *DB) PutConsent(ctx context.Context, c hostapp.Consent) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO consents (user_id, client_id, scopes, granted_at) VALUES (?,?,?,?)
		ON CONFLICT(user_id, client_id) DO UPDATE SET scopes = excluded.scopes, granted_at = excluded.granted_at`,
		c.UserID, c.ClientID, joinScopes(c.Scopes), ms(c.GrantedAt))
	return mapErr("put consent", err)
}

// ---- signing keys

// GetSigningKey implements hostapp.Store.
func (d *DB) GetSigningKey(ctx context.Context) (hostapp.SigningKey, error) {
	var k hostapp.SigningKey
	var created int64
	err := d.db.QueryRowContext(ctx, `SELECT id, der, created_at FROM signing_keys ORDER BY created_at DESC, id LIMIT 1`).
		Scan(&k.ID, &k.DER, &created)
	k.CreatedAt = fromMS(created)
	return k, mapErr("get signing key", err)
}

// CreateSigningKey implements hostapp.Store.
func (d *DB) CreateSigningKey(ctx context.Context, k hostapp.SigningKey) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO signing_keys (id, der, created_at) VALUES (?,?,?)`, k.ID, k.DER, ms(k.CreatedAt))
	return mapErr("create signing key", err)
}

// ---- demo states

// CreateDemoState implements hostapp.Store.
func (d *DB) CreateDemoState(ctx context.Context, s hostapp.DemoState) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO demo_states (hash, browser_hash, nonce, created_at, expires_at) VALUES (?,?,?,?,?)`,
		s.Hash, s.BrowserHash, s.Nonce, ms(s.CreatedAt), ms(s.ExpiresAt))
	return mapErr("create demo state", err)
}

// ConsumeDemoState implements hostapp.Store: one DELETE … RETURNING is the single-use gate.
func (d *DB) ConsumeDemoState(ctx context.Context, hash, browserHash string, now time.Time) (hostapp.DemoState, error) {
	s := hostapp.DemoState{Hash: hash, BrowserHash: browserHash}
	var created, expires int64
	err := store.InTx(ctx, d.db, func(tx store.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM demo_states WHERE expires_at <= ?`, ms(now)); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `DELETE FROM demo_states WHERE hash = ? AND browser_hash = ? RETURNING nonce, created_at, expires_at`,
			hash, browserHash).Scan(&s.Nonce, &created, &expires)
	})
	s.CreatedAt, s.ExpiresAt = fromMS(created), fromMS(expires)
	return s, mapErr("consume demo state", err)
}

// DeleteExpired implements hostapp.Store.
func (d *DB) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	at := ms(now)
	n := 0
	defer d.sessions.Clear()
	err := store.InTx(ctx, d.db, func(tx store.Tx) error {
		for _, q := range []string{
			`DELETE FROM auth_codes WHERE expires_at <= ?`,
			`DELETE FROM tokens WHERE expires_at IS NOT NULL AND expires_at <= ?`,
			`DELETE FROM sessions WHERE expires_at <= ?`,
			`DELETE FROM demo_states WHERE expires_at <= ?`,
		} {
			res, err := tx.ExecContext(ctx, q, at)
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n += int(k)
		}
		return nil
	})
	return n, mapErr("delete expired", err)
}
