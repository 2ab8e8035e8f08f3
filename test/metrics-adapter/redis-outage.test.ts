/**
 * Redis faults: while a private redis-server is stopped (or frozen) the adapter answers 503 Status
 * quickly instead of hanging or repeating an old value, stays ready, and recovers once Redis is back.
 */
import { execFileSync } from 'node:child_process';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';
import { startAdapter } from './adapter-fixture.js';
import { asAggregator, testPki } from './certs.js';
import { get, metricPath } from './https-client.js';
import { ExternalMetricValueList, Status } from './kube-schemas.js';

const pki = testPki();
const hpa = asAggregator(pki, 8000);
const PATH = metricPath('kq_queue_backlog', 'queue=outage');

let redis: RedisServer | undefined;
let frozenPid: number | undefined;
afterEach(async () => {
  if (frozenPid) process.kill(frozenPid, 'SIGCONT');
  frozenPid = undefined;
  await redis?.stop();
});

async function seed(server: RedisServer, jobs: number): Promise<void> {
  const connection = server.client();
  const q = new Queue('outage', { connection });
  for (let i = 0; i < jobs; i++) await q.add('x', { i });
  await q.close();
  connection.disconnect();
}

const backlogOrStatus = async (port: number) => {
  const r = await get(port, PATH, hpa);
  return r.status === 200 ? ExternalMetricValueList.parse(r.body).items[0]?.value : r.status;
};

describe('Redis outage', () => {
  it('answers 503 while Redis is stopped, stays ready (its APIService must not go Unavailable), and the real value again after restart', async () => {
    redis = await startRedisServer({ persistent: true });
    await seed(redis, 3);
    const { port } = await startAdapter(redis.url, { redisTimeoutMs: 500 });
    expect(await backlogOrStatus(port)).toBe('3');

    await redis.stop();
    // A value read just before the stop may be served for up to the 1 s cache, then only 503s.
    await waitFor('a 503 from the adapter', async () => (await backlogOrStatus(port)) === 503, {
      timeoutMs: 5000,
    });
    for (let i = 0; i < 3; i++) {
      const r = await get(port, PATH, hpa);
      expect(r.status).toBe(503);
      expect(Status.parse(r.body)).toMatchObject({ code: 503, reason: 'ServiceUnavailable' });
    }
    // Readiness must not follow Redis: an empty Service makes the APIService Unavailable, which breaks
    // API discovery cluster-wide and blocks namespace deletion. The body says what is wrong.
    const ready = await get(port, '/readyz', { ca: pki.servingCa.cert });
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ready', redis: expect.stringMatching(/^unreachable/) });

    await redis.start();
    await waitFor('the value after restart', async () => (await backlogOrStatus(port)) === '3', {
      timeoutMs: 15_000,
    });
    expect((await get(port, '/readyz', { ca: pki.servingCa.cert })).body).toMatchObject({ redis: 'ok' });
  });

  it('answers 503 within the Redis timeout when Redis accepts connections but does not answer', async () => {
    redis = await startRedisServer();
    await seed(redis, 1);
    const { port } = await startAdapter(redis.url, { redisTimeoutMs: 300 });
    expect(await backlogOrStatus(port)).toBe('1');
    const info = execFileSync('redis-cli', ['-p', String(redis.port), 'info', 'server']).toString();
    frozenPid = Number(/process_id:(\d+)/.exec(info)?.[1]);
    expect(frozenPid).toBeGreaterThan(0);
    process.kill(frozenPid, 'SIGSTOP');
    // The client's own 8 s timeout would fail the test if the adapter hung.
    await waitFor('a 503 from the frozen Redis', async () => (await backlogOrStatus(port)) === 503, {
      timeoutMs: 8000,
    });
    const r = await get(port, PATH, hpa);
    expect(Status.parse(r.body).message).toMatch(/Redis did not answer/);
    process.kill(frozenPid, 'SIGCONT');
    frozenPid = undefined;
    await waitFor('the value after SIGCONT', async () => (await backlogOrStatus(port)) === '1', {
      timeoutMs: 10_000,
    });
  });
});
