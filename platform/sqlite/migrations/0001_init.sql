-- The platform's registry, consents, host token pairs and flow log. Times are INTEGER Unix ms.

CREATE TABLE hostapps (
    client_id          TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    connect_enabled    INTEGER NOT NULL,
    access_token_url   TEXT NOT NULL,
    user_data_url      TEXT NOT NULL,
    refresh_token_url  TEXT NOT NULL DEFAULT '',
    hostapp_client_id  TEXT NOT NULL,
    hostapp_secret_key TEXT NOT NULL, -- raw: the platform sends it (PROTOCOL §3.7)
    token_prefix       TEXT NOT NULL,
    user_data_method   TEXT NOT NULL,
    ip_allowlist       TEXT NOT NULL  -- comma-separated CIDRs
);

CREATE TABLE miniapps (
    app_id          TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    url             TEXT NOT NULL,
    auth_token_url  TEXT NOT NULL,
    secret_key      TEXT NOT NULL, -- raw: the platform sends it (PROTOCOL §3.11)
    required_fields TEXT NOT NULL, -- comma-separated
    ip_allowlist    TEXT NOT NULL
);

CREATE TABLE partnerships (
    client_id       TEXT NOT NULL REFERENCES hostapps (client_id) ON DELETE CASCADE,
    app_id          TEXT NOT NULL REFERENCES miniapps (app_id) ON DELETE CASCADE,
    connect_enabled INTEGER NOT NULL,
    direct_enabled  INTEGER NOT NULL,
    PRIMARY KEY (client_id, app_id)
);
CREATE INDEX partnerships_app ON partnerships (app_id);

CREATE TABLE consents (
    client_id      TEXT NOT NULL,
    app_id         TEXT NOT NULL,
    user_reference TEXT NOT NULL,
    fields         TEXT NOT NULL,
    granted_at     INTEGER NOT NULL,
    PRIMARY KEY (client_id, app_id, user_reference)
);
CREATE INDEX consents_app ON consents (app_id);

CREATE TABLE host_tokens (
    client_id     TEXT NOT NULL,
    app_id        TEXT NOT NULL,
    reference     TEXT NOT NULL,
    access_token  TEXT NOT NULL, -- raw: sent back to the host (refresh, payments; PROTOCOL §9.14)
    refresh_token TEXT NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (client_id, app_id, reference)
);
CREATE INDEX host_tokens_app ON host_tokens (app_id);

CREATE TABLE flows (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT, -- creation order: newest first = seq DESC
    id             TEXT NOT NULL UNIQUE,
    started_at     INTEGER NOT NULL,
    client_id      TEXT NOT NULL DEFAULT '',
    app_id         TEXT NOT NULL DEFAULT '',
    user_reference TEXT NOT NULL DEFAULT '',
    outcome        TEXT NOT NULL DEFAULT 'running',
    error_code     TEXT NOT NULL DEFAULT ''
);

CREATE TABLE flow_steps (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    flow_id     TEXT NOT NULL REFERENCES flows (id) ON DELETE CASCADE,
    step        INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    call        TEXT NOT NULL,
    status      INTEGER NOT NULL,
    started_at  INTEGER NOT NULL,
    duration_ms REAL NOT NULL,
    outcome     TEXT NOT NULL,
    error_code  TEXT NOT NULL,
    note        TEXT NOT NULL,
    request     TEXT, -- contract.Exchange as JSON, already masked
    response    TEXT
);
CREATE INDEX flow_steps_order ON flow_steps (flow_id, step, started_at, seq);
