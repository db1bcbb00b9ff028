-- People sign in with email and password, hold sessions, and may enrol TOTP; workspaces carry
-- their fiscal year, subscription and MFA requirement; invitations bring people in.
ALTER TABLE identity.tenants
  ADD COLUMN fiscal_year_start_month smallint NOT NULL DEFAULT 1 CHECK (fiscal_year_start_month BETWEEN 1 AND 12),
  ADD COLUMN subscription_status text NOT NULL DEFAULT 'ACTIVE'
    CHECK (subscription_status IN ('TRIALING', 'ACTIVE', 'PAST_DUE', 'CANCELLED')),
  ADD COLUMN subscription_ends_at timestamptz,
  ADD COLUMN mfa_required boolean NOT NULL DEFAULT false;

ALTER TABLE identity.users
  ADD COLUMN email text CHECK (email = lower(email) AND length(email) <= 254),
  ADD COLUMN email_verified_at timestamptz,
  ADD COLUMN password_hash text,
  -- Sealed with the identity service key (AES-256-GCM, bound to the user id).
  ADD COLUMN totp_secret_sealed text,
  ADD COLUMN totp_pending_sealed text,
  -- The last TOTP time step accepted: a code for it or an earlier step is never accepted again.
  ADD COLUMN totp_last_step bigint;
CREATE UNIQUE INDEX users_email_key ON identity.users (email) WHERE email IS NOT NULL;

-- Sessions and verification tokens belong to a person, not to a workspace: no tenant column. They
-- are found by the hash of a secret the caller presents; the raw tokens are never stored.
CREATE TABLE identity.sessions (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES identity.users (id),
  token_hash bytea NOT NULL UNIQUE,
  active_workspace_id uuid,
  authenticated_with text NOT NULL CHECK (authenticated_with IN ('PASSWORD')),
  mfa_at timestamptz,
  created_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  ip text,
  user_agent text
);
CREATE INDEX sessions_user_idx ON identity.sessions (user_id);

CREATE TABLE identity.email_verifications (
  token_hash bytea PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES identity.users (id),
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);

CREATE TABLE identity.invitations (
  tenant_id uuid NOT NULL REFERENCES identity.tenants (id),
  id uuid PRIMARY KEY,
  email text NOT NULL CHECK (email = lower(email)),
  role text NOT NULL CHECK (role IN ('ADMIN', 'MANAGER', 'OPERATOR', 'VIEWER')),
  token_hash bytea NOT NULL UNIQUE,
  invited_by uuid NOT NULL REFERENCES identity.users (id),
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  accepted_at timestamptz
);

-- A person sees their own memberships in every workspace (to pick one); writes stay per workspace.
DROP POLICY tenant_isolation ON identity.memberships;
CREATE POLICY tenant_isolation ON identity.memberships
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid
         OR user_id = NULLIF(current_setting('app.user_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- ... and the workspaces they are a member of.
DROP POLICY tenant_isolation ON identity.tenants;
CREATE POLICY tenant_isolation ON identity.tenants
  USING (id = NULLIF(current_setting('app.tenant_id', true), '')::uuid
         OR EXISTS (SELECT 1 FROM identity.memberships m
                    WHERE m.tenant_id = tenants.id
                      AND m.user_id = NULLIF(current_setting('app.user_id', true), '')::uuid))
  WITH CHECK (id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- An invitation is visible to its workspace, or to whoever presents its token.
ALTER TABLE identity.invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE identity.invitations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON identity.invitations
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid
         OR token_hash = decode(NULLIF(current_setting('app.token_hash', true), ''), 'hex'))
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

GRANT SELECT, INSERT, UPDATE ON identity.sessions TO numezis_identity_app;
GRANT SELECT, INSERT, UPDATE ON identity.email_verifications TO numezis_identity_app;
GRANT SELECT, INSERT, UPDATE ON identity.invitations TO numezis_identity_app;
