/**
 * `GET /jobs/:id?wait=<seconds>`: answer once the job is finished, or with its state when the time is up.
 * A waiter subscribes to the queue's shared event reader (queue/job-events.ts) BEFORE it reads the job, so
 * a job that finishes between the two is not missed; it holds no Redis connection of its own, only a
 * listener and a timer. Every event that can end a job (completed, failed, removed) re-reads the job: a
 * failed attempt that will be retried is not an end, a removed job with a tombstone is `cancelled`.
 */
import { ValidationError } from '../errors.js';
import { type JobStatus, readJobStatus } from '../queue/job-status.js';
import type { ApiContext } from './context.js';
import { queueQuery } from './schemas.js';

/** Longest `wait`, seconds. */
export const MAX_WAIT_SECONDS = 60;

export const FINISHED: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled']);

/** `?queue=` and `?wait=` (a string: query values are not coerced, so the rule is checked below, as 422). */
export const waitQuery = {
  ...queueQuery,
  properties: {
    ...queueQuery.properties,
    wait: {
      type: 'string',
      maxLength: 20,
      description: `Seconds (0 < wait <= ${MAX_WAIT_SECONDS}, decimals allowed) to wait for the job to complete, fail or be cancelled; the answer is its state then.`,
    },
  },
} as const;

/** `wait`'s value in ms, or a 422 naming it and its rule. */
export function waitSeconds(raw: string): number {
  const n = /^\d{1,5}(\.\d{1,3})?$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n > 0 && n <= MAX_WAIT_SECONDS)) {
    throw new ValidationError(
      'INVALID_PARAMETER',
      `Invalid query parameter wait=${JSON.stringify(raw)}: must be a number of seconds, greater than 0 and at most ${MAX_WAIT_SECONDS} (e.g. wait=30).`,
      { parameter: 'wait', value: raw },
    );
  }
  return Math.round(n * 1000);
}

/**
 * Waits for a subscription within the Redis guard's bound; one that resolves after the guard gave up
 * (a 503 already answered) is ended at once, so no listener outlives its request.
 */
export async function subscribeBounded(
  ctx: ApiContext,
  subscribing: Promise<{ at: string; off(): void }>,
): Promise<{ at: string; off(): void }> {
  try {
    return await ctx.guard(() => subscribing);
  } catch (err) {
    subscribing.then(
      (late) => late.off(),
      () => undefined,
    );
    throw err;
  }
}

/**
 * The job's status once it is finished, or after `waitMs`, or when the API begins shutting down or the
 * client goes away (`signal`, which may be aborted already); `undefined` when the job does not exist.
 */
export async function waitForJob(
  ctx: ApiContext,
  queue: string,
  id: string,
  waitMs: number,
  signal: AbortSignal,
): Promise<JobStatus | undefined> {
  const read = () => ctx.guard(() => readJobStatus(ctx.queues.get(queue), ctx.redis, ctx.prefix, id));
  let wake: () => void = () => undefined;
  const woken = new Promise<void>((resolve) => {
    wake = resolve;
  });
  let checking = Promise.resolve<JobStatus | undefined>(undefined);
  const subscribing = ctx.events.subscribe(queue, id, (e) => {
    if (e.event !== 'completed' && e.event !== 'failed' && e.event !== 'removed') return;
    // Chained, so that checks do not pile up in parallel on one waiter.
    checking = checking.then(async () => {
      const s = await read().catch(() => undefined);
      if (!s || FINISHED.has(s.status)) wake();
      return s;
    });
  });
  const sub = await subscribeBounded(ctx, subscribing);
  const timer = setTimeout(wake, waitMs);
  const stopClosing = ctx.onClosing(wake);
  signal.addEventListener('abort', wake, { once: true });
  // Gone while subscribing: 'abort' has fired already.
  if (signal.aborted) wake();
  try {
    const first = await read();
    if (!first || FINISHED.has(first.status) || signal.aborted) return first;
    await woken;
    return await read();
  } finally {
    clearTimeout(timer);
    stopClosing();
    signal.removeEventListener('abort', wake);
    sub.off();
  }
}
