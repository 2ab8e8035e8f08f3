/**
 * A worker started in this process (`startWorker`) on the test queue, with a manual clock for its stop
 * deadlines and the pod deadline, and its log lines at hand: tests of kq's worker timers that never sleep.
 */
import { z } from 'zod';
import { parseOptions } from '../../src/config.js';
import { defineJob } from '../../src/jobs/define-job.js';
import { createRegistry } from '../../src/jobs/registry.js';
import { createLogger } from '../../src/log.js';
import { workerOptionSpecs } from '../../src/worker/options.js';
import { startWorker } from '../../src/worker/run-worker.js';
import type { TestContext } from '../helpers/context.js';
import { manualTimers } from '../helpers/manual-timers.js';

/** A job type `gated` whose runs the test sees start and lets finish (`open()`); it honours its signal. */
export function gatedJob(queue: string) {
  const started: string[] = [];
  let open: () => void = () => undefined;
  const gate = new Promise<void>((r) => {
    open = r;
  });
  const def = defineJob({
    name: 'gated',
    queue,
    schema: z.object({}).passthrough(),
    options: { attempts: 3 },
    async handler(ctx) {
      started.push(ctx.id);
      await new Promise<void>((resolve, reject) => {
        gate.then(resolve);
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
      });
      return 'done';
    },
  });
  return { def, started, open };
}

/**
 * Options from `env` as `kq worker` reads them (no health server unless HEALTH_PORT is given); the
 * process's uptime, which the pod deadline counts from, is the manual clock's time.
 */
export function inProcessWorker(t: TestContext, env: Record<string, string> = {}) {
  const job = gatedJob(t.queue);
  const timers = manualTimers();
  const parsed = parseOptions(workerOptionSpecs, [], env).values;
  const o = {
    ...parsed,
    redisUrl: t.redisUrl,
    prefix: t.prefix,
    queue: t.queue,
    healthPort: env.HEALTH_PORT ? parsed.healthPort : 0,
    podDeletionCost: false,
  };
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ component: 'test' }, 'info', {
    write: (l: string) => lines.push(JSON.parse(l)),
  });
  const start = () =>
    startWorker(o, { jobs: createRegistry([job.def]), log, timers, uptimeMs: () => timers.now() });
  return { job, timers, start, lines, events: () => lines.map((l) => l.event) };
}
