-- Password reset by an emailed one-time token, and one-time recovery codes for a lost second
-- factor. Both belong to a person; only hashes are stored.
CREATE TABLE identity.password_resets (
  token_hash bytea PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES identity.users (id),
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);

CREATE TABLE identity.recovery_codes (
  user_id uuid NOT NULL REFERENCES identity.users (id),
  code_hash bytea NOT NULL,
  created_at timestamptz NOT NULL,
  used_at timestamptz,
  PRIMARY KEY (user_id, code_hash)
);

GRANT SELECT, INSERT, UPDATE ON identity.password_resets TO numezis_identity_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON identity.recovery_codes TO numezis_identity_app;
