/**
 * The small HTTP server for Kubernetes probes and Prometheus (worker, keda-scaler): `/healthz` (alive:
 * Redis has not been unusable for too long, src/queue/redis-liveness.ts), `/readyz` (ready now), `/metrics`.
 */

import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import { ConfigError } from '../errors.js';
import { anyAddress } from '../listen-address.js';
import { nodeHttp } from '../node-http.js';

export interface HealthServerOptions {
  port: number;
  host?: string;
  isReady: () => Promise<{ ready: boolean; reason?: string }>;
  /** Liveness; none = always alive. */
  isAlive?: () => { alive: boolean; reason?: string };
  metrics: Registry;
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/** @example const health = await startHealthServer({ port: 8081, isReady, metrics: registry }); */
export async function startHealthServer(opts: HealthServerOptions): Promise<HealthServer> {
  const server: Server = nodeHttp().createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, '{"error":"method not allowed"}');
    if (path === '/healthz') {
      const a = opts.isAlive?.() ?? { alive: true };
      return a.alive
        ? send(200, '{"status":"ok"}')
        : send(503, JSON.stringify({ status: 'not alive', reason: a.reason }));
    }
    if (path === '/readyz') {
      opts.isReady().then(
        (r) =>
          send(
            r.ready ? 200 : 503,
            JSON.stringify({ status: r.ready ? 'ready' : 'not ready', reason: r.reason }),
          ),
        (err: Error) => send(503, JSON.stringify({ status: 'not ready', reason: err.message })),
      );
      return;
    }
    if (path === '/metrics') {
      opts.metrics.metrics().then(
        (text) => send(200, text, opts.metrics.contentType),
        () => send(500, '{"error":"metrics unavailable"}'),
      );
      return;
    }
    send(404, '{"error":"not found: try /healthz, /readyz or /metrics"}');
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      // A busy or forbidden port is a configuration error (exit 2), not a crash with a stack trace.
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES')
        reject(
          new ConfigError(
            `HEALTH_PORT ${opts.port} is ${err.code === 'EADDRINUSE' ? 'already in use (another kq worker on this machine?)' : 'not allowed for this user'}: set HEALTH_PORT (--health-port) to a free port, or 0 to turn the health server off`,
            { option: 'HEALTH_PORT', value: opts.port },
          ),
        );
      else reject(err);
    });
    server.listen(opts.port, opts.host || anyAddress(), () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : opts.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
