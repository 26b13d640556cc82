-- The contract rules a step's answer broke (contract.FlowStep.Violations), as a JSON array of
-- "PROTOCOL §x.y: what was broken"; NULL when none.
ALTER TABLE flow_steps ADD COLUMN violations TEXT;
