/**
 * Built-in demo jobs, used when no `HANDLERS` module is given. `sleep` is the seed's job: wait, then log
 * `Processed job <id> by worker <hostname>`; `noop` does nothing (benchmarks, smoke tests).
 */
import { hostname } from 'node:os';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { z } from 'zod';
import { defineJob } from './define-job.js';

export const sleepJob = defineJob({
  name: 'sleep',
  description: 'The seed’s demo job: waits `seconds` (default 5), then logs which worker processed it.',
  schema: z.strictObject({ seconds: z.number().min(0).max(3600).default(5) }),
  async handler({ data, id, signal, log }) {
    await sleepFor(data.seconds * 1000, undefined, { signal });
    log.info({ event: 'demo.processed' }, `Processed job ${id} by worker ${hostname()}`);
    return { sleptSeconds: data.seconds, worker: hostname() };
  },
});

export const noopJob = defineJob({
  name: 'noop',
  description: 'Does nothing and returns null: for benchmarks and smoke tests.',
  schema: z.unknown(),
  handler: () => null,
});

export const demoJobs = [sleepJob, noopJob];
