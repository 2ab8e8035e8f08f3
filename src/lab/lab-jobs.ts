/**
 * The job type the lab's workers run (`HANDLERS=dist/lab/lab-jobs.js`). It sleeps the job's duration in
 * wall time (workload ms / speed, abortable) and throws on its first `failAttempts` attempts. Every run is
 * appended to the ledger file `KQ_LAB_LEDGER` (one line per event, `O_APPEND`, so lines from many worker
 * processes never interleave) and not to Redis: a Redis restart, one of the lab's faults, must not
 * erase the record of what ran.
 */
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineJob, z } from '../index.js';

export const LAB_JOB_TYPE = 'lab-work';
export const LEDGER_ENV = 'KQ_LAB_LEDGER';

function record(event: 'start' | 'done' | 'fail', id: string, attempt: number): void {
  const file = process.env[LEDGER_ENV];
  if (!file) return;
  appendFileSync(file, `${event} ${id} ${attempt} ${process.pid} ${Date.now()}\n`);
}

export const labWork = defineJob({
  name: LAB_JOB_TYPE,
  description: 'kq lab: sleeps ms/speed of wall time, fails its first failAttempts attempts',
  schema: z.object({
    ms: z.number().int().min(0),
    speed: z.number().positive(),
    failAttempts: z.number().int().min(0).default(0),
  }),
  options: { attempts: 3, removeOnComplete: { count: 1_000_000 }, removeOnFail: { count: 1_000_000 } },
  async handler({ data, id, attempt, signal }) {
    record('start', id, attempt);
    if (data.ms > 0) await sleep(data.ms / data.speed, undefined, { signal });
    if (attempt <= data.failAttempts) {
      record('fail', id, attempt);
      throw new Error(`lab: attempt ${attempt} fails on purpose (failAttempts ${data.failAttempts})`);
    }
    record('done', id, attempt);
    return { pid: process.pid };
  },
});
