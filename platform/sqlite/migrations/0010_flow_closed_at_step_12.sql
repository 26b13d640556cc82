-- A flow is closed when the platform answers step 12, whether or not an SDK reports its own
-- steps afterwards (a team's web host app does not): flows that stopped there stay "ok"
-- instead of "running" forever.
UPDATE flows SET outcome = 'ok'
 WHERE outcome = 'running'
   AND EXISTS (SELECT 1 FROM flow_steps WHERE flow_steps.flow_id = flows.id AND step = 12 AND outcome = 'ok');
