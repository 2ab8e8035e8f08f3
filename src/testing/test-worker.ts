/**
 * `createTestWorker`: job definitions run through kq's real worker runtime (BullMQ, Redis, retries,
 * timeouts, JSON results), for job authors' integration tests. Jobs are added the way the API adds them
 * (schema check, per-type options) under a key prefix of its own, which `close()` deletes, so tests can
 * share a Redis. Redis comes from `redisUrl`, else `REDIS_URL`, else a private `redis-server` it starts
 * (and stops) itself.
 */
import { randomBytes } from 'node:crypto';
import type { Job } from 'bullmq';
import { parseOptions } from '../config.js';
import { spawnRedisServer } from '../dev/redis-process.js';
import { isJobDefinition, type JobDefinition } from '../jobs/define-job.js';
import { createRegistry } from '../jobs/registry.js';
import { createLogger } from '../log.js';
import { closeRedis, createRedis } from '../queue/connection.js';
import { prepareJob } from '../queue/enqueue.js';
import { createQueueCache } from '../queue/queues.js';
import { workerOptionSpecs } from '../worker/options.js';
import { startWorker, type WorkerHandle } from '../worker/run-worker.js';

export interface TestWorkerOptions {
  /** The definitions to run: one worker per queue they use. */
  jobs: JobDefinition | readonly JobDefinition[];
  /** @default process.env.REDIS_URL, else a private redis-server started for this worker */
  redisUrl?: string;
  /** @default 1 */
  concurrency?: number;
  /** Worker log lines at this level and above go to stdout. @default process.env.LOG_LEVEL ?? 'silent' */
  logLevel?: string;
}

export interface TestRunOptions {
  /** Overrides the type's attempts (e.g. 1 to see a failure at once). */
  attempts?: number;
  /** @default 30000 */
  timeoutMs?: number;
}

export interface TestWorker {
  readonly redisUrl: string;
  /** The key prefix of this worker's queues (deleted by `close()`). */
  readonly prefix: string;
  /**
   * Adds a job of `type` and waits for its outcome: resolves with the handler's result as stored (JSON),
   * rejects with an Error carrying the failure reason once the job has failed for good.
   */
  run(type: string, data?: unknown, options?: TestRunOptions): Promise<unknown>;
  /** Stops the workers, deletes the prefix's keys, stops the private redis-server if one was started. */
  close(): Promise<void>;
}

/**
 * @example
 * const worker = await createTestWorker({ jobs: [report] });
 * try { expect(await worker.run('report', { customerId: 'c1', month: '2026-11' })).toEqual({ ... }); }
 * finally { await worker.close(); }
 */
export async function createTestWorker(options: TestWorkerOptions): Promise<TestWorker> {
  const list: readonly JobDefinition[] = Array.isArray(options.jobs)
    ? options.jobs
    : [options.jobs as JobDefinition];
  const bad = list.findIndex((d) => !isJobDefinition(d));
  if (list.length === 0 || bad >= 0) {
    throw new TypeError(
      `createTestWorker: jobs must be job definitions made by defineJob() (${list.length === 0 ? 'got none' : `jobs[${bad}] is not one`}).`,
    );
  }
  const registry = createRegistry(list);
  const given = options.redisUrl ?? process.env.REDIS_URL;
  const server = given
    ? undefined
    : await spawnRedisServer({ dirPrefix: 'kq-test-worker-' }).catch((err: Error) => {
        throw new Error(
          `createTestWorker: no redisUrl and no REDIS_URL, and no private Redis either: ${err.message}. Set REDIS_URL to a Redis for tests, or install redis-server.`,
        );
      });
  const redisUrl = given ?? (server?.url as string);
  const prefix = `kqtest-${randomBytes(4).toString('hex')}`;
  const log = createLogger(
    { component: 'test-worker' },
    options.logLevel ?? process.env.LOG_LEVEL ?? 'silent',
  );
  const defaults = parseOptions(workerOptionSpecs, [], {}).values;
  const workers: WorkerHandle[] = [];
  const redis = createRedis(redisUrl, { kind: 'fail-fast', commandTimeoutMs: null });
  const queues = createQueueCache(redis, prefix);
  try {
    for (const queue of registry.queues()) {
      const o = {
        ...defaults,
        redisUrl,
        prefix,
        queue,
        healthPort: 0,
        // A test harness never patches the pod it may happen to run in (CI on Kubernetes).
        podDeletionCost: false,
        concurrency: options.concurrency ?? 1,
      };
      workers.push(await startWorker(o, { jobs: registry, log }));
    }
  } catch (err) {
    await closeRedis(redis);
    await server?.remove();
    throw err;
  }

  async function outcome(job: Job, timeoutMs: number): Promise<unknown> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await job.getState();
      if (state === 'completed' || state === 'failed') {
        const done = (await queues.get(job.queueName).getJob(job.id as string)) as Job;
        if (state === 'completed') return done.returnvalue;
        throw new Error(`Job ${job.id} (${job.name}) failed: ${done.failedReason}`);
      }
      if (Date.now() > deadline) {
        throw new Error(
          `Job ${job.id} (${job.name}) did not finish within ${timeoutMs} ms (state: ${state})`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  return {
    redisUrl,
    prefix,
    async run(type, data, runOptions = {}) {
      const p = prepareJob(registry, { type, data, attempts: runOptions.attempts });
      const job = await queues.get(p.queue).add(p.name, p.data, p.opts);
      return outcome(job, runOptions.timeoutMs ?? 30_000);
    },
    async close() {
      for (const w of workers) w.shutdown('test worker closed');
      await Promise.all(workers.map((w) => w.done));
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await redis.unlink(...keys);
      } while (cursor !== '0');
      await queues.close();
      await closeRedis(redis);
      await server?.remove();
    },
  };
}
