-- Encrypted user_data (PROTOCOL §7.2): the key shared with the host app, URL-safe base64, or
-- '' when none is configured.
ALTER TABLE settings ADD COLUMN user_data_key TEXT NOT NULL DEFAULT '';

-- The proxies whose X-Forwarded-For the IP filter believes (PROTOCOL §7.6), comma-separated
-- CIDRs; '' means X-Forwarded-For is ignored.
ALTER TABLE settings ADD COLUMN trusted_proxies TEXT NOT NULL DEFAULT '';
