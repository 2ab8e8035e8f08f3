/**
 * The worker's side of the queue limits (src/jobs/queue-limits.ts resolves them): storing them in Redis
 * at start, where BullMQ's fetch script reads them for every worker, and `ctx.rateLimited(ms)`.
 *
 * `ctx.rateLimited` has two answers, because BullMQ checks its limiter key only on a queue with a rate
 * limit: there, the key makes every worker of the queue wait `ms`, and BullMQ puts the job back to
 * waiting on `RateLimitError` without counting the attempt; elsewhere only this job waits, moved to
 * delayed with its attempt taken back (as for an unknown type).
 */
import { DelayedError, type Job, RateLimitError } from 'bullmq';
import type { Redis } from 'ioredis';
import type { QueueLimits } from '../jobs/define-queue.js';
import type { Logger } from '../log.js';
import type { WorkerMetrics } from '../metrics/worker-metrics.js';
import { delayBackJob } from '../queue/hand-back.js';
import { applyQueueLimits, storedForm } from '../queue/queue-limits.js';
import type { QueueCache } from '../queue/queues.js';
import { createRedisGuard } from '../queue/redis-guard.js';
import { type LifecycleTimers, realTimers } from './lifecycle.js';

/** As long as start-up recovery waits for Redis (orphan-recovery.ts): a Redis down at start costs one wait. */
const STORE_TIMEOUT_MS = 2000;

/**
 * Waits for a fail-fast connection (it refuses commands while connecting). Its timer is not unref'd: a
 * worker stopped meanwhile (Redis down, exit mode) must still get to the end of its start and exit with
 * its code, not drain its event loop waiting here.
 */
async function whenReady(redis: Redis, timeoutMs: number, timers: LifecycleTimers): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const onReady = () => {
      cancel();
      resolve();
    };
    const cancel = timers.after(timeoutMs, () => {
      redis.off('ready', onReady);
      reject(new Error(`Redis not ready after ${timeoutMs} ms`));
    });
    redis.once('ready', onReady);
  });
}

export interface WorkerQueueLimitsOptions {
  limits: QueueLimits;
  /** The worker's fail-fast connection, and the queues on it. */
  control: Redis;
  queues: QueueCache;
  prefix: string;
  queue: string;
  log: Logger;
  metrics: WorkerMetrics;
  /** False once the worker stops: no more retries of `store`. */
  isRunning: () => boolean;
  /** What counts the wait for Redis before the first store. @default realTimers */
  timers?: LifecycleTimers;
}

/** @example const ql = createWorkerQueueLimits({ ... }); await ql.store(); createProcessor({ onRateLimited: ql.onRateLimited }) */
export function createWorkerQueueLimits(o: WorkerQueueLimitsOptions) {
  /** Stores the limits, waiting for the first connection; when Redis is down now, again at its return. */
  async function store(): Promise<void> {
    try {
      await whenReady(o.control, STORE_TIMEOUT_MS, o.timers ?? realTimers);
      const before = await createRedisGuard(
        [o.control],
        STORE_TIMEOUT_MS,
      )(() => applyQueueLimits(o.queues, o.queue, o.limits));
      const after = storedForm(o.limits);
      if (JSON.stringify(before) !== JSON.stringify(after)) {
        o.log.info(
          { event: 'queue.limits', before, after },
          `limits of queue ${o.queue} changed: ${JSON.stringify(before)} -> ${JSON.stringify(after)}`,
        );
      }
    } catch (err) {
      o.log.warn(
        { event: 'queue.limits-not-stored', err: (err as Error).message },
        'could not store the queue limits in Redis: retrying when it is back (meanwhile the values stored before hold)',
      );
      if (o.isRunning()) o.control.once('ready', () => void store());
    }
  }

  async function onRateLimited(job: Job, delayMs: number, token?: string): Promise<never> {
    o.metrics.rateLimited.inc({ queue: o.queue, type: job.name });
    const fields = { event: 'job.rate-limited', jobId: job.id, type: job.name, delayMs };
    if (o.limits.rateLimit) {
      await o.queues.get(o.queue).rateLimit(delayMs);
      o.log.warn({ ...fields, scope: 'queue' }, `handler asked to retry later: queue waits ${delayMs} ms`);
      throw new RateLimitError();
    }
    await delayBackJob(o.control, o.prefix, o.queue, job, delayMs, token);
    o.log.warn({ ...fields, scope: 'job' }, `handler asked to retry later: job delayed ${delayMs} ms`);
    throw new DelayedError();
  }

  return { store, onRateLimited };
}
