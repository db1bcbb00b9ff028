-- Workspaces, people and who belongs where. Row-level security keys everything on
-- app.tenant_id, which the data access path sets per transaction; with no tenant set the policies
-- match nothing (fail closed).
CREATE TABLE identity.tenants (
  id uuid PRIMARY KEY,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  plan text NOT NULL DEFAULT 'FREE' CHECK (plan IN ('FREE', 'PRO', 'PRO_PLUS', 'ENTERPRISE')),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- People are not tenant data (one person may work in many workspaces); they are reached only
-- through memberships, which are.
CREATE TABLE identity.users (
  id uuid PRIMARY KEY,
  display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE identity.memberships (
  tenant_id uuid NOT NULL REFERENCES identity.tenants (id),
  user_id uuid NOT NULL REFERENCES identity.users (id),
  role text NOT NULL CHECK (role IN ('ADMIN', 'MANAGER', 'OPERATOR', 'VIEWER')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX memberships_user_idx ON identity.memberships (user_id);

ALTER TABLE identity.tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE identity.tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON identity.tenants
  USING (id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE identity.memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE identity.memberships FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON identity.memberships
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

GRANT SELECT, INSERT, UPDATE ON identity.tenants TO numezis_identity_app;
GRANT SELECT, INSERT, UPDATE ON identity.users TO numezis_identity_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON identity.memberships TO numezis_identity_app;
