-- The miniapp's own settings: exactly one row (id = 1).
CREATE TABLE settings (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    app_id          TEXT    NOT NULL,
    secret_hash     TEXT    NOT NULL,            -- contract.Hash of secret_key
    required_fields TEXT    NOT NULL DEFAULT '', -- comma-separated
    ip_allowlist    TEXT    NOT NULL DEFAULT '', -- comma-separated CIDRs
    signing_key     BLOB    NOT NULL             -- HS256 key of the auth_token
);

-- Users, keyed by the host app (X-Hostapp-Client-ID) and its reference (PROTOCOL §9.17).
-- Empty text means "not provided".
CREATE TABLE users (
    id                TEXT    PRIMARY KEY,
    client_id         TEXT    NOT NULL,
    reference         TEXT    NOT NULL,
    email             TEXT    NOT NULL DEFAULT '',
    phone             TEXT    NOT NULL DEFAULT '',
    first_name        TEXT    NOT NULL DEFAULT '',
    last_name         TEXT    NOT NULL DEFAULT '',
    custom_attributes TEXT    NOT NULL DEFAULT '', -- compact JSON object text
    created_at        INTEGER NOT NULL,            -- Unix ms
    updated_at        INTEGER NOT NULL,
    UNIQUE (client_id, reference)
);

-- Sessions: one per login; ended_at is 0 while active.
CREATE TABLE sessions (
    id         TEXT    PRIMARY KEY,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    ended_at   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_user_id ON sessions (user_id);

-- Refresh tokens, by hash; single use (deleted when spent).
CREATE TABLE refresh_tokens (
    hash       TEXT    PRIMARY KEY,
    session_id TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX refresh_tokens_session_id ON refresh_tokens (session_id);
