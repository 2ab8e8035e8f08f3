/**
 * The HTTP surfaces that read across queues, on a real 3-shard Redis Cluster through real sockets: the
 * API's `/queues`, `/queues/<name>` and `/metrics`, the dashboard (`/ui` and bull-board's API: queue list,
 * a queue's jobs, one job, Redis stats, pause), and the metrics adapter's external metric values, with
 * queues on three different shards. A read that spans slots in one command fails with CROSSSLOT
 * (bull-board #1448 with a shared prefix); kq's per-queue hash tags keep every command in one slot.
 */
import { describe, expect, it } from 'vitest';
import { call, startApi, stopApi } from '../chaos/support/api-process.js';
import { uniqueName } from '../helpers/context.js';
import { spawnKq } from '../helpers/kq-process.js';
import { queuesOnDistinctShards, sharedRedisCluster } from '../helpers/redis-cluster.js';
import { get, metricPath } from '../metrics-adapter/https-client.js';

const HANDLERS = new URL('../fixtures/cluster-handlers.mjs', import.meta.url).pathname;

describe('HTTP reads across queues on a Redis Cluster', () => {
  it('API /queues and /metrics, the dashboard, and the metrics adapter', { timeout: 60_000 }, async () => {
    const cluster = sharedRedisCluster();
    // A prefix of its own: the dashboard's pause-all below must not pause other files' queues.
    const prefix = uniqueName('kqch');
    const names = await queuesOnDistinctShards(cluster, 3, 'ch', prefix);
    const env = { REDIS_URL: cluster.url, HANDLERS, KQ_PREFIX: prefix };
    const api = await startApi({ ...env, AUTH: 'none', UI_WRITE: '1' });
    const adapter = spawnKq(
      ['metrics-adapter', '--secure-port=0', '--bind-address=127.0.0.1', '--insecure-no-client-auth'],
      env,
    );
    try {
      // Queue i gets i + 1 jobs.
      const ids: string[] = [];
      for (const [i, q] of names.entries())
        for (let n = 0; n <= i; n++) {
          const a = await call(api.base, 'POST', '/jobs', {
            body: { type: 'cluster-work', queue: q, data: { n } },
          });
          expect(a.status, a.text).toBe(202);
          ids.push((a.json as { id: string }).id);
        }
      const want = names.map((_, i) => i + 1);

      const list = await call(api.base, 'GET', '/queues');
      expect(list.status, list.text).toBe(200);
      const byName = new Map(
        (list.json as { queues: { queue: string; waiting: number }[] }).queues.map((c) => [
          c.queue,
          c.waiting,
        ]),
      );
      expect(names.map((q) => byName.get(q))).toEqual(want);
      for (const [i, q] of names.entries())
        expect((await call(api.base, 'GET', `/queues/${q}`)).json).toMatchObject({ waiting: want[i] });
      const metrics = await call(api.base, 'GET', '/metrics');
      expect(metrics.status, metrics.text).toBe(200);
      for (const [i, q] of names.entries())
        expect(metrics.text).toMatch(
          new RegExp(`kq_queue_jobs\\{[^}]*queue="${q}"[^}]*state="waiting"[^}]*\\} ${want[i]}`),
        );

      // The dashboard: its page, its queue list, one queue's jobs, one job, Redis stats, a write.
      expect((await call(api.base, 'GET', '/ui')).status).toBe(200);
      const ui = await call(api.base, 'GET', '/ui/api/queues');
      expect(ui.status, ui.text).toBe(200);
      const tag = (q: string) => encodeURIComponent(`{${q}}`);
      const q2 = names[2] as string;
      const jobs = await call(api.base, 'GET', `/ui/api/queues?activeQueue=${tag(q2)}&status=waiting&page=1`);
      expect(jobs.status, jobs.text).toBe(200);
      const shown = (jobs.json as { queues: { name: string; jobs: unknown[] }[] }).queues.find(
        (x) => x.name === `{${q2}}`,
      );
      expect(shown?.jobs).toHaveLength(3);
      const job = await call(api.base, 'GET', `/ui/api/queues/${tag(q2)}/${ids[ids.length - 1]}`);
      expect(job.status, job.text).toBe(200);
      const stats = await call(api.base, 'GET', '/ui/api/redis/stats');
      expect(stats.status, stats.text).toBe(200);
      const pause = await call(api.base, 'PUT', `/ui/api/queues/${tag(q2)}/pause`);
      expect(pause.status, pause.text).toBe(200);
      expect((await call(api.base, 'GET', `/queues/${q2}`)).json).toMatchObject({ paused: true });
      // Actions over every queue at once (one queue, one slot at a time), then more per-queue reads.
      for (const action of ['pause', 'resume'] as const) {
        const r = await call(api.base, 'PUT', `/ui/api/queues/${action}`);
        expect(r.status, r.text).toBe(200);
        const paused = await Promise.all(
          names.map(
            async (q) => ((await call(api.base, 'GET', `/queues/${q}`)).json as { paused: boolean }).paused,
          ),
        );
        expect(paused).toEqual(names.map(() => action === 'pause'));
      }
      for (const path of [
        'metrics',
        'workers',
        `${ids[ids.length - 1]}/logs`,
        'retry/failed',
        'clean/completed',
      ]) {
        const r = await call(
          api.base,
          path.includes('/') && !path.endsWith('logs') ? 'PUT' : 'GET',
          `/ui/api/queues/${tag(q2)}/${path}`,
        );
        expect(r.status, `${path}: ${r.text}`).toBe(200);
      }

      // The metrics adapter: each queue's backlog, and every queue at once.
      const port = (await adapter.waitForLog('listening', (l) => l.event === 'metrics-adapter.listening'))
        .port as number;
      const values = async (selector?: string) => {
        const r = await get(port, metricPath('kq_queue_backlog', selector), { insecure: true });
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        return (r.body as { items: { value: string; metricLabels: { queue: string } }[] }).items;
      };
      for (const [i, q] of names.entries())
        expect((await values(`queue=${q}`)).map((v) => v.value)).toEqual([String(want[i])]);
      const all = new Map((await values()).map((v) => [v.metricLabels.queue, v.value]));
      expect(names.slice(0, 2).map((q) => all.get(q))).toEqual(['1', '2']);
    } finally {
      await stopApi(api);
      adapter.kill('SIGTERM');
      await adapter.waitForExit(10_000).catch(() => adapter.kill('SIGKILL'));
    }
  });
});
