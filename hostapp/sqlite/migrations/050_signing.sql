-- Request signing (PROTOCOL §7.8): off by default; the HMAC secret this host app shares with
-- the platform's Dashboard.
ALTER TABLE settings ADD COLUMN signing_enabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE settings ADD COLUMN signing_secret TEXT NOT NULL DEFAULT '';
