import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { openRedisState } from '@numezis/runtime';
import { dataOf, graphql } from '../src/client.ts';
import type { GraphQLResult } from '../src/client.ts';
import { addMember, createApiKey, createWorkspace, minimalPdf, signIn, signUp, testPassword } from '../src/fixtures.ts';
import { startTestStack } from '../src/test-stack.ts';
import { trustedDocumentId } from '../src/trusted-documents.ts';
import type { TestStack } from '../src/test-stack.ts';

// Rate limits per API key and per workspace, counted in Redis, through the whole stack. Each burst
// comes from addresses of its own, so the per-address limit stays out of the way.
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const freshAddress = () => `2001:db8::${randomUUID().slice(0, 4)}:${randomUUID().slice(0, 4)}`;

function assertRateLimited(result: GraphQLResult<unknown>, scope: string): void {
  assert.equal(result.status, 429, result.text);
  assert.equal(result.body.errors?.[0]?.extensions?.code, 'RATE_LIMITED', result.text);
  assert.equal(result.body.errors?.[0]?.extensions?.scope, scope, result.text);
}

describe('rate limits per API key and per workspace', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack({
      serviceEnv: {
        gateway: {
          REDIS_URL: redisUrl,
          GATEWAY_RATE_LIMIT_PER_API_KEY: '5',
          GATEWAY_RATE_LIMIT_PER_WORKSPACE: '40',
        },
        // Identity counts failed sign-ins in Redis too.
        identity: { REDIS_URL: redisUrl },
      },
    });
  });
  after(() => stack?.close());

  it('refuses a partner key over its limit with 429 and Retry-After, while others go on', async () => {
    const { secret, admin } = await createApiKey(stack, await createWorkspace(stack));
    const asKey = () =>
      fetch(stack.gatewayUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${secret}`,
          'x-forwarded-for': freshAddress(),
        },
        body: JSON.stringify({
          extensions: { persistedQuery: { version: 1, sha256Hash: trustedDocumentId('Accounts') } },
        }),
      });
    for (let index = 0; index < 5; index++) assert.equal((await asKey()).status, 200);
    const refused = await asKey();
    const text = await refused.text();
    assert.equal(refused.status, 429, text);
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, String(retryAfter));
    assertRateLimited(
      { status: 429, contentType: null, setCookie: null, requestId: null, body: JSON.parse(text), text },
      'apiKey',
    );
    const metrics = await (await fetch(new URL('/metrics', stack.gatewayUrl))).text();
    assert.match(metrics, /^numezis_rate_limit_rejections_total\{[^}]*scope="apiKey"[^}]*\} [1-9]/m);
    // The workspace's people are not the key: they go on.
    const byPerson = await graphql(stack.gatewayUrl, '{ accounts { id } }', {
      as: admin,
      headers: { 'x-forwarded-for': freshAddress() },
    });
    assert.equal(byPerson.status, 200, byPerson.text);
  });

  it('counts every member of a workspace together, file transfers included, and no other workspace', async () => {
    const admin = await createWorkspace(stack);
    const member = await addMember(stack, admin, 'MANAGER');
    const elsewhere = await createWorkspace(stack);
    const ask = (as: typeof admin) =>
      graphql(stack.gatewayUrl, '{ accounts { id } }', { as, headers: { 'x-forwarded-for': freshAddress() } });
    // An upload URL asked for before the burst, used after it.
    const { createDocumentUpload } = dataOf(
      await graphql<{ createDocumentUpload: { uploadUrl: string } }>(
        stack.gatewayUrl,
        'mutation { createDocumentUpload(input: { fileName: "beleg.pdf" }) { uploadUrl } }',
        { as: admin },
      ),
    );
    let answered = 0;
    let last: GraphQLResult<unknown> | undefined;
    for (let index = 0; index < 60; index++) {
      last = await ask(index % 2 === 0 ? admin : member);
      if (last.status !== 200) break;
      answered++;
    }
    assert.ok(last !== undefined);
    assertRateLimited(last, 'workspace');
    assert.ok(answered < 40, `answered ${answered} before the limit`);
    assertRateLimited(await ask(member), 'workspace');
    assertRateLimited(await ask(admin), 'workspace');
    // A file upload to the workspace is refused the same way, with Retry-After.
    const upload = await fetch(new URL(createDocumentUpload.uploadUrl, stack.gatewayUrl), {
      method: 'PUT',
      headers: { cookie: admin.cookie, 'content-type': 'application/pdf', 'x-forwarded-for': freshAddress() },
      body: minimalPdf('Beleg'),
    });
    const uploadText = await upload.text();
    assert.ok(Number(upload.headers.get('retry-after')) >= 1, uploadText);
    assertRateLimited(
      {
        status: upload.status,
        contentType: null,
        setCookie: null,
        requestId: null,
        body: JSON.parse(uploadText),
        text: uploadText,
      },
      'workspace',
    );
    assert.equal((await ask(elsewhere)).status, 200);
  });

  it('counts failed sign-ins in Redis: the sixth wrong password locks the account, the right one too', async () => {
    const person = await signUp(stack);
    const headers = { 'x-forwarded-for': freshAddress() };
    for (let attempt = 0; attempt < 5; attempt++) {
      const wrong = await signIn(stack, person.email, `wrong password ${attempt}`, headers);
      assert.equal(wrong.body.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED', wrong.text);
    }
    const locked = await signIn(stack, person.email, testPassword, headers);
    assert.equal(locked.body.errors?.[0]?.extensions?.code, 'RATE_LIMITED', locked.text);
    assert.ok(Number(locked.body.errors?.[0]?.extensions?.retryAfterSeconds) > 0);
    assert.equal(locked.setCookie, null);
    // The counts are in Redis, where every identity replica sees them.
    const redis = await openRedisState(redisUrl, 'identity');
    try {
      const counted = await redis.peek(`throttle:password:${person.email.toLowerCase()}`);
      assert.equal(counted?.count, 5);
      assert.equal((await redis.peek(`throttle:ip:${headers['x-forwarded-for']}`))?.count, 5);
    } finally {
      await redis.close();
    }
  });
});
