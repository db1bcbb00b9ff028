-- WebAuthn passkeys and the challenges their ceremonies sign. Both belong to a person, not to a
-- workspace: no tenant column, like sessions.
CREATE TABLE identity.passkeys (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES identity.users (id),
  -- As the browser reports it (base64url); an assertion names its credential by this id.
  credential_id text NOT NULL UNIQUE CHECK (credential_id ~ '^[A-Za-z0-9_-]+$' AND length(credential_id) <= 1400),
  -- The COSE public key, sealed with the identity service key and bound to the user and credential,
  -- so a row edited to point at another person's account no longer verifies anything.
  public_key_sealed text NOT NULL,
  -- The authenticator's signature counter: an assertion must raise it (when it is not zero).
  counter bigint NOT NULL DEFAULT 0 CHECK (counter >= 0),
  transports text[] NOT NULL DEFAULT '{}',
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  created_at timestamptz NOT NULL,
  last_used_at timestamptz
);
CREATE INDEX passkeys_user_idx ON identity.passkeys (user_id);

-- Only the hash of a challenge is stored. A challenge is used once and lives two minutes; one for a
-- registration is bound to the person and the session that asked for it.
CREATE TABLE identity.webauthn_challenges (
  challenge_hash bytea PRIMARY KEY,
  user_id uuid REFERENCES identity.users (id),
  session_id uuid REFERENCES identity.sessions (id),
  purpose text NOT NULL CHECK (purpose IN ('REGISTER', 'AUTHENTICATE')),
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  CHECK (purpose <> 'REGISTER' OR (user_id IS NOT NULL AND session_id IS NOT NULL))
);
CREATE INDEX webauthn_challenges_expires_idx ON identity.webauthn_challenges (expires_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON identity.passkeys TO numezis_identity_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON identity.webauthn_challenges TO numezis_identity_app;
