CREATE TABLE documents.documents (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL PRIMARY KEY,
  file_name text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 255),
  content_type text NOT NULL CHECK (content_type IN ('application/pdf', 'image/png', 'image/jpeg', 'image/tiff')),
  -- Belongs to accounting; no foreign key across services, so the id is checked at the edge of use.
  journal_entry_id uuid,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX documents_tenant_entry_idx ON documents.documents (tenant_id, journal_entry_id);
CREATE INDEX documents_tenant_created_idx ON documents.documents (tenant_id, created_at DESC);

ALTER TABLE documents.documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE documents.documents FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON documents.documents
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

GRANT SELECT, INSERT, UPDATE, DELETE ON documents.documents TO numezis_documents_app;
