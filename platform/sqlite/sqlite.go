// Package sqlite is the platform's Store on SQLite (DESIGN.md "Storage").
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/boxo-sim/boxo-sim/internal/contract"
	"github.com/boxo-sim/boxo-sim/internal/store"
	"github.com/boxo-sim/boxo-sim/platform"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is a platform.Store backed by one SQLite database.
type DB struct {
	db *store.DB
	// What every authorize reads and the Dashboard seldom changes: kept in memory, dropped
	// by every write to the registry or the settings (changed).
	settings     store.Cache[struct{}, platform.Settings]
	hostapps     store.Cache[string, platform.HostApp]
	miniapps     store.Cache[string, platform.Miniapp]
	partnerships store.Cache[[2]string, platform.Partnership]
}

// changed drops the cached registry and settings; every write to them calls it once done.
func (d *DB) changed() {
	d.settings.Clear()
	d.hostapps.Clear()
	d.miniapps.Clear()
	d.partnerships.Clear()
}

var _ platform.Store = (*DB)(nil)

// Open opens (creating and migrating if needed) the database at path.
func Open(ctx context.Context, path string, opts ...store.Option) (*DB, error) {
	db, err := store.Open(ctx, path, migrations, opts...)
	if err != nil {
		return nil, err
	}
	return &DB{db: db}, nil
}

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

// SetReadOnly implements platform.Store.
func (d *DB) SetReadOnly(ctx context.Context, on bool) error { return store.SetReadOnly(ctx, d.db, on) }

// ReadOnly implements platform.Store.
func (d *DB) ReadOnly(ctx context.Context) (bool, error) { return store.ReadOnly(ctx, d.db) }

func notFound(what string) error { return fmt.Errorf("%s: %w", what, store.ErrNotFound) }

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// queryer is what *sql.DB and store.Tx share.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// ---- settings ----

// GetSettings implements platform.Store.
func (d *DB) GetSettings(ctx context.Context) (platform.Settings, error) {
	s, err := d.settings.Get(struct{}{}, func() (platform.Settings, error) { return d.getSettings(ctx) })
	s.TrustedProxies = slices.Clone(s.TrustedProxies)
	return s, err
}

func (d *DB) getSettings(ctx context.Context) (platform.Settings, error) {
	var proxies string
	err := d.db.QueryRowContext(ctx, `SELECT trusted_proxies FROM settings WHERE id = 1`).Scan(&proxies)
	if errors.Is(err, sql.ErrNoRows) {
		return platform.Settings{}, nil
	}
	return platform.Settings{TrustedProxies: store.SplitList(proxies)}, err
}

// PutSettings implements platform.Store.
func (d *DB) PutSettings(ctx context.Context, s platform.Settings) error {
	defer d.changed()
	_, err := d.db.ExecContext(ctx, `INSERT INTO settings (id, trusted_proxies) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET trusted_proxies = excluded.trusted_proxies`, store.JoinList(s.TrustedProxies))
	return err
}

// ---- host apps ----

const hostAppCols = `client_id, name, connect_enabled, access_token_url, user_data_url, refresh_token_url,
	hostapp_client_id, hostapp_secret_key, token_prefix, user_data_method, ip_allowlist, legacy_login_enabled, use_access_token, signing_enabled, signing_secret`

type scanner = store.Scanner

func scanHostApp(s scanner) (platform.HostApp, error) {
	var h platform.HostApp
	var enabled, legacy, useAccess, signing int
	var allow string
	err := s.Scan(&h.ClientID, &h.Name, &enabled, &h.AccessTokenURL, &h.UserDataURL, &h.RefreshTokenURL,
		&h.HostappClientID, &h.HostappSecretKey, &h.TokenPrefix, &h.UserDataMethod, &allow, &legacy, &useAccess, &signing, &h.SigningSecret)
	h.ConnectEnabled, h.UseAccessToken = enabled != 0, useAccess != 0
	h.LegacyLogin, h.SigningEnabled = legacy != 0, signing != 0
	h.IPAllowlist = store.SplitList(allow)
	return h, err
}

func getHostApp(ctx context.Context, q queryer, clientID string) (platform.HostApp, error) {
	h, err := scanHostApp(q.QueryRowContext(ctx, `SELECT `+hostAppCols+` FROM hostapps WHERE client_id = ?`, clientID))
	if errors.Is(err, sql.ErrNoRows) {
		return h, notFound("host app " + clientID)
	}
	return h, err
}

// ListHostApps implements platform.Store.
func (d *DB) ListHostApps(ctx context.Context) ([]platform.HostApp, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+hostAppCols+` FROM hostapps ORDER BY client_id`)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, scanHostApp)
}

// GetHostApp implements platform.Store.
func (d *DB) GetHostApp(ctx context.Context, clientID string) (platform.HostApp, error) {
	h, err := d.hostapps.Get(clientID, func() (platform.HostApp, error) { return getHostApp(ctx, d.db, clientID) })
	h.IPAllowlist = slices.Clone(h.IPAllowlist)
	return h, err
}

// UpdateHostApp implements platform.Store.
func (d *DB) UpdateHostApp(ctx context.Context, clientID string, fn func(platform.HostApp, bool) (platform.HostApp, error)) (platform.HostApp, bool, error) {
	defer d.changed()
	var out platform.HostApp
	var created bool
	err := store.InTx(ctx, d.db, func(tx store.Tx) error {
		old, err := getHostApp(ctx, tx, clientID)
		exists := err == nil
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if !exists {
			old = platform.HostApp{ClientID: clientID}
		}
		h, err := fn(old, exists)
		if err != nil {
			return err
		}
		h.ClientID = clientID
		_, err = tx.ExecContext(ctx, `INSERT INTO hostapps (`+hostAppCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
			ON CONFLICT (client_id) DO UPDATE SET name = excluded.name, connect_enabled = excluded.connect_enabled,
				signing_enabled = excluded.signing_enabled, signing_secret = excluded.signing_secret,
				access_token_url = excluded.access_token_url, user_data_url = excluded.user_data_url,
				refresh_token_url = excluded.refresh_token_url, hostapp_client_id = excluded.hostapp_client_id,
				hostapp_secret_key = excluded.hostapp_secret_key, token_prefix = excluded.token_prefix,
				user_data_method = excluded.user_data_method, ip_allowlist = excluded.ip_allowlist,
				legacy_login_enabled = excluded.legacy_login_enabled, use_access_token = excluded.use_access_token`,
			h.ClientID, h.Name, b2i(h.ConnectEnabled), h.AccessTokenURL, h.UserDataURL, h.RefreshTokenURL,
			h.HostappClientID, h.HostappSecretKey, h.TokenPrefix, h.UserDataMethod, store.JoinList(h.IPAllowlist), b2i(h.LegacyLogin),
			b2i(h.UseAccessToken), b2i(h.SigningEnabled), h.SigningSecret)
		out, created = h, !exists
		return err
	})
	if err != nil {
		return platform.HostApp{}, false, err
	}
	return out, created, nil
}

// DeleteHostApp implements platform.Store.
func (d *DB) DeleteHostApp(ctx context.Context, clientID string) error {
	defer d.changed()
	return store.InTx(ctx, d.db, func(tx store.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM hostapps WHERE client_id = ?`, clientID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("host app " + clientID)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM consents WHERE client_id = ?`, clientID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM host_tokens WHERE client_id = ?`, clientID)
		return err
	})
}

// ---- miniapps ----

const miniappCols = `app_id, name, url, auth_token_url, secret_key, required_fields, ip_allowlist, consent_links, signing_enabled, signing_secret`

func scanMiniapp(s scanner) (platform.Miniapp, error) {
	var m platform.Miniapp
	var fields, allow, links string
	var signing int
	err := s.Scan(&m.AppID, &m.Name, &m.URL, &m.AuthTokenURL, &m.SecretKey, &fields, &allow, &links, &signing, &m.SigningSecret)
	m.SigningEnabled = signing != 0
	m.RequiredFields = store.SplitList(fields)
	m.IPAllowlist = store.SplitList(allow)
	if err == nil && links != "" {
		if jerr := json.Unmarshal([]byte(links), &m.ConsentLinks); jerr != nil {
			err = fmt.Errorf("miniapp %s: consent_links: %w", m.AppID, jerr)
		}
	}
	return m, err
}

// consentLinksJSON is the consent_links column of a miniapp.
func consentLinksJSON(links []contract.ConsentLink) string {
	if len(links) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(links)
	return string(b)
}

func getMiniapp(ctx context.Context, q queryer, appID string) (platform.Miniapp, error) {
	m, err := scanMiniapp(q.QueryRowContext(ctx, `SELECT `+miniappCols+` FROM miniapps WHERE app_id = ?`, appID))
	if errors.Is(err, sql.ErrNoRows) {
		return m, notFound("miniapp " + appID)
	}
	return m, err
}

// ListMiniapps implements platform.Store.
func (d *DB) ListMiniapps(ctx context.Context) ([]platform.Miniapp, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+miniappCols+` FROM miniapps ORDER BY app_id`)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, scanMiniapp)
}

// GetMiniapp implements platform.Store.
func (d *DB) GetMiniapp(ctx context.Context, appID string) (platform.Miniapp, error) {
	m, err := d.miniapps.Get(appID, func() (platform.Miniapp, error) { return getMiniapp(ctx, d.db, appID) })
	m.RequiredFields, m.IPAllowlist, m.ConsentLinks = slices.Clone(m.RequiredFields), slices.Clone(m.IPAllowlist), slices.Clone(m.ConsentLinks)
	return m, err
}

// UpdateMiniapp implements platform.Store.
func (d *DB) UpdateMiniapp(ctx context.Context, appID string, fn func(platform.Miniapp, bool) (platform.Miniapp, error)) (platform.Miniapp, bool, error) {
	defer d.changed()
	var out platform.Miniapp
	var created bool
	err := store.InTx(ctx, d.db, func(tx store.Tx) error {
		old, err := getMiniapp(ctx, tx, appID)
		exists := err == nil
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if !exists {
			old = platform.Miniapp{AppID: appID}
		}
		m, err := fn(old, exists)
		if err != nil {
			return err
		}
		m.AppID = appID
		_, err = tx.ExecContext(ctx, `INSERT INTO miniapps (`+miniappCols+`) VALUES (?,?,?,?,?,?,?,?,?,?)
			ON CONFLICT (app_id) DO UPDATE SET name = excluded.name, url = excluded.url,
				signing_enabled = excluded.signing_enabled, signing_secret = excluded.signing_secret,
				auth_token_url = excluded.auth_token_url, secret_key = excluded.secret_key,
				required_fields = excluded.required_fields, ip_allowlist = excluded.ip_allowlist,
				consent_links = excluded.consent_links`,
			m.AppID, m.Name, m.URL, m.AuthTokenURL, m.SecretKey, store.JoinList(m.RequiredFields), store.JoinList(m.IPAllowlist), consentLinksJSON(m.ConsentLinks),
			b2i(m.SigningEnabled), m.SigningSecret)
		out, created = m, !exists
		return err
	})
	if err != nil {
		return platform.Miniapp{}, false, err
	}
	return out, created, nil
}

// DeleteMiniapp implements platform.Store.
func (d *DB) DeleteMiniapp(ctx context.Context, appID string) error {
	defer d.changed()
	return store.InTx(ctx, d.db, func(tx store.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM miniapps WHERE app_id = ?`, appID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("miniapp " + appID)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM consents WHERE app_id = ?`, appID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM host_tokens WHERE app_id = ?`, appID)
		return err
	})
}

// ---- partnerships ----

func scanPartnership(s scanner) (platform.Partnership, error) {
	var p platform.Partnership
	var c, dr int
	err := s.Scan(&p.ClientID, &p.AppID, &c, &dr)
	p.ConnectEnabled, p.DirectEnabled = c != 0, dr != 0
	return p, err
}

func getPartnership(ctx context.Context, q queryer, clientID, appID string) (platform.Partnership, error) {
	p, err := scanPartnership(q.QueryRowContext(ctx,
		`SELECT client_id, app_id, connect_enabled, direct_enabled FROM partnerships WHERE client_id = ? AND app_id = ?`, clientID, appID))
	if errors.Is(err, sql.ErrNoRows) {
		return p, notFound("partnership " + clientID + "/" + appID)
	}
	return p, err
}

// ListPartnerships implements platform.Store.
func (d *DB) ListPartnerships(ctx context.Context) ([]platform.Partnership, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT client_id, app_id, connect_enabled, direct_enabled FROM partnerships ORDER BY client_id, app_id`)
	if err != nil {
		return nil, err
	}
	return store.Collect(rows, scanPartnership)
}

// GetPartnership implements platform.Store.
func (d *DB) GetPartnership(ctx context.Context, clientID, appID string) (platform.Partnership, error) {
	return d.partnerships.Get([2]string{clientID, appID}, func() (platform.Partnership, error) {
		return getPartnership(ctx, d.db, clientID, appID)
	})
}

// UpdatePartnership implements platform.Store.
func (d *DB) UpdatePartnership(ctx context.Context, clientID, appID string, fn func(platform.Partnership, bool) (platform.Partnership, error)) (platform.Partnership, bool, error) {
	defer d.changed()
	var out platform.Partnership
	var created bool
	err := store.InTx(ctx, d.db, func(tx store.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM hostapps WHERE client_id = ?) + (SELECT COUNT(*) FROM miniapps WHERE app_id = ?)`,
			clientID, appID).Scan(&n); err != nil {
			return err
		}
		if n != 2 {
			return notFound("host app " + clientID + " or miniapp " + appID)
		}
		old, err := getPartnership(ctx, tx, clientID, appID)
		exists := err == nil
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if !exists {
			old = platform.Partnership{ClientID: clientID, AppID: appID}
		}
		p, err := fn(old, exists)
		if err != nil {
			return err
		}
		p.ClientID, p.AppID = clientID, appID
		_, err = tx.ExecContext(ctx, `INSERT INTO partnerships (client_id, app_id, connect_enabled, direct_enabled) VALUES (?,?,?,?)
			ON CONFLICT (client_id, app_id) DO UPDATE SET connect_enabled = excluded.connect_enabled, direct_enabled = excluded.direct_enabled`,
			p.ClientID, p.AppID, b2i(p.ConnectEnabled), b2i(p.DirectEnabled))
		out, created = p, !exists
		return err
	})
	if err != nil {
		return platform.Partnership{}, false, err
	}
	return out, created, nil
}

// DeletePartnership implements platform.Store.
func (d *DB) DeletePartnership(ctx context.Context, clientID, appID string) error {
	defer d.changed()
	res, err := d.db.ExecContext(ctx, `DELETE FROM partnerships WHERE client_id = ? AND app_id = ?`, clientID, appID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("partnership " + clientID + "/" + appID)
	}
	return nil
}

// ---- consents and host tokens ----

// GetConsent implements platform.Store.
func (d *DB) GetConsent(ctx context.Context, clientID, appID, ref string) (platform.Consent, error) {
	c := platform.Consent{ClientID: clientID, AppID: appID, UserReference: ref}
	var fields string
	var at int64
	err := d.db.QueryRowContext(ctx, `SELECT fields, granted_at FROM consents WHERE client_id = ? AND app_id = ? AND user_reference = ?`,
		clientID, appID, ref).Scan(&fields, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound("consent")
	}
	c.Fields, c.GrantedAt = store.SplitList(fields), store.FromMillis(at)
	return c, err
}

// DeleteConsent implements platform.Store.
func (d *DB) DeleteConsent(ctx context.Context, clientID, appID, ref string) error {
	res, err := d.db.ExecContext(ctx, `DELETE FROM consents WHERE client_id = ? AND app_id = ? AND user_reference = ?`, clientID, appID, ref)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("consent")
	}
	return nil
}

// GetHostTokens implements platform.Store.
func (d *DB) GetHostTokens(ctx context.Context, clientID, appID, ref string) (platform.HostTokens, error) {
	t := platform.HostTokens{ClientID: clientID, AppID: appID, Reference: ref}
	var at int64
	err := d.db.QueryRowContext(ctx, `SELECT access_token, refresh_token, updated_at FROM host_tokens WHERE client_id = ? AND app_id = ? AND reference = ?`,
		clientID, appID, ref).Scan(&t.AccessToken, &t.RefreshToken, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return t, notFound("host tokens")
	}
	t.UpdatedAt = store.FromMillis(at)
	return t, err
}

// ---- flow log ----

// RecordFlow implements platform.Store. Flows recorded at the same time share one commit
// (store.DB.Batch); it returns once the commit holding rec is done, so a flow whose answer
// follows is in the log even if the process is killed right after.
func (d *DB) RecordFlow(ctx context.Context, rec platform.FlowRecord) error {
	if rec.FlowID == "" {
		return errors.New("record flow: empty flow id")
	}
	return d.db.Batch(ctx, func(ctx context.Context, tx store.Tx) error { return recordFlow(ctx, tx, rec, false) })
}

// RecordSDKSteps implements platform.Store.
func (d *DB) RecordSDKSteps(ctx context.Context, rec platform.FlowRecord, check func(exists bool, mode string, steps []contract.FlowStep) error) error {
	if rec.FlowID == "" {
		return errors.New("record flow: empty flow id")
	}
	return d.db.Batch(ctx, func(ctx context.Context, tx store.Tx) error {
		var exists bool
		mode := rec.Mode
		switch err := tx.QueryRowContext(ctx, `SELECT mode FROM flows WHERE id = ?`, rec.FlowID).Scan(&mode); {
		case err == nil:
			exists = true
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if mode == "" {
			mode = platform.ModeConnect
		}
		var steps []contract.FlowStep
		if exists {
			rows, err := tx.QueryContext(ctx, `SELECT step, outcome, error_code FROM flow_steps WHERE flow_id = ? ORDER BY step, seq`, rec.FlowID)
			if err != nil {
				return err
			}
			for rows.Next() {
				var st contract.FlowStep
				if err := rows.Scan(&st.Step, &st.Outcome, &st.ErrorCode); err != nil {
					rows.Close()
					return err
				}
				steps = append(steps, st)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		if err := check(exists, mode, steps); err != nil {
			return err
		}
		return recordFlow(ctx, tx, rec, true)
	})
}

// recordFlow writes rec inside tx. fillOnly keeps the flow's client_id, app_id and
// user_reference where they are set already (an SDK report never overwrites them).
func recordFlow(ctx context.Context, tx store.Tx, rec platform.FlowRecord, fillOnly bool) error {
	set := `client_id = COALESCE(NULLIF(excluded.client_id, ''), client_id),
			app_id = COALESCE(NULLIF(excluded.app_id, ''), app_id),
			user_reference = COALESCE(NULLIF(excluded.user_reference, ''), user_reference)`
	if fillOnly {
		set = `client_id = COALESCE(NULLIF(client_id, ''), excluded.client_id),
			app_id = COALESCE(NULLIF(app_id, ''), excluded.app_id),
			user_reference = COALESCE(NULLIF(user_reference, ''), excluded.user_reference)`
	}
	recorded := rec.RecordedAt
	if recorded.IsZero() {
		recorded = rec.StartedAt
	}
	mode, modeSet := rec.Mode, 1
	if mode == "" {
		mode, modeSet = platform.ModeConnect, 0
	}
	// A new flow's outcome follows from rec's steps alone: no need to read them back. The
	// INSERT tells by its count whether the flow is new, without a query of its own.
	outcome, code := newFlowOutcome(mode, rec.Steps)
	res, err := tx.ExecContext(ctx, `INSERT INTO flows (id, started_at, client_id, app_id, user_reference, recorded_at, code_hash, mode, outcome, error_code)
		VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO NOTHING`,
		rec.FlowID, store.Millis(rec.StartedAt), rec.ClientID, rec.AppID, rec.UserReference, store.Millis(recorded), rec.CodeHash, mode, outcome, code)
	if err != nil {
		return fmt.Errorf("record flow: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("record flow: %w", err)
	}
	exists := n == 0
	if exists {
		_, err = tx.ExecContext(ctx, `INSERT INTO flows (id, started_at, client_id, app_id, user_reference, recorded_at, code_hash, mode) VALUES (?,?,?,?,?,?,?,?)
		ON CONFLICT (id) DO UPDATE SET
			started_at = MIN(started_at, excluded.started_at),
			`+set+`,
			code_hash = COALESCE(NULLIF(excluded.code_hash, ''), code_hash),
			mode = CASE WHEN ? THEN excluded.mode ELSE mode END`,
			rec.FlowID, store.Millis(rec.StartedAt), rec.ClientID, rec.AppID, rec.UserReference, store.Millis(recorded), rec.CodeHash, mode, modeSet)
		if err != nil {
			return fmt.Errorf("record flow: %w", err)
		}
	}
	if err := insertFlowSteps(ctx, tx, rec.FlowID, rec.Steps); err != nil {
		return err
	}
	if len(rec.Steps) > 0 && exists {
		if _, err := tx.ExecContext(ctx, `UPDATE flows SET
			outcome = CASE
				WHEN EXISTS (SELECT 1 FROM flow_steps WHERE flow_id = ?1 AND outcome = 'failed') THEN 'failed'
				WHEN mode = 'direct' AND EXISTS (SELECT 1 FROM flow_steps WHERE flow_id = ?1 AND step IN (9, 12) AND outcome = 'ok') THEN 'ok'
				WHEN mode != 'direct' AND EXISTS (SELECT 1 FROM flow_steps WHERE flow_id = ?1 AND step IN (12, 16) AND outcome = 'ok') THEN 'ok'
				ELSE 'running' END,
			error_code = COALESCE((SELECT error_code FROM flow_steps WHERE flow_id = ?1 AND outcome = 'failed'
				ORDER BY step BETWEEN 6 AND (CASE WHEN mode = 'direct' THEN 9 ELSE 12 END) DESC, step, started_at, seq LIMIT 1), '')
			WHERE id = ?1`, rec.FlowID); err != nil {
			return fmt.Errorf("record flow outcome: %w", err)
		}
	}
	if t := rec.HostTokens; t != nil {
		if _, err := tx.ExecContext(ctx, `INSERT INTO host_tokens (client_id, app_id, reference, access_token, refresh_token, updated_at)
			VALUES (?,?,?,?,?,?) ON CONFLICT (client_id, app_id, reference) DO UPDATE SET access_token = excluded.access_token,
			refresh_token = excluded.refresh_token, updated_at = excluded.updated_at`,
			t.ClientID, t.AppID, t.Reference, t.AccessToken, t.RefreshToken, store.Millis(t.UpdatedAt)); err != nil {
			return fmt.Errorf("keep host tokens: %w", err)
		}
	}
	if c := rec.Consent; c != nil {
		if _, err := tx.ExecContext(ctx, `INSERT INTO consents (client_id, app_id, user_reference, fields, granted_at)
			VALUES (?,?,?,?,?) ON CONFLICT (client_id, app_id, user_reference) DO UPDATE SET fields = excluded.fields,
			granted_at = excluded.granted_at`,
			c.ClientID, c.AppID, c.UserReference, store.JoinList(c.Fields), store.Millis(c.GrantedAt)); err != nil {
			return fmt.Errorf("write consent: %w", err)
		}
	}
	return nil
}

// stepsPerInsert bounds the rows of one INSERT into flow_steps: a flow's steps are written
// by one statement (one round trip into SQLite rather than one per step), and the
// connection's statement cache keeps one statement per row count up to this bound.
const stepsPerInsert = 16

var insertStepsSQL = func() (q [stepsPerInsert + 1]string) {
	for n := 1; n <= stepsPerInsert; n++ {
		q[n] = `INSERT INTO flow_steps (flow_id, step, actor, call, status, started_at, duration_ms,
	outcome, error_code, note, request, response, violations) VALUES ` +
			strings.TrimSuffix(strings.Repeat(`(?,?,?,?,?,?,?,?,?,?,?,?,?),`, n), ",")
	}
	return q
}()

// insertFlowSteps appends steps to the flow's steps, in order (the rows of one INSERT take
// their seq in the order of its VALUES).
func insertFlowSteps(ctx context.Context, tx store.Tx, flowID string, steps []contract.FlowStep) error {
	const cols = 13
	args := make([]any, 0, cols*min(len(steps), stepsPerInsert))
	for len(steps) > 0 {
		chunk := steps[:min(len(steps), stepsPerInsert)]
		steps = steps[len(chunk):]
		args = args[:0]
		for _, st := range chunk {
			req, err := exchangeJSON(st.Request)
			if err != nil {
				return err
			}
			resp, err := exchangeJSON(st.Response)
			if err != nil {
				return err
			}
			var violations sql.NullString
			if len(st.Violations) > 0 {
				b, err := json.Marshal(st.Violations)
				if err != nil {
					return fmt.Errorf("encode violations: %w", err)
				}
				violations = sql.NullString{String: string(b), Valid: true}
			}
			args = append(args, flowID, st.Step, st.Actor, st.Call, st.Status, store.Millis(st.StartedAt),
				st.DurationMS, st.Outcome, st.ErrorCode, st.Note, req, resp, violations)
		}
		if _, err := tx.ExecContext(ctx, insertStepsSQL[len(chunk)], args...); err != nil {
			return fmt.Errorf("record flow step: %w", err)
		}
	}
	return nil
}

// newFlowOutcome is the outcome and error code of a new flow with these steps, as the
// UPDATE of recordFlow computes them for a flow that already had some: failed if any step
// failed, with the code of the first failing step among the platform's steps (6–12, or 6–9
// in Direct) else among all, by step number, start (to the millisecond, as stored) and
// insertion; else ok if the flow's closing step (12 or 16; 9 or 12 in Direct) is ok; else
// running.
func newFlowOutcome(mode string, steps []contract.FlowStep) (outcome, code string) {
	platformLast, last := platform.StepsOf(mode)
	outcome = "running"
	first := -1
	before := func(a, b contract.FlowStep) bool {
		ina, inb := a.Step >= 6 && a.Step <= platformLast, b.Step >= 6 && b.Step <= platformLast
		if ina != inb {
			return ina
		}
		if a.Step != b.Step {
			return a.Step < b.Step
		}
		return store.Millis(a.StartedAt) < store.Millis(b.StartedAt)
	}
	for i, st := range steps {
		switch {
		case st.Outcome == contract.OutcomeFailed:
			if first < 0 || before(st, steps[first]) {
				first = i
			}
		case st.Outcome == contract.OutcomeOK && (st.Step == platformLast || st.Step == last) && outcome == "running":
			outcome = contract.OutcomeOK
		}
	}
	if first >= 0 {
		return contract.OutcomeFailed, steps[first].ErrorCode
	}
	return outcome, ""
}

func exchangeJSON(x *contract.Exchange) (sql.NullString, error) {
	if x == nil {
		return sql.NullString{}, nil
	}
	b, err := contract.EncodeExchange(x)
	if err != nil {
		return sql.NullString{}, fmt.Errorf("encode exchange: %w", err)
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

const flowCols = `id, started_at, client_id, app_id, user_reference, outcome, error_code, mode`

func scanFlow(s scanner) (contract.Flow, error) { return scanFlowAnd(s) }

// scanFlowAnd scans flowCols into a flow and the columns after them into extra.
func scanFlowAnd(s scanner, extra ...any) (contract.Flow, error) {
	var f contract.Flow
	var at int64
	err := s.Scan(append([]any{&f.ID, &at, &f.ClientID, &f.AppID, &f.UserReference, &f.Outcome, &f.ErrorCode, &f.Mode}, extra...)...)
	f.StartedAt = flowTime(at)
	return f, err
}

// The instants JSON and RFC 3339 can carry: years 0000 to 9999.
var (
	minFlowTime = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
	maxFlowTime = time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC)
)

// flowTime reads a flow log instant. One outside years 0000–9999, which older versions
// stored from posted steps, is brought to the nearest end of that range, so the flow still
// lists instead of breaking every answer that includes it.
func flowTime(ms int64) time.Time {
	t := store.FromMillis(ms)
	switch {
	case t.Before(minFlowTime):
		return minFlowTime
	case t.After(maxFlowTime):
		return maxFlowTime
	}
	return t
}

// FlowsSharingCode implements platform.Store.
func (d *DB) FlowsSharingCode(ctx context.Context, flowID string) ([]contract.Flow, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+flowCols+` FROM flows WHERE id != ?1 AND code_hash != ''
		AND code_hash = (SELECT code_hash FROM flows WHERE id = ?1) ORDER BY seq`, flowID)
	if err != nil {
		return nil, fmt.Errorf("flows sharing a code: %w", err)
	}
	return store.Collect(rows, scanFlow)
}

// DeleteFlows implements platform.Store.
func (d *DB) DeleteFlows(ctx context.Context) (int, error) {
	res, err := d.db.ExecContext(ctx, `DELETE FROM flows`)
	if err != nil {
		return 0, fmt.Errorf("delete flows: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// PruneFlows implements platform.Store.
func (d *DB) PruneFlows(ctx context.Context, keep int, before time.Time) (int, error) {
	res, err := d.db.ExecContext(ctx, `DELETE FROM flows WHERE recorded_at < ?
		OR seq <= (SELECT seq FROM flows ORDER BY seq DESC LIMIT 1 OFFSET ?)`, store.Millis(before), keep)
	if err != nil {
		return 0, fmt.Errorf("prune flows: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// flowSpan is the time, in ms, from the start of a flow's first step to the end of its last,
// over the steps that cond (on flow_steps s) selects; NULL when it selects none.
func flowSpan(cond string) string {
	steps := `FROM flow_steps s WHERE s.flow_id = flows.id AND ` + cond
	// The integer start times are subtracted first: a REAL sum of a Unix-ms instant and a
	// duration would lose the duration's fraction.
	return `(SELECT MAX(s.started_at - (SELECT MIN(s.started_at) ` + steps + `) + s.duration_ms) ` + steps + `)`
}

// flowDuration is platform.FlowSummary.DurationMS: the span of the SDK's and host app's steps
// (Connect: all but 6–12; Direct: all but 6–9), else of every step, else 0.
var flowDuration = `COALESCE(` + flowSpan(`NOT (s.step BETWEEN 6 AND CASE flows.mode WHEN 'direct' THEN 9 ELSE 12 END)`) +
	`, ` + flowSpan(`1`) + `, 0)`

// ListFlows implements platform.Store.
func (d *DB) ListFlows(ctx context.Context, f platform.FlowFilter) ([]platform.FlowSummary, error) {
	// Only the filters that are set are in the WHERE: a term like (? = '' OR id = ?) would keep
	// SQLite from using the id index, which the console's event stream reads each flow with.
	where, args := "", []any{}
	for _, c := range []struct{ col, v string }{{"id", f.ID}, {"client_id", f.ClientID}, {"app_id", f.AppID},
		{"user_reference", f.UserReference}, {"outcome", f.Outcome}, {"error_code", f.ErrorCode}} {
		if c.v != "" {
			where, args = where+" AND "+c.col+" = ?", append(args, c.v)
		}
	}
	rows, err := d.db.QueryContext(ctx, `SELECT `+flowCols+`, `+flowDuration+` FROM flows WHERE 1`+where+`
		ORDER BY seq DESC LIMIT ?`, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("list flows: %w", err)
	}
	return store.Collect(rows, func(s scanner) (platform.FlowSummary, error) {
		var sum platform.FlowSummary
		var err error
		sum.Flow, err = scanFlowAnd(s, &sum.DurationMS)
		if math.IsNaN(sum.DurationMS) || math.IsInf(sum.DurationMS, 0) || sum.DurationMS < 0 {
			sum.DurationMS = 0
		}
		return sum, err
	})
}

// GetFlow implements platform.Store.
func (d *DB) GetFlow(ctx context.Context, id string) (contract.Flow, error) {
	return d.flowWithSteps(ctx, `SELECT `+flowCols+` FROM flows WHERE id = ?`, id)
}

// LatestFlow implements platform.Store.
func (d *DB) LatestFlow(ctx context.Context) (contract.Flow, error) {
	return d.flowWithSteps(ctx, `SELECT `+flowCols+` FROM flows ORDER BY seq DESC LIMIT 1`)
}

func (d *DB) flowWithSteps(ctx context.Context, query string, args ...any) (contract.Flow, error) {
	f, err := scanFlow(d.db.QueryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return f, notFound("flow")
	}
	if err != nil {
		return f, err
	}
	rows, err := d.db.QueryContext(ctx, `SELECT step, actor, call, status, started_at, duration_ms, outcome, error_code, note,
		request, response, violations FROM flow_steps WHERE flow_id = ? ORDER BY step, started_at, seq`, f.ID)
	if err != nil {
		return f, err
	}
	defer rows.Close()
	f.Steps = []contract.FlowStep{}
	for rows.Next() {
		var st contract.FlowStep
		var at int64
		var req, resp, violations sql.NullString
		if err := rows.Scan(&st.Step, &st.Actor, &st.Call, &st.Status, &at, &st.DurationMS, &st.Outcome, &st.ErrorCode,
			&st.Note, &req, &resp, &violations); err != nil {
			return f, err
		}
		if violations.Valid {
			if err := json.Unmarshal([]byte(violations.String), &st.Violations); err != nil {
				return f, fmt.Errorf("decode violations: %w", err)
			}
		}
		st.StartedAt = flowTime(at)
		if math.IsNaN(st.DurationMS) || math.IsInf(st.DurationMS, 0) { // JSON cannot carry it
			st.DurationMS = 0
		}
		if st.Request, err = parseExchange(req); err != nil {
			return f, err
		}
		if st.Response, err = parseExchange(resp); err != nil {
			return f, err
		}
		f.Steps = append(f.Steps, st)
	}
	return f, rows.Err()
}

func parseExchange(s sql.NullString) (*contract.Exchange, error) {
	if !s.Valid {
		return nil, nil
	}
	var x contract.Exchange
	if err := json.Unmarshal([]byte(s.String), &x); err != nil {
		return nil, fmt.Errorf("decode exchange: %w", err)
	}
	return &x, nil
}
