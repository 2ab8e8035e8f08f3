/**
 * The external metrics API server (`kq metrics-adapter`): HTTPS, client-certificate authentication as an
 * aggregated API server (client-auth.ts), discovery and `ExternalMetricValueList`s for kq's queues
 * (metric-routes.ts). Every error is a Kubernetes `Status`; nothing throws past the handler, so there
 * are no 500s without a body and no hung requests.
 *
 * Readiness does not depend on Redis: `/readyz` answers 503 only once the adapter is closing. A Redis
 * outage already answers 503 per metric request (the HPA keeps its last scale, as for any metrics
 * error); if readiness failed too, the Service would lose every endpoint, the APIService would turn
 * Unavailable, and an unavailable aggregated API breaks API discovery cluster-wide and blocks every
 * namespace deletion (kubernetes/kubernetes#83332). The body still reports Redis, for people.
 * Liveness does: `/healthz` and `/livez` answer 503 once Redis has been unusable longer than
 * `redisLivenessTimeoutMs`, so an adapter whose connection never comes back is restarted, not kept.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Redis } from 'ioredis';
import { RedisUnavailableError } from '../../errors.js';
import { anyAddress } from '../../listen-address.js';
import type { Logger } from '../../log.js';
import { livenessMessage, watchRedisLiveness } from '../../queue/redis-liveness.js';
import { authenticate } from './client-auth.js';
import { status } from './kube-objects.js';
import { fail, ok, type Reply, route } from './metric-routes.js';
import { createQueueValues } from './queue-values.js';

export interface MetricsAdapterOptions {
  port: number;
  host?: string;
  /** Serving certificate and key (PEM). */
  cert: string;
  key: string;
  /** Request-header CA (PEM); undefined = no client authentication (explicit insecure dev mode only). */
  requestheaderCa?: string;
  requestheaderAllowedNames?: readonly string[];
  /** A fail-fast connection (see `createRedis`); the adapter does not close it. */
  redis: Redis;
  prefix: string;
  redisTimeoutMs?: number;
  /** Cache lifetime of a read value. @default 1000 */
  cacheTtlMs?: number;
  /** Redis unusable this long = `/healthz` 503 (src/queue/redis-liveness.ts); 0 = never. @default 0 */
  redisLivenessTimeoutMs?: number;
  log: Logger;
}

export interface MetricsAdapter {
  port: number;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then closes connections. */
  close(graceMs?: number): Promise<void>;
}

/** @example const adapter = await createMetricsAdapter({ port: 6443, cert, key, requestheaderCa, redis, prefix: 'bull', log }); */
export async function createMetricsAdapter(o: MetricsAdapterOptions): Promise<MetricsAdapter> {
  const values = createQueueValues({
    redis: o.redis,
    prefix: o.prefix,
    timeoutMs: o.redisTimeoutMs,
    ttlMs: o.cacheTtlMs,
  });
  const authOptions = {
    required: o.requestheaderCa !== undefined,
    allowedNames: o.requestheaderAllowedNames ?? [],
  };

  const livenessTimeoutMs = o.redisLivenessTimeoutMs ?? 0;
  const liveness = watchRedisLiveness({ connections: [o.redis], timeoutMs: livenessTimeoutMs });
  let closing = false;
  const send = (res: ServerResponse, { code, body }: Reply) => {
    res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://adapter.invalid');
    const path = url.pathname;
    // Probes come from the kubelet, which presents no client certificate.
    if (path === '/healthz' || path === '/livez') {
      const s = liveness.state();
      send(
        res,
        s.alive
          ? ok({ status: 'ok' })
          : fail(status(503, 'ServiceUnavailable', livenessMessage(s, livenessTimeoutMs))),
      );
      return;
    }
    if (path === '/readyz') {
      if (closing) {
        send(res, fail(status(503, 'ServiceUnavailable', 'not ready: shutting down')));
        return;
      }
      const redis = await values.ping().then(
        () => 'ok',
        (err: Error) => `unreachable (${err.message}); metric requests answer 503 until it is back`,
      );
      send(res, ok({ status: 'ready', redis }));
      return;
    }
    const auth = authenticate(req, authOptions);
    const reqLog = { method: req.method, path, query: url.search || undefined };
    if (!auth.ok) {
      o.log.warn(
        { event: 'metrics-adapter.unauthorized', ...reqLog, reason: auth.reason },
        'request refused',
      );
      send(res, fail(status(401, 'Unauthorized', `Unauthorized: ${auth.reason}`)));
      return;
    }
    let reply: Reply;
    const started = performance.now();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      reply = fail(
        status(
          405,
          'MethodNotAllowed',
          `method ${req.method} is not allowed: the external metrics API is read-only (GET)`,
        ),
      );
    } else {
      reply = await route(url, values).catch((err: Error) => {
        if (!(err instanceof RedisUnavailableError)) throw err;
        return fail(
          status(503, 'ServiceUnavailable', `${err.message}; kq reports no value rather than a stale one`),
        );
      });
    }
    send(res, reply);
    o.log.info(
      {
        event: 'metrics-adapter.request',
        ...reqLog,
        status: reply.code,
        user: auth.user,
        groups: auth.groups,
        clientCn: auth.clientCn,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
      },
      `${req.method} ${path} ${reply.code}`,
    );
  };

  const server: Server = createServer(
    {
      cert: o.cert,
      key: o.key,
      minVersion: 'TLSv1.2',
      ...(o.requestheaderCa ? { ca: o.requestheaderCa, requestCert: true, rejectUnauthorized: false } : {}),
    },
    (req, res) => {
      handle(req, res).catch((err: Error) => {
        o.log.error({ event: 'metrics-adapter.error', err: err.message, stack: err.stack }, 'handler failed');
        if (!res.headersSent)
          send(res, fail(status(500, 'InternalError', 'internal error; see the adapter log')));
        else res.destroy();
      });
    },
  );
  server.keepAliveTimeout = 30_000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host || anyAddress(), () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : o.port,
    close: (graceMs = 5000) =>
      new Promise<void>((resolve) => {
        closing = true;
        liveness.close();
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
