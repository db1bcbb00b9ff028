import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import type { SystemAccess } from '../context/access-mode.ts';
import type { DataAccess } from '../db/data-access.ts';
import { scheduleSystemJobs } from './system-jobs.ts';

const noDatabase = {} as DataAccess;

describe('system jobs', () => {
  it('run with system access once the service is ready, and finish before it closes', async () => {
    const app = Fastify();
    const seen: SystemAccess[] = [];
    let finish: () => void = () => undefined;
    let started: () => void = () => undefined;
    const running = new Promise<void>((resolve) => (started = resolve));
    scheduleSystemJobs(
      app,
      [
        {
          name: 'test.job',
          everyMs: 3_600_000,
          run: async (access) => {
            seen.push(access);
            started();
            await new Promise<void>((resolve) => (finish = resolve));
            return { affected: 0 };
          },
        },
      ],
      noDatabase,
    );
    assert.deepEqual(seen, []);
    await app.ready();
    await running;
    assert.deepEqual(seen, [{ kind: 'system', job: 'test.job' }]);
    const order: string[] = [];
    const closing = app.close().then(() => order.push('closed'));
    // Let the close run as far as it can on its own before the job is allowed to end.
    await new Promise((resolve) => setImmediate(resolve));
    order.push('job finished');
    finish();
    await closing;
    assert.deepEqual(order, ['job finished', 'closed']);
  });

  it('refuses a job name that would not read well in logs', () => {
    const app = Fastify();
    scheduleSystemJobs(
      app,
      [{ name: 'Bad Name', everyMs: 1_000, run: () => Promise.resolve({ affected: 0 }) }],
      noDatabase,
    );
    return assert.rejects(async () => {
      await app.ready();
    }, /invalid system job name/);
  });
});
