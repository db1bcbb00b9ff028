import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';

// For tests only: the relying party the passkey tests configure.
export const testRelyingParty = { rpId: 'numezis.test', origin: 'https://app.numezis.test' } as const;
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();

/**
 * A software authenticator (ES256, "none" attestation), enough to drive the real verification code
 * with responses a browser would send, including ones a browser would not (no UV, a stale counter).
 * End-to-end tests use it too, with the relying party of the stack they talk to.
 */
export class SoftAuthenticator {
  readonly credentialId = randomBytes(16);
  readonly relyingParty: { readonly rpId: string; readonly origin: string };
  readonly #privateKey: KeyObject;
  readonly #cosePublicKey: Uint8Array;
  counter = 0;

  constructor(relyingParty: { readonly rpId: string; readonly origin: string } = testRelyingParty) {
    this.relyingParty = relyingParty;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.#privateKey = privateKey;
    const jwk = publicKey.export({ format: 'jwk' });
    this.#cosePublicKey = isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, new Uint8Array(Buffer.from(jwk.x ?? '', 'base64url'))],
        [-3, new Uint8Array(Buffer.from(jwk.y ?? '', 'base64url'))],
      ]),
    );
  }

  #authData(flags: number, attested: boolean): Buffer {
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(this.counter);
    const parts = [sha256(this.relyingParty.rpId), Buffer.from([flags]), counter];
    if (attested) {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(this.credentialId.length);
      parts.push(Buffer.alloc(16), length, this.credentialId, Buffer.from(this.#cosePublicKey));
    }
    return Buffer.concat(parts);
  }

  create(optionsJson: string, options: { origin?: string; userVerified?: boolean } = {}): string {
    const { challenge } = JSON.parse(optionsJson) as { challenge: string };
    const clientData = JSON.stringify({
      type: 'webauthn.create',
      challenge,
      origin: options.origin ?? this.relyingParty.origin,
    });
    const attestationObject = isoCBOR.encode(
      new Map<string, string | Map<string, string> | Uint8Array>([
        ['fmt', 'none'],
        ['attStmt', new Map<string, string>()],
        ['authData', new Uint8Array(this.#authData((options.userVerified ?? true) ? 0x45 : 0x41, true))],
      ]),
    );
    return JSON.stringify({
      id: b64(this.credentialId),
      rawId: b64(this.credentialId),
      type: 'public-key',
      response: {
        clientDataJSON: b64(Buffer.from(clientData)),
        attestationObject: b64(attestationObject),
        transports: ['internal'],
      },
      clientExtensionResults: {},
    });
  }

  get(optionsJson: string, options: { userVerified?: boolean; countUp?: boolean } = {}): string {
    const { challenge } = JSON.parse(optionsJson) as { challenge: string };
    if (options.countUp ?? true) this.counter += 1;
    const clientData = Buffer.from(
      JSON.stringify({ type: 'webauthn.get', challenge, origin: this.relyingParty.origin }),
    );
    const authData = this.#authData((options.userVerified ?? true) ? 0x05 : 0x01, false);
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientData)]), this.#privateKey);
    return JSON.stringify({
      id: b64(this.credentialId),
      rawId: b64(this.credentialId),
      type: 'public-key',
      response: { clientDataJSON: b64(clientData), authenticatorData: b64(authData), signature: b64(signature) },
      clientExtensionResults: {},
    });
  }
}
