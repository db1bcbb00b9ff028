-- A table with sealed columns for the sealed-columns tests.
CREATE TABLE cryptotest.notes (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL PRIMARY KEY,
  title text NOT NULL,
  body text,
  phone text
);
ALTER TABLE cryptotest.notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE cryptotest.notes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON cryptotest.notes
  USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
  WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE ON cryptotest.notes TO numezis_cryptotest_app;
