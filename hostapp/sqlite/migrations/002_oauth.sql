-- Authorization server (PROTOCOL §6): consent records, the signing key, the demo client's
-- state values (§6.9).

CREATE TABLE consents (
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL DEFAULT '', -- space-separated, as granted
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

CREATE TABLE signing_keys (
    id         TEXT PRIMARY KEY, -- kid
    der        BLOB NOT NULL,    -- PKCS#8 private key
    created_at INTEGER NOT NULL
);

CREATE TABLE demo_states (
    hash         TEXT PRIMARY KEY, -- contract.Hash of the state value
    browser_hash TEXT NOT NULL,    -- contract.Hash of the demo browser cookie
    nonce        TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
