-- Failed authentication attempts per key (an account, a client IP, a TOTP user) in a fixed window,
-- shared by every replica. Keys hold no secrets: an email address, an IP or a user id.
CREATE TABLE identity.auth_attempts (
  key text PRIMARY KEY,
  window_start timestamptz NOT NULL,
  failures integer NOT NULL CHECK (failures > 0)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON identity.auth_attempts TO numezis_identity_app;
