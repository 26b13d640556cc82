-- "Unset" is NULL, never 0: 0 is 1970-01-01T00:00:00Z, where the simulator's clock may stand,
-- and a session ended then must stay ended. Existing 0 values meant "still active".
ALTER TABLE sessions ADD COLUMN ended_at_ms INTEGER;
UPDATE sessions SET ended_at_ms = NULLIF(ended_at, 0);
ALTER TABLE sessions DROP COLUMN ended_at;
ALTER TABLE sessions RENAME COLUMN ended_at_ms TO ended_at;

-- The retention sweep deletes by expiry.
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);
