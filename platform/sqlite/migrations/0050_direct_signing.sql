-- Request signing (PROTOCOL §7.8), per host app and per miniapp: off by default; the HMAC
-- secret of the simulator's profile.
ALTER TABLE hostapps ADD COLUMN signing_enabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE hostapps ADD COLUMN signing_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE miniapps ADD COLUMN signing_enabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE miniapps ADD COLUMN signing_secret TEXT NOT NULL DEFAULT '';

-- Which flow a flow log entry is: 'connect' (the 16 steps of PROTOCOL §3) or 'direct' (the
-- 12 steps of §7.3); the steps' numbers mean different things in each.
ALTER TABLE flows ADD COLUMN mode TEXT NOT NULL DEFAULT 'connect';
