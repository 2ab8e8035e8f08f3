/**
 * Scenario 11, Sentinel failover: a real Sentinel set (primary, 2 replicas, 3 Sentinels) under a real
 * `kq api` and two `kq worker`s given `REDIS_URL=redis+sentinel://...`, while the primary is SIGKILLed or
 * a `SENTINEL FAILOVER` runs. Counted: jobs answered 202, completed, lost, run twice; the window in which
 * the API answered 5xx; the time until workers run jobs again. Nothing is restarted: the same processes
 * must carry on (never alive-but-stuck), and every 202 job must complete.
 * With WRITE_REPLICAS=1 a 202 means a replica holds the job too, so a SIGKILL cannot lose it.
 * `npm run test:slow` runs the kill with WRITE_REPLICAS=1; `npm run chaos` runs all three cases.
 */
import { Redis } from 'ioredis';
import { describe, inject, it } from 'vitest';
import { uniqueName } from '../helpers/context.js';
import { startSentinelSet } from '../helpers/redis-sentinel.js';
import { freePort } from '../helpers/redis-server.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { type Answer, call, startApi, stopApi } from './support/api-process.js';
import { clearLedger, completionStats, readLedger } from './support/ledger.js';
import { FULL, report, size } from './support/scenario-report.js';
import { CHAOS_HANDLERS, createWorkerPool, isAlive } from './support/worker-pool.js';

const CLIENTS = size(4, 8);
const WARM_MS = size(1500, 4000);
const AFTER_MS = size(2500, 6000);
const REQUEST_TIMEOUT_MS = 2000;
const RESUME_BOUND_MS = 15_000;

type Fault = 'kill' | 'failover';
const CASES: { fault: Fault; writeReplicas: number }[] = FULL
  ? [
      { fault: 'kill', writeReplicas: 0 },
      { fault: 'failover', writeReplicas: 0 },
      { fault: 'kill', writeReplicas: 1 },
    ]
  : [{ fault: 'kill', writeReplicas: 1 }];

interface Sent {
  t0: number;
  t1: number;
  a: Answer;
}

describe('chaos: Sentinel failover under the API and workers', () => {
  it.each(CASES)(
    '$fault with WRITE_REPLICAS=$writeReplicas',
    { timeout: size(120_000, 240_000) },
    async (c) => {
      const started = Date.now();
      const set = await startSentinelSet();
      const queue = uniqueName('chaos-sentinel');
      const ledger = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
      const env = {
        REDIS_URL: set.url,
        QUEUE: queue,
        HANDLERS: CHAOS_HANDLERS,
        KQ_CHAOS_LEDGER_URL: inject('redisUrl'),
      };
      const api = await startApi({
        ...env,
        AUTH: 'none',
        REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        WRITE_REPLICAS: String(c.writeReplicas),
      });
      const pool = createWorkerPool({ ...env, CONCURRENCY: '8', LOCK_DURATION_MS: '5000' });
      const healthPorts = [await freePort(), await freePort()];
      const workers = healthPorts.map((p) => pool.spawn({ HEALTH_PORT: String(p) }));
      // Readiness of the API and of each worker, polled through the fault: it must reflect the lost
      // primary (503) and come back (200) without a restart.
      const probes: { t: number; who: string; status: number }[] = [];
      const probeTargets = [api.base, ...healthPorts.map((p) => `http://127.0.0.1:${p}`)];
      const probe = async () => {
        while (!stop) {
          await Promise.all(
            probeTargets.map(async (base, i) => {
              const a = await call(base, 'GET', '/readyz', { timeoutMs: 3000 });
              probes.push({ t: Date.now(), who: i === 0 ? 'api' : `worker${i}`, status: a.status });
            }),
          );
          await sleep(250);
        }
      };
      const sent: Sent[] = [];
      let stop = false;
      try {
        await Promise.all(
          workers.map((w) => w.waitForLog('started', (l) => l.event === 'worker.started', 30_000)),
        );
        const producer = async () => {
          while (!stop) {
            const t0 = Date.now();
            const a = await call(api.base, 'POST', '/jobs', {
              body: { type: 'chaos-work', queue, data: { ms: 5 } },
              timeoutMs: REQUEST_TIMEOUT_MS + 8000,
            });
            sent.push({ t0, t1: Date.now(), a });
            if (a.status !== 202) await sleep(50);
          }
        };
        const producers = [...Array.from({ length: CLIENTS }, producer), probe()];
        await sleep(WARM_MS);

        const oldPort = await set.primaryPort();
        const faultAt = Date.now();
        if (c.fault === 'kill') {
          const primary = set.nodes.find((n) => n.port === oldPort);
          process.kill(primary?.pid as number, 'SIGKILL');
        } else {
          const sentinel = set.client(set.sentinelPorts[0] as number);
          await sentinel.call('SENTINEL', 'failover', set.masterName);
          sentinel.disconnect();
        }
        await set.waitForNewPrimary(oldPort);
        const promotedAt = Date.now();
        await sleep(AFTER_MS);
        stop = true;
        await Promise.all(producers);

        const accepted = sent.filter((s) => s.a.status === 202).map((s) => (s.a.json as { id: string }).id);
        await waitFor(
          'every accepted job done',
          async () =>
            completionStats(await readLedger(ledger, queue), accepted).missing.length === 0 || undefined,
          { timeoutMs: 60_000, intervalMs: 250 },
        ).catch(() => undefined);
        const l = await readLedger(ledger, queue);
        const stats = completionStats(l, accepted);
        const failedAnswers = sent.filter((s) => s.a.status >= 500 || s.a.status === 0);
        const window =
          failedAnswers.length === 0
            ? 0
            : Math.max(...failedAnswers.map((s) => s.t1)) - Math.min(...failedAnswers.map((s) => s.t0));
        const odd = sent.filter((s) => s.a.status !== 202 && s.a.status !== 503);
        const apiBack = sent
          .filter((s) => s.a.status === 202 && s.t0 >= promotedAt)
          .sort((x, y) => x.t1 - y.t1)[0];
        const pids = new Set(workers.map((w) => w.proc.pid));
        const runBack = l.started
          .filter((e) => e.at >= promotedAt && pids.has(e.pid))
          .sort((x, y) => x.at - y.at)[0];
        const apiResumeMs = apiBack ? apiBack.t1 - faultAt : null;
        const workerResumeMs = runBack ? runBack.at - faultAt : null;
        const readyz = await call(api.base, 'GET', '/readyz', { timeoutMs: 5000 });
        const workersReady = await Promise.all(
          healthPorts.map((p) => call(`http://127.0.0.1:${p}`, 'GET', '/readyz', { timeoutMs: 5000 })),
        );
        const unready = (who: string) =>
          probes.filter((p) => p.who === who && p.status !== 200 && p.t >= faultAt);
        const unreadyMs = (who: string) => {
          const u = unready(who);
          return u.length ? Math.max(...u.map((p) => p.t)) - faultAt : 0;
        };
        const readiness = ['api', 'worker1', 'worker2'].map(
          (w) => `${w} unready ${unready(w).length}x, last ${unreadyMs(w)} ms`,
        );
        // What the API said after the new primary was up: a stuck connection shows here.
        const late = new Map<string, number>();
        for (const s of failedAnswers.filter((s) => s.t0 > promotedAt + 2000)) {
          const what = `${s.a.status} ${s.a.error ?? (s.a.json as { error?: { message?: string } })?.error?.message ?? ''}`;
          late.set(what, (late.get(what) ?? 0) + 1);
        }
        for (const [what, n] of late) console.log(`sentinel ${c.fault}: ${n} x ${what.slice(0, 300)}`);
        // A process still unready at the end: print what it logged, for whoever reads the failure.
        workersReady.forEach((a, i) => {
          if (a.status === 200) return;
          const w = workers[i];
          for (const line of (w?.logs ?? []).slice(-8))
            console.log(
              `sentinel ${c.fault}: worker${i + 1} unready at the end, log: ${JSON.stringify(line).slice(0, 400)}`,
            );
        });
        report(
          {
            scenario: `11 Sentinel ${c.fault}, WRITE_REPLICAS=${c.writeReplicas}`,
            jobsIn: accepted.length,
            completed: stats.finished,
            lost: stats.missing.length,
            duplicates: stats.duplicates,
            worstRecoveryMs:
              apiResumeMs === null || workerResumeMs === null ? null : Math.max(apiResumeMs, workerResumeMs),
            notes: `${sent.length} POSTs; new primary ${promotedAt - faultAt} ms after the fault; ${failedAnswers.length} answers 5xx/none over a ${window} ms window; API 202 again ${apiResumeMs} ms, a worker ran a job ${workerResumeMs} ms after the fault; /readyz: ${readiness.join(', ')}`,
            durationMs: Date.now() - started,
          },
          [
            [
              `every 202 job completed (${stats.missing.length} missing${c.writeReplicas ? '' : ', allowed: async replication'})`,
              c.writeReplicas === 0 || stats.missing.length === 0,
            ],
            [`every answer was 202 or 503 (${odd.map((s) => s.a.status).join(',')})`, odd.length === 0],
            [
              `API took a job within ${RESUME_BOUND_MS} ms (${apiResumeMs})`,
              apiResumeMs !== null && apiResumeMs <= RESUME_BOUND_MS,
            ],
            [
              `a worker ran a job within ${RESUME_BOUND_MS} ms (${workerResumeMs})`,
              workerResumeMs !== null && workerResumeMs <= RESUME_BOUND_MS,
            ],
            [
              `/readyz 200 after the failover (api ${readyz.status}, workers ${workersReady.map((a) => a.status).join(',')})`,
              readyz.status === 200 && workersReady.every((a) => a.status === 200),
            ],
            ...(c.fault === 'kill'
              ? ([
                  [
                    `readiness reflected the dead primary (${readiness.join(', ')})`,
                    ['api', 'worker1', 'worker2'].every((w) => unready(w).length > 0),
                  ],
                ] as [string, boolean][])
              : []),
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
        await clearLedger(ledger, queue).catch(() => undefined);
        ledger.disconnect();
        await set.close();
      }
    },
  );
});
