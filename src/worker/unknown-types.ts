/**
 * Jobs of a type this worker does not know. During a rolling deploy the API (new version) accepts a new
 * type before every worker (old version) knows it, and on a shared Redis another application's jobs may
 * reach this queue: failing such a job at once would lose it for good. Instead the worker puts it back
 * delayed by `delayMs` (no attempt used, so a worker that knows the type runs it with all its attempts;
 * delayed, so this worker does not spin on it), logs it and counts it. Only a job older than `graceMs`
 * (from its creation, `job.timestamp`) is failed, with a reason naming the bound: by then a rollout is
 * long done, and the type is one no worker of this queue knows.
 */
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { Logger } from '../log.js';

export interface UnknownTypeOptions {
  /** Types this worker knows on its queue, for the messages. */
  known: readonly string[];
  /** UNKNOWN_TYPE_DELAY_MS. */
  delayMs: number;
  /** UNKNOWN_TYPE_GRACE_MS; 0 = fail at once. */
  graceMs: number;
  log: Logger;
  /** Moves the job to delayed without counting an attempt (src/queue/hand-back.ts, `delayBackJob`). */
  delayBack: (job: Job, delayMs: number, token?: string) => Promise<void>;
  /** Called for each job put back. */
  onDelayed?: (job: Job) => void;
  /** @default Date.now */
  now?: () => number;
}

/**
 * Returns the processor's answer to an unknown type: always throws, `DelayedError` (put back) or
 * `UnrecoverableError` (past the grace, failed with no retry).
 * @example const onUnknown = createUnknownTypeHandler({ known: ['a'], delayMs: 5000, graceMs: 3_600_000, log, delayBack });
 */
export function createUnknownTypeHandler(
  o: UnknownTypeOptions,
): (job: Job, token?: string) => Promise<never> {
  const now = o.now ?? Date.now;
  const knows = `this worker knows ${o.known.join(', ') || 'no types'}`;
  return async (job, token) => {
    const type = JSON.stringify(job.name);
    const ageMs = now() - job.timestamp;
    if (ageMs >= o.graceMs) {
      throw new UnrecoverableError(
        `Unknown job type ${type}: ${knows}, and no worker of this queue ran it within UNKNOWN_TYPE_GRACE_MS (${o.graceMs} ms) of its creation (check HANDLERS).`,
      );
    }
    await o.delayBack(job, o.delayMs, token);
    o.onDelayed?.(job);
    o.log.warn(
      { event: 'job.unknown-type', jobId: job.id, type: job.name, ageMs, delayMs: o.delayMs },
      `unknown job type ${type} (${knows}): put back for ${o.delayMs} ms, no attempt used, for a worker that knows it; failed once older than UNKNOWN_TYPE_GRACE_MS (${o.graceMs} ms)`,
    );
    throw new DelayedError();
  };
}
