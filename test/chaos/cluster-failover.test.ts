/**
 * Scenario 10, Cluster shard failover: a real Redis Cluster (3 primaries, 1 replica each) under a real
 * `kq api` and one `kq worker` per queue, with clients POSTing to queues on different shards while one
 * queue's shard primary is SIGKILLed and its replica promoted (cluster-node-timeout 2 s). Every 202 job
 * must complete; the other shards' queues keep going; the same processes carry on.
 */
import { Redis } from 'ioredis';
import { describe, inject, it } from 'vitest';
import { queueKeys } from '../../src/queue/keys.js';
import { queuesOnDistinctShards, startRedisCluster } from '../helpers/redis-cluster.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { type Answer, call, startApi, stopApi } from './support/api-process.js';
import { clearLedger, completionStats, readLedger } from './support/ledger.js';
import { report, size } from './support/scenario-report.js';
import { CHAOS_HANDLERS, createWorkerPool, isAlive } from './support/worker-pool.js';

const CLIENTS = size(3, 6);
const WARM_MS = size(1500, 4000);
const AFTER_MS = size(3000, 6000);
const RESUME_BOUND_MS = 20_000;

describe('chaos: Redis Cluster shard failover', () => {
  it('a shard primary SIGKILLed, its replica promoted', { timeout: size(120_000, 240_000) }, async () => {
    const started = Date.now();
    const cluster = await startRedisCluster(3, 1);
    const ledger = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    // Two queues on different shards: the killed one, and one that must not notice.
    const names = await queuesOnDistinctShards(cluster, 2, 'chaos-cluster');
    const [hit, other] = names as [string, string];
    const env = { REDIS_URL: cluster.url, HANDLERS: CHAOS_HANDLERS, KQ_CHAOS_LEDGER_URL: inject('redisUrl') };
    const api = await startApi({ ...env, AUTH: 'none', REQUEST_TIMEOUT_MS: '2000' });
    const pool = createWorkerPool({ ...env, CONCURRENCY: '8', LOCK_DURATION_MS: '5000' });
    const workers = names.map((q) => pool.spawn({ QUEUE: q }));
    const sent: { q: string; t0: number; t1: number; a: Answer }[] = [];
    let stop = false;
    try {
      await Promise.all(
        workers.map((w) => w.waitForLog('started', (l) => l.event === 'worker.started', 30_000)),
      );
      const producer = async (i: number) => {
        for (let n = 0; !stop; n++) {
          const q = names[(i + n) % 2] as string;
          const t0 = Date.now();
          const a = await call(api.base, 'POST', '/jobs', {
            body: { type: 'chaos-work', queue: q, data: { ms: 5 } },
            timeoutMs: 12_000,
          });
          sent.push({ q, t0, t1: Date.now(), a });
          if (a.status !== 202) await sleep(50);
        }
      };
      const producers = Array.from({ length: CLIENTS }, (_, i) => producer(i));
      await sleep(WARM_MS);
      const hitPort = await cluster.nodeOf(queueKeys('bull', hit, true).wait);
      const victim = cluster.nodes.find((n) => n.port === hitPort);
      const faultAt = Date.now();
      process.kill(victim?.pid as number, 'SIGKILL');
      const promoted = await waitFor(
        'the replica promoted',
        async () => {
          const port = await cluster.nodeOf(queueKeys('bull', hit, true).wait).catch(() => undefined);
          return port && port !== victim?.port ? port : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      const promotedAt = Date.now();
      await sleep(AFTER_MS);
      stop = true;
      await Promise.all(producers);

      const l0 = await readLedger(ledger, hit);
      const accepted = (q: string) =>
        sent.filter((s) => s.q === q && s.a.status === 202).map((s) => (s.a.json as { id: string }).id);
      const stats = async () =>
        Promise.all(names.map(async (q) => completionStats(await readLedger(ledger, q), accepted(q))));
      await waitFor(
        'every accepted job done',
        async () => (await stats()).every((s) => s.missing.length === 0) || undefined,
        {
          timeoutMs: 60_000,
          intervalMs: 250,
        },
      ).catch(() => undefined);
      const [hitStats, otherStats] = (await stats()) as [
        ReturnType<typeof completionStats>,
        ReturnType<typeof completionStats>,
      ];
      const failed = sent.filter((s) => s.a.status !== 202);
      const odd = failed.filter((s) => s.a.status !== 503);
      for (const s of odd) console.log(`cluster: answer ${s.a.status}: ${s.a.text.slice(0, 400)}`);
      for (const line of api.proc.logs.filter((l) => l.status === 500 || l.err !== undefined).slice(-5))
        console.log(`cluster: API error log: ${JSON.stringify(line).slice(0, 600)}`);
      const otherFailed = failed.filter((s) => s.q === other).length;
      const back = sent
        .filter((s) => s.q === hit && s.a.status === 202 && s.t0 >= promotedAt)
        .sort((x, y) => x.t1 - y.t1)[0];
      const apiResumeMs = back ? back.t1 - faultAt : null;
      const l = await readLedger(ledger, hit);
      const run = l.started.filter((e) => e.at >= promotedAt).sort((x, y) => x.at - y.at)[0];
      const workerResumeMs = run ? run.at - faultAt : null;
      report(
        {
          scenario: '10 Cluster shard primary SIGKILL',
          jobsIn: accepted(hit).length + accepted(other).length,
          completed: hitStats.finished + otherStats.finished,
          lost: hitStats.missing.length + otherStats.missing.length,
          duplicates: hitStats.duplicates + otherStats.duplicates,
          worstRecoveryMs:
            apiResumeMs === null || workerResumeMs === null ? null : Math.max(apiResumeMs, workerResumeMs),
          notes: `${sent.length} POSTs over 2 queues on 2 shards; replica ${promoted} promoted ${promotedAt - faultAt} ms after the kill; ${failed.length} non-202 (${otherFailed} for the other shard's queue); the hit queue took a job again ${apiResumeMs} ms and ran one ${workerResumeMs} ms after the kill (ledger had ${l0.started.length} starts)`,
          durationMs: Date.now() - started,
        },
        [
          [
            `every 202 job completed (${hitStats.missing.length + otherStats.missing.length} missing)`,
            hitStats.missing.length + otherStats.missing.length === 0,
          ],
          [`every answer was 202 or 503 (${odd.map((s) => s.a.status).join(',')})`, odd.length === 0],
          [
            `the hit queue took a job within ${RESUME_BOUND_MS} ms (${apiResumeMs})`,
            apiResumeMs !== null && apiResumeMs <= RESUME_BOUND_MS,
          ],
          [
            `its worker ran a job within ${RESUME_BOUND_MS} ms (${workerResumeMs})`,
            workerResumeMs !== null && workerResumeMs <= RESUME_BOUND_MS,
          ],
          [
            'API and workers never restarted',
            isAlive(api.proc) && workers.every(isAlive) && pool.all.length === 2,
          ],
        ],
      );
    } finally {
      stop = true;
      await pool.close();
      await stopApi(api);
      for (const q of names) await clearLedger(ledger, q).catch(() => undefined);
      ledger.disconnect();
      await cluster.close();
    }
  });
});
