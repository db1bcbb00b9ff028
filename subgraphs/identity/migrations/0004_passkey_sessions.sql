-- A session may start from a passkey (user verification counts as multi-factor).
ALTER TABLE identity.sessions DROP CONSTRAINT sessions_authenticated_with_check;
ALTER TABLE identity.sessions ADD CONSTRAINT sessions_authenticated_with_check
  CHECK (authenticated_with IN ('PASSWORD', 'PASSKEY'));
