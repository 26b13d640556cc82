-- Standard parameters of the authorization server (PROTOCOL §6.13): per-client
-- authentication method and PKCE requirement, PKCE challenges and the sign-in time on codes,
-- the sign-in time on tokens (refreshed ID tokens keep the original auth_time).

ALTER TABLE clients ADD COLUMN token_endpoint_auth_method TEXT NOT NULL DEFAULT 'client_secret_basic';
ALTER TABLE clients ADD COLUMN require_pkce INTEGER NOT NULL DEFAULT 0;

-- code_challenge: as sent for S256 (already a hash of the verifier), the contract.Hash of
-- the challenge for plain (the challenge is then the verifier itself). '' when none was sent.
ALTER TABLE auth_codes ADD COLUMN code_challenge TEXT NOT NULL DEFAULT '';
ALTER TABLE auth_codes ADD COLUMN code_challenge_method TEXT NOT NULL DEFAULT '';
-- auth_time: Unix milliseconds of the sign-in; NULL when unknown (codes and tokens stored
-- before it was recorded, v1 and Connect grants keep it too).
ALTER TABLE auth_codes ADD COLUMN auth_time INTEGER;

ALTER TABLE tokens ADD COLUMN auth_time INTEGER;
