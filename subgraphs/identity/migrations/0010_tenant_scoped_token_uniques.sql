-- Uniqueness on tenant data is per tenant (the repository-scoping audit's rule): a global unique
-- lets one tenant learn through a duplicate-key error what another holds. Lookups by token keep
-- an ordinary index.
ALTER TABLE identity.invitations DROP CONSTRAINT invitations_token_hash_key;
ALTER TABLE identity.invitations ADD CONSTRAINT invitations_tenant_token_key UNIQUE (tenant_id, token_hash);
CREATE INDEX invitations_token_hash_idx ON identity.invitations (token_hash);

ALTER TABLE identity.api_keys DROP CONSTRAINT api_keys_token_hash_key;
ALTER TABLE identity.api_keys ADD CONSTRAINT api_keys_tenant_token_key UNIQUE (tenant_id, token_hash);
CREATE INDEX api_keys_token_hash_idx ON identity.api_keys (token_hash);
