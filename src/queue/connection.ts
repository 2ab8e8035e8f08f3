/**
 * Redis connections. Two kinds, because they fail differently on purpose:
 * - `blocking` (workers): `maxRetriesPerRequest: null` as BullMQ requires; commands wait through an outage.
 * - `fail-fast` (API, health and emptiness checks): no offline queue and a command timeout, so a request
 *   made while Redis is down fails at once and the caller can answer 503 or count the outage.
 * Both reconnect forever with a capped backoff, so service resumes within about a second of Redis' return.
 */
import { Redis, type RedisOptions } from 'ioredis';

export type ConnectionKind = 'blocking' | 'fail-fast';

export interface ConnectionOptions {
  kind: ConnectionKind;
  /**
   * Bound on one command for `fail-fast` connections; `null` for none, where the caller bounds its work
   * as a whole (ioredis arms a timer per command). @default 1000
   */
  commandTimeoutMs?: number | null;
  /** Called with each connection error (throttled by the caller if it logs). */
  onError?: (err: Error) => void;
}

/** Delay before reconnect attempt `times`: 50 ms, 100 ms, ... capped at 1 s. */
export const reconnectDelay = (times: number): number => Math.min(times * 50, 1000);

/** @example const redis = createRedis('redis://127.0.0.1:6379', { kind: 'blocking' }); */
export function createRedis(url: string, options: ConnectionOptions): Redis {
  const common: RedisOptions = {
    retryStrategy: reconnectDelay,
    connectTimeout: 5000,
    lazyConnect: false,
  };
  const specific: RedisOptions =
    options.kind === 'blocking'
      ? { maxRetriesPerRequest: null, enableOfflineQueue: true }
      : {
          maxRetriesPerRequest: 0,
          enableOfflineQueue: false,
          ...(options.commandTimeoutMs === null ? {} : { commandTimeout: options.commandTimeoutMs ?? 1000 }),
        };
  const redis = new Redis(url, { ...common, ...specific });
  redis.on('error', (err: Error) => options.onError?.(err));
  return redis;
}

/** Closes a connection without waiting on a Redis that is down. */
export async function closeRedis(redis: Redis, timeoutMs = 1000): Promise<void> {
  if (redis.status === 'end') return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    redis.quit().catch(() => undefined),
    new Promise((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  redis.disconnect();
}

/**
 * Connection errors arrive once per reconnect attempt (up to every 50 ms); a log line per error would
 * flood the log. This passes on at most one error per `everyMs`: the one place that rule lives.
 * @example createRedis(url, { kind: 'fail-fast', onError: throttleErrors((e) => log.warn(e.message)) })
 */
export function throttleErrors(report: (err: Error) => void, everyMs = 5000): (err: Error) => void {
  let last = 0;
  return (err) => {
    const now = Date.now();
    if (now - last < everyMs) return;
    last = now;
    report(err);
  };
}
