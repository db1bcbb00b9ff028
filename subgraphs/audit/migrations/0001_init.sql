-- The append-only store of audit events. Recording (outbox relay, hash chain, retention) arrives
-- with the audit trail work; the application role may read and insert, never rewrite history.
CREATE TABLE audit.audit_events (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL PRIMARY KEY,
  action text NOT NULL CHECK (length(action) BETWEEN 1 AND 100),
  actor_user_id uuid,
  occurred_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_events_tenant_time_idx ON audit.audit_events (tenant_id, occurred_at DESC);

ALTER TABLE audit.audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit.audit_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit.audit_events
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

GRANT SELECT, INSERT ON audit.audit_events TO numezis_audit_app;
