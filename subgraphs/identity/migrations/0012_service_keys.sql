-- The identity service key (issue #6): a random 256-bit key, made by the service itself, that seals
-- per-user secrets (TOTP secrets, passkey public keys). It is stored only wrapped by the KMS, with
-- the service and version as AAD, and unwrapped into memory at start. Versioned: the newest seals,
-- older ones keep opening what they sealed. Not tenant data: no tenant_id, no row-level security.
CREATE TABLE identity.service_keys (
  version integer PRIMARY KEY CHECK (version >= 1),
  wrapped bytea NOT NULL CHECK (length(wrapped) > 0),
  kms_key_version text NOT NULL CHECK (length(kms_key_version) BETWEEN 1 AND 500),
  created_at timestamptz NOT NULL DEFAULT now(),
  retired_at timestamptz
);

-- No DELETE: losing a version silently loses every secret it sealed. UPDATE only for re-wrapping
-- under a new KMS version and for marking a version retired.
GRANT SELECT, INSERT ON identity.service_keys TO numezis_identity_app;
GRANT UPDATE (wrapped, kms_key_version, retired_at) ON identity.service_keys TO numezis_identity_app;
