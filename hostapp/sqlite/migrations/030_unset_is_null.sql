-- "Unset" is NULL, never 0: 0 is 1970-01-01T00:00:00Z, where the simulator's clock may stand,
-- and a code redeemed then must stay redeemed. Existing 0 values meant "unset".
ALTER TABLE auth_codes ADD COLUMN used_at_ms INTEGER;
UPDATE auth_codes SET used_at_ms = NULLIF(used_at, 0);
ALTER TABLE auth_codes DROP COLUMN used_at;
ALTER TABLE auth_codes RENAME COLUMN used_at_ms TO used_at;

ALTER TABLE tokens ADD COLUMN expires_at_ms INTEGER;
ALTER TABLE tokens ADD COLUMN revoked_at_ms INTEGER;
ALTER TABLE tokens ADD COLUMN used_at_ms INTEGER;
UPDATE tokens SET expires_at_ms = NULLIF(expires_at, 0), revoked_at_ms = NULLIF(revoked_at, 0), used_at_ms = NULLIF(used_at, 0);
ALTER TABLE tokens DROP COLUMN expires_at;
ALTER TABLE tokens DROP COLUMN revoked_at;
ALTER TABLE tokens DROP COLUMN used_at;
ALTER TABLE tokens RENAME COLUMN expires_at_ms TO expires_at;
ALTER TABLE tokens RENAME COLUMN revoked_at_ms TO revoked_at;
ALTER TABLE tokens RENAME COLUMN used_at_ms TO used_at;

-- The retention sweep deletes by expiry.
CREATE INDEX auth_codes_expires ON auth_codes (expires_at);
CREATE INDEX tokens_expires ON tokens (expires_at);
CREATE INDEX sessions_expires ON sessions (expires_at);
