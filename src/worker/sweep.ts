/**
 * `kq sweep`: one pass over a queue for what an autoscaler that counts waiting jobs cannot see, and
 * nothing else. keda-scaledjob's CronJob runs it: KEDA starts one Job per waiting job, so
 * - orphans (active jobs whose worker died and whose lock expired) go back to `wait`, through BullMQ's
 *   stall pass (src/worker/orphan-recovery.ts: `MAX_STALLED_COUNT` counts it, past it the job fails);
 * - retries in backoff and delayed jobs that are due move to `wait` (src/queue/due-delayed.ts).
 * It runs no job: its BullMQ Worker has no processor and never fetches. What it moved to `wait` is
 * KEDA's to start a Job for at its next poll, like any waiting job; a sweeper that ran jobs itself took
 * them from the ScaledJob's pods and ran them without their deadline or one-job-per-pod isolation.
 */
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  type OptionValues,
  prefixOption,
  queueOption,
  redisAuth,
  redisAuthOptions,
  redisUrlOption,
} from '../config.js';
import type { Logger } from '../log.js';
import { closeRedis, createRedis } from '../queue/connection.js';
import { promoteDue } from '../queue/due-delayed.js';
import { bullQueueName, isCluster } from '../queue/keys.js';
import { workerOptionSpecs } from './options.js';
import { createOrphanRecovery } from './orphan-recovery.js';

export const sweepOptionSpecs = {
  redisUrl: redisUrlOption(),
  ...redisAuthOptions(),
  queue: queueOption(),
  prefix: prefixOption(),
  // The same setting as the workers': the stall pass counts and fails by it.
  maxStalledCount: workerOptionSpecs.maxStalledCount,
};

export type SweepOptions = OptionValues<typeof sweepOptionSpecs>;

export interface SweepResult {
  /** Orphans handed back to `wait` (or failed past MAX_STALLED_COUNT). */
  orphans: number;
  /** Due retries and delayed jobs moved to `wait`. */
  promoted: number;
}

/** Bound on waiting for Redis before the sweep gives up (the CronJob runs again a minute later). */
const READY_TIMEOUT_MS = 10_000;

function whenReady(redis: Redis): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`Redis not ready after ${READY_TIMEOUT_MS} ms`));
    }, READY_TIMEOUT_MS);
    const onReady = () => {
      clearTimeout(t);
      resolve();
    };
    redis.once('ready', onReady);
  });
}

/**
 * One sweep; rejects when Redis fails. `now` is the clock that decides which delayed jobs are due.
 * @example const { orphans, promoted } = await sweepQueue(options, { log });
 */
export async function sweepQueue(
  o: SweepOptions,
  deps: { log: Logger; now?: () => number },
): Promise<SweepResult> {
  const log = deps.log.child({ queue: o.queue });
  const auth = redisAuth(o);
  const onError = (err: Error) => log.warn({ event: 'redis.unavailable', err: err.message }, err.message);
  const control = createRedis(o.redisUrl, { kind: 'fail-fast', auth, onError });
  const connection = createRedis(o.redisUrl, { kind: 'blocking', auth, onError: () => undefined });
  const name = bullQueueName(o.queue, isCluster(connection));
  const common = { connection, prefix: o.prefix, skipVersionCheck: true };
  // No processor, never run: this Worker only lends BullMQ's stall pass.
  const worker = new Worker(name, null, { ...common, autorun: false, maxStalledCount: o.maxStalledCount });
  const queue = new Queue(name, common);
  worker.on('error', () => undefined);
  queue.on('error', () => undefined);
  try {
    await whenReady(control);
    const recovery = createOrphanRecovery({ redis: control, prefix: o.prefix, queue: o.queue, worker, log });
    const orphans = await recovery.recoverNow();
    const promoted = await promoteDue(control, queue, o.prefix, o.queue, (deps.now ?? Date.now)());
    log.info(
      { event: 'sweep.done', orphans, promoted },
      `sweep: ${orphans} orphan(s) and ${promoted} due job(s) moved to wait`,
    );
    return { orphans, promoted };
  } finally {
    await worker.close().catch(() => undefined);
    await queue.close().catch(() => undefined);
    await closeRedis(control);
    await closeRedis(connection);
  }
}
