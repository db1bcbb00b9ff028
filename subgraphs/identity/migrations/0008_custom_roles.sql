-- Custom roles per workspace: each ranks as a built-in base role, with permissions added to or
-- removed from that role's set. A member holds either a built-in role or a custom one.
CREATE TABLE identity.custom_roles (
  tenant_id uuid NOT NULL REFERENCES identity.tenants (id),
  id uuid PRIMARY KEY,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  base_role text NOT NULL CHECK (base_role IN ('ADMIN', 'MANAGER', 'OPERATOR', 'VIEWER')),
  added_permissions text[] NOT NULL DEFAULT '{}',
  removed_permissions text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL,
  UNIQUE (tenant_id, id),
  UNIQUE (tenant_id, name)
);

-- The composite key keeps a member's custom role inside the member's own workspace.
ALTER TABLE identity.memberships
  ADD COLUMN custom_role_id uuid,
  ADD FOREIGN KEY (tenant_id, custom_role_id) REFERENCES identity.custom_roles (tenant_id, id);

ALTER TABLE identity.custom_roles ENABLE ROW LEVEL SECURITY;
ALTER TABLE identity.custom_roles FORCE ROW LEVEL SECURITY;
-- Visible to the workspace, and to a person for the roles they hold (to resolve their session).
CREATE POLICY tenant_isolation ON identity.custom_roles
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid
         OR EXISTS (SELECT 1 FROM identity.memberships m
                    WHERE m.custom_role_id = custom_roles.id
                      AND m.user_id = NULLIF(current_setting('app.user_id', true), '')::uuid))
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

GRANT SELECT, INSERT, UPDATE, DELETE ON identity.custom_roles TO numezis_identity_app;
