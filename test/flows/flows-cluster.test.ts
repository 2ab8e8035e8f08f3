/**
 * Flows on a real 3-shard Redis Cluster: every job of a flow on one queue (one hash slot: BullMQ writes
 * a flow in one MULTI) runs with a real worker; a flow spanning two queues is refused (422) while it is
 * validated, before any Redis call.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRegistry } from '../../src/jobs/registry.js';
import { AUTH, expectError, testApp } from '../api/app-fixture.js';
import { uniqueName } from '../helpers/context.js';
import { spawnKq } from '../helpers/kq-process.js';
import { sharedRedisCluster } from '../helpers/redis-cluster.js';
import { waitFor } from '../helpers/wait.js';

const HANDLERS = resolve(import.meta.dirname, '../fixtures/flow-handlers.mjs');
const json = { ...AUTH, 'content-type': 'application/json' };

describe('POST /flows on a Redis Cluster', () => {
  it('a one-queue flow runs (parent last, children’s results); two queues: 422 before any write', async () => {
    const cluster = sharedRedisCluster();
    const prefix = uniqueName('kqfl');
    const queue = uniqueName('flows');
    const app = await testApp({ redisUrl: cluster.url, prefix, queue, jobs: await loadRegistry(HANDLERS) });
    const post = (payload: object) => app.inject({ method: 'POST', url: '/flows', headers: json, payload });
    const get = async (id: string) =>
      (await app.inject({ method: 'GET', url: `/jobs/${id}`, headers: AUTH })).json();

    const spanning = expectError(
      await post({
        type: 'report',
        queue,
        data: { title: 'x' },
        children: [{ type: 'resize', data: { width: 1 } }],
      }),
      422,
      'INVALID_FLOW',
    );
    expect(spanning.message).toContain('one queue');

    const res = await post({
      type: 'report',
      queue,
      data: { title: 'on a cluster' },
      children: [
        { type: 'resize', queue, data: { width: 1 } },
        { type: 'resize', queue, data: { width: 2 } },
      ],
    });
    expect(res.statusCode, res.body).toBe(202);
    const tree = res.json() as { id: string; children: { id: string }[] };
    expect((await get(tree.id)).children).toMatchObject({ total: 2, waiting: 2 });

    const worker = spawnKq(
      ['worker'],
      { REDIS_URL: cluster.url, KQ_PREFIX: prefix, HANDLERS, QUEUE: queue, HEALTH_PORT: '0' },
      'cluster flow worker',
    );
    const done = await waitFor(
      'parent completed',
      async () => {
        const s = await get(tree.id);
        return s.status === 'completed' ? s : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(Object.keys(done.result.children).sort()).toEqual(tree.children.map((c) => c.id).sort());
    expect(done.children).toMatchObject({ total: 2, completed: 2 });
    worker.kill();
    expect((await worker.waitForExit()).code).toBe(0);
    await app.close();
  });
});
