/**
 * Scenario 2, rolling restarts: workers are SIGTERMed one at a time (as a Deployment rollout does) with a
 * short SHUTDOWN_TIMEOUT_MS while long jobs run. No job may fail or get lost, and every job handed back at
 * the shutdown deadline must start again at once: LOCK_DURATION_MS is set high (30 s), so a job that was
 * merely left behind for stall detection would take at least that long and fail the bound below.
 * Recovery time = `job.handed-back` in the stopping worker's log -> the next start of that job (the
 * `startedAt` its later lines carry: `job.started` for a run past 1 s, its end line for a shorter one;
 * `job.completed` carries none: its `time` less `durationMs`).
 */
import { describe, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { startChaosContext } from './support/chaos-context.js';
import { completionStats, readLedger } from './support/ledger.js';
import { report, size } from './support/scenario-report.js';
import { createWorkerPool, logTime } from './support/worker-pool.js';

// Jobs <= (WORKERS - 1) * CONCURRENCY: when one worker stops, the others have free slots, so the time
// measured is the hand-back itself, not a wait for capacity.
const WORKERS = size(3, 4);
const CONCURRENCY = size(2, 3);
const JOBS = size(4, 9);
const JOB_MS = size(3000, 5000);
const ROUNDS = size(1, 3);
const LOCK_MS = 30_000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

describe('chaos: rolling restarts', () => {
  it(`${ROUNDS} rolling restart(s) of ${WORKERS} workers while ${JOBS} jobs of ${JOB_MS} ms run`, {
    timeout: size(90_000, 240_000),
  }, async () => {
    const started = Date.now();
    const ctx = await startChaosContext('rolling');
    const pool = createWorkerPool({
      ...ctx.env,
      CONCURRENCY: String(CONCURRENCY),
      SHUTDOWN_TIMEOUT_MS: '200',
      LOCK_DURATION_MS: String(LOCK_MS),
    });
    const exitCodes: (number | null)[] = [];
    try {
      let current = Array.from({ length: WORKERS }, () => pool.spawn());
      await Promise.all(
        current.map((w) => w.waitForLog('worker.started', (l) => l.event === 'worker.started', 30_000)),
      );
      const ids = await ctx.enqueue(
        Array.from({ length: JOBS }, () => ({ type: 'chaos-work', data: { ms: JOB_MS } })),
      );
      await waitFor(
        'jobs running',
        async () => (await ctx.counts()).active >= Math.min(JOBS, 2) || undefined,
      );
      for (let round = 0; round < ROUNDS; round++) {
        const next = [];
        for (const old of current) {
          old.kill('SIGTERM');
          exitCodes.push((await old.waitForExit(30_000)).code);
          const fresh = pool.spawn();
          await fresh.waitForLog('worker.started', (l) => l.event === 'worker.started', 30_000);
          next.push(fresh);
        }
        current = next;
      }
      await waitFor('every job completed', async () => (await ctx.counts()).completed >= JOBS || undefined, {
        timeoutMs: LOCK_MS + JOB_MS * 2,
        intervalMs: 100,
      }).catch(() => undefined);

      const counts = await ctx.counts();
      const stats = completionStats(await readLedger(ctx.ledger, ctx.queue), ids);
      const logs = pool.logs();
      const handBacks = logs.filter((l) => l.event === 'job.handed-back');
      // The next run of a handed-back job is the first run that started after the one handed back
      // (`startedAt` on its lines). It can start before `job.handed-back` is logged (another worker
      // takes the job while the stopping one is still writing that line): such a restart counts as 0 ms.
      const startedAt = (l: (typeof logs)[number]) =>
        l.event === 'job.completed' ? logTime(l) - Number(l.durationMs) : Date.parse(String(l.startedAt));
      const restartMs = handBacks.map((h) => {
        const again = logs
          .filter((l) => l.jobId === h.jobId && Number.isFinite(startedAt(l)) && startedAt(l) > startedAt(h))
          .map(startedAt)
          .sort((a, b) => a - b)[0];
        return again !== undefined ? Math.max(0, again - logTime(h)) : Number.POSITIVE_INFINITY;
      });
      const worst = restartMs.length ? Math.max(...restartMs) : 0;
      const failedLogs = logs.filter((l) => l.event === 'job.failed' || l.event === 'job.retried');
      report(
        {
          scenario: '2 rolling restarts',
          jobsIn: JOBS,
          completed: counts.completed,
          lost: JOBS - stats.finished,
          duplicates: stats.duplicates,
          worstRecoveryMs: Number.isFinite(worst) ? worst : null,
          notes: `${ROUNDS * WORKERS} SIGTERMs, ${handBacks.length} hand-backs, median hand-back -> restart ${median(restartMs)} ms`,
          durationMs: Date.now() - started,
        },
        [
          [`completed == ${JOBS} (got ${counts.completed})`, counts.completed === JOBS],
          ['every job finished', stats.missing.length === 0],
          [`no job failed or retried (${failedLogs.length})`, counts.failed === 0 && failedLogs.length === 0],
          ['every stopped worker exited 0', exitCodes.every((c) => c === 0)],
          ['some running jobs were handed back', handBacks.length > 0],
          [
            `every handed-back job restarted well before its lock (${LOCK_MS} ms) could expire`,
            restartMs.every((ms) => ms < LOCK_MS / 3),
          ],
        ],
      );
    } finally {
      await pool.close();
      await ctx.close();
    }
  });
});
