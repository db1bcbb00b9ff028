import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { describe, it } from 'node:test';
import { base32Decode, currentStep, systemClock, totpCode } from '@numezis/runtime';
import { dataOf, graphql } from '../src/client.ts';
import type { GraphQLResult } from '../src/client.ts';
import { cookieFrom, signIn, signUp, testPassword } from '../src/fixtures.ts';
import { sharedStack } from '../src/shared-stack.ts';

const stack = sharedStack();

/** A client address of this test's own, so its failures count against no other test. */
const ownAddress = () => ({ 'x-forwarded-for': `198.51.${randomInt(0, 255)}.${randomInt(1, 255)}` });

function codesOf(result: GraphQLResult, aliases: number): unknown[] {
  return Array.from(
    { length: aliases },
    (_, index) => result.body.errors?.find((error) => error.path?.[0] === `a${index}`)?.extensions?.code ?? 'OK',
  );
}

function aliasedSignIns(email: string, passwords: string[]): string {
  const fields = passwords.map(
    (password, index) =>
      `a${index}: signIn(input: { email: ${JSON.stringify(email)}, password: ${JSON.stringify(password)} }) { mfaPending }`,
  );
  return `mutation { ${fields.join(' ')} }`;
}

describe('brute-force protection', () => {
  it('refuses the 6th wrong password packed as aliases in one request, and then the right one too', async () => {
    const person = await signUp(stack);
    const headers = ownAddress();
    const wrong = Array.from({ length: 6 }, (_, index) => `wrong password ${index}`);
    const result = await graphql(stack.gatewayUrl, aliasedSignIns(person.email, wrong), { headers });
    assert.deepEqual(codesOf(result, 6), [
      'UNAUTHENTICATED',
      'UNAUTHENTICATED',
      'UNAUTHENTICATED',
      'UNAUTHENTICATED',
      'UNAUTHENTICATED',
      'RATE_LIMITED',
    ]);
    const right = await graphql(stack.gatewayUrl, aliasedSignIns(person.email, [testPassword]), { headers });
    assert.deepEqual(codesOf(right, 1), ['RATE_LIMITED']);
    assert.ok(Number(right.body.errors?.[0]?.extensions?.retryAfterSeconds) > 0);
    assert.equal(right.setCookie, null);
    // From another address the account is locked all the same: the limit is per account.
    const elsewhere = await graphql(stack.gatewayUrl, aliasedSignIns(person.email, [testPassword]), {
      headers: ownAddress(),
    });
    assert.deepEqual(codesOf(elsewhere, 1), ['RATE_LIMITED']);
  });

  it('answers an unknown account exactly like a known one, limit included', async () => {
    const headers = ownAddress();
    const wrong = Array.from({ length: 6 }, (_, index) => `wrong password ${index}`);
    const result = await graphql(stack.gatewayUrl, aliasedSignIns('nobody-here@example.ch', wrong), { headers });
    assert.deepEqual(codesOf(result, 6).slice(4), ['UNAUTHENTICATED', 'RATE_LIMITED']);
  });

  it('limits failures per client address across accounts', async () => {
    const headers = ownAddress();
    // The default per-address limit is 50: five requests of ten accounts each reach it.
    for (let round = 0; round < 5; round++) {
      const fields = Array.from(
        { length: 10 },
        (_, index) =>
          `a${index}: signIn(input: { email: "spray-${round}-${index}@example.ch", password: "guess" }) { mfaPending }`,
      );
      await graphql(stack.gatewayUrl, `mutation { ${fields.join(' ')} }`, { headers });
    }
    const person = await signUp(stack);
    const refused = await graphql(stack.gatewayUrl, aliasedSignIns(person.email, [testPassword]), { headers });
    assert.deepEqual(codesOf(refused, 1), ['RATE_LIMITED']);
    const allowed = await graphql(stack.gatewayUrl, aliasedSignIns(person.email, [testPassword]), {
      headers: ownAddress(),
    });
    assert.deepEqual(codesOf(allowed, 1), ['OK']);
  });

  it('refuses the 6th wrong TOTP code packed as aliases, and then the right one too', async () => {
    const person = await signUp(stack);
    const { beginTotpEnrolment } = dataOf(
      await graphql<{ beginTotpEnrolment: { secret: string } }>(
        stack.gatewayUrl,
        'mutation { beginTotpEnrolment { secret } }',
        {
          as: person,
        },
      ),
    );
    const secret = base32Decode(beginTotpEnrolment.secret);
    const step = currentStep(systemClock);
    const enrolled = await graphql(
      stack.gatewayUrl,
      'mutation ($code: String!) { confirmTotpEnrolment(code: $code) }',
      {
        as: person,
        variables: { code: totpCode(secret, step) },
      },
    );
    dataOf(enrolled);

    const headers = ownAddress();
    const pending = { cookie: cookieFrom(await signIn(stack, person.email)) };
    // Whether or not this code would still be fresh, the limit answers first.
    const right = totpCode(secret, currentStep(systemClock));
    const wrongCodes = Array.from({ length: 6 }, (_, index) =>
      String((Number(right) + index + 1) % 1_000_000).padStart(6, '0'),
    );
    const fields = wrongCodes.map((code, index) => `a${index}: verifyTotp(code: "${code}")`);
    const result = await graphql(stack.gatewayUrl, `mutation { ${fields.join(' ')} }`, { as: pending, headers });
    assert.deepEqual(codesOf(result, 6), [
      'BAD_USER_INPUT',
      'BAD_USER_INPUT',
      'BAD_USER_INPUT',
      'BAD_USER_INPUT',
      'BAD_USER_INPUT',
      'RATE_LIMITED',
    ]);
    const withRightCode = await graphql(stack.gatewayUrl, `mutation { a0: verifyTotp(code: "${right}") }`, {
      as: pending,
      headers,
    });
    assert.deepEqual(codesOf(withRightCode, 1), ['RATE_LIMITED']);
  });
});
