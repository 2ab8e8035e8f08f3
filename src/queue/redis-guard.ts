/**
 * Bounds one piece of Redis work (however many commands it sends) for every caller: the API's routes,
 * the metrics adapter, `kq status`, the KEDA scaler. Three rules:
 * - a connection that is not ready fails at once (`not-sent`): BullMQ would otherwise wait for `ready`
 *   without limit. Right after start-up, before the first `ready`, work waits for it within the deadline,
 *   so a request in a process' first milliseconds is not refused;
 * - the work as a whole gets one deadline (deadline.ts); past it the caller gets `maybe-sent`;
 * - every Redis error is classified once (redis-errors.ts), so a 503 says truthfully whether anything
 *   was stored.
 */
import type { Redis } from 'ioredis';
import { withDeadline } from './deadline.js';
import { maybeSent, notSent, toUnavailable } from './redis-errors.js';

export interface RedisGuard {
  <T>(work: () => Promise<T>): Promise<T>;
  /** True when every connection is ready. */
  ready(): boolean;
  readonly timeoutMs: number;
}

const connecting = (c: Redis) => c.status === 'wait' || c.status === 'connecting' || c.status === 'connect';

/**
 * `connections`: the Redis connections the guarded work uses; it runs only when all of them are ready.
 * @example const guard = createRedisGuard([redis], 5000); const counts = await guard(() => readCounts(...));
 */
export function createRedisGuard(connections: readonly Redis[], timeoutMs: number): RedisGuard {
  let everReady = connections.every((c) => c.status === 'ready');
  const firstReady = everReady
    ? Promise.resolve()
    : Promise.all(
        connections.map((c) =>
          c.status === 'ready' ? undefined : new Promise<void>((resolve) => c.once('ready', () => resolve())),
        ),
      ).then(() => {
        everReady = true;
      });
  /** The first connection that is not ready and will not be soon, if any. */
  const unavailable = () => {
    for (const c of connections) if (c.status !== 'ready' && (everReady || !connecting(c))) return c;
    return undefined;
  };
  const late = () => maybeSent(`Redis did not answer within ${timeoutMs} ms (REQUEST_TIMEOUT_MS)`);

  const guard = <T>(work: () => Promise<T>): Promise<T> => {
    const down = unavailable();
    if (down) return Promise.reject(notSent(`Redis is unavailable (connection ${down.status})`));
    let expired = false;
    const run = everReady
      ? work
      : () =>
          firstReady.then(() => {
            // Work queued behind the first connection must not run after its caller was answered.
            if (expired) throw notSent('Redis was not connected in time');
            return work();
          });
    return withDeadline(run, timeoutMs, () => {
      expired = true;
      return everReady ? late() : notSent(`Redis was not connected within ${timeoutMs} ms`);
    }).catch((err) => {
      throw toUnavailable(err);
    });
  };
  guard.ready = () => everReady && unavailable() === undefined;
  guard.timeoutMs = timeoutMs;
  return guard as RedisGuard;
}
