import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { awaitAuditEvents, eventsOfRequest } from '../src/audit-trail.ts';
import type { AuditEventData } from '../src/audit-trail.ts';
import { dataOf, errorCode, graphql } from '../src/client.ts';
import { addMember, createApiKey, createWorkspace } from '../src/fixtures.ts';
import type { Workspace } from '../src/fixtures.ts';
import { sharedStack } from '../src/shared-stack.ts';
import { subscribe } from '../src/subscriptions.ts';
import { trustedDocumentBody } from '../src/trusted-documents.ts';

const stack = sharedStack();
const wsUrl = stack.gatewayUrl.replace(/^http/, 'ws');

const createAccountMutation = 'mutation ($input: CreateAccountInput!) { createAccount(input: $input) { id } }';

describe('audit trail through the gateway', () => {
  let admin: Workspace;
  before(async () => {
    admin = await createWorkspace(stack, 'Audit Trail AG');
  });

  it('records a change with actor, request id, IP, user agent and masked before/after', async () => {
    const result = await graphql<{ createContact: { id: string } }>(
      stack.gatewayUrl,
      'mutation ($input: CreateContactInput!) { createContact(input: $input) { id } }',
      {
        as: admin,
        headers: { 'user-agent': 'audit-e2e/1.0', 'x-forwarded-for': '198.51.100.23' },
        variables: {
          input: {
            kind: 'SUPPLIER',
            name: 'Papeterie Muster',
            iban: 'CH93 0076 2011 6238 5295 7',
            address: { street: 'Bahnhofstrasse', buildingNumber: '7', postcode: '8001', town: 'Zürich', country: 'CH' },
          },
        },
      },
    );
    const contactId = dataOf(result).createContact.id;
    assert.ok(result.requestId);
    const [event, more] = await eventsOfRequest(stack.gatewayUrl, admin, result.requestId);
    assert.equal(more, undefined, 'exactly one event for the mutation');
    assert.ok(event);
    assert.equal(event.action, 'contact.created');
    assert.equal(event.source, 'accounting');
    assert.equal(event.outcome, 'SUCCESS');
    assert.deepEqual(event.performedBy, {
      kind: 'USER',
      id: admin.userId,
      sessionId: event.performedBy.sessionId,
      mfa: false,
    });
    assert.ok(event.performedBy.sessionId);
    assert.equal(event.ip, '198.51.100.23');
    assert.equal(event.userAgent, 'audit-e2e/1.0');
    assert.ok(event.targets.some((target) => target.id === contactId));
    assert.equal(event.before, null);
    assert.equal(event.retention, 'ACCOUNTING');
    assert.match(event.occurredAt, /Z$/);
    const text = JSON.stringify(event);
    assert.doesNotMatch(text, /6238|Bahnhofstrasse/, 'no IBAN or street in the clear');
    assert.match(event.after ?? '', /2957/, 'the IBAN is recognisable by its last digits');
  });

  it("records the gateway's refusal of a forbidden mutation, and no subgraph event for it", async () => {
    const viewer = await addMember(stack, admin, 'VIEWER');
    const refused = await graphql(stack.gatewayUrl, createAccountMutation, {
      as: viewer,
      variables: { input: { number: '7777', name: 'Refused', type: 'EXPENSE' } },
    });
    assert.equal(errorCode(refused), 'FORBIDDEN');
    assert.ok(refused.requestId);
    // The next change is awaited too: once it is in, a subgraph event of the refused request would be as well.
    const after = await graphql(stack.gatewayUrl, createAccountMutation, {
      as: admin,
      variables: { input: { number: '7778', name: 'Allowed', type: 'EXPENSE' } },
    });
    const events = await awaitAuditEvents(stack.gatewayUrl, admin, (seen) =>
      [refused.requestId, after.requestId].every((id) => seen.some((event) => event.requestId === id)),
    );
    const ofRefused = events.filter((event) => event.requestId === refused.requestId);
    assert.equal(ofRefused.length, 1);
    assert.deepEqual(
      [ofRefused[0]?.source, ofRefused[0]?.action, ofRefused[0]?.outcome, ofRefused[0]?.reason],
      ['gateway', 'gateway.operation_refused', 'DENIED', 'FORBIDDEN:accounting.write'],
    );
    assert.equal(ofRefused[0]?.performedBy.id, viewer.userId);
    assert.doesNotMatch(JSON.stringify(ofRefused[0]), /7777|Refused/, 'no variables in the record');
  });

  it('verifies the chain and pages the trail by sequence', async () => {
    const change = await graphql(stack.gatewayUrl, createAccountMutation, {
      as: admin,
      variables: { input: { number: '1020', name: 'Bank', type: 'ASSET' } },
    });
    // Paging reads a settled trail: the last change's event is in.
    await eventsOfRequest(stack.gatewayUrl, admin, change.requestId ?? '');
    const query = `query ($before: Int) { auditEvents(first: 2, beforeSequence: $before) { sequence } verifyAuditChain { valid lastSequence firstBrokenSequence checkpointsVerified } }`;
    const first = dataOf(await graphql<PageData>(stack.gatewayUrl, query, { as: admin }));
    assert.equal(first.verifyAuditChain.valid, true);
    assert.equal(first.verifyAuditChain.firstBrokenSequence, null);
    assert.ok(first.verifyAuditChain.checkpointsVerified >= 1);
    const last = first.verifyAuditChain.lastSequence;
    assert.deepEqual(
      first.auditEvents.map((event) => event.sequence),
      [last, last - 1].filter((sequence) => sequence >= 1).slice(0, first.auditEvents.length),
    );
    const next = dataOf(
      await graphql<PageData>(stack.gatewayUrl, query, { as: admin, variables: { before: last - 1 } }),
    );
    assert.deepEqual(
      next.auditEvents.map((event) => event.sequence),
      [last - 2, last - 3].filter((sequence) => sequence >= 1),
    );
  });
});

interface PageData {
  auditEvents: { sequence: number }[];
  verifyAuditChain: {
    valid: boolean;
    lastSequence: number;
    firstBrokenSequence: number | null;
    checkpointsVerified: number;
  };
}

describe('audit export subscription over graphql-ws', () => {
  it('gives each workspace its own events only, and resumes from a sequence number without gaps or duplicates', async () => {
    const alpha = await createWorkspace(stack, 'Alpha Feed AG');
    const beta = await createWorkspace(stack, 'Beta Feed AG');
    const alphaFeed = subscribe<{ auditEvents: AuditEventData }>(
      stack.gatewayUrl,
      alpha,
      'subscription { auditEvents(afterSequence: 0) { sequence action requestId } }',
    );
    const betaFeed = subscribe<{ auditEvents: AuditEventData }>(
      stack.gatewayUrl,
      beta,
      'subscription { auditEvents(afterSequence: 0) { sequence action requestId } }',
    );
    try {
      const alphaIds = new Set<string>();
      const betaIds = new Set<string>();
      for (let index = 0; index < 3; index++) {
        const a = await graphql(stack.gatewayUrl, createAccountMutation, {
          as: alpha,
          variables: { input: { number: String(3000 + index), name: 'Alpha', type: 'ASSET' } },
        });
        const b = await graphql(stack.gatewayUrl, createAccountMutation, {
          as: beta,
          variables: { input: { number: String(3000 + index), name: 'Beta', type: 'ASSET' } },
        });
        alphaIds.add(a.requestId ?? '');
        betaIds.add(b.requestId ?? '');
      }
      const collect = async (feed: typeof alphaFeed, own: Set<string>, foreign: Set<string>) => {
        const seen: AuditEventData[] = [];
        while (![...own].every((id) => seen.some((event) => event.requestId === id))) {
          const result = await feed.next();
          const event = result.data?.auditEvents;
          assert.ok(event, JSON.stringify(result));
          assert.ok(!foreign.has(event.requestId ?? ''), 'an event of the other workspace');
          seen.push(event);
        }
        assert.deepEqual(
          seen.map((event) => event.sequence),
          seen.map((_, index) => index + 1),
          'every sequence number once, in order',
        );
        return seen;
      };
      const alphaEvents = await collect(alphaFeed, alphaIds, betaIds);
      await collect(betaFeed, betaIds, alphaIds);

      // Resume in the middle: the rest from the database, then live, without a gap or a repeat.
      const middle = alphaEvents[1]?.sequence ?? 1;
      const resumed = subscribe<{ auditEvents: AuditEventData }>(
        stack.gatewayUrl,
        alpha,
        'subscription ($after: Int) { auditEvents(afterSequence: $after) { sequence } }',
        { after: middle },
      );
      try {
        const live = await graphql(stack.gatewayUrl, createAccountMutation, {
          as: alpha,
          variables: { input: { number: '3999', name: 'Live', type: 'ASSET' } },
        });
        assert.ok(live.requestId);
        const last = alphaEvents.at(-1)?.sequence ?? 0;
        const sequences: number[] = [];
        while (sequences.length < last - middle + 1) {
          sequences.push((await resumed.next()).data?.auditEvents.sequence ?? -1);
        }
        assert.deepEqual(
          sequences,
          Array.from({ length: last - middle + 1 }, (_, index) => middle + 1 + index),
        );
      } finally {
        await resumed.dispose();
      }
    } finally {
      await alphaFeed.dispose();
      await betaFeed.dispose();
    }
  });

  it('closes the subscription of a session that signs out', async () => {
    const owner = await createWorkspace(stack, 'Signing Out AG');
    // Replayed from the first event: one arrives however late the socket is set up, so the
    // subscription is in place before the sign-out (a live-only feed could miss the only change).
    const feed = subscribe(stack.gatewayUrl, owner, 'subscription { auditEvents(afterSequence: 0) { sequence } }');
    try {
      await feed.next();
      dataOf(await graphql(stack.gatewayUrl, 'mutation { signOut }', { as: owner }));
      const closed = await feed.closed;
      assert.equal(closed.code, 4403);
    } finally {
      await feed.dispose();
    }
  });

  it('refuses a viewer, a caller without credentials and a foreign browser origin', async () => {
    const owner = await createWorkspace(stack, 'Refusing AG');
    const viewer = await addMember(stack, owner, 'VIEWER');
    const refused = subscribe(
      stack.gatewayUrl,
      { ...viewer, headers: { 'x-forwarded-for': '203.0.113.77', 'user-agent': 'feed-client/2.0' } },
      'subscription { auditEvents { sequence } }',
    );
    try {
      await assert.rejects(refused.next(), (error: { errors?: unknown }) => {
        const list = error.errors as { extensions?: { code?: string; permission?: string } }[];
        return list[0]?.extensions?.code === 'FORBIDDEN' && list[0]?.extensions?.permission === 'audit.read';
      });
    } finally {
      await refused.dispose();
    }
    // Recorded with the client's address as the trusted proxy gave it, as on the HTTP path.
    const [refusal] = (
      await awaitAuditEvents(stack.gatewayUrl, owner, (seen) => seen.some((event) => event.ip === '203.0.113.77'))
    ).filter((event) => event.ip === '203.0.113.77');
    assert.deepEqual(
      [refusal?.action, refusal?.outcome, refusal?.performedBy.id, refusal?.userAgent],
      ['gateway.operation_refused', 'DENIED', viewer.userId, 'feed-client/2.0'],
    );

    // Sent by HTTP, a subscription is answered with where to send it.
    const overHttp = await graphql(stack.gatewayUrl, 'subscription { auditEvents { sequence } }', { as: owner });
    assert.equal(errorCode(overHttp), 'BAD_REQUEST');
    assert.match(overHttp.body.errors?.[0]?.message ?? '', /graphql-transport-ws/);

    const anonymous = subscribe(stack.gatewayUrl, {}, 'subscription { auditEvents { sequence } }');
    try {
      assert.equal((await anonymous.closed).code, 4403);
    } finally {
      await anonymous.dispose();
    }

    const status = await new Promise<number>((resolve) => {
      const socket = new WebSocket(wsUrl, 'graphql-transport-ws', {
        headers: { origin: 'https://evil.example', cookie: owner.cookie },
      });
      socket.on('unexpected-response', (request, response) => {
        resolve(response.statusCode ?? 0);
        request.destroy();
      });
      socket.on('error', () => undefined);
      socket.on('open', () => {
        resolve(101);
        socket.close();
      });
    });
    assert.equal(status, 403);
  });

  it("streams a partner's feed to an API key with the trusted document only, and closes it when the key is revoked", async () => {
    const owner = await createWorkspace(stack, 'Partner Feed AG');
    const { secret, id, admin } = await createApiKey(stack, owner, 'MANAGER');
    const untrusted = subscribe(stack.gatewayUrl, { apiKey: secret }, 'subscription { auditEvents { sequence } }');
    try {
      await assert.rejects(untrusted.next(), (error: { errors?: { extensions?: { code?: string } }[] }) => {
        return error.errors?.[0]?.extensions?.code === 'PERSISTED_QUERY_REQUIRED';
      });
    } finally {
      await untrusted.dispose();
    }
    const feed = subscribe<{ auditEvents: AuditEventData }>(
      stack.gatewayUrl,
      { apiKey: secret },
      trustedDocumentBody('AuditEventsFeed'),
      { afterSequence: 0 },
    );
    try {
      // The trail from its first event. Its order is the order events reached the trail: the
      // gateway's refusal above may come before identity's relayed workspace.created.
      const sequences: number[] = [];
      for (;;) {
        const event = (await feed.next()).data?.auditEvents;
        assert.ok(event);
        sequences.push(event.sequence);
        if (event.action === 'workspace.created') break;
      }
      assert.deepEqual(
        sequences,
        sequences.map((_, index) => index + 1),
      );
      dataOf(await graphql(stack.gatewayUrl, `mutation { revokeApiKey(id: "${id}") }`, { as: admin }));
      assert.equal((await feed.closed).code, 4403);
    } finally {
      await feed.dispose();
    }
  });

  it('answers protocol errors with the protocol close codes', async () => {
    const owner = await createWorkspace(stack, 'Protocol AG');
    // Sends `messages` once open, and `afterAck` once the server acknowledged the connection.
    const closeCodeAfter = (messages: string[], afterAck: string[] = []) =>
      new Promise<number>((resolve) => {
        const socket = new WebSocket(wsUrl, 'graphql-transport-ws', { headers: { cookie: owner.cookie } });
        socket.on('open', () => {
          for (const message of messages) socket.send(message);
        });
        socket.on('message', (data) => {
          if ((JSON.parse((data as Buffer).toString('utf8')) as { type?: string }).type !== 'connection_ack') return;
          for (const message of afterAck) socket.send(message);
        });
        socket.on('close', (code) => resolve(code));
      });
    const subscribeMessage = JSON.stringify({
      id: '1',
      type: 'subscribe',
      payload: { query: 'subscription { auditEvents { sequence } }' },
    });
    // Subscribing before the connection is acknowledged: 4401 Unauthorized.
    assert.equal(await closeCodeAfter([subscribeMessage]), 4401);
    // Not a message of the protocol: 4400.
    assert.equal(await closeCodeAfter(['{"type":"nonsense"}']), 4400);
    // connection_init twice: 4429 Too many initialisation requests.
    const init = JSON.stringify({ type: 'connection_init' });
    assert.equal(await closeCodeAfter([init, init]), 4429);
    // The same subscription id twice: 4409 Subscriber already exists.
    assert.equal(await closeCodeAfter([init], [subscribeMessage, subscribeMessage]), 4409);
  });
});
