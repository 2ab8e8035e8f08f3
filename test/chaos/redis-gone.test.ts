/**
 * Scenario 4, Redis gone for good (worker part): nothing listens on the Redis port from the start.
 * - An exit-mode worker (EXIT=1, the CronJob mode) must exit non-zero within REDIS_DOWN_TIMEOUT_MS (plus
 *   process start-up), never 0: an unreachable Redis is not an empty queue.
 * - A pool worker must stay up, keep retrying and say why (`redis.unavailable` log lines, throttled), and
 *   once a Redis appears on that port it must take a job without being restarted.
 *   Recovery time = Redis up -> that job completed.
 */
import { Redis } from 'ioredis';
import { describe, it } from 'vitest';
import { createQueueCache } from '../../src/queue/queues.js';
import { freePort, type RedisServer, startRedisServer } from '../helpers/redis-server.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { type Answer, call, startApi, stopApi } from './support/api-process.js';
import { startChaosContext } from './support/chaos-context.js';
import { countDone } from './support/ledger.js';
import { report, size } from './support/scenario-report.js';
import { createWorkerPool, isAlive } from './support/worker-pool.js';

const DOWN_TIMEOUT_MS = 2000;
const OBSERVE_MS = size(3000, 12_000);

describe('chaos: Redis gone for good', () => {
  it(`exit-mode worker exits non-zero within REDIS_DOWN_TIMEOUT_MS=${DOWN_TIMEOUT_MS}; pool worker retries for ${OBSERVE_MS} ms, then resumes`, {
    timeout: size(60_000, 90_000),
  }, async () => {
    const started = Date.now();
    // The ledger and the enqueue path need a context; its own Redis is not the one the workers are given.
    const ctx = await startChaosContext('gone');
    const port = await freePort();
    const deadUrl = `redis://127.0.0.1:${port}`;
    const pool = createWorkerPool({ ...ctx.env, REDIS_URL: deadUrl });
    let lateRedis: RedisServer | undefined;
    try {
      const t0 = Date.now();
      const exitMode = pool.spawn({ EXIT: '1', REDIS_DOWN_TIMEOUT_MS: String(DOWN_TIMEOUT_MS) });
      const poolMode = pool.spawn();
      const exit = await exitMode.waitForExit(DOWN_TIMEOUT_MS + 30_000);
      const exitAfterMs = Date.now() - t0;
      const saidWhy = exitMode.logs.some((l) => l.event === 'worker.redis-down');

      await sleep(Math.max(0, OBSERVE_MS - (Date.now() - t0)));
      const poolAlive = isAlive(poolMode);
      const unavailable = poolMode.logs.filter((l) => l.event === 'redis.unavailable').length;

      // Redis finally appears on that port: the same pool worker process must pick work up.
      lateRedis = await startRedisServer({ port, persistent: true });
      const upAt = Date.now();
      const client = new Redis(deadUrl, { maxRetriesPerRequest: null });
      const queues = createQueueCache(client, ctx.prefix);
      let resumedMs: number | null = null;
      try {
        await queues.get(ctx.queue).add('chaos-work', { ms: 0 });
        await waitFor(
          'the pool worker ran the job',
          async () => (await countDone(ctx.ledger, ctx.queue)) >= 1 || undefined,
          {
            timeoutMs: 20_000,
          },
        ).catch(() => undefined);
        if ((await countDone(ctx.ledger, ctx.queue)) >= 1) resumedMs = Date.now() - upAt;
      } finally {
        await queues.close();
        client.disconnect();
      }
      const done = await countDone(ctx.ledger, ctx.queue);
      report(
        {
          scenario: '4 Redis gone (workers)',
          jobsIn: 1,
          completed: done,
          lost: done >= 1 ? 0 : 1,
          duplicates: Math.max(0, done - 1),
          worstRecoveryMs: resumedMs,
          notes: `exit-mode worker: code ${exit.code} after ${exitAfterMs} ms; pool worker alive after ${OBSERVE_MS} ms with ${unavailable} redis.unavailable lines`,
          durationMs: Date.now() - started,
        },
        [
          [`exit-mode worker exited non-zero (code ${exit.code})`, exit.code !== 0 && exit.code !== null],
          ['exit-mode worker logged worker.redis-down', saidWhy],
          [
            `exit-mode worker exited within its bound + start-up (${exitAfterMs} ms)`,
            exitAfterMs >= DOWN_TIMEOUT_MS && exitAfterMs < DOWN_TIMEOUT_MS + 20_000,
          ],
          ['pool worker still running while Redis is down', poolAlive],
          [`pool worker logged redis.unavailable (${unavailable})`, unavailable >= size(1, 2)],
          ['pool worker ran a job once Redis appeared, without a restart', done === 1 && isAlive(poolMode)],
        ],
      );
    } finally {
      await pool.close();
      await lateRedis?.stop();
      await ctx.close();
    }
  });

  it(`kq api with no Redis at all is alive but not ready, and answers 503 + Retry-After within its bound`, {
    timeout: size(60_000, 90_000),
  }, async () => {
    const started = Date.now();
    const ctx = await startChaosContext('gone-api');
    const port = await freePort();
    const timeoutMs = 2000;
    const api = await startApi({
      ...ctx.env,
      REDIS_URL: `redis://127.0.0.1:${port}`,
      AUTH: 'none',
      REQUEST_TIMEOUT_MS: String(timeoutMs),
    });
    try {
      const answers: Answer[] = [];
      const t0 = Date.now();
      while (Date.now() - t0 < OBSERVE_MS) {
        answers.push(
          ...(await Promise.all([
            call(api.base, 'GET', '/healthz'),
            call(api.base, 'GET', '/readyz'),
            call(api.base, 'POST', '/jobs', { body: { type: 'chaos-work', queue: ctx.queue } }),
            call(api.base, 'POST', '/jobs/batch', {
              body: { jobs: [{ type: 'chaos-work', queue: ctx.queue }] },
            }),
            call(api.base, 'GET', `/queues/${ctx.queue}`),
          ])),
        );
        await sleep(250);
      }
      const rounds = answers.length / 5;
      const pick = (i: number) => answers.filter((_, k) => k % 5 === i);
      const [healthz, readyz, post, batch, queue] = [0, 1, 2, 3, 4].map(pick) as Answer[][];
      const unavailable = [...(post ?? []), ...(batch ?? []), ...(queue ?? [])];
      const slowest = Math.max(...answers.map((a) => a.ms));
      report(
        {
          scenario: '4 Redis gone (API)',
          jobsIn: (post?.length ?? 0) + (batch?.length ?? 0),
          completed: 0,
          lost: 0,
          duplicates: 0,
          worstRecoveryMs: null,
          notes: `${rounds} rounds over ${OBSERVE_MS} ms; slowest answer ${slowest} ms (REQUEST_TIMEOUT_MS ${timeoutMs})`,
          durationMs: Date.now() - started,
        },
        [
          ['/healthz 200 (alive)', healthz?.every((a) => a.status === 200) ?? false],
          ['/readyz 503 (not ready)', readyz?.every((a) => a.status === 503) ?? false],
          [
            `POST /jobs, POST /jobs/batch, GET /queues/:name: 503 + Retry-After (${unavailable.map((a) => a.status).join(',')})`,
            unavailable.every((a) => a.status === 503 && a.headers['retry-after'] !== undefined),
          ],
          [
            `every answer within REQUEST_TIMEOUT_MS + 2 s (slowest ${slowest} ms)`,
            slowest <= timeoutMs + 2000,
          ],
          ['the API process is still up', isAlive(api.proc)],
        ],
      );
    } finally {
      await stopApi(api);
      await ctx.close();
    }
  });
});
