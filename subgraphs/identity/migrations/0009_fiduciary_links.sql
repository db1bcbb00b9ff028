-- A client workspace linked to a fiduciary firm's workspace: the firm's members work in the
-- client workspace with the role the link grants (an individual membership wins over it).
CREATE TABLE identity.fiduciary_links (
  tenant_id uuid NOT NULL REFERENCES identity.tenants (id),
  fiduciary_tenant_id uuid NOT NULL REFERENCES identity.tenants (id),
  role text NOT NULL CHECK (role IN ('ADMIN', 'MANAGER', 'OPERATOR', 'VIEWER')),
  created_by uuid NOT NULL REFERENCES identity.users (id),
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, fiduciary_tenant_id),
  CHECK (tenant_id <> fiduciary_tenant_id)
);
CREATE INDEX fiduciary_links_firm_idx ON identity.fiduciary_links (fiduciary_tenant_id);

ALTER TABLE identity.fiduciary_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE identity.fiduciary_links FORCE ROW LEVEL SECURITY;
-- Visible to the client workspace, and to a person who is a member of the linked firm.
CREATE POLICY tenant_isolation ON identity.fiduciary_links
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid
         OR EXISTS (SELECT 1 FROM identity.memberships m
                    WHERE m.tenant_id = fiduciary_links.fiduciary_tenant_id
                      AND m.user_id = NULLIF(current_setting('app.user_id', true), '')::uuid))
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- A firm's member also sees the client workspaces linked to the firm.
DROP POLICY tenant_isolation ON identity.tenants;
CREATE POLICY tenant_isolation ON identity.tenants
  USING (id = NULLIF(current_setting('app.tenant_id', true), '')::uuid
         OR EXISTS (SELECT 1 FROM identity.memberships m
                    WHERE m.tenant_id = tenants.id
                      AND m.user_id = NULLIF(current_setting('app.user_id', true), '')::uuid)
         OR EXISTS (SELECT 1 FROM identity.fiduciary_links l
                    WHERE l.tenant_id = tenants.id))
  WITH CHECK (id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

GRANT SELECT, INSERT, UPDATE, DELETE ON identity.fiduciary_links TO numezis_identity_app;
