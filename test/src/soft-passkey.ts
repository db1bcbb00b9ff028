import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/**
 * The relying party a stack's identity service accepts when nothing configures it
 * (IDENTITY_WEBAUTHN_RP_ID and IDENTITY_WEBAUTHN_ORIGINS left at their defaults), as the shared stack does.
 */
export const defaultRelyingParty = { rpId: 'localhost', origin: 'http://localhost:4000' } as const;

type Cbor = number | string | Uint8Array | Map<number | string, Cbor>;

function cborHead(major: number, length: number): Buffer {
  if (length < 24) return Buffer.from([(major << 5) | length]);
  if (length < 0x100) return Buffer.from([(major << 5) | 24, length]);
  if (length < 0x10000) {
    const head = Buffer.alloc(3);
    head[0] = (major << 5) | 25;
    head.writeUInt16BE(length, 1);
    return head;
  }
  const head = Buffer.alloc(5);
  head[0] = (major << 5) | 26;
  head.writeUInt32BE(length, 1);
  return head;
}

/** The little CBOR a registration response needs: integers, byte and text strings, maps. */
function cbor(value: Cbor): Buffer {
  if (typeof value === 'number') return value >= 0 ? cborHead(0, value) : cborHead(1, -1 - value);
  if (typeof value === 'string') {
    const text = Buffer.from(value, 'utf8');
    return Buffer.concat([cborHead(3, text.length), text]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([cborHead(2, value.length), value]);
  const parts = [cborHead(5, value.size)];
  for (const [key, entry] of value) parts.push(cbor(key), cbor(entry));
  return Buffer.concat(parts);
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();

/**
 * A software authenticator (ES256, "none" attestation, user verified) answering the options a stack
 * hands out, as a browser would: no Chromium needed when a test only needs a working passkey.
 */
export class SoftPasskey {
  readonly credentialId = randomBytes(16);
  readonly #privateKey: KeyObject;
  readonly #cosePublicKey: Buffer;
  readonly relyingParty: { readonly rpId: string; readonly origin: string };
  #counter = 0;

  constructor(relyingParty: { readonly rpId: string; readonly origin: string } = defaultRelyingParty) {
    this.relyingParty = relyingParty;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.#privateKey = privateKey;
    const jwk = publicKey.export({ format: 'jwk' });
    this.#cosePublicKey = cbor(
      new Map<number, Cbor>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(jwk.x ?? '', 'base64url')],
        [-3, Buffer.from(jwk.y ?? '', 'base64url')],
      ]),
    );
  }

  #authenticatorData(flags: number, attested: boolean): Buffer {
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(this.#counter);
    const parts: Uint8Array[] = [sha256(this.relyingParty.rpId), Buffer.from([flags]), counter];
    if (attested) {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(this.credentialId.length);
      parts.push(Buffer.alloc(16), length, this.credentialId, this.#cosePublicKey);
    }
    return Buffer.concat(parts);
  }

  #clientData(type: string, optionsJson: string): Buffer {
    const { challenge } = JSON.parse(optionsJson) as { challenge: string };
    return Buffer.from(JSON.stringify({ type, challenge, origin: this.relyingParty.origin }));
  }

  /** The registration response (JSON) to PublicKeyCredentialCreationOptionsJSON. */
  create(optionsJson: string): string {
    const clientData = this.#clientData('webauthn.create', optionsJson);
    // Flags: user present, user verified, attested credential data.
    const attestationObject = cbor(
      new Map<string, Cbor>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', this.#authenticatorData(0x45, true)],
      ]),
    );
    return JSON.stringify({
      id: b64(this.credentialId),
      rawId: b64(this.credentialId),
      type: 'public-key',
      response: {
        clientDataJSON: b64(clientData),
        attestationObject: b64(attestationObject),
        transports: ['internal'],
      },
      clientExtensionResults: {},
    });
  }

  /** The assertion response (JSON) to PublicKeyCredentialRequestOptionsJSON; the counter goes up. */
  get(optionsJson: string): string {
    this.#counter += 1;
    const clientData = this.#clientData('webauthn.get', optionsJson);
    const authenticatorData = this.#authenticatorData(0x05, false);
    const signature = sign('sha256', Buffer.concat([authenticatorData, sha256(clientData)]), this.#privateKey);
    return JSON.stringify({
      id: b64(this.credentialId),
      rawId: b64(this.credentialId),
      type: 'public-key',
      response: {
        clientDataJSON: b64(clientData),
        authenticatorData: b64(authenticatorData),
        signature: b64(signature),
      },
      clientExtensionResults: {},
    });
  }
}
