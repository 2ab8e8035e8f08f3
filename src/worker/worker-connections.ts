/**
 * A worker's three Redis connections and what watches them: `control` (commands, fail-fast),
 * `connection` (BullMQ's blocking fetch) and `subscriber` (the cancel channel), the readiness guard over
 * all three and the liveness watch `/healthz` reads.
 */
import type { Redis } from 'ioredis';
import { redisAuth } from '../config.js';
import type { Logger } from '../log.js';
import { createRedis, throttleErrors } from '../queue/connection.js';
import { createRedisGuard } from '../queue/redis-guard.js';
import { watchRedisLiveness } from '../queue/redis-liveness.js';
import type { WorkerOptions } from './options.js';

/** Logs a repeating error at most once per 5 s (`throttleErrors`, connection.ts). */
export function throttled(log: Logger, event: string): (err: Error) => void {
  return throttleErrors((err) =>
    log.warn({ event, err: err.message }, `${event}: ${err.message} (retrying)`),
  );
}

/** @example const c = createWorkerConnections(options, log); await c.probeRedis(() => c.control.ping()); */
export function createWorkerConnections(o: WorkerOptions, log: Logger) {
  const onError = throttled(log, 'redis.unavailable');
  const auth = redisAuth(o);
  const control: Redis = createRedis(o.redisUrl, { kind: 'fail-fast', auth, onError });
  const connection: Redis = createRedis(o.redisUrl, { kind: 'blocking', auth, onError });
  const subscriber: Redis = createRedis(o.redisUrl, { kind: 'blocking', auth, onError: () => undefined });
  const all = [control, connection, subscriber];
  return {
    control,
    connection,
    subscriber,
    // The layer's guard: a probe in the first moments waits for the first connection (within 1 s) instead
    // of failing on a connection that is still being made; after that, not connected = not ready. Every
    // connection counts: a worker whose blocking connection is down takes no job, however fast PING is.
    probeRedis: createRedisGuard(all, 1000),
    // Read only by /healthz: no health server (HEALTH_PORT 0), no PING a second.
    liveness: watchRedisLiveness({
      connections: all,
      timeoutMs: o.healthPort > 0 ? o.redisLivenessTimeoutMs : 0,
    }),
  };
}
