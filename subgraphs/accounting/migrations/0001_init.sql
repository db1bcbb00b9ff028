-- Chart of accounts and journal. Composite foreign keys on (tenant_id, id) make it impossible for a
-- posting to reference another workspace's account, whatever the application does.
CREATE TABLE accounting.accounts (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL PRIMARY KEY,
  number text NOT NULL CHECK (number ~ '^[0-9]{3,8}$'),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  type text NOT NULL CHECK (type IN ('ASSET', 'LIABILITY', 'EQUITY', 'REVENUE', 'EXPENSE')),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, id),
  UNIQUE (tenant_id, number)
);

CREATE TABLE accounting.journal_entries (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL PRIMARY KEY,
  booking_date date NOT NULL,
  description text NOT NULL CHECK (length(description) BETWEEN 1 AND 500),
  amount_minor bigint NOT NULL CHECK (amount_minor > 0),
  currency char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  debit_account_id uuid NOT NULL,
  credit_account_id uuid NOT NULL,
  author_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (debit_account_id <> credit_account_id),
  FOREIGN KEY (tenant_id, debit_account_id) REFERENCES accounting.accounts (tenant_id, id),
  FOREIGN KEY (tenant_id, credit_account_id) REFERENCES accounting.accounts (tenant_id, id)
);
CREATE INDEX journal_entries_tenant_date_idx ON accounting.journal_entries (tenant_id, booking_date DESC, created_at DESC);

ALTER TABLE accounting.accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE accounting.accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON accounting.accounts
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE accounting.journal_entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE accounting.journal_entries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON accounting.journal_entries
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

GRANT SELECT, INSERT, UPDATE, DELETE ON accounting.accounts TO numezis_accounting_app;
-- Posted entries are corrected by reversal, never edited or deleted.
GRANT SELECT, INSERT ON accounting.journal_entries TO numezis_accounting_app;
