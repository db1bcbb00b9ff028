import { randomUUID } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import type { AuthenticationResponseJSON, RegistrationResponseJSON, WebAuthnCredential } from '@simplewebauthn/server';
import { and, asc, eq, lt } from 'drizzle-orm';
import { badUserInput, clientError, ErrorCode, requiredText } from '@numezis/runtime';
import type { Clock, DataAccess, Tx } from '@numezis/runtime';
import type { ServiceSecretBox } from '../crypto/service-key.ts';
import { passkeys, users } from '../tables.ts';
import type { PasskeyRow } from '../tables.ts';
import { challengeFromClientData, challengeTtlMs, consumeChallenge, issueChallenge } from './challenges.ts';
import type { ChallengeBinding, IssuedChallenge } from './challenges.ts';
import type { WebAuthnSettings } from './settings.ts';

/**
 * Runs in the transaction that stores what a ceremony step made (a challenge, a passkey), so the
 * caller's audit event commits or vanishes with it.
 */
export type RecordStored<T> = (tx: Tx, stored: T) => Promise<void>;

const recordNothing = async () => {};

export interface PasskeyDependencies {
  readonly dataAccess: DataAccess;
  readonly secretBox: ServiceSecretBox;
  readonly webauthn: WebAuthnSettings;
  readonly clock: Clock;
}

// EdDSA, ES256, RS256: what authenticators offer in practice. Fixed rather than the library's
// runtime-dependent default, so the options and the verification can never disagree.
const supportedAlgorithmIDs = [-8, -7, -257];
const knownTransports = new Set(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb']);
// A real response is a few kilobytes; anything far larger is not worth parsing.
const maxResponseLength = 64 * 1024;
const maxCredentialIdLength = 1400;

// The key is bound to its owner and credential: a sealed value copied to another row does not open.
const publicKeyAad = (userId: string, credentialId: string) => `identity.passkeys.public_key:${userId}:${credentialId}`;

/**
 * The WebAuthn user handle: the user id's 16 bytes. Authenticators return it with a discoverable
 * credential, and it must name the credential's owner.
 */
export function webauthnUserHandle(userId: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(userId.replaceAll('-', ''), 'hex'));
}

export const passkeyNotVerified = () =>
  clientError(ErrorCode.UNAUTHENTICATED, 'The passkey could not be verified', { reason: 'PASSKEY_NOT_VERIFIED' });
export const challengeNotFound = () =>
  clientError(ErrorCode.NOT_FOUND, 'This passkey request is unknown, used or expired: start again', {
    reason: 'CHALLENGE_NOT_FOUND',
  });

export async function userHasPasskey(tx: Tx, userId: string): Promise<boolean> {
  const [row] = await tx.select({ id: passkeys.id }).from(passkeys).where(eq(passkeys.userId, userId)).limit(1);
  return row !== undefined;
}

export function listPasskeys(tx: Tx, userId: string): Promise<PasskeyRow[]> {
  return tx.select().from(passkeys).where(eq(passkeys.userId, userId)).orderBy(asc(passkeys.createdAt));
}

/**
 * Adding a factor needs the factors already there: with only a password, a thief could otherwise
 * enrol their own authenticator and turn a pending session into a full one.
 */
export async function assertFullSession(tx: Tx, userId: string, mfaAt: number | null): Promise<void> {
  if (mfaAt !== null) return;
  const [user] = await tx.select({ totpSecretSealed: users.totpSecretSealed }).from(users).where(eq(users.id, userId));
  if (user === undefined) throw clientError(ErrorCode.UNAUTHENTICATED, 'Sign in first');
  if (user.totpSecretSealed !== null || (await userHasPasskey(tx, userId))) {
    throw clientError(ErrorCode.FORBIDDEN, 'Verify your second factor first', { reason: 'MFA_REQUIRED' });
  }
}

/** Options for `navigator.credentials.create`, as JSON; the challenge is bound to this session. */
export async function beginRegistration(
  { dataAccess, webauthn, clock }: PasskeyDependencies,
  caller: { userId: string; sessionId: string; mfaAt: number | null },
  record: RecordStored<IssuedChallenge> = recordNothing,
): Promise<string> {
  const { userId, sessionId } = caller;
  return dataAccess.inScope({ userId }, async (tx) => {
    await assertFullSession(tx, userId, caller.mfaAt);
    const [user] = await tx.select().from(users).where(eq(users.id, userId));
    if (user === undefined) throw clientError(ErrorCode.UNAUTHENTICATED, 'Sign in first');
    const existing = await listPasskeys(tx, userId);
    const issued = await issueChallenge(tx, { purpose: 'REGISTER', userId, sessionId, now: clock.now() });
    await record(tx, issued);
    const options = await generateRegistrationOptions({
      rpName: webauthn.rpName,
      rpID: webauthn.rpId,
      userName: user.email ?? user.displayName,
      userID: webauthnUserHandle(userId),
      userDisplayName: user.displayName,
      challenge: issued.bytes,
      timeout: challengeTtlMs,
      attestationType: 'none',
      // The same authenticator twice would only be a second name for one key.
      excludeCredentials: existing.map((passkey) => ({ id: passkey.credentialId, transports: passkey.transports })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
      supportedAlgorithmIDs,
    });
    return JSON.stringify(options);
  });
}

export async function finishRegistration(
  { dataAccess, secretBox, webauthn, clock }: PasskeyDependencies,
  caller: { userId: string; sessionId: string },
  input: { response: string; name: string },
  record: RecordStored<PasskeyRow> = recordNothing,
): Promise<PasskeyRow> {
  const { userId, sessionId } = caller;
  const name = requiredText(input.name, 'name', 100);
  const response = parseRegistrationResponse(input.response);
  const challenge = challengeFromClientData(response.response.clientDataJSON);
  if (challenge === null) throw badUserInput('response', 'response must be a passkey registration response');
  const binding: ChallengeBinding = { purpose: 'REGISTER', userId, sessionId, allowUnbound: false };
  const consumed = await dataAccess.inScope({ userId }, (tx) => consumeChallenge(tx, challenge, binding, clock.now()));
  if (consumed === null) throw challengeNotFound();

  let credential: WebAuthnCredential;
  try {
    const verification = await verifyRegistrationResponse({
      response,
      expectedChallenge: consumed.challenge,
      expectedOrigin: [...webauthn.origins],
      expectedRPID: webauthn.rpId,
      requireUserVerification: true,
      supportedAlgorithmIDs,
    });
    if (!verification.verified) throw new Error('not verified');
    credential = verification.registrationInfo.credential;
    // WebAuthn caps credential ids at 1023 bytes; the column holds them base64url-encoded.
    if (credential.id.length > maxCredentialIdLength) throw new Error('credential id too long');
  } catch {
    throw badUserInput('response', 'The passkey could not be verified: create it again');
  }

  const transports = (response.response.transports ?? credential.transports ?? []).filter((transport) =>
    knownTransports.has(transport),
  );
  return dataAccess.inScope({ userId }, async (tx) => {
    const [taken] = await tx.select({ id: passkeys.id }).from(passkeys).where(eq(passkeys.credentialId, credential.id));
    if (taken !== undefined) throw badUserInput('response', 'This passkey is already registered');
    const [row] = await tx
      .insert(passkeys)
      .values({
        id: randomUUID(),
        userId,
        credentialId: credential.id,
        publicKeySealed: secretBox.seal(Buffer.from(credential.publicKey), publicKeyAad(userId, credential.id)),
        counter: credential.counter,
        transports,
        name,
        createdAt: new Date(clock.now()),
      })
      .returning();
    if (row === undefined) throw new Error('passkey insert returned no row');
    await record(tx, row);
    return row;
  });
}

/**
 * Options for `navigator.credentials.get`, as JSON. A signed-in caller's challenge is bound to their
 * session (the second factor after a password) and lists their passkeys, so a passkey that is not
 * discoverable works too; an anonymous caller's challenge is for any discoverable passkey.
 */
export async function beginAuthentication(
  { dataAccess, webauthn, clock }: PasskeyDependencies,
  caller: { userId: string; sessionId: string } | null,
  record: RecordStored<IssuedChallenge> = recordNothing,
): Promise<string> {
  const work = async (tx: Tx) => {
    const allowCredentials =
      caller === null
        ? []
        : (await listPasskeys(tx, caller.userId)).map((passkey) => ({
            id: passkey.credentialId,
            transports: passkey.transports,
          }));
    const issued = await issueChallenge(tx, {
      purpose: 'AUTHENTICATE',
      userId: caller?.userId ?? null,
      sessionId: caller?.sessionId ?? null,
      now: clock.now(),
    });
    await record(tx, issued);
    return generateAuthenticationOptions({
      rpID: webauthn.rpId,
      challenge: issued.bytes,
      timeout: challengeTtlMs,
      allowCredentials,
      // Browsers are asked nicely; the server demands user verification when it checks the answer.
      userVerification: 'preferred',
    });
  };
  const options = await (caller === null
    ? dataAccess.unsafeUnscoped(work)
    : dataAccess.inScope({ userId: caller.userId }, work));
  return JSON.stringify(options);
}

/**
 * Checks an assertion: a live challenge of the binding, a registered credential (of `userId` when
 * given), the signature with user verification, and a signature counter that went up. The counter
 * is stored with a conditional update, so one assertion cannot be accepted twice even in a race.
 * Returns the person the passkey belongs to.
 */
export async function verifyAssertion(
  { dataAccess, secretBox, webauthn, clock }: PasskeyDependencies,
  input: { response: string; binding: ChallengeBinding; userId?: string },
): Promise<{ userId: string; passkeyId: string }> {
  const response = parseAuthenticationResponse(input.response);
  const challenge = challengeFromClientData(response.response.clientDataJSON);
  if (challenge === null) throw badUserInput('response', 'response must be a passkey sign-in response');
  const consumed = await dataAccess.unsafeUnscoped((tx) => consumeChallenge(tx, challenge, input.binding, clock.now()));
  if (consumed === null) throw challengeNotFound();

  // Found by the credential id the caller presented, before anyone is known: like an email at sign-in.
  const [passkey] = await dataAccess.unsafeUnscoped((tx) =>
    tx.select().from(passkeys).where(eq(passkeys.credentialId, response.id)),
  );
  if (passkey === undefined || (input.userId !== undefined && passkey.userId !== input.userId)) {
    throw passkeyNotVerified();
  }
  const userHandle = response.response.userHandle;
  if (
    userHandle !== undefined &&
    userHandle !== '' &&
    userHandle !== Buffer.from(webauthnUserHandle(passkey.userId)).toString('base64url')
  ) {
    throw passkeyNotVerified();
  }

  let newCounter: number;
  try {
    const verification = await verifyAuthenticationResponse({
      response,
      expectedChallenge: consumed.challenge,
      expectedOrigin: [...webauthn.origins],
      expectedRPID: webauthn.rpId,
      credential: {
        id: passkey.credentialId,
        publicKey: new Uint8Array(
          await secretBox.open(passkey.publicKeySealed, publicKeyAad(passkey.userId, passkey.credentialId)),
        ),
        counter: passkey.counter,
        transports: passkey.transports,
      },
      requireUserVerification: true,
    });
    if (!verification.verified || !verification.authenticationInfo.userVerified) throw new Error('not verified');
    newCounter = verification.authenticationInfo.newCounter;
  } catch {
    throw passkeyNotVerified();
  }

  await dataAccess.inScope({ userId: passkey.userId }, async (tx) => {
    // An authenticator without a counter reports zero every time; one with a counter must go up.
    const counterRises = newCounter === 0 ? eq(passkeys.counter, 0) : lt(passkeys.counter, newCounter);
    const [claimed] = await tx
      .update(passkeys)
      .set({ counter: newCounter, lastUsedAt: new Date(clock.now()) })
      .where(and(eq(passkeys.id, passkey.id), counterRises))
      .returning({ id: passkeys.id });
    if (claimed === undefined) throw passkeyNotVerified();
  });
  return { userId: passkey.userId, passkeyId: passkey.id };
}

/** Deletes one of the person's own passkeys; false when they have none with this id. */
export async function deletePasskey(tx: Tx, userId: string, id: string): Promise<boolean> {
  const deleted = await tx
    .delete(passkeys)
    .where(and(eq(passkeys.id, id), eq(passkeys.userId, userId)))
    .returning({ id: passkeys.id });
  return deleted.length > 0;
}

function parseJsonObject(text: string, kind: string): Record<string, unknown> {
  const invalid = () => badUserInput('response', `response must be a passkey ${kind} response (JSON)`);
  if (text.length > maxResponseLength) throw invalid();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid();
  }
  const object = value as Record<string, unknown> | null;
  const inner = object?.response as Record<string, unknown> | null | undefined;
  if (
    typeof object !== 'object' ||
    object === null ||
    typeof object.id !== 'string' ||
    typeof object.rawId !== 'string' ||
    object.type !== 'public-key' ||
    typeof inner !== 'object' ||
    inner === null ||
    typeof inner.clientDataJSON !== 'string'
  ) {
    throw invalid();
  }
  return object;
}

function parseRegistrationResponse(text: string): RegistrationResponseJSON {
  const object = parseJsonObject(text, 'registration');
  const inner = object.response as Record<string, unknown>;
  const transports = inner.transports;
  if (
    typeof inner.attestationObject !== 'string' ||
    (transports !== undefined &&
      (!Array.isArray(transports) || !transports.every((entry) => typeof entry === 'string')))
  ) {
    throw badUserInput('response', 'response must be a passkey registration response (JSON)');
  }
  return { clientExtensionResults: {}, ...object } as unknown as RegistrationResponseJSON;
}

function parseAuthenticationResponse(text: string): AuthenticationResponseJSON {
  const object = parseJsonObject(text, 'sign-in');
  const inner = object.response as Record<string, unknown>;
  if (
    typeof inner.authenticatorData !== 'string' ||
    typeof inner.signature !== 'string' ||
    (inner.userHandle !== undefined && inner.userHandle !== null && typeof inner.userHandle !== 'string')
  ) {
    throw badUserInput('response', 'response must be a passkey sign-in response (JSON)');
  }
  if (inner.userHandle === null) delete inner.userHandle;
  return { clientExtensionResults: {}, ...object } as unknown as AuthenticationResponseJSON;
}
