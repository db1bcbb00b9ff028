-- API keys for partner integrations: one workspace and one role each, stored only as a hash,
-- revocable. Visible to their workspace, or to whoever presents the key itself.
CREATE TABLE identity.api_keys (
  tenant_id uuid NOT NULL REFERENCES identity.tenants (id),
  id uuid PRIMARY KEY,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  role text NOT NULL CHECK (role IN ('ADMIN', 'MANAGER', 'OPERATOR', 'VIEWER')),
  token_hash bytea NOT NULL UNIQUE,
  -- The first characters of the key, so people can tell their keys apart; not enough to use one.
  hint text NOT NULL,
  created_by uuid NOT NULL REFERENCES identity.users (id),
  created_at timestamptz NOT NULL,
  last_used_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX api_keys_tenant_idx ON identity.api_keys (tenant_id);

ALTER TABLE identity.api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE identity.api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON identity.api_keys
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid
         OR token_hash = decode(NULLIF(current_setting('app.token_hash', true), ''), 'hex'))
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

GRANT SELECT, INSERT, UPDATE ON identity.api_keys TO numezis_identity_app;
