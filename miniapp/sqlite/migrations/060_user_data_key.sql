-- Encrypted user_data (PROTOCOL §7.2): the key shared with the host app, URL-safe base64, or
-- '' when none is configured.
ALTER TABLE settings ADD COLUMN user_data_key TEXT NOT NULL DEFAULT '';
