-- The audit trail (issue #7): append-only, one sequence and hash chain per workspace, signed
-- checkpoints, retention with legal holds. Nothing was ever written to the first table.
DROP TABLE audit.audit_events;

CREATE TABLE audit.audit_events (
  -- The nil UUID holds the events of no workspace (sign-ups, failed sign-ins).
  tenant_id uuid NOT NULL,
  seq bigint NOT NULL CHECK (seq >= 1),
  id uuid NOT NULL UNIQUE,
  source text NOT NULL CHECK (length(source) BETWEEN 1 AND 32),
  action text NOT NULL CHECK (length(action) BETWEEN 1 AND 100),
  retention text NOT NULL CHECK (retention IN ('accounting', 'standard')),
  actor jsonb NOT NULL,
  actor_user_id uuid,
  targets jsonb NOT NULL,
  before jsonb,
  after jsonb,
  outcome text NOT NULL CHECK (outcome IN ('success', 'denied', 'failed')),
  reason text,
  request_id text,
  ip text,
  user_agent text,
  occurred_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL,
  -- Accounting events: the end of their fiscal year plus ten years (CO art. 958f).
  statutory_until timestamptz,
  -- sha256(prev_hash || content_digest), content_digest = sha256(canonical content).
  content_digest bytea NOT NULL CHECK (length(content_digest) = 32),
  prev_hash bytea NOT NULL CHECK (length(prev_hash) = 32),
  hash bytea NOT NULL CHECK (length(hash) = 32),
  PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX audit_events_tenant_time_idx ON audit.audit_events (tenant_id, occurred_at);
CREATE INDEX audit_events_tenant_request_idx ON audit.audit_events (tenant_id, request_id);

-- What the purge removed: the chain keeps each removed event's digest and hash, and the purge's
-- own event (in the chain) names the sequence numbers, so a deletion nobody recorded shows.
CREATE TABLE audit.purged_events (
  tenant_id uuid NOT NULL,
  seq bigint NOT NULL,
  content_digest bytea NOT NULL,
  hash bytea NOT NULL,
  purged_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, seq)
);

-- Signed at intervals: an Ed25519 signature over the workspace, sequence, hash and time.
CREATE TABLE audit.checkpoints (
  tenant_id uuid NOT NULL,
  seq bigint NOT NULL,
  hash bytea NOT NULL,
  signed_at timestamptz NOT NULL,
  key_id text NOT NULL,
  signature bytea NOT NULL,
  PRIMARY KEY (tenant_id, seq)
);

-- What retention needs to know of a workspace; learnt from identity's own events.
CREATE TABLE audit.workspace_terms (
  tenant_id uuid PRIMARY KEY,
  fiscal_year_start_month smallint NOT NULL DEFAULT 1 CHECK (fiscal_year_start_month BETWEEN 1 AND 12),
  subscription_ends_at timestamptz,
  updated_at timestamptz NOT NULL
);

-- While a hold is open, nothing of the workspace is purged.
CREATE TABLE audit.legal_holds (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL PRIMARY KEY,
  reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  placed_at timestamptz NOT NULL,
  released_at timestamptz
);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['audit_events', 'purged_events', 'checkpoints', 'workspace_terms', 'legal_holds'] LOOP
    EXECUTE format('ALTER TABLE audit.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE audit.%I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format(
      'CREATE POLICY tenant_isolation ON audit.%I
         USING (tenant_id = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid)
         WITH CHECK (tenant_id = NULLIF(current_setting(''app.tenant_id'', true), '''')::uuid)', t);
  END LOOP;
END $$;

-- The purge job finds the workspaces whose subscription has ended; it then acts in each one alone.
CREATE POLICY purge_job_finds_ended ON audit.workspace_terms FOR SELECT
  USING (current_setting('app.system_job', true) = 'audit.purge');

-- Append-only: the application role inserts and reads. UPDATE is refused to everyone; DELETE only
-- to the purge role, and only for an expired event of a workspace without an open hold.
GRANT SELECT, INSERT ON audit.audit_events, audit.purged_events, audit.checkpoints TO numezis_audit_app;
GRANT SELECT, INSERT, UPDATE ON audit.workspace_terms TO numezis_audit_app;
GRANT SELECT, INSERT, UPDATE (released_at) ON audit.legal_holds TO numezis_audit_app;
GRANT SELECT, DELETE ON audit.audit_events TO numezis_audit_purge;
GRANT SELECT, INSERT ON audit.purged_events TO numezis_audit_purge;
GRANT SELECT ON audit.workspace_terms, audit.legal_holds TO numezis_audit_purge;

CREATE FUNCTION audit.expires_at(event audit.audit_events) RETURNS timestamptz
  LANGUAGE sql STABLE AS $$
    SELECT CASE
      WHEN t.subscription_ends_at IS NULL THEN NULL
      ELSE greatest(coalesce(event.statutory_until, '-infinity'::timestamptz), t.subscription_ends_at)
    END
    FROM audit.workspace_terms t WHERE t.tenant_id = event.tenant_id
  $$;

CREATE FUNCTION audit.refuse_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' OR TG_OP = 'TRUNCATE' THEN
    RAISE EXCEPTION 'audit events are append-only' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF current_user <> 'numezis_audit_purge' THEN
    RAISE EXCEPTION 'only the purge job deletes audit events' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF coalesce(audit.expires_at(OLD) >= now(), true) THEN
    RAISE EXCEPTION 'audit event % of % has not expired', OLD.seq, OLD.tenant_id USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF EXISTS (SELECT 1 FROM audit.legal_holds h WHERE h.tenant_id = OLD.tenant_id AND h.released_at IS NULL) THEN
    RAISE EXCEPTION 'workspace % is under legal hold', OLD.tenant_id USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN OLD;
END $$;

CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit.audit_events
  FOR EACH ROW EXECUTE FUNCTION audit.refuse_rewrite();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit.audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_rewrite();
CREATE FUNCTION audit.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%.% is append-only', TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER purged_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit.purged_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit.checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();
