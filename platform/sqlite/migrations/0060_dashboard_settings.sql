-- "Use access token" for Boxo Payments (PROTOCOL §1.3, §7.9), per host app.
ALTER TABLE hostapps ADD COLUMN use_access_token INTEGER NOT NULL DEFAULT 0;

-- One row: the platform's own settings. trusted_proxies are the comma-separated CIDRs of
-- proxies whose X-Forwarded-For the IP filter believes (PROTOCOL §7.6).
CREATE TABLE settings (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    trusted_proxies TEXT NOT NULL DEFAULT ''
);
