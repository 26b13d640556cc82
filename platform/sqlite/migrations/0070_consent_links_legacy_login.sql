-- The Dashboard's consent links of a miniapp (PROTOCOL §3.5), shown on the SDK's consent
-- prompt: a JSON array of {"title", "url"}.
ALTER TABLE miniapps ADD COLUMN consent_links TEXT NOT NULL DEFAULT '[]';

-- The host app's switch for the legacy payload login (PROTOCOL §7.10), off by default.
ALTER TABLE hostapps ADD COLUMN legacy_login_enabled INTEGER NOT NULL DEFAULT 0;
