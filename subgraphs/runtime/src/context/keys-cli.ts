// `npm run context-keys -- <key id>`: prints a new Ed25519 pair for the signed context (the gateway
// gets CONTEXT_SIGNING_KEY, every service the public half in CONTEXT_VERIFY_KEYS).
// To rotate: append the new public key to CONTEXT_VERIFY_KEYS everywhere, then switch the gateway's
// signing key, then drop the old public key.
import { generateContextKeyPair } from './signed-context.ts';

const kid = process.argv[2] ?? `k${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`;
const { signingKey, verifyKey } = generateContextKeyPair(kid);
process.stdout.write(`CONTEXT_SIGNING_KEY=${signingKey}\nCONTEXT_VERIFY_KEYS=${verifyKey}\n`);
