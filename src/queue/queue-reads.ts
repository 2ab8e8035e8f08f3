/**
 * Cached, bounded reads of queue state for everything that reports it: the API's `/queues` and
 * `/metrics`, the metrics adapter, `kq status`, and the KEDA external scaler. Each read is guarded (one
 * deadline, classified errors: redis-guard.ts) and shared for `ttlMs` (ttl-cache.ts); a failed read is
 * never cached, so callers report no value rather than a stale one. The queues come from the registry
 * (queue-directory.ts), never from a keyspace scan.
 */
import { type QueueCounts, readCounts } from './counts.js';
import { readOldestWaitingAge } from './oldest-waiting.js';
import type { QueueDirectory } from './queue-directory.js';
import type { RedisGuard } from './redis-guard.js';
import { type RunnableBacklog, readRunnableBacklog } from './runnable-backlog.js';
import { createTtlCache } from './ttl-cache.js';

export interface ReadCounts {
  counts: QueueCounts;
  /** When Redis answered (ms since the epoch): the value's timestamp. */
  readAt: number;
}

export interface QueueReads {
  /** One queue's counts. */
  counts(queue: string): Promise<ReadCounts>;
  /** Every registered queue's counts, in `directory.names()` order. */
  all(): Promise<Map<string, QueueCounts>>;
  /** Every registered queue's oldest waiting job's age in seconds (oldest-waiting.ts), 0 when none waits. */
  oldestWaiting(): Promise<Map<string, number>>;
  /** The runnable backlog (runnable-backlog.ts: due delayed and orphaned jobs included, paused honoured). */
  runnable(queue: string): Promise<RunnableBacklog & { readAt: number }>;
}

/** @example const reads = createQueueReads({ redis, prefix, directory, guard }); (await reads.counts('jobs')).counts.backlog */
export function createQueueReads(o: {
  redis: import('ioredis').Redis;
  prefix: string;
  directory: QueueDirectory;
  guard: RedisGuard;
  /** How long a read value may be reused. @default 1000 */
  ttlMs?: number;
}): QueueReads {
  const cache = createTtlCache({ ttlMs: o.ttlMs ?? 1000 });
  const counts = (queue: string) =>
    cache.get(`counts:${queue}`, () =>
      o.guard(async () => ({ counts: await readCounts(o.redis, o.prefix, queue), readAt: Date.now() })),
    );
  return {
    counts,
    all: () =>
      cache.get('all', () =>
        o.guard(async () => {
          const names = await o.directory.names();
          const values = await Promise.all(names.map((n) => readCounts(o.redis, o.prefix, n)));
          return new Map(names.map((n, i) => [n, values[i] as QueueCounts]));
        }),
      ),
    oldestWaiting: () =>
      cache.get('oldest-waiting', () =>
        o.guard(async () => {
          const names = await o.directory.names();
          const ages = await Promise.all(names.map((n) => readOldestWaitingAge(o.redis, o.prefix, n)));
          return new Map(names.map((n, i) => [n, ages[i] as number]));
        }),
      ),
    runnable: (queue) =>
      cache.get(`runnable:${queue}`, () =>
        o.guard(async () => ({
          ...(await readRunnableBacklog(o.redis, o.prefix, queue)),
          readAt: Date.now(),
        })),
      ),
  };
}
