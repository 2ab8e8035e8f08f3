/**
 * Scenario 1, worker crashes: a pool of workers, one SIGKILLed at random and replaced every 500 ms while
 * short jobs run. Every job must complete at least once and nothing may be left active or waiting.
 * Recovery time = from a kill to the moment a job that was running in the killed worker is back in the
 * queue (BullMQ's `stalled` event: lock expired, stall check of a live worker requeued it); about
 * LOCK_DURATION_MS plus one stall-check interval. The notes add kill -> the job started again, which also
 * includes its wait behind the rest of the backlog (a requeued job goes to the back).
 * MAX_STALLED_COUNT is raised so that a healthy job caught in several kills in a row is not failed for it.
 */
import { QueueEvents } from 'bullmq';
import { describe, it } from 'vitest';
import { sleep, waitFor } from '../helpers/wait.js';
import { startChaosContext } from './support/chaos-context.js';
import { completionStats, readLedger } from './support/ledger.js';
import { report, size } from './support/scenario-report.js';
import { createWorkerPool } from './support/worker-pool.js';

const JOBS = size(100, 2000);
const WORKERS = size(3, 4);
const KILL_EVERY_MS = 500;
const LOCK_MS = 2000;
const MAX_KILLS = size(12, 400);
const CHAOS_BOUND_MS = size(20_000, 150_000);

describe('chaos: worker crashes', () => {
  it(`${JOBS} jobs of 20-200 ms, ${WORKERS} workers, one SIGKILLed and replaced every ${KILL_EVERY_MS} ms`, {
    timeout: size(120_000, 300_000),
  }, async () => {
    const started = Date.now();
    const ctx = await startChaosContext('crash');
    const pool = createWorkerPool({
      ...ctx.env,
      CONCURRENCY: '4',
      LOCK_DURATION_MS: String(LOCK_MS),
      MAX_STALLED_COUNT: '50',
    });
    const requeued = new Map<string, number[]>();
    const events = new QueueEvents(ctx.queue, {
      connection: { host: '127.0.0.1', port: ctx.server.port },
      prefix: ctx.prefix,
    });
    events.on('stalled', ({ jobId }) => requeued.set(jobId, [...(requeued.get(jobId) ?? []), Date.now()]));
    try {
      await events.waitUntilReady();
      for (let i = 0; i < WORKERS; i++) pool.spawn();
      const ids = await ctx.enqueue(
        Array.from({ length: JOBS }, () => ({
          type: 'chaos-work',
          data: { ms: 20 + Math.floor(Math.random() * 181) },
        })),
      );
      const kills: { pid: number; at: number }[] = [];
      // Victims are workers that are up (logged worker.started): killing one still booting proves nothing.
      const chaosUntil = Date.now() + CHAOS_BOUND_MS;
      while (kills.length < MAX_KILLS && Date.now() < chaosUntil) {
        await sleep(KILL_EVERY_MS);
        if ((await ctx.counts()).completed >= JOBS) break;
        const up = pool.live().filter((w) => w.logs.some((l) => l.event === 'worker.started'));
        const victim = up[Math.floor(Math.random() * up.length)];
        if (!victim?.proc.pid) continue;
        kills.push({ pid: victim.proc.pid, at: Date.now() });
        victim.kill('SIGKILL');
        pool.spawn();
      }
      // The last kills' jobs come back after their locks expire: wait for that, bounded.
      await waitFor('every job completed', async () => (await ctx.counts()).completed >= JOBS || undefined, {
        timeoutMs: 60_000,
        intervalMs: 200,
      }).catch(() => undefined);
      const counts = await ctx.counts();
      const ledger = await readLedger(ctx.ledger, ctx.queue);
      const stats = completionStats(ledger, ids);

      // Jobs whose handler was cut short by a kill, and how long until they started again.
      let worstRecoveryMs = 0;
      let worstRestartMs = 0;
      let interrupted = 0;
      for (const kill of kills) {
        const doneHere = new Set(ledger.done.filter((e) => e.pid === kill.pid).map((e) => e.id));
        const cut = new Set(
          ledger.started.filter((e) => e.pid === kill.pid && !doneHere.has(e.id)).map((e) => e.id),
        );
        for (const id of cut) {
          interrupted++;
          const again = ledger.started.find((e) => e.id === id && e.at >= kill.at && e.pid !== kill.pid);
          worstRestartMs = Math.max(worstRestartMs, again ? again.at - kill.at : Date.now() - kill.at);
          const back = requeued.get(id)?.find((t) => t >= kill.at);
          worstRecoveryMs = Math.max(worstRecoveryMs, back ? back - kill.at : Date.now() - kill.at);
        }
      }
      report(
        {
          scenario: '1 worker crashes',
          jobsIn: JOBS,
          completed: counts.completed,
          lost: JOBS - stats.finished,
          duplicates: stats.duplicates,
          worstRecoveryMs,
          notes: `${kills.length} SIGKILLs, ${interrupted} handler runs cut short, lock ${LOCK_MS} ms; kill -> requeued worst ${worstRecoveryMs} ms, kill -> started again worst ${worstRestartMs} ms`,
          durationMs: Date.now() - started,
        },
        [
          ['every job finished its handler at least once', stats.missing.length === 0],
          [`completed == ${JOBS} (got ${counts.completed})`, counts.completed === JOBS],
          ['nothing failed', counts.failed === 0],
          [
            'nothing left waiting, prioritized, delayed or active',
            counts.waiting + counts.prioritized + counts.delayed + counts.active === 0,
          ],
          ['at least one worker was killed', kills.length > 0],
        ],
      );
    } finally {
      await events.close();
      await pool.close();
      await ctx.close();
    }
  });
});
