/**
 * Scenario 6, load: jobs pour in through POST /jobs/batch (1,000 per request) and POST /jobs (one per
 * request, many clients) at the same time while 4 workers run them. Every job the API accepted must complete
 * exactly as many times as it was accepted (enqueued == completed), nothing may stay waiting, active or
 * failed, and the completed set must stay within the job type's retention (count 10,000), so Redis memory
 * is bounded; the peak `used_memory` is reported.
 * "Worst recovery" here = the slowest API answer.
 */
import { describe, it } from 'vitest';
import { sleep, waitFor } from '../helpers/wait.js';
import { type Answer, call, startApi, stopApi } from './support/api-process.js';
import { startChaosContext } from './support/chaos-context.js';
import { completionStats, countDone, readLedger } from './support/ledger.js';
import { report, size } from './support/scenario-report.js';
import { createWorkerPool } from './support/worker-pool.js';

const BATCHES = size(1, 90);
const SINGLES = size(200, 10_000);
const CLIENTS = size(4, 16);
const WORKERS = 4;
const RETENTION = 10_000;
const MAX_TRIES = 10;
// Throughput, not durability, is measured here: fsync once a second (scenario 3 covers appendfsync always).
const REDIS_ARGS = ['--appendfsync', 'everysec'];

describe('chaos: load', () => {
  it(`${BATCHES} x 1,000 via POST /jobs/batch and ${SINGLES} via POST /jobs at once, ${WORKERS} workers`, {
    timeout: size(120_000, 420_000),
  }, async () => {
    const started = Date.now();
    const ctx = await startChaosContext('load', REDIS_ARGS);
    const api = await startApi({ ...ctx.env, AUTH: 'none' });
    const pool = createWorkerPool({ ...ctx.env, CONCURRENCY: '50' });
    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const info = await ctx.client.info('memory');
        peak = Math.max(peak, Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0));
        await sleep(500);
      }
    })();
    try {
      for (let i = 0; i < WORKERS; i++) pool.spawn();
      // Clients behave as docs/api.md asks: on 503 they wait Retry-After and retry with the same
      // Idempotency-Key, so a request that was stored although its answer was lost creates nothing new.
      const accepted = new Set<string>();
      const rejected: Answer[] = [];
      let retries = 0;
      let slowest = 0;
      const send = async (
        path: string,
        body: unknown,
        headers: Record<string, string>,
        ids: (a: Answer) => string[],
      ) => {
        for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
          const a = await call(api.base, 'POST', path, { body, headers, timeoutMs: 30_000 });
          slowest = Math.max(slowest, a.ms);
          if (a.status === 202) {
            for (const id of ids(a)) accepted.add(id);
            return;
          }
          if (a.status !== 503 || attempt === MAX_TRIES - 1) {
            rejected.push(a);
            return;
          }
          retries++;
          await sleep(1000 * Number(a.headers['retry-after'] ?? 1));
        }
      };
      const batchLoop = async () => {
        for (let b = 0; b < BATCHES; b++) {
          const jobs = Array.from({ length: 1000 }, (_, i) => ({
            type: 'chaos-work',
            queue: ctx.queue,
            data: { ms: 0 },
            idempotencyKey: `b${b}-${i}`,
          }));
          await send('/jobs/batch', { jobs }, {}, (a) => (a.json as { ids: string[] }).ids);
        }
      };
      let singles = 0;
      const singleLoop = async () => {
        while (singles < SINGLES) {
          const n = singles++;
          const body = { type: 'chaos-work', queue: ctx.queue, data: { ms: 0 } };
          await send('/jobs', body, { 'idempotency-key': `s${n}` }, (a) => [(a.json as { id: string }).id]);
        }
      };
      const t0 = Date.now();
      await Promise.all([batchLoop(), ...Array.from({ length: CLIENTS }, singleLoop)]);
      const enqueueMs = Date.now() - t0;
      await waitFor(
        'every accepted job done',
        async () => (await countDone(ctx.ledger, ctx.queue)) >= accepted.size || undefined,
        {
          timeoutMs: size(60_000, 300_000),
          intervalMs: 500,
        },
      ).catch(() => undefined);
      const drainMs = Date.now() - t0;
      await waitFor(
        'queue settled',
        async () => {
          const c = await ctx.counts();
          return c.active + c.waiting === 0 || undefined;
        },
        { timeoutMs: 10_000 },
      ).catch(() => undefined);
      sampling = false;
      await sampler;
      const counts = await ctx.counts();
      const stats = completionStats(await readLedger(ctx.ledger, ctx.queue), [...accepted]);
      const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
      const peakInfo = await ctx.client.info('memory');
      const redisPeak = Number(/used_memory_peak:(\d+)/.exec(peakInfo)?.[1] ?? 0);
      report(
        {
          scenario: '6 load',
          jobsIn: accepted.size,
          completed: stats.finished,
          lost: stats.missing.length,
          duplicates: stats.duplicates,
          worstRecoveryMs: slowest,
          notes: `enqueued in ${(enqueueMs / 1000).toFixed(1)} s, all done after ${(drainMs / 1000).toFixed(1)} s (${Math.round(accepted.size / (drainMs / 1000))} jobs/s, appendfsync everysec); peak used_memory ${mb(Math.max(peak, redisPeak))}; completed set kept ${counts.completed} (retention ${RETENTION}); ${retries} requests retried after a 503, ${rejected.length} refused`,
          durationMs: Date.now() - started,
        },
        [
          [
            `every request accepted in the end (${rejected.length} not: ${rejected[0]?.status} ${rejected[0]?.text.slice(0, 100)})`,
            rejected.length === 0,
          ],
          [
            `accepted == ${BATCHES * 1000 + SINGLES} (${accepted.size})`,
            accepted.size === BATCHES * 1000 + SINGLES,
          ],
          [`enqueued == completed (${stats.missing.length} missing)`, stats.missing.length === 0],
          [
            'nothing waiting, active or failed',
            counts.waiting + counts.active + counts.failed + counts.prioritized === 0,
          ],
          [
            `completed set within retention (${counts.completed} <= ${RETENTION})`,
            counts.completed <= RETENTION,
          ],
        ],
      );
    } finally {
      sampling = false;
      await sampler.catch(() => undefined);
      await pool.close();
      await stopApi(api);
      await ctx.close();
    }
  });
});
