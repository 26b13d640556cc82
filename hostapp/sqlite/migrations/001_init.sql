-- hostapp schema. Times are INTEGER Unix milliseconds (0 = unset). Codes, tokens, session
-- ids and client secrets are stored as contract.Hash values, never raw.

CREATE TABLE users (
    id                TEXT PRIMARY KEY,
    username          TEXT NOT NULL UNIQUE,
    password_hash     TEXT NOT NULL DEFAULT '',
    reference         TEXT NOT NULL DEFAULT '',
    email             TEXT NOT NULL DEFAULT '',
    phone             TEXT NOT NULL DEFAULT '',
    first_name        TEXT NOT NULL DEFAULT '',
    last_name         TEXT NOT NULL DEFAULT '',
    custom_attributes TEXT NOT NULL DEFAULT '',
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);

CREATE TABLE clients (
    id             TEXT PRIMARY KEY,
    secret_hash    TEXT NOT NULL,
    name           TEXT NOT NULL DEFAULT '',
    redirect_uris  TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
    redirect_match TEXT NOT NULL DEFAULT 'exact',
    scopes         TEXT NOT NULL DEFAULT '',   -- space-separated
    skip_consent   INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

-- One row: the Connect settings.
CREATE TABLE settings (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    token_prefix TEXT NOT NULL,
    ip_allowlist TEXT NOT NULL -- JSON array of strings
);

CREATE TABLE sessions (
    hash       TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

-- user_id has no foreign key on purpose: a deleted user's codes and tokens stay, so their
-- use reports USER_NOT_FOUND (PROTOCOL §3.9) instead of an unknown token.
CREATE TABLE auth_codes (
    hash         TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    client_id    TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL,
    redirect_uri TEXT NOT NULL DEFAULT '',
    nonce        TEXT NOT NULL DEFAULT '',
    scopes       TEXT NOT NULL DEFAULT '',
    issued_at    INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX auth_codes_client ON auth_codes(client_id);

CREATE TABLE tokens (
    hash       TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    api        TEXT NOT NULL,
    client_id  TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL,
    app_id     TEXT NOT NULL DEFAULT '',
    scopes     TEXT NOT NULL DEFAULT '',
    grant_id   TEXT NOT NULL,
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL DEFAULT 0,
    revoked_at INTEGER NOT NULL DEFAULT 0,
    used_at    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tokens_grant ON tokens(grant_id);
CREATE INDEX tokens_client ON tokens(client_id);
