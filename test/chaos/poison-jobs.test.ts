/**
 * Scenario 5, poison jobs, mixed with healthy ones on a pool that is restarted when a process dies (as
 * Kubernetes restarts a pod): a handler that throws, one that never settles (per-type timeoutMs), one that
 * blocks the event loop past its lock, and one that calls process.exit. Each must end `failed` with its
 * reason kept, healthy jobs must all complete, and the exiting job must stop killing workers after
 * MAX_STALLED_COUNT + 1 runs (BullMQ fails a job found stalled more often than that), so the pool does not
 * crash-loop forever. CONCURRENCY=1: a job that blocks the event loop also stops lock renewal for every other
 * job in the same process (see docs/reliability.md).
 * Recovery time here = the longest a poison job took from enqueue to `failed`.
 */
import { describe, it } from 'vitest';
import { sleep, waitFor } from '../helpers/wait.js';
import { startChaosContext } from './support/chaos-context.js';
import { completionStats, readLedger } from './support/ledger.js';
import { report, size } from './support/scenario-report.js';
import { createWorkerPool, isAlive } from './support/worker-pool.js';

const WORKERS = 2;
const HEALTHY = size(20, 200);
const MAX_STALLED = 1;
const MAX_RESTARTS = 20;

const POISON = [
  { type: 'poison-throw', data: {}, reason: /poison-throw: handler threw on purpose/ },
  { type: 'poison-hang', data: {}, reason: /timed out after 500 ms/ },
  { type: 'poison-block', data: { ms: 3000 }, reason: /stalled more than allowable limit/ },
  { type: 'poison-exit', data: {}, reason: /stalled more than allowable limit/ },
];

describe('chaos: poison jobs', () => {
  it(`throw, hang, event-loop block and process.exit among ${HEALTHY} healthy jobs`, {
    timeout: size(90_000, 180_000),
  }, async () => {
    const started = Date.now();
    const ctx = await startChaosContext('poison');
    const pool = createWorkerPool({
      ...ctx.env,
      CONCURRENCY: '1',
      LOCK_DURATION_MS: '1000',
      MAX_STALLED_COUNT: String(MAX_STALLED),
    });
    // The supervisor: replace any worker that dies, at most MAX_RESTARTS times in all.
    let slots = Array.from({ length: WORKERS }, () => pool.spawn());
    // `recycled`: the worker stopped itself because every slot was held by a handler that ignored its
    // signal (poison-hang), by design (docs/worker.md): exit 1, attributed to that job.
    const exits: { code: number | null; at: number; recycled: boolean }[] = [];
    const supervisor = setInterval(() => {
      slots = slots.map((w) => {
        if (isAlive(w) || exits.length >= MAX_RESTARTS) return w;
        const recycled = w.logs.some(
          (l) => l.event === 'worker.stopping' && /abandoned handler/.test(String(l.reason)),
        );
        exits.push({ code: w.proc.exitCode, at: Date.now(), recycled });
        return pool.spawn();
      });
    }, 100);
    try {
      const healthy = () =>
        Array.from({ length: HEALTHY / 2 }, () => ({ type: 'chaos-work', data: { ms: 50 } }));
      const firstHalf = await ctx.enqueue(healthy());
      const poisonIds = await ctx.enqueue(POISON.map(({ type, data }) => ({ type, data })));
      const secondHalf = await ctx.enqueue(healthy());
      const bull = ctx.queues.get(ctx.queue);
      await waitFor(
        'every poison job failed',
        async () => {
          const states = await Promise.all(poisonIds.map((id) => bull.getJobState(id)));
          return states.every((s) => s === 'failed') || undefined;
        },
        { timeoutMs: size(60_000, 120_000), intervalMs: 200 },
      ).catch(() => undefined);

      // After the poison settled: no further deaths, and new work still gets done.
      const deaths = () => exits.filter((e) => !e.recycled).length;
      const exitsAfterPoison = deaths();
      const lateIds = await ctx.enqueue(healthy());
      const healthyIds = [...firstHalf, ...secondHalf, ...lateIds];
      await waitFor(
        'healthy jobs done',
        async () => (await ctx.counts()).completed >= healthyIds.length || undefined,
        {
          timeoutMs: 30_000,
          intervalMs: 200,
        },
      ).catch(() => undefined);
      await sleep(1500);
      clearInterval(supervisor);

      const jobs = await Promise.all(poisonIds.map((id) => bull.getJob(id)));
      const outcome = await Promise.all(
        POISON.map(async (p, i) => {
          const job = jobs[i];
          const state = job ? await job.getState() : 'missing';
          const reasonOk = p.reason.test(job?.failedReason ?? '');
          const ms = job?.finishedOn && job.timestamp ? job.finishedOn - job.timestamp : null;
          return {
            type: p.type,
            state,
            reason: job?.failedReason,
            attempts: job?.attemptsMade,
            reasonOk,
            ms,
          };
        }),
      );
      for (const o of outcome) console.log(`poison ${JSON.stringify(o)}`);
      for (const w of pool.all.filter(
        (p) =>
          p.proc.exitCode !== null &&
          p.proc.exitCode !== 3 &&
          p.proc.exitCode !== 0 &&
          !p.logs.some((l) => l.event === 'worker.stopping' && /abandoned handler/.test(String(l.reason))),
      ))
        console.log(`worker died unexpectedly (code ${w.proc.exitCode}):\n${w.output().slice(-2000)}`);
      const counts = await ctx.counts();
      const stats = completionStats(await readLedger(ctx.ledger, ctx.queue), healthyIds);
      const ledger = await readLedger(ctx.ledger, ctx.queue);
      const exitRuns = ledger.started.filter((e) => e.id === poisonIds[3]).length;
      const settleMs = outcome.map((o) => o.ms ?? Number.POSITIVE_INFINITY);
      const worst = Math.max(...settleMs);
      const poisonDeaths = exits.filter((e) => e.code === 3).length;
      const recycles = exits.filter((e) => e.recycled).length;
      const poisonFailed = outcome.filter((o) => o.state === 'failed').length;
      report(
        {
          scenario: '5 poison jobs',
          jobsIn: healthyIds.length + POISON.length,
          completed: counts.completed,
          lost: healthyIds.length - stats.finished + (POISON.length - poisonFailed),
          duplicates: stats.duplicates,
          worstRecoveryMs: Number.isFinite(worst) ? worst : null,
          notes: `${poisonFailed}/${POISON.length} poison jobs failed with their reason; worker deaths ${exits.length} (exit codes ${exits.map((e) => e.code).join(',')}; ${recycles} recycled for an abandoned handler); process.exit job ran ${exitRuns}x`,
          durationMs: Date.now() - started,
        },
        [
          ...outcome.map((o): [string, boolean] => [
            `${o.type} ended failed with its reason (${o.state}: ${o.reason})`,
            o.state === 'failed' && o.reasonOk,
          ]),
          [
            `every healthy job completed (${stats.finished}/${healthyIds.length})`,
            stats.missing.length === 0,
          ],
          [`completed == healthy jobs (${counts.completed})`, counts.completed === healthyIds.length],
          [
            `the process.exit job killed at most MAX_STALLED_COUNT + 1 = ${MAX_STALLED + 1} workers (${poisonDeaths})`,
            poisonDeaths >= 1 && poisonDeaths <= MAX_STALLED + 1,
          ],
          [
            `the hang job (ignores its signal) recycled at most one worker per attempt (${recycles})`,
            recycles <= 2,
          ],
          [
            `no worker died for another reason (${exits.length - poisonDeaths - recycles}; output printed above)`,
            exits.length === poisonDeaths + recycles,
          ],
          ['no worker died after the poison jobs settled', deaths() === exitsAfterPoison],
          ['the pool is still up', slots.every(isAlive)],
        ],
      );
    } finally {
      clearInterval(supervisor);
      await pool.close();
      await ctx.close();
    }
  });
});
