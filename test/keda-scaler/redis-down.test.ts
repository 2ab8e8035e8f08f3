/**
 * Redis unreachable: KEDA must get an error (it then keeps the replica count), never a 0 that would scale
 * the workers away during the outage; the stream pushes nothing made up; readiness stays up; service
 * resumes by itself when Redis is back.
 */
import { request } from 'node:http';
import { status } from '@grpc/grpc-js';
import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { startRedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';
import { scalerClient, startScaler, statusOf } from './scaler-fixture.js';

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe('Redis down', () => {
  it('answers UNAVAILABLE (never a fake 0), keeps /readyz up, pushes nothing, recovers', async () => {
    const server = await startRedisServer({ persistent: true });
    const redis = server.client();
    const queue = new Queue('outage', { connection: redis });
    const idleQueue = new Queue('outage-idle', { connection: redis });
    await queue.add('work', {});
    await queue.add('work', {});
    await idleQueue.waitUntilReady();
    await idleQueue.close();
    const scaler = await startScaler(server.url, { redisTimeoutMs: 300 });
    const c = scalerClient(`127.0.0.1:${scaler.port}`);
    const md = { queue: 'outage' };
    expect((await c.getMetrics(md))[0]?.metricValue).toBe(2);
    const stream = c.stream(md);
    await stream.next(true);
    const idle = c.stream({ queue: 'outage-idle' });
    await idle.next(false);
    await queue.close();
    redis.disconnect();
    await server.stop();

    for (const call of [c.isActive(md), c.getMetrics(md)]) {
      const started = Date.now();
      const s = await statusOf(call);
      expect(s.code).toBe(status.UNAVAILABLE);
      expect(s.details).toMatch(/Redis did not answer .*KEDA keeps the current replica count/);
      expect(Date.now() - started).toBeLessThan(5000);
    }
    // The metric spec needs no Redis: the HPA can still be built.
    expect((await c.getMetricSpec(md))[0]?.targetSizeFloat).toBe(1);
    expect((await get(scaler.healthPort, '/readyz')).status).toBe(200);
    const metrics = (await get(scaler.healthPort, '/metrics')).body;
    expect(metrics).toMatch(/kq_keda_scaler_requests_total\{method="GetMetrics",code="UNAVAILABLE"\} 1/);
    expect(metrics).toMatch(/kq_keda_scaler_redis_errors_total [1-9]/);
    expect(metrics).toMatch(/kq_keda_scaler_open_streams 2/);

    await server.start();
    await waitFor('the scaler to read again', async () => (await c.getMetrics(md))[0]?.metricValue === 2, {
      timeoutMs: 10_000,
    });
    expect(await c.isActive(md)).toBe(true);
    // Through the whole outage the stream said nothing but the one true it had.
    expect(stream.results.map((r) => r.result)).toEqual([true]);
    expect(stream.error).toBeUndefined();
    // The event stream is followed again after the outage: a job added now is pushed at once.
    const after = server.client();
    const again = new Queue('outage-idle', { connection: after });
    await again.add('work', {});
    await idle.next(true, 1, 3000);
    await again.close();
    after.disconnect();
    stream.cancel();
    idle.cancel();
    c.close();
    await scaler.close();
    await server.remove();
  });
});
