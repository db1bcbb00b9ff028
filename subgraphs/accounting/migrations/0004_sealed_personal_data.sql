-- Personal data is stored only sealed (issue #6): street, building number, postcode and town of
-- contacts and employees, IBANs and AHV numbers hold `v1.<dekVersion>.<base64url>` values,
-- AES-256-GCM under the workspace's field key and bound to workspace, table, column and row; the
-- CHECKs refuse anything else, so a plaintext write fails here even if the application forgot to seal.
--
-- SQL cannot encrypt, so the plaintext tables of 0002 are replaced rather than converted. They only
-- ever held development data (nothing was released with them); a database that has rows in them
-- stops here with a message instead of losing them silently.
ALTER TABLE accounting.contacts NO FORCE ROW LEVEL SECURITY;
ALTER TABLE accounting.employees NO FORCE ROW LEVEL SECURITY;
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM accounting.contacts) OR EXISTS (SELECT 1 FROM accounting.employees) THEN
    RAISE EXCEPTION 'accounting holds contacts or employees stored in plain text before field encryption; '
      'this development data has no upgrade path: remove the development database (.data/accounting) and start again';
  END IF;
END $$;
DROP TABLE accounting.contacts;
DROP TABLE accounting.employees;

CREATE TABLE accounting.contacts (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('CUSTOMER', 'SUPPLIER')),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 70),
  street text CHECK (street ~ '^v1\.[1-9][0-9]{0,9}\.[A-Za-z0-9_-]+$'),
  building_number text CHECK (building_number ~ '^v1\.[1-9][0-9]{0,9}\.[A-Za-z0-9_-]+$'),
  postcode text NOT NULL CHECK (postcode ~ '^v1\.[1-9][0-9]{0,9}\.[A-Za-z0-9_-]+$'),
  town text NOT NULL CHECK (town ~ '^v1\.[1-9][0-9]{0,9}\.[A-Za-z0-9_-]+$'),
  country char(2) NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
  email text CHECK (length(email) BETWEEN 3 AND 254),
  iban text CHECK (iban ~ '^v1\.[1-9][0-9]{0,9}\.[A-Za-z0-9_-]+$'),
  -- HMAC-SHA256 of the electronic IBAN under the workspace's index key: equal IBANs give equal
  -- indexes within a workspace and nothing readable anywhere.
  iban_index text CHECK (iban_index ~ '^v1\.[1-9][0-9]{0,9}\.[A-Za-z0-9_-]{43}$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((iban IS NULL) = (iban_index IS NULL)),
  UNIQUE (tenant_id, id),
  -- One contact per IBAN in a workspace, so an incoming payment names exactly one contact; it is
  -- also the index contactByIban looks up.
  CONSTRAINT contacts_tenant_iban_key UNIQUE (tenant_id, iban_index)
);
-- Lists are sorted by lower(name). A name search ('%term%') cannot use a B-tree; within one
-- workspace's contacts a scan of this index is cheap, and trigram search waits until PGlite loads pg_trgm.
CREATE INDEX contacts_tenant_name_idx ON accounting.contacts (tenant_id, lower(name), id);

CREATE TABLE accounting.employees (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL PRIMARY KEY,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 70),
  street text CHECK (street ~ '^v1\.[1-9][0-9]{0,9}\.[A-Za-z0-9_-]+$'),
  building_number text CHECK (building_number ~ '^v1\.[1-9][0-9]{0,9}\.[A-Za-z0-9_-]+$'),
  postcode text NOT NULL CHECK (postcode ~ '^v1\.[1-9][0-9]{0,9}\.[A-Za-z0-9_-]+$'),
  town text NOT NULL CHECK (town ~ '^v1\.[1-9][0-9]{0,9}\.[A-Za-z0-9_-]+$'),
  country char(2) NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
  -- The AHV number, sealed. No index and no blind index: the number is never a lookup key.
  ahv_number text CHECK (ahv_number ~ '^v1\.[1-9][0-9]{0,9}\.[A-Za-z0-9_-]+$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id)
);
CREATE INDEX employees_tenant_name_idx ON accounting.employees (tenant_id, lower(name), id);

-- Every read of a full AHV number, written before the number is returned. Append-only: the
-- application may insert and read, never change or remove.
CREATE TABLE accounting.sensitive_reads (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  actor_kind text NOT NULL CHECK (actor_kind IN ('user', 'apiKey')),
  actor_id uuid NOT NULL,
  request_id text NOT NULL CHECK (length(request_id) BETWEEN 1 AND 200),
  client_ip text CHECK (length(client_ip) <= 100),
  user_agent text CHECK (length(user_agent) <= 1000),
  subject_type text NOT NULL CHECK (subject_type IN ('Employee')),
  subject_id uuid NOT NULL,
  field text NOT NULL CHECK (field IN ('ahvNumber'))
);
CREATE INDEX sensitive_reads_tenant_at_idx ON accounting.sensitive_reads (tenant_id, at DESC, id);

ALTER TABLE accounting.contacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE accounting.contacts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON accounting.contacts
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE accounting.employees ENABLE ROW LEVEL SECURITY;
ALTER TABLE accounting.employees FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON accounting.employees
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE accounting.sensitive_reads ENABLE ROW LEVEL SECURITY;
ALTER TABLE accounting.sensitive_reads FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON accounting.sensitive_reads
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- No DELETE yet: nothing removes a contact or an employee, and invoices and payslips will refer to them.
GRANT SELECT, INSERT, UPDATE ON accounting.contacts TO numezis_accounting_app;
GRANT SELECT, INSERT, UPDATE ON accounting.employees TO numezis_accounting_app;
GRANT SELECT, INSERT ON accounting.sensitive_reads TO numezis_accounting_app;
