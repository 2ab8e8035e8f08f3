/**
 * Queue counts for the adapter, read from Redis at request time. Three rules:
 * - bounded: a fail-fast connection (no offline queue, command timeout) plus an overall deadline, so a
 *   dead or stuck Redis gives an error within `timeoutMs`, never a hung HPA request;
 * - fresh: a value is cached for at most `ttlMs` (1 s) and keeps the time it was read, which the response
 *   reports as its timestamp; concurrent requests for one queue share one read;
 * - honest: on error nothing cached is served, the caller answers 503.
 */
import type { Redis } from 'ioredis';
import { RedisUnavailableError } from '../../errors.js';
import { listQueueNames, type QueueCounts, readCounts } from '../../queue/counts.js';

export interface QueueValuesOptions {
  redis: Redis;
  prefix: string;
  /** Bound on one read, connection waits included. @default 1000 */
  timeoutMs?: number;
  /** How long a read value may be reused. @default 1000 */
  ttlMs?: number;
}

export interface ReadCounts {
  counts: QueueCounts;
  readAt: number;
}

export interface QueueValues {
  counts(queue: string): Promise<ReadCounts>;
  queueNames(): Promise<string[]>;
  /** Resolves when Redis answers PING within the timeout. */
  ping(): Promise<void>;
}

// ioredis' words for "not connected" when the offline queue is off.
const NOT_CONNECTED = /Stream isn't writeable|Connection is closed/;

/** @example const values = createQueueValues({ redis, prefix: 'bull' }); (await values.counts('jobs')).counts.backlog */
export function createQueueValues(o: QueueValuesOptions): QueueValues {
  const timeoutMs = o.timeoutMs ?? 1000;
  const ttlMs = o.ttlMs ?? 1000;
  const cache = new Map<string, { at: number; value: Promise<unknown> }>();

  /**
   * Runs `op` once the connection is ready, all within `timeoutMs`. Waiting for `ready` (instead of
   * failing at once while ioredis connects or reconnects) avoids a spurious 503 right after start-up.
   */
  const bounded = <T>(what: string, op: () => Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    let onReady: (() => void) | undefined;
    const ready =
      o.redis.status === 'ready' || o.redis.status === 'end'
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            onReady = resolve;
            o.redis.once('ready', resolve);
          });
    const failed = (err: Error) => {
      const why = NOT_CONNECTED.test(err.message) ? 'not connected' : err.message;
      throw new RedisUnavailableError(`Redis did not answer ${what}: ${why}`);
    };
    return Promise.race([
      ready.then(op).catch(failed),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new RedisUnavailableError(`Redis did not answer ${what} within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]).finally(() => {
      clearTimeout(timer);
      if (onReady) o.redis.off('ready', onReady);
    });
  };

  /** Shares one read per key for `ttlMs` from its start; a failed read is dropped at once. */
  const cached = <T>(key: string, read: () => Promise<T>): Promise<T> => {
    const now = Date.now();
    const hit = cache.get(key);
    if (hit && now - hit.at < ttlMs) return hit.value as Promise<T>;
    if (cache.size > 10_000) {
      for (const [k, v] of cache) if (now - v.at >= ttlMs) cache.delete(k);
    }
    const value = read();
    cache.set(key, { at: now, value });
    value.catch(() => {
      if (cache.get(key)?.value === value) cache.delete(key);
    });
    return value;
  };

  return {
    counts: (queue) =>
      cached(`counts:${queue}`, async () => {
        const counts = await bounded(`for queue ${queue}`, () => readCounts(o.redis, o.prefix, queue));
        return { counts, readAt: Date.now() };
      }),
    queueNames: () =>
      cached('names', () => bounded('listing queues', () => listQueueNames(o.redis, o.prefix))),
    ping: () => bounded('PING', () => o.redis.ping()).then(() => undefined),
  };
}
