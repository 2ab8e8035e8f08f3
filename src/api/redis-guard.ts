/**
 * Bounds every Redis-backed piece of request work. The API's connection is fail-fast (no offline queue,
 * command timeout), so a command sent while Redis is down errors at once; this guard adds the two cases
 * that leaves open: a connection not ready yet (BullMQ would wait for `ready` without limit) fails at once,
 * and the whole piece of work, however many commands it sends, is raced against `timeoutMs`.
 * Either way the caller gets a `RedisUnavailableError` (503 + Retry-After), never a hang or a false 202.
 */
import type { Redis } from 'ioredis';
import { RedisUnavailableError } from '../errors.js';
import { isRedisDownError, redisUnavailable } from './errors.js';

export type RedisGuard = <T>(work: () => Promise<T>) => Promise<T>;

/** @example const guard = createRedisGuard(redis, 5000); const counts = await guard(() => readCounts(...)); */
export function createRedisGuard(redis: Redis, timeoutMs: number): RedisGuard {
  // Until the first connection is made, requests wait for it (within the deadline): a request that
  // arrives in the API's first milliseconds should not get a 503. After that, not ready = down.
  let everReady = redis.status === 'ready';
  const firstReady = new Promise<void>((resolve) => {
    if (everReady) resolve();
    else
      redis.once('ready', () => {
        everReady = true;
        resolve();
      });
  });
  return async (work) => {
    const connecting = ['wait', 'connecting', 'connect'].includes(redis.status);
    if (redis.status !== 'ready' && (everReady || !connecting)) {
      throw new RedisUnavailableError(
        `Redis is unavailable (connection ${redis.status}); nothing was stored. Retry later.`,
      );
    }
    let timer: NodeJS.Timeout | undefined;
    let expired = false;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        expired = true;
        reject(
          new RedisUnavailableError(
            `Redis did not answer within ${timeoutMs} ms (REQUEST_TIMEOUT_MS); the outcome is unknown. Retry later.`,
          ),
        );
      }, timeoutMs);
    });
    // Work queued behind the first connection must not run after its request was answered 503.
    const running = everReady
      ? work()
      : firstReady.then(() => {
          if (expired) throw new RedisUnavailableError();
          return work();
        });
    running.catch(() => undefined);
    try {
      return await Promise.race([running, deadline]);
    } catch (err) {
      if (err instanceof RedisUnavailableError || !isRedisDownError(err)) throw err;
      throw redisUnavailable(err);
    } finally {
      clearTimeout(timer);
    }
  };
}
