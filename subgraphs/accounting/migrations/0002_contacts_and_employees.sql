-- Customers, suppliers and employees. Addresses are the QR-bill's structured address (type S); the
-- checks repeat the application's validation so that no write the application lets through can
-- fail here (a failing check would put the row, personal data, into an error message and the log).
CREATE TABLE accounting.contacts (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('CUSTOMER', 'SUPPLIER')),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 70),
  street text CHECK (length(street) BETWEEN 1 AND 70),
  building_number text CHECK (length(building_number) BETWEEN 1 AND 16),
  postcode text NOT NULL CHECK (length(postcode) BETWEEN 1 AND 16),
  town text NOT NULL CHECK (length(town) BETWEEN 1 AND 35),
  country char(2) NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
  email text CHECK (length(email) BETWEEN 3 AND 254),
  -- Electronic form: uppercase, no spaces (mod-97 and per-country lengths are checked in the application).
  iban text CHECK (iban ~ '^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (country NOT IN ('CH', 'LI') OR postcode ~ '^[0-9]{4}$'),
  UNIQUE (tenant_id, id),
  -- One contact per IBAN in a workspace, so an incoming payment names exactly one contact; it is
  -- also the index contactByIban looks up.
  CONSTRAINT contacts_tenant_iban_key UNIQUE (tenant_id, iban)
);
-- Lists are sorted by lower(name). A name search ('%term%') cannot use a B-tree; within one
-- workspace's contacts a scan of this index is cheap, and trigram search waits until PGlite loads pg_trgm.
CREATE INDEX contacts_tenant_name_idx ON accounting.contacts (tenant_id, lower(name), id);

CREATE TABLE accounting.employees (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL PRIMARY KEY,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 70),
  street text CHECK (length(street) BETWEEN 1 AND 70),
  building_number text CHECK (length(building_number) BETWEEN 1 AND 16),
  postcode text NOT NULL CHECK (length(postcode) BETWEEN 1 AND 16),
  town text NOT NULL CHECK (length(town) BETWEEN 1 AND 35),
  country char(2) NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
  -- The AHV number's 13 digits in PLAIN TEXT until PII encryption lands (its own issue), which
  -- replaces this column with a sealed one. Deliberately no index and no unique key: the number is
  -- never a lookup key, and an index would be one more plaintext copy.
  ahv_number_plaintext char(13) CHECK (ahv_number_plaintext ~ '^756[0-9]{10}$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (country NOT IN ('CH', 'LI') OR postcode ~ '^[0-9]{4}$'),
  UNIQUE (tenant_id, id)
);
CREATE INDEX employees_tenant_name_idx ON accounting.employees (tenant_id, lower(name), id);

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

-- No DELETE yet: nothing removes a contact or an employee, and invoices and payslips will refer to them.
GRANT SELECT, INSERT, UPDATE ON accounting.contacts TO numezis_accounting_app;
GRANT SELECT, INSERT, UPDATE ON accounting.employees TO numezis_accounting_app;
