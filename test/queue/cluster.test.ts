/**
 * kq on a real 3-shard Redis Cluster: each queue's keys carry its own hash tag (`bull:{<queue>}:...`), so
 * queues land on several shards; jobs stored through kq's queue cache (`Queue` objects) all complete with kq's worker
 * runtime (exit-when-empty included), and kq's counts and job lookups read them back.
 */
import { describe, expect, it } from 'vitest';
import { parseOptions } from '../../src/config.js';
import { createRegistry, loadRegistry } from '../../src/jobs/registry.js';
import { createLogger } from '../../src/log.js';
import { createQueueValues } from '../../src/metrics/adapter/queue-values.js';
import { readCounts } from '../../src/queue/counts.js';
import { locateJob } from '../../src/queue/job-status.js';
import { queueKeys } from '../../src/queue/keys.js';
import { createQueueDirectory } from '../../src/queue/queue-directory.js';
import { workerOptionSpecs } from '../../src/worker/options.js';
import { startWorker } from '../../src/worker/run-worker.js';
import { AUTH, fixtureJobs, testApp } from '../api/app-fixture.js';
import { uniqueName } from '../helpers/context.js';
import { clusterWithQueues, sharedRedisCluster } from '../helpers/redis-cluster.js';
import { waitFor } from '../helpers/wait.js';

const HANDLERS = new URL('../fixtures/cluster-handlers.mjs', import.meta.url).pathname;
const QUEUES = 6;
const JOBS = 20;

describe('Redis Cluster', () => {
  it('spreads queues over shards by hash tag, and every job completes', { timeout: 90_000 }, async () => {
    const { cluster, redis, queues } = await clusterWithQueues();
    const names = Array.from({ length: QUEUES }, () => uniqueName('cl'));
    expect(queueKeys('bull', names[0] as string, true).wait).toBe(`bull:{${names[0]}}:wait`);

    const shards = new Map<string, number>();
    for (const q of names) {
      await queues.get(q).addBulk(
        Array.from({ length: JOBS }, (_, n) => ({
          name: 'cluster-work',
          data: { n },
          opts: { jobId: `${q}-${n}` },
        })),
      );
      const k = queueKeys('bull', q, true);
      shards.set(q, await cluster.nodeOf(k.wait));
      // One slot per queue: every key of it is served by the same shard.
      for (const key of [k.meta, k.wait, `${k.job}${q}-0`])
        expect(await cluster.nodeOf(key)).toBe(shards.get(q));
      expect((await readCounts(redis, 'bull', q)).waiting).toBe(JOBS);
    }
    expect(new Set(shards.values()).size, `queues by shard: ${JSON.stringify([...shards])}`).toBeGreaterThan(
      1,
    );
    expect(await locateJob(redis, 'bull', names, `${names[1]}-3`)).toBe(names[1]);
    // The metrics adapter's read path (registry + per-queue counts) on the Cluster.
    const values = createQueueValues({ redis, prefix: 'bull', timeoutMs: 5000 });
    await createQueueDirectory({ redis, prefix: 'bull' }).register(names);
    expect(await values.queueNames()).toEqual(expect.arrayContaining(names));
    expect((await values.counts(names[2] as string)).counts.backlog).toBe(JOBS);

    const jobs = await loadRegistry(HANDLERS);
    const log = createLogger({ component: 'test' }, 'warn');
    const handles = await Promise.all(
      names.map((q) => {
        const { values } = parseOptions(workerOptionSpecs, [], {
          REDIS_URL: cluster.url,
          QUEUE: q,
          EXIT: '1',
          HEALTH_PORT: '0',
          CONCURRENCY: '4',
        });
        return startWorker(values, { jobs, log });
      }),
    );
    const codes = await Promise.all(handles.map((h) => h.done));
    expect(codes).toEqual(names.map(() => 0));
    for (const q of names)
      expect(await readCounts(redis, 'bull', q)).toMatchObject({ completed: JOBS, failed: 0, waiting: 0 });
  });

  it('the API stores, finds and counts jobs in queues on different shards; the dashboard reads them', {
    timeout: 60_000,
  }, async () => {
    const cluster = sharedRedisCluster();
    const names = Array.from({ length: 4 }, () => uniqueName('cla'));
    const app = await testApp({
      redisUrl: cluster.url,
      queue: names[0] as string,
      requestTimeoutMs: 5000,
      jobs: createRegistry([
        ...(await fixtureJobs(names[0] as string)).all,
        ...(await loadRegistry(HANDLERS)).all,
      ]),
    });
    try {
      const ids: string[] = [];
      for (const q of names) {
        const res = await app.inject({
          method: 'POST',
          url: '/jobs',
          headers: { ...AUTH, 'content-type': 'application/json' },
          payload: { type: 'work', queue: q, data: { ms: 1 } },
        });
        expect(res.statusCode, res.body).toBe(202);
        ids.push(res.json().id);
      }
      for (const [i, q] of names.entries()) {
        const job = await app.inject({ method: 'GET', url: `/jobs/${ids[i]}`, headers: AUTH });
        expect(job.statusCode, job.body).toBe(200);
        expect(job.json()).toMatchObject({ id: ids[i], queue: q });
        const counts = await app.inject({ method: 'GET', url: `/queues/${q}`, headers: AUTH });
        expect(counts.statusCode, counts.body).toBe(200);
        expect(counts.body).toMatch(/"waiting":1/);
      }
      // Cancel over pub/sub: a running job on a shard stops when the API publishes its cancel request.
      const jobs = await loadRegistry(HANDLERS);
      const q = names[1] as string;
      const { values } = parseOptions(workerOptionSpecs, [], {
        REDIS_URL: cluster.url,
        QUEUE: q,
        HEALTH_PORT: '0',
      });
      const worker = await startWorker(values, { jobs, log: createLogger({ component: 'test' }, 'warn') });
      try {
        const posted = await app.inject({
          method: 'POST',
          url: '/jobs',
          headers: { ...AUTH, 'content-type': 'application/json' },
          payload: { type: 'cluster-sleep', queue: q, data: { ms: 30_000 } },
        });
        expect(posted.statusCode, posted.body).toBe(202);
        const id = posted.json().id as string;
        const state = async () =>
          (await app.inject({ method: 'GET', url: `/jobs/${id}`, headers: AUTH })).json();
        await waitFor('the job running', async () => (await state()).status === 'active', {
          timeoutMs: 15_000,
        });
        const cancel = await app.inject({ method: 'DELETE', url: `/jobs/${id}`, headers: AUTH });
        expect(cancel.statusCode, cancel.body).toBeLessThan(300);
        await waitFor('the job cancelled', async () => (await state()).status === 'cancelled', {
          timeoutMs: 15_000,
        });
      } finally {
        worker.shutdown('test');
        await worker.done;
      }
      const board = await app.inject({ method: 'GET', url: '/ui/api/queues', headers: AUTH });
      expect(board.statusCode, board.body.slice(0, 500)).toBe(200);
      expect(board.body).not.toMatch(/CROSSSLOT/);
    } finally {
      await app.close();
    }
  });
});
