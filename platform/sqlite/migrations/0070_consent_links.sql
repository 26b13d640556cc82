-- The Dashboard's consent links of a miniapp (PROTOCOL §3.5), shown on the SDK's consent
-- prompt: a JSON array of {"title", "url"}.
ALTER TABLE miniapps ADD COLUMN consent_links TEXT NOT NULL DEFAULT '[]';
