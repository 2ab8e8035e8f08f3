/**
 * Queue values for the adapter, from the Redis-access layer (src/queue/): the queue directory for
 * unpinned selectors (never a keyspace scan), and TTL-cached, guarded counts. Three rules, all the
 * layer's: bounded (one deadline per read, so a dead or stuck Redis gives an error within `timeoutMs`,
 * never a hung HPA request); fresh (a value is reused for at most `ttlMs` and keeps the time it was
 * read, which the response reports as its timestamp); honest (on error nothing cached is served, the
 * caller answers 503).
 */
import type { Redis } from 'ioredis';
import { createQueueDirectory } from '../../queue/queue-directory.js';
import { createQueueReads, type ReadCounts } from '../../queue/queue-reads.js';
import { createRedisGuard } from '../../queue/redis-guard.js';

export type { ReadCounts };

export interface QueueValuesOptions {
  redis: Redis;
  prefix: string;
  /** Bound on one read, connection waits included. @default 1000 */
  timeoutMs?: number;
  /** How long a read value may be reused. @default 1000 */
  ttlMs?: number;
}

export interface QueueValues {
  counts(queue: string): Promise<ReadCounts>;
  /** The registered queues (src/queue/queue-directory.ts). */
  queueNames(): Promise<string[]>;
  /** Resolves when Redis answers PING within the timeout. */
  ping(): Promise<void>;
}

/** @example const values = createQueueValues({ redis, prefix: 'bull' }); (await values.counts('jobs')).counts.backlog */
export function createQueueValues(o: QueueValuesOptions): QueueValues {
  const ttlMs = o.ttlMs ?? 1000;
  const guard = createRedisGuard([o.redis], o.timeoutMs ?? 1000);
  const directory = createQueueDirectory({ redis: o.redis, prefix: o.prefix, ttlMs });
  const reads = createQueueReads({ redis: o.redis, prefix: o.prefix, directory, guard, ttlMs });
  return {
    counts: (queue) => reads.counts(queue),
    queueNames: () => guard(() => directory.names()),
    ping: () => guard(() => o.redis.ping()).then(() => undefined),
  };
}
