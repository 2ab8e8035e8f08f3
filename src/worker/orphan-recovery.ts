/**
 * Crash recovery, the same in every worker mode. A job whose worker died stays in `:active` with its lock
 * gone (an orphan, see src/queue/bullmq-internals.ts). BullMQ's own stall check would requeue it up to two
 * `stalledInterval`s later, and an exit-mode or one-job-per-pod worker is gone by then. So every kq worker:
 * - recovers orphans once at start, before it fetches anything (a replacement pod runs the job its
 *   predecessor lost, not a new one); with `claimOwner` (one-job-per-pod mode) it first releases the lock
 *   its predecessor left behind, so that job is an orphan at once instead of after `LOCK_DURATION_MS`;
 * - scans every `intervalMs` (1 s), throttled queue-wide so that one scan per window runs however many
 *   workers there are: an orphan runs again within about `LOCK_DURATION_MS` + `intervalMs`.
 * Requeueing goes through BullMQ's own stall pass (src/queue/bullmq-internals.ts), so `MAX_STALLED_COUNT`
 * counts every recovery and a job past it is failed with BullMQ's reason. The exit-mode watcher calls `recoverNow()` before each
 * emptiness check, so it never calls a queue empty while an orphan exists.
 */
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { markOrphans, releaseClaim, runStallPass } from '../queue/bullmq-internals.js';
import { type DeadlineTimer, startDeadline, withDeadline } from '../queue/deadline.js';

export interface OrphanRecoveryOptions {
  /** A fail-fast connection. */
  redis: Redis;
  prefix: string;
  queue: string;
  worker: Worker;
  log: Logger;
  /** The Kubernetes Job whose lost job this worker takes back at start (one-job-per-pod mode). */
  claimOwner?: string;
  /** @default 1000 */
  intervalMs?: number;
  /** Bound on one recovery, so a Redis that stops answering cannot hold a caller. @default 5000 */
  timeoutMs?: number;
  /** What counts the start's wait for Redis (the worker's lifecycle timers). @default the shared ticker */
  timer?: DeadlineTimer;
}

export interface OrphanRecovery {
  /** Requeues every orphan now (no throttle); resolves to how many. Rejects when Redis fails. */
  recoverNow(): Promise<number>;
  /** The start-up recovery, then the periodic scan. Never rejects. */
  start(): Promise<void>;
  close(): void;
}

/** Waits until a fail-fast connection can take commands (it refuses them while still connecting). */
async function ready(redis: Redis, timeoutMs: number, timer?: DeadlineTimer): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const d = startDeadline(
      timeoutMs,
      () => {
        redis.off('ready', onReady);
        reject(new Error(`Redis not ready after ${timeoutMs} ms`));
      },
      timer,
    );
    const onReady = () => {
      d.clear();
      resolve();
    };
    redis.once('ready', onReady);
  });
}

/** @example const r = createOrphanRecovery({ redis, prefix, queue, worker, log }); await r.start(); worker.run(); */
export function createOrphanRecovery(o: OrphanRecoveryOptions): OrphanRecovery {
  const intervalMs = o.intervalMs ?? 1000;
  let timer: NodeJS.Timeout | undefined;
  let scanning = false;
  let closed = false;

  async function recover(throttleMs: number): Promise<number> {
    const { orphans } = await markOrphans(o.redis, o.prefix, o.queue, throttleMs);
    if (orphans.length === 0 || closed) return 0;
    o.log.warn(
      { event: 'worker.orphans-found', jobIds: orphans.slice(0, 20), count: orphans.length },
      `${orphans.length} running job(s) lost their worker (lock gone): requeueing`,
    );
    // BullMQ's own pass: requeues them (the worker logs each as job.stalled) or fails them past the limit.
    await runStallPass(o.worker);
    return orphans.length;
  }

  const bounded = <T>(work: () => Promise<T>): Promise<T> =>
    withDeadline(work, o.timeoutMs ?? 5000, () => new Error('orphan recovery timed out'));

  async function tick() {
    if (scanning || closed) return;
    scanning = true;
    try {
      // Slightly under the interval, so the worker whose timer set the throttle scans again next tick.
      await bounded(() => recover(Math.max(1, intervalMs - 100)));
    } catch {
      // Redis down: the connection's own error log says so; the next tick tries again.
    } finally {
      scanning = false;
    }
  }

  return {
    recoverNow: () => bounded(() => recover(0)),
    async start() {
      try {
        await ready(o.redis, 2000, o.timer);
        if (o.claimOwner) {
          const id = await releaseClaim(o.redis, o.prefix, o.queue, o.claimOwner);
          if (id)
            o.log.warn(
              { event: 'worker.claim-released', jobId: id, owner: o.claimOwner },
              `job ${id} was held by this Job's previous pod, which is gone: taking it back`,
            );
        }
        await bounded(() => recover(0));
      } catch (err) {
        o.log.warn(
          { event: 'worker.recovery-failed', err: (err as Error).message },
          `start-up recovery failed: ${(err as Error).message} (the periodic scan retries)`,
        );
      }
      if (!closed) timer = setInterval(tick, intervalMs);
    },
    close() {
      closed = true;
      clearInterval(timer);
    },
  };
}
