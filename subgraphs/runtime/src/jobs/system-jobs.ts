import type { FastifyInstance } from 'fastify';
import { systemAccess } from '../context/access-mode.ts';
import type { SystemAccess } from '../context/access-mode.ts';
import type { DataAccess } from '../db/data-access.ts';

/**
 * Background work of a service: the only code that acts with `system` access. It is started by the
 * service itself on a timer, never by a request, so no caller can reach it. Every replica runs it;
 * a job must therefore be idempotent (deleting what has expired is).
 */
export interface SystemJob {
  /** `<service>.<job>`, in logs. */
  readonly name: string;
  readonly everyMs: number;
  /** Log a run only when it affected something (a relay that looks every second). */
  readonly quiet?: boolean;
  run(access: SystemAccess, dataAccess: DataAccess): Promise<{ readonly affected: number }>;
}

/** Runs each job after the app is ready, then every `everyMs`, and stops with the app. */
export function scheduleSystemJobs(app: FastifyInstance, jobs: readonly SystemJob[], dataAccess: DataAccess): void {
  const timers: NodeJS.Timeout[] = [];
  const running = new Set<Promise<void>>();
  const runOnce = (job: SystemJob) => {
    const access = systemAccess(job.name);
    const started = Date.now();
    const run = job
      .run(access, dataAccess)
      .then(
        ({ affected }) => {
          if (job.quiet === true && affected === 0) return;
          app.log.info({ job: job.name, affected, durationMs: Date.now() - started }, 'system job ran');
        },
        (error: unknown) => app.log.error({ job: job.name, err: error }, 'system job failed'),
      )
      .finally(() => running.delete(run));
    running.add(run);
  };
  app.addHook('onReady', async () => {
    for (const job of jobs) {
      runOnce(job);
      // unref: a pending job never keeps a stopping process alive.
      timers.push(setInterval(() => runOnce(job), job.everyMs).unref());
    }
  });
  app.addHook('onClose', async () => {
    for (const timer of timers) clearInterval(timer);
    await Promise.all(running);
  });
}
