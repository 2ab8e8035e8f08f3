/**
 * Redis connections. Two kinds, because they fail differently on purpose:
 * - `blocking` (workers): `maxRetriesPerRequest: null` as BullMQ requires; commands wait through an outage.
 * - `fail-fast` (API, health and emptiness checks): no offline queue and a command timeout, so a request
 *   made while Redis is down fails at once and the caller can answer 503 or count the outage.
 * Both reconnect forever with a capped backoff, so service resumes within about a second of Redis' return.
 * The URL picks the topology (redis-url.ts): one Redis, a Sentinel-managed primary (ioredis asks the
 * Sentinels and follows `+switch-master`), or a Cluster (ioredis `Cluster`, which kq uses through the
 * same command interface as `Redis`).
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { withDeadline } from './deadline.js';
import { FailoverSafeSentinelConnector } from './ioredis-internals.js';
import { parseRedisUrl, type RedisAuth, type RedisTarget } from './redis-url.js';

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
  /** Passwords given outside the URL (`REDIS_PASSWORD`, `REDIS_SENTINEL_PASSWORD`). */
  auth?: RedisAuth;
}

/** Delay before reconnect attempt `times`: 50 ms, 100 ms, ... capped at 1 s. */
export const reconnectDelay = (times: number): number => Math.min(times * 50, 1000);

/** @example const redis = createRedis('redis://127.0.0.1:6379', { kind: 'blocking' }); */
export function createRedis(url: string, options: ConnectionOptions): Redis {
  const common: RedisOptions = {
    retryStrategy: reconnectDelay,
    // A demoted primary answers writes with READONLY until the client reconnects: reconnect (Sentinel
    // then names the new primary). READONLY means the command did not run, so a worker's is resent.
    reconnectOnError: (err) =>
      /^READONLY/.test(err.message) ? (options.kind === 'blocking' ? 2 : 1) : false,
    connectTimeout: 5000,
    lazyConnect: false,
    // ioredis otherwise reads its package.json and sends two `CLIENT SETINFO` one after the other before
    // its ready check, on every connection and reconnect (BullMQ's duplicates inherit this): a cold
    // worker's first fetch waits for them. Bundled, it would also report kq's version as ioredis'.
    disableClientInfo: true,
  };
  const specific: RedisOptions =
    options.kind === 'blocking'
      ? { maxRetriesPerRequest: null, enableOfflineQueue: true }
      : {
          maxRetriesPerRequest: 0,
          enableOfflineQueue: false,
          ...(options.commandTimeoutMs === null ? {} : { commandTimeout: options.commandTimeoutMs ?? 1000 }),
        };
  const target = parseRedisUrl(url, options.auth);
  const redis = connect(target, { ...common, ...specific });
  redis.on('error', (err: Error) => options.onError?.(err));
  return redis;
}

function connect(t: RedisTarget, o: RedisOptions): Redis {
  const auth: RedisOptions = {
    ...(t.username ? { username: t.username } : {}),
    ...(t.password ? { password: t.password } : {}),
    ...(t.tls ? { tls: {} } : {}),
  };
  if (t.mode === 'standalone') return new Redis(t.url, { ...o, ...auth });
  if (t.mode === 'sentinel') {
    return new Redis({
      ...o,
      ...auth,
      sentinels: t.nodes,
      name: t.masterName as string,
      ...(t.sentinelPassword ? { sentinelPassword: t.sentinelPassword } : {}),
      ...(t.tls ? { enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
      sentinelRetryStrategy: reconnectDelay,
      // A Sentinel that accepts the connection but never answers (frozen, overloaded) would otherwise hold
      // the lookup, and so the connection, forever: move on to the next Sentinel.
      sentinelCommandTimeout: 2000,
      // Subscribes to +switch-master on every Sentinel: a failover is seen at once, not at the next error.
      failoverDetector: true,
      // ioredis' own connector can end the connection for good when that message arrives mid-lookup.
      Connector: FailoverSafeSentinelConnector,
    });
  }
  const { retryStrategy: _r, enableOfflineQueue, lazyConnect, ...redisOptions } = o;
  const cluster = new Cluster(t.nodes, {
    redisOptions: { ...redisOptions, ...auth },
    clusterRetryStrategy: reconnectDelay,
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    ...(lazyConnect === undefined ? {} : { lazyConnect }),
    slotsRefreshTimeout: 2000,
  });
  // Cluster implements the same commands, events, quit() and disconnect() that kq uses on a Redis.
  return cluster as unknown as Redis;
}

/** The topology a URL names, without connecting. @example redisMode('redis+cluster://h:6379') === 'cluster' */
export function redisMode(url: string): RedisTarget['mode'] {
  return parseRedisUrl(url).mode;
}

/** Closes a connection without waiting on a Redis that is down. */
export async function closeRedis(redis: Redis, timeoutMs = 1000): Promise<void> {
  if (redis.status === 'end') return;
  await withDeadline(
    () => redis.quit(),
    timeoutMs,
    () => new Error('QUIT timed out'),
  ).catch(() => undefined);
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
