/**
 * Bounds every Redis-backed piece of request work. The API's connection is fail-fast (no offline queue,
 * command timeout), so a command sent while Redis is down errors at once; this guard adds the two cases
 * that leaves open: a connection not ready yet (BullMQ would wait for `ready` without limit) fails at once,
 * and the whole piece of work, however many commands it sends, is bounded by `timeoutMs`.
 * Either way the caller gets a `RedisUnavailableError` (503 + Retry-After), never a hang or a false 202.
 *
 * Deadlines are checked by one shared ticker (every `TICK_MS`, only while work is pending) instead of a
 * timer and a `Promise.race` per request: on the hot path (`POST /jobs`) that was a timer, three promises
 * and a closure per request (docs/performance.md). A deadline fires within `TICK_MS` after it is due.
 */
import type { Redis } from 'ioredis';
import { RedisUnavailableError } from '../errors.js';
import { isRedisDownError, redisUnavailable } from './errors.js';

export interface RedisGuard {
  <T>(work: () => Promise<T>): Promise<T>;
  /** True when every connection is ready: work may skip the guard if it bounds itself (submit.ts). */
  ready(): boolean;
}

/** Redis-down errors as the 503 the caller answers; other errors unchanged. */
export function mapRedisError(err: unknown): unknown {
  return err instanceof RedisUnavailableError || !isRedisDownError(err) ? err : redisUnavailable(err);
}

/** The error for work that Redis did not finish within `timeoutMs`. */
export function redisTimedOut(timeoutMs: number): RedisUnavailableError {
  return new RedisUnavailableError(
    `Redis did not answer within ${timeoutMs} ms (REQUEST_TIMEOUT_MS); the outcome is unknown. Retry later.`,
  );
}

const TICK_MS = 100;

interface Pending {
  dueAt: number;
  expire(): void;
}

/**
 * `connections`: the Redis connections the guarded work uses; it runs only when all of them are ready.
 * @example const guard = createRedisGuard([redis], 5000); const counts = await guard(() => readCounts(...));
 */
export function createRedisGuard(connections: readonly Redis[], timeoutMs: number): RedisGuard {
  // Until the first connection is made, requests wait for it (within the deadline): a request that
  // arrives in the API's first milliseconds should not get a 503. After that, not ready = down.
  let everReady = connections.every((c) => c.status === 'ready');
  const firstReady = Promise.all(
    connections.map((c) =>
      c.status === 'ready' ? undefined : new Promise<void>((resolve) => c.once('ready', () => resolve())),
    ),
  ).then(() => {
    everReady = true;
  });
  const connecting = (c: Redis) => c.status === 'wait' || c.status === 'connecting' || c.status === 'connect';
  /** The first connection that is not ready and will not be soon, if any. */
  const unavailable = () => {
    for (const c of connections) if (c.status !== 'ready' && (everReady || !connecting(c))) return c;
    return undefined;
  };

  const pending = new Set<Pending>();
  let ticker: NodeJS.Timeout | undefined;
  let now = Date.now();
  const tick = () => {
    now = Date.now();
    for (const p of pending) if (p.dueAt <= now) p.expire();
    if (pending.size === 0) {
      clearInterval(ticker);
      ticker = undefined;
    }
  };

  const guard = <T>(work: () => Promise<T>) => {
    const down = unavailable();
    if (down) {
      return Promise.reject(
        new RedisUnavailableError(
          `Redis is unavailable (connection ${down.status}); nothing was stored. Retry later.`,
        ),
      );
    }
    if (!ticker) {
      now = Date.now();
      ticker = setInterval(tick, TICK_MS);
      ticker.unref();
    }
    return new Promise<T>((resolve, reject) => {
      let expired = false;
      const entry: Pending = {
        dueAt: now + timeoutMs,
        expire() {
          expired = true;
          pending.delete(entry);
          reject(redisTimedOut(timeoutMs));
        },
      };
      pending.add(entry);
      // Work queued behind the first connection must not run after its request was answered 503.
      let running: Promise<T>;
      try {
        running = everReady
          ? work()
          : firstReady.then(() => {
              if (expired) throw new RedisUnavailableError();
              return work();
            });
      } catch (err) {
        running = Promise.reject(err);
      }
      running.then(
        (value) => {
          pending.delete(entry);
          resolve(value);
        },
        (err) => {
          pending.delete(entry);
          reject(mapRedisError(err));
        },
      );
    });
  };
  guard.ready = () => everReady && unavailable() === undefined;
  return guard;
}
