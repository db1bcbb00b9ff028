-- File contents arrive through the upload route and live in the blob store; PostgreSQL keeps what
-- was detected and computed while they streamed in. Records made before uploads existed keep their
-- metadata and have no content: the three columns are null together or set together.
ALTER TABLE documents.documents
  ADD COLUMN size_bytes bigint CHECK (size_bytes > 0),
  ADD COLUMN sha256 bytea CHECK (octet_length(sha256) = 32),
  ADD COLUMN blob_key text CHECK (length(blob_key) BETWEEN 1 AND 300),
  ADD CONSTRAINT documents_content_together CHECK (
    (size_bytes IS NULL) = (sha256 IS NULL) AND (sha256 IS NULL) = (blob_key IS NULL)
  ),
  -- Lets download tickets reference a document within their own workspace only.
  ADD CONSTRAINT documents_tenant_id_id_key UNIQUE (tenant_id, id);

-- An upload waiting for its file. The ticket in the upload URL is stored only as its SHA-256 and is
-- looked up within the caller's workspace, so another workspace's ticket is simply not there.
CREATE TABLE documents.upload_tickets (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL PRIMARY KEY,
  token_hash bytea NOT NULL CHECK (octet_length(token_hash) = 32),
  file_name text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 255),
  -- Belongs to accounting; no foreign key across services, as in documents.documents.
  journal_entry_id uuid,
  expires_at timestamptz NOT NULL,
  -- Set by the first upload attempt, whatever its outcome: a ticket is never presented twice.
  used_at timestamptz,
  document_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT upload_tickets_tenant_token_key UNIQUE (tenant_id, token_hash)
);

ALTER TABLE documents.upload_tickets ENABLE ROW LEVEL SECURITY;
ALTER TABLE documents.upload_tickets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON documents.upload_tickets
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

GRANT SELECT, INSERT, UPDATE, DELETE ON documents.upload_tickets TO numezis_documents_app;

-- A short-lived, single-use download link, stored like an upload ticket. It goes with its document.
CREATE TABLE documents.download_tickets (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL PRIMARY KEY,
  token_hash bytea NOT NULL CHECK (octet_length(token_hash) = 32),
  document_id uuid NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT download_tickets_tenant_token_key UNIQUE (tenant_id, token_hash),
  CONSTRAINT download_tickets_document_fkey FOREIGN KEY (tenant_id, document_id)
    REFERENCES documents.documents (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX download_tickets_tenant_document_idx ON documents.download_tickets (tenant_id, document_id);

ALTER TABLE documents.download_tickets ENABLE ROW LEVEL SECURITY;
ALTER TABLE documents.download_tickets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON documents.download_tickets
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

GRANT SELECT, INSERT, UPDATE, DELETE ON documents.download_tickets TO numezis_documents_app;
