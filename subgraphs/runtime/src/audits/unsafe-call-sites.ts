/**
 * The only files allowed to call `dataAccess.unsafeUnscoped` (or a system job's `unsafeAsSystem`), each with the reason its queries
 * need no scope. Without a scope row-level security shows no tenant rows at all, so an entry is
 * only ever right for tables of people, sessions or secrets, looked up before anyone is known by a
 * key the caller presented (an email, a token, a credential id).
 *
 * The accessmode-scoping audit fails on a call in a file not listed here, and on an entry whose
 * file no longer makes one, so this list always says exactly where unscoped access happens.
 */
export const unsafeCallSites: Readonly<Record<string, string>> = {
  'subgraphs/audit/src/retention/purge-job.ts':
    'the purge job lists the workspaces whose subscription has ended, under its own system job policy; each is then purged in its own workspace scope',
  'subgraphs/identity/src/auth/throttle.ts':
    'failure counters are keyed by account or IP and checked before anyone is signed in; they hold no tenant data',
  'subgraphs/identity/src/crypto/service-key.ts':
    "identity's own service key table: KMS-wrapped keys, no tenant data, read at start before any request and by key maintenance",
  'subgraphs/identity/src/jobs/purge-expired.ts':
    'the system job deletes expired sessions, one-time tokens and throttle counters: people and secrets, no tenant data',
  'subgraphs/identity/src/passkeys/passkeys.ts':
    'passkey sign-in issues and consumes a challenge and finds the credential by its id before anyone is known',
  'subgraphs/identity/src/resolvers/account.ts':
    'sign-up and sign-in find a person by email, and email verification by its token, before anyone is signed in',
  'subgraphs/identity/src/resolvers/recovery.ts':
    'a password reset is requested by email and redeemed by its token, by someone who cannot sign in',
  'subgraphs/identity/src/sessions/sessions.ts':
    'a session is found by the hash of the cookie token presented; everything after it runs in that user scope',
  'subgraphs/runtime/src/audit/mutation-audit.ts':
    'a refused attempt of no workspace (a failed sign-in) records its audit event in the outbox, which a request can only append to',
  'subgraphs/runtime/src/audit/relay.ts':
    "the outbox relay reads and removes delivered audit events of every workspace, under its own system job that the outbox's policy alone admits",
  'subgraphs/runtime/src/crypto/keyring.ts':
    'key maintenance lists the workspaces that have data keys, under its own system job whose policy shows only the KMS-wrapped key rows',
};
