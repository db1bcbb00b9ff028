import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mailsTo } from '@numezis/runtime';
import { dataOf, errorCode, graphql } from '../src/client.ts';
import { cookieFrom, createWorkspace, enrolTotp, latestCode, signIn, signUp, testPassword } from '../src/fixtures.ts';

import { sharedStack } from '../src/shared-stack.ts';

const stack = sharedStack();
const newPassword = 'a brand new passphrase 2026';

describe('password reset', () => {
  it('sets a new password by mailed code, ends every session, and signs nobody in', async () => {
    const person = await signUp(stack);
    const answer = await graphql(
      stack.gatewayUrl,
      'mutation ($email: String!) { requestPasswordReset(email: $email) }',
      {
        variables: { email: person.email },
      },
    );
    assert.deepEqual(answer.body, { data: { requestPasswordReset: true } });
    const token = await latestCode(stack, person.email);
    const reset = await graphql(
      stack.gatewayUrl,
      'mutation ($token: String!, $password: String!) { resetPassword(token: $token, newPassword: $password) }',
      {
        variables: { token, password: newPassword },
      },
    );
    assert.deepEqual(reset.body, { data: { resetPassword: true } });
    assert.equal(reset.setCookie, null);

    const old = await graphql(stack.gatewayUrl, '{ me { email } }', { as: person });
    assert.deepEqual(old.body.data, { me: null });
    assert.equal(errorCode(await signIn(stack, person.email, testPassword)), 'UNAUTHENTICATED');
    assert.equal((await signIn(stack, person.email, newPassword)).body.errors, undefined);

    const reused = await graphql(
      stack.gatewayUrl,
      'mutation ($token: String!, $password: String!) { resetPassword(token: $token, newPassword: $password) }',
      {
        variables: { token, password: 'yet another passphrase' },
      },
    );
    assert.equal(errorCode(reused), 'BAD_USER_INPUT');
  });

  it('answers an unknown address like a known one and mails nothing there', async () => {
    const email = 'nobody-resets@example.ch';
    const answer = await graphql(
      stack.gatewayUrl,
      'mutation ($email: String!) { requestPasswordReset(email: $email) }',
      {
        variables: { email },
      },
    );
    assert.deepEqual(answer.body, { data: { requestPasswordReset: true } });
    assert.deepEqual(await mailsTo(stack.outboxDir, email), []);
  });

  it('never bypasses the second factor', async () => {
    const person = await enrolTotp(stack, await createWorkspace(stack));
    await graphql(stack.gatewayUrl, 'mutation ($email: String!) { requestPasswordReset(email: $email) }', {
      variables: { email: person.email },
    });
    await graphql(
      stack.gatewayUrl,
      'mutation ($token: String!, $password: String!) { resetPassword(token: $token, newPassword: $password) }',
      {
        variables: { token: await latestCode(stack, person.email), password: newPassword },
      },
    );
    const signedIn = await signIn(stack, person.email, newPassword);
    assert.deepEqual(signedIn.body.data, { signIn: { mfaPending: true } });
    const workspace = await graphql(stack.gatewayUrl, '{ workspace { id } }', { as: { cookie: cookieFrom(signedIn) } });
    assert.equal(errorCode(workspace), 'FORBIDDEN');
    assert.equal(workspace.body.errors?.[0]?.extensions?.reason, 'MFA_REQUIRED');
  });
});

describe('recovery codes', () => {
  it('stand in for the second factor once each', async () => {
    const person = await enrolTotp(stack, await signUp(stack));
    const { generateRecoveryCodes: codes } = dataOf(
      await graphql<{ generateRecoveryCodes: string[] }>(stack.gatewayUrl, 'mutation { generateRecoveryCodes }', {
        as: person,
      }),
    );
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10);

    const pending = { cookie: cookieFrom(await signIn(stack, person.email)) };
    const used = await graphql(stack.gatewayUrl, 'mutation ($code: String!) { useRecoveryCode(code: $code) }', {
      as: pending,
      variables: { code: (codes[0] ?? '').toLowerCase() },
    });
    assert.deepEqual(used.body.data, { useRecoveryCode: true });
    const full = { cookie: cookieFrom(used) };
    const me = dataOf(
      await graphql<{ me: { recoveryCodesRemaining: number } }>(stack.gatewayUrl, '{ me { recoveryCodesRemaining } }', {
        as: full,
      }),
    );
    assert.equal(me.me.recoveryCodesRemaining, 9);

    const again = { cookie: cookieFrom(await signIn(stack, person.email)) };
    const replay = await graphql(stack.gatewayUrl, 'mutation ($code: String!) { useRecoveryCode(code: $code) }', {
      as: again,
      variables: { code: codes[0] },
    });
    assert.equal(errorCode(replay), 'BAD_USER_INPUT');
  });

  it('are only issued after a recent second-factor step', async () => {
    const person = await signUp(stack);
    const refused = await graphql(stack.gatewayUrl, 'mutation { generateRecoveryCodes }', { as: person });
    assert.equal(refused.body.errors?.[0]?.extensions?.reason, 'MFA_STEP_UP_REQUIRED');
  });
});
