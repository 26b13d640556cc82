-- Encrypted user_data (PROTOCOL §7.2): the miniapps whose user data the host encrypts, with
-- the key shared with each, as a JSON object app_id → key (URL-safe base64).
ALTER TABLE settings ADD COLUMN encrypted_user_data TEXT NOT NULL DEFAULT '{}';
