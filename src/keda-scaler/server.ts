/**
 * `createKedaScaler`: the gRPC server KEDA calls (plaintext, TLS, or TLS with client certificates) plus
 * the HTTP health server. Readiness is not tied to Redis on purpose: KEDA sends every ScaledObject of a
 * scaler address to it, and an unready scaler would stall them all, where a Redis outage answered as
 * UNAVAILABLE per call lets KEDA keep each replica count and recover on its own. Liveness is: `/healthz`
 * fails once Redis has been unusable longer than `redisLivenessTimeoutMs`, so a scaler whose connection
 * never comes back is restarted.
 */

import { once } from 'node:events';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { Redis } from 'ioredis';
import { anyAddress } from '../listen-address.js';
import type { Logger } from '../log.js';
import { closeRedis, createRedis } from '../queue/connection.js';
import { withDeadline } from '../queue/deadline.js';
import { livenessMessage, watchRedisLiveness } from '../queue/redis-liveness.js';
import type { RedisAuth } from '../queue/redis-url.js';
import { startHealthServer } from '../worker/health-server.js';
import { externalScalerService } from './contract.js';
import type { ScalerTls } from './options.js';
import { createQueueWatcher } from './queue-watcher.js';
import { createScalerMetrics } from './scaler-metrics.js';
import { createScalerService } from './service.js';

export interface KedaScalerOptions {
  redisUrl: string;
  /** Passwords given outside the URL (`REDIS_PASSWORD`, `REDIS_SENTINEL_PASSWORD`). */
  redisAuth?: RedisAuth;
  /** Redis unusable this long = `/healthz` 503 (src/queue/redis-liveness.ts); 0 = never. @default 0 */
  redisLivenessTimeoutMs?: number;
  /** gRPC port; 0 = any free port. */
  port: number;
  /** @default '127.0.0.1' without TLS, every address with (`anyAddress()`) */
  host?: string;
  tls?: ScalerTls;
  /** HTTP port of /healthz, /readyz, /metrics; 0 = any free port. */
  healthPort: number;
  /** @default 1000 */
  redisTimeoutMs?: number;
  /** @default 5000 */
  pollMs?: number;
  log: Logger;
}

export interface KedaScaler {
  port: number;
  healthPort: number;
  close(): Promise<void>;
}

function credentials(tls: ScalerTls | undefined): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(
    tls.clientCa ? Buffer.from(tls.clientCa) : null,
    [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }],
    Boolean(tls.clientCa),
  );
}

async function waitReady(redis: Redis, ms: number): Promise<void> {
  if (redis.status === 'ready') return;
  await withDeadline(
    () => once(redis, 'ready'),
    ms,
    () => new Error('not ready'),
  ).catch(() => undefined);
}

/** @example const scaler = await createKedaScaler({ redisUrl, port: 9090, healthPort: 8081, log }); */
export async function createKedaScaler(o: KedaScalerOptions): Promise<KedaScaler> {
  let lastError = 0;
  const onError = (err: Error) => {
    if (Date.now() - lastError < 5000) return;
    lastError = Date.now();
    o.log.warn({ event: 'redis.unavailable', err: err.message }, `Redis: ${err.message} (retrying)`);
  };
  const redis = createRedis(o.redisUrl, {
    kind: 'fail-fast',
    commandTimeoutMs: o.redisTimeoutMs ?? 1000,
    onError,
    ...(o.redisAuth ? { auth: o.redisAuth } : {}),
  });
  const streamRedis = createRedis(o.redisUrl, {
    kind: 'blocking',
    onError,
    ...(o.redisAuth ? { auth: o.redisAuth } : {}),
  });
  const livenessTimeoutMs = o.redisLivenessTimeoutMs ?? 0;
  const liveness = watchRedisLiveness({ connections: [redis, streamRedis], timeoutMs: livenessTimeoutMs });
  const watcher = createQueueWatcher({
    redis,
    streamRedis,
    pollMs: o.pollMs ?? 5000,
    onStreamError: onError,
    onReadError: onError,
  });
  // Start serving either way, but give a reachable Redis its moment, so KEDA's first calls get numbers.
  await waitReady(redis, o.redisTimeoutMs ?? 1000);
  const metrics = createScalerMetrics(() => watcher.watchedQueues());
  const service = createScalerService({ redis, watcher, metrics, log: o.log });
  const server = new Server({
    // KEDA keeps one connection per scaler address open for good: let idle pings through.
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 10_000,
  });
  server.addService(externalScalerService().service, service.handlers);
  const host = o.host || (o.tls ? anyAddress() : '127.0.0.1');
  const address = host.includes(':') ? `[${host}]:${o.port}` : `${host}:${o.port}`;
  let closing = false;
  const releaseRedis = async () => {
    liveness.close();
    await watcher.close();
    await closeRedis(redis);
  };
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(address, credentials(o.tls), (err, p) => (err ? reject(err) : resolve(p))),
    );
  } catch (err) {
    server.forceShutdown();
    await releaseRedis();
    throw err;
  }
  const health = await startHealthServer({
    port: o.healthPort,
    isReady: async () => (closing ? { ready: false, reason: 'shutting down' } : { ready: true }),
    isAlive: () => {
      const s = liveness.state();
      return { alive: s.alive, reason: livenessMessage(s, livenessTimeoutMs) };
    },
    metrics: metrics.registry,
  }).catch(async (err: Error) => {
    server.forceShutdown();
    await releaseRedis();
    throw err;
  });
  return {
    port,
    healthPort: health.port,
    async close() {
      closing = true;
      service.endStreams();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      await health.close();
      await releaseRedis();
    },
  };
}
