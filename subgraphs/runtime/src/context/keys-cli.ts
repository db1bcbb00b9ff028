// `npm run context-keys -- <key id>`: prints a deployment's keys in .env form: a new Ed25519 pair for
// the signed context (the gateway gets CONTEXT_SIGNING_KEY, every service the public half in
// CONTEXT_VERIFY_KEYS), the audit ingest token, and a key that signs the audit trail's checkpoints.
// To rotate the context key: append the new public key to CONTEXT_VERIFY_KEYS everywhere, then switch
// the gateway's signing key, then drop the old public key. A new checkpoint key goes to
// AUDIT_CHECKPOINT_SIGNING_KEY, with the old one's public half kept in AUDIT_CHECKPOINT_VERIFY_KEYS.
import { randomBytes } from 'node:crypto';
import { generateContextKeyPair } from './signed-context.ts';

const kid = process.argv[2] ?? `k${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`;
const { signingKey, verifyKey } = generateContextKeyPair(kid);
const checkpoint = generateContextKeyPair(`audit-${kid}`.slice(0, 32));
process.stdout.write(
  `CONTEXT_SIGNING_KEY=${signingKey}\nCONTEXT_VERIFY_KEYS=${verifyKey}\n` +
    `AUDIT_INGEST_TOKEN=${randomBytes(32).toString('base64url')}\n` +
    `AUDIT_CHECKPOINT_SIGNING_KEY=${checkpoint.signingKey}\n`,
);
