/**
 * The safety net under every reconnect path: each long-running command (`kq worker`, `kq api`,
 * `kq keda-scaler`, `kq metrics-adapter`) answers `/healthz` 503 once Redis has been unusable for longer
 * than REDIS_LIVENESS_TIMEOUT_MS (3 s here), and 200 again when it is back; the worker's and the API's
 * `/readyz` go 503 at once. Before, `/healthz` was a constant 200: a process whose connection never
 * came back (test/chaos/sentinel-stuck.test.ts) was alive-but-stuck for good. Real processes, a private
 * redis-server stopped and restarted.
 */
import { describe, expect, it } from 'vitest';
import { uniqueName } from '../helpers/context.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { get } from '../metrics-adapter/https-client.js';
import { call } from './support/api-process.js';
import { startKqFleet } from './support/kq-fleet.js';

const BOUND_MS = 3000;

describe('liveness fails when Redis has been unusable longer than REDIS_LIVENESS_TIMEOUT_MS', () => {
  it('worker, api, keda-scaler and metrics-adapter: /healthz 503 past the bound, 200 once Redis is back', {
    timeout: 60_000,
  }, async () => {
    const redis = await startRedisServer();
    const env = { REDIS_URL: redis.url, REDIS_LIVENESS_TIMEOUT_MS: String(BOUND_MS) };
    const fleet = await startKqFleet({
      env,
      queue: uniqueName('liveness'),
      adapterArgs: ['--insecure-no-client-auth'],
    }).catch(async (err) => {
      await redis.remove();
      throw err;
    });
    const { api, workerPort, scalerHealthPort: scalerHealth, adapterPort } = fleet;
    try {
      const http = (base: string, path: string) => async () =>
        (await call(base, 'GET', path, { timeoutMs: 3000 })).status;
      const probes = {
        worker: http(`http://127.0.0.1:${workerPort}`, '/healthz'),
        api: http(api.base, '/healthz'),
        scaler: http(`http://127.0.0.1:${scalerHealth}`, '/healthz'),
        adapter: async () =>
          (
            await get(adapterPort, '/healthz', { insecure: true, timeoutMs: 3000 }).catch(() => ({
              status: 0,
            }))
          ).status,
      };
      const names = Object.keys(probes) as (keyof typeof probes)[];
      const all = async () => Promise.all(names.map((n) => probes[n]()));
      expect(await all()).toEqual([200, 200, 200, 200]);

      // From the moment the stop is asked for: Redis drops its clients before its process exits.
      const downAt = Date.now();
      await redis.stop();
      // Readiness follows at once.
      expect((await call(api.base, 'GET', '/readyz', { timeoutMs: 3000 })).status).toBe(503);
      expect(
        (await call(`http://127.0.0.1:${workerPort}`, 'GET', '/readyz', { timeoutMs: 3000 })).status,
      ).toBe(503);
      // Liveness holds within the bound (a failover is not a reason to restart)...
      await sleep(downAt + BOUND_MS / 2 - Date.now());
      expect(await all(), 'alive within the bound').toEqual([200, 200, 200, 200]);
      // ...and fails past it, each process on its own.
      const failedAfter: Record<string, number> = {};
      await waitFor(
        'every /healthz 503',
        async () => {
          const s = await all();
          names.forEach((n, i) => {
            if (s[i] === 503) failedAfter[n] ??= Date.now() - downAt;
          });
          return Object.keys(failedAfter).length === names.length;
        },
        { timeoutMs: BOUND_MS + 8000, intervalMs: 100 },
      );
      console.log(`liveness: /healthz 503 after ${JSON.stringify(failedAfter)} ms (bound ${BOUND_MS} ms)`);
      for (const n of names) expect(failedAfter[n]).toBeGreaterThanOrEqual(BOUND_MS);

      await redis.start();
      await waitFor('every /healthz 200 again', async () => (await all()).every((s) => s === 200), {
        timeoutMs: 10_000,
        intervalMs: 100,
      });
      await waitFor(
        'readyz 200 again',
        async () => (await call(api.base, 'GET', '/readyz', { timeoutMs: 3000 })).status === 200,
      );
      for (const p of fleet.all) expect(p.proc.exitCode).toBeNull();
    } finally {
      await fleet.stop();
      await redis.remove();
    }
  });
});
