-- The flow log's retention counts a flow's age from when the platform first recorded it, on
-- the stack's clock: a posted step's own time is the poster's.
ALTER TABLE flows ADD COLUMN recorded_at INTEGER NOT NULL DEFAULT 0;
UPDATE flows SET recorded_at = started_at;
CREATE INDEX flows_recorded_at ON flows (recorded_at);

-- The SHA-256 of the auth code a flow submitted (contract.Hash), so the trace can tell a flow
-- whose tokens the host revoked because the same code came again in another flow.
ALTER TABLE flows ADD COLUMN code_hash TEXT NOT NULL DEFAULT '';
CREATE INDEX flows_code_hash ON flows (code_hash) WHERE code_hash != '';
