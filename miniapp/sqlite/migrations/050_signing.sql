-- Request signing (PROTOCOL §7.8): off by default; the HMAC secret this miniapp shares with
-- the platform's Dashboard, kept raw because verifying needs it.
ALTER TABLE settings ADD COLUMN request_signing INTEGER NOT NULL DEFAULT 0;
ALTER TABLE settings ADD COLUMN request_signing_secret TEXT NOT NULL DEFAULT '';
