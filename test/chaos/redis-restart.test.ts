/**
 * Scenario 3, Redis restart: Redis (appendonly yes, appendfsync always) is SIGKILLed mid-run while clients
 * POST jobs to a real `kq api` and workers run them, then started again on the same port and data dir.
 * - Every job the API answered 202 for must complete: a 202 means stored.
 * - While Redis is down the API answers 503 with Retry-After (never 202), within its REQUEST_TIMEOUT_MS
 *   bound (never a hang), and /readyz is 503.
 * - The same API and worker processes (no restarts) must serve again within 5 s of Redis being back.
 * Recovery time = Redis accepting connections again -> the later of the API's first 202 and a worker's first
 * job start.
 */
import { describe, it } from 'vitest';
import { idempotentJobId } from '../../src/api/submit.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { type Answer, call, startApi, stopApi } from './support/api-process.js';
import { startChaosContext } from './support/chaos-context.js';
import { completionStats, readLedger } from './support/ledger.js';
import { report, size } from './support/scenario-report.js';
import { createWorkerPool, isAlive } from './support/worker-pool.js';

const CLIENTS = size(4, 12);
const WARM_MS = size(1500, 5000);
const DOWN_MS = size(3000, 8000);
const AFTER_MS = size(2000, 5000);
const MAX_REQUESTS = size(5000, 40_000);
const REQUEST_TIMEOUT_MS = 2000;
// The API's bound plus slack for a loaded machine: a hang would blow through it by far.
const HANG_BOUND_MS = REQUEST_TIMEOUT_MS + 3000;
const RESUME_BOUND_MS = 5000;

interface Sent {
  key: string;
  t0: number;
  t1: number;
  a: Answer;
}

describe('chaos: Redis restart under the API and workers', () => {
  it(`${CLIENTS} clients POSTing, Redis SIGKILLed for ${DOWN_MS} ms and restarted`, {
    timeout: size(90_000, 180_000),
  }, async () => {
    const started = Date.now();
    const ctx = await startChaosContext('restart');
    const api = await startApi({ ...ctx.env, AUTH: 'none', REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) });
    const pool = createWorkerPool({ ...ctx.env, CONCURRENCY: '8', LOCK_DURATION_MS: '5000' });
    const workers = [pool.spawn(), pool.spawn()];
    const sent: Sent[] = [];
    const readyz: { t: number; status: number }[] = [];
    let stop = false;
    try {
      await Promise.all(
        workers.map((w) => w.waitForLog('started', (l) => l.event === 'worker.started', 30_000)),
      );
      // Each request carries its own Idempotency-Key, so a job stored without a 202 can be traced back to
      // the answer its client got.
      let n = 0;
      const producer = async () => {
        while (!stop && sent.length < MAX_REQUESTS) {
          const key = `r${n++}`;
          const t0 = Date.now();
          const a = await call(api.base, 'POST', '/jobs', {
            body: { type: 'chaos-work', queue: ctx.queue, data: { ms: 5 } },
            headers: { 'idempotency-key': key },
            timeoutMs: HANG_BOUND_MS + 5000,
          });
          sent.push({ key, t0, t1: Date.now(), a });
          if (a.status !== 202) await sleep(50);
        }
      };
      const producers = Array.from({ length: CLIENTS }, producer);
      await sleep(WARM_MS);

      const info = await ctx.client.info('server');
      const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
      process.kill(pid, 'SIGKILL');
      await waitFor('redis-server gone', () => !ctx.server.running, { timeoutMs: 10_000 });
      const downAt = Date.now();
      while (Date.now() - downAt < DOWN_MS) {
        const r = await call(api.base, 'GET', '/readyz', { timeoutMs: HANG_BOUND_MS + 5000 });
        readyz.push({ t: Date.now(), status: r.status });
        await sleep(250);
      }
      const restartAt = Date.now();
      await ctx.server.start();
      const upAt = Date.now();
      await sleep(AFTER_MS);
      stop = true;
      await Promise.all(producers);

      const accepted = sent.filter((s) => s.a.status === 202).map((s) => (s.a.json as { id: string }).id);
      await waitFor(
        'every accepted job done',
        async () => {
          const l = await readLedger(ctx.ledger, ctx.queue);
          return completionStats(l, accepted).missing.length === 0 || undefined;
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      ).catch(() => undefined);

      const ledger = await readLedger(ctx.ledger, ctx.queue);
      const stats = completionStats(ledger, accepted);
      const whileDown = sent.filter((s) => s.t0 > downAt && s.t1 < restartAt);
      const lies = whileDown.filter((s) => s.a.status === 202).length;
      const not503 = whileDown.filter((s) => s.a.status !== 503 || !s.a.headers['retry-after']).length;
      const slowest = Math.max(...sent.map((s) => s.t1 - s.t0));
      const noAnswer = sent.filter((s) => s.a.status === 0).length;
      const firstAccept = sent
        .filter((s) => s.a.status === 202 && s.t0 >= upAt)
        .sort((x, y) => x.t1 - y.t1)[0];
      const workerPids = new Set(workers.map((w) => w.proc.pid));
      const firstRun = ledger.started
        .filter((e) => e.at >= upAt && workerPids.has(e.pid))
        .sort((x, y) => x.at - y.at)[0];
      const apiResumeMs = firstAccept ? firstAccept.t1 - upAt : null;
      const workerResumeMs = firstRun ? firstRun.at - upAt : null;
      const recovery =
        apiResumeMs === null || workerResumeMs === null ? null : Math.max(apiResumeMs, workerResumeMs);
      const ran = new Set(ledger.done.map((e) => e.id));
      const storedWithout202 = sent.filter(
        (s) => s.a.status !== 202 && ran.has(idempotentJobId(ctx.queue, s.key)),
      );
      for (const s of storedWithout202)
        console.log(`restart: job stored although the client got ${s.a.status}: ${s.a.text.slice(0, 200)}`);
      const extra = storedWithout202.length;
      const other = sent.filter((s) => s.a.status !== 202 && s.a.status !== 503);
      for (const l of api.proc.logs.filter((l) => l.level === 'error'))
        console.log(`restart: API error log: ${JSON.stringify(l).slice(0, 800)}`);
      report(
        {
          scenario: '3 Redis restart',
          jobsIn: accepted.length,
          completed: stats.finished,
          lost: stats.missing.length,
          duplicates: stats.duplicates,
          worstRecoveryMs: recovery,
          notes: `${sent.length} POSTs, ${whileDown.length} while down (all 503 + Retry-After: ${not503 === 0}); slowest answer ${slowest} ms; API resumed ${apiResumeMs} ms, workers ${workerResumeMs} ms after Redis was back; ${extra} job(s) stored although the client saw no 202`,
          durationMs: Date.now() - started,
        },
        [
          [`every 202 job completed (${stats.missing.length} missing)`, stats.missing.length === 0],
          ['requests were made while Redis was down', whileDown.length > 0],
          [`no 202 while Redis was down (${lies})`, lies === 0],
          [
            `every answer, also around the kill, was 202 or 503 (${other.map((s) => s.a.status).join(',')})`,
            other.length === 0,
          ],
          [`503 + Retry-After while down (${not503} other answers)`, not503 === 0],
          [
            `every request answered within ${HANG_BOUND_MS} ms (slowest ${slowest}, ${noAnswer} unanswered)`,
            slowest <= HANG_BOUND_MS && noAnswer === 0,
          ],
          [
            `/readyz 503 while down (${readyz.map((r) => r.status).join(',')})`,
            readyz.length > 0 && readyz.every((r) => r.status === 503),
          ],
          [
            `API took a job within ${RESUME_BOUND_MS} ms of Redis' return (${apiResumeMs})`,
            apiResumeMs !== null && apiResumeMs <= RESUME_BOUND_MS,
          ],
          [
            `a worker started a job within ${RESUME_BOUND_MS} ms (${workerResumeMs})`,
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
      await ctx.close();
    }
  });
});
