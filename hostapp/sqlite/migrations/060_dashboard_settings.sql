-- Encrypted user_data (PROTOCOL §7.2): the miniapps whose user data the host encrypts, with
-- the key shared with each, as a JSON object app_id → key (URL-safe base64).
ALTER TABLE settings ADD COLUMN encrypted_user_data TEXT NOT NULL DEFAULT '{}';

-- The proxies whose X-Forwarded-For the IP filter believes (PROTOCOL §7.6), a JSON array of
-- CIDRs; empty means X-Forwarded-For is ignored.
ALTER TABLE settings ADD COLUMN trusted_proxies TEXT NOT NULL DEFAULT '[]';
