/**
 * The worker runtime: a BullMQ Worker plus kq's processor, exit conditions, shutdown and health.
 *
 * Lifecycle: running -> stopping -> stopped, with one exit code. Ways into `stopping`:
 * - `shutdown()` (SIGTERM/SIGINT): stop fetching, let running jobs finish for `shutdownTimeoutMs`, then
 *   abort them and hand them back to waiting; exit code 0.
 * - `shutdown()` again: hand back at once; exit code 130.
 * - exit mode saw an empty queue, or `maxJobs` jobs started: close after running jobs finish; exit code 0.
 * - exit mode saw Redis unreachable for `redisDownTimeoutMs`: exit code 1.
 */
import { type Job, Worker } from 'bullmq';
import { redisAuth } from '../config.js';
import type { JobRegistry } from '../jobs/registry.js';
import type { Logger } from '../log.js';
import { createWorkerMetrics, type WorkerMetrics } from '../metrics/worker-metrics.js';
import { CANCELLED_REASON, isCancelRequested, listenForCancels } from '../queue/cancel.js';
import { closeRedis, createRedis } from '../queue/connection.js';
import { bullQueueName, isCluster } from '../queue/keys.js';
import { registerQueue } from '../queue/queue-directory.js';
import { createRedisGuard } from '../queue/redis-guard.js';
import { watchForEmpty } from './exit-when-empty.js';
import { startHealthServer } from './health-server.js';
import type { WorkerOptions } from './options.js';
import { createProcessor } from './processor.js';

export interface WorkerHandle {
  /** Resolves with the process exit code once everything is closed. */
  done: Promise<number>;
  /** Graceful shutdown; a second call hands running jobs back at once. */
  shutdown(reason: string): void;
  healthPort?: number;
  metrics: WorkerMetrics;
}

/** Logs a repeating error at most once per `everyMs`. */
function throttled(log: Logger, event: string, everyMs = 5000): (err: Error) => void {
  let last = 0;
  return (err) => {
    const now = Date.now();
    if (now - last < everyMs) return;
    last = now;
    log.warn({ event, err: err.message }, `${event}: ${err.message} (retrying)`);
  };
}

/** @example const handle = await startWorker(options, { jobs, log }); process.exitCode = await handle.done; */
export async function startWorker(
  o: WorkerOptions,
  deps: { jobs: JobRegistry; log: Logger },
): Promise<WorkerHandle> {
  const log = deps.log.child({ queue: o.queue });
  const metrics = createWorkerMetrics({ queue: o.queue, count: () => processor.running.size });
  const onRedisError = throttled(log, 'redis.unavailable');
  const auth = redisAuth(o);
  const control = createRedis(o.redisUrl, { kind: 'fail-fast', auth, onError: onRedisError });
  const connection = createRedis(o.redisUrl, { kind: 'blocking', auth, onError: onRedisError });
  const subscriber = createRedis(o.redisUrl, { kind: 'blocking', auth, onError: () => undefined });

  let state: 'running' | 'stopping' | 'stopped' = 'running';
  let exitCode = 0;
  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((r) => {
    resolveDone = r;
  });

  const cancels = await listenForCancels(subscriber, o.prefix, o.queue, (id) => {
    if (processor.cancel(id))
      log.info({ event: 'job.cancel-requested', jobId: id }, 'cancel request received');
  });
  const processor = createProcessor({
    jobs: deps.jobs,
    queue: o.queue,
    log,
    maxJobs: o.maxJobs,
    wasCancelled: cancels.wasCancelled,
    isCancelRequested: (id) => isCancelRequested(control, o.prefix, o.queue, id),
    onMaxJobsStarted: () => stop(0, `MAX_JOBS (${o.maxJobs}) reached`),
    onHandBack: (job) => metrics.handedBack.inc({ queue: o.queue, type: job.name }),
  });
  const worker = new Worker(bullQueueName(o.queue, isCluster(connection)), processor.process, {
    connection,
    prefix: o.prefix,
    concurrency: o.concurrency,
    lockDuration: o.lockDurationMs,
    stalledInterval: o.lockDurationMs,
    maxStalledCount: o.maxStalledCount,
    skipVersionCheck: true,
    autorun: true,
  });
  worker.on('error', throttled(log, 'worker.error'));
  // Seen by the worker whose stall check found the job, not by the one that died holding it.
  worker.on('stalled', (jobId) =>
    log.warn(
      { event: 'job.stalled', jobId },
      `job ${jobId} lost its worker (lock expired): run again, or failed past MAX_STALLED_COUNT (${o.maxStalledCount})`,
    ),
  );
  const durationMs = (job: Job) => (job.finishedOn ?? Date.now()) - (job.processedOn ?? Date.now());
  worker.on('completed', (job) => {
    const ms = durationMs(job);
    metrics.jobCompleted(job.name, ms / 1000);
    log.info({ event: 'job.completed', jobId: job.id, type: job.name, durationMs: ms }, 'job completed');
    afterJob();
  });
  worker.on('failed', (job, err) => {
    if (!job) return;
    const ms = durationMs(job);
    const labels = { queue: o.queue, type: job.name };
    const base = {
      jobId: job.id,
      type: job.name,
      durationMs: ms,
      attempt: job.attemptsMade,
      error: err.message,
    };
    if (err.message === CANCELLED_REASON) {
      metrics.cancelled.inc(labels);
      log.info({ event: 'job.cancelled', ...base }, 'job cancelled');
    } else if (job.finishedOn) {
      metrics.failed.inc(labels);
      log.error({ event: 'job.failed', ...base }, `job failed for good: ${err.message}`);
    } else {
      metrics.retried.inc(labels);
      log.warn({ event: 'job.retried', ...base }, `job attempt failed, will retry: ${err.message}`);
    }
    metrics.duration.observe({ ...labels, outcome: 'failed' }, ms / 1000);
    afterJob();
  });

  const watcher = o.exitWhenEmpty
    ? watchForEmpty({
        redis: control,
        prefix: o.prefix,
        queue: o.queue,
        isIdle: () => processor.running.size === 0,
        redisDownTimeoutMs: o.redisDownTimeoutMs,
        onEmpty: (why) => stop(0, why === 'paused' ? 'queue is paused' : 'queue is empty'),
        onRedisDown: (err, ms) => {
          log.error(
            { event: 'worker.redis-down', err: err.message, downForMs: ms },
            `Redis unreachable for ${ms} ms (REDIS_DOWN_TIMEOUT_MS=${o.redisDownTimeoutMs}): exiting 1 so the Job retries; an unreachable Redis is never an empty queue`,
          );
          stop(1, 'redis unreachable', true);
        },
      })
    : undefined;

  function afterJob() {
    watcher?.poke();
  }

  // The layer's guard: a probe in the first moments waits for the first connection (within 1 s) instead
  // of failing on a connection that is still being made; after that, not connected = not ready.
  const probeRedis = createRedisGuard([control], 1000);
  // The queue registry (src/queue/queue-directory.ts): a worker's queue is listed by the API, /metrics
  // and the adapter from the moment the worker starts. Best effort, off the start-up path: a Redis that
  // is down now is retried at the next start, and the API registers the queue at its first job anyway.
  createRedisGuard([control], 10_000)(() => registerQueue(control, o.prefix, o.queue)).catch(() => undefined);
  const health =
    o.healthPort > 0
      ? await startHealthServer({
          port: o.healthPort,
          metrics: metrics.registry,
          isReady: async () => {
            if (state !== 'running') return { ready: false, reason: 'shutting down' };
            await probeRedis(() => control.ping());
            return { ready: true };
          },
        })
      : undefined;

  async function stop(code: number, why: string, force = false) {
    if (state !== 'running') return;
    state = 'stopping';
    exitCode = code;
    watcher?.stop();
    log.info({ event: 'worker.stopping', reason: why, running: processor.running.size }, `stopping: ${why}`);
    await worker
      .close(force)
      .catch((err: Error) => log.warn({ event: 'worker.close-error', err: err.message }));
    await cancels.close();
    await health?.close();
    await Promise.all([closeRedis(connection), closeRedis(control), closeRedis(subscriber)]);
    state = 'stopped';
    log.info({ event: 'worker.stopped', exitCode }, 'worker stopped');
    resolveDone(exitCode);
  }

  let signals = 0;
  let deadline: NodeJS.Timeout | undefined;
  function shutdown(reason: string) {
    signals++;
    if (signals === 1) {
      log.info(
        {
          event: 'worker.shutting-down',
          reason,
          running: processor.running.size,
          timeoutMs: o.shutdownTimeoutMs,
        },
        `${reason}: finishing running jobs (up to ${o.shutdownTimeoutMs} ms), then handing back the rest`,
      );
      deadline = setTimeout(() => processor.handBackAll(), o.shutdownTimeoutMs);
      stop(0, reason).finally(() => clearTimeout(deadline));
      return;
    }
    log.warn({ event: 'worker.shutting-down-now', reason }, `${reason} again: handing back running jobs now`);
    exitCode = 130;
    clearTimeout(deadline);
    processor.handBackAll();
    // Leave at once even if Redis does not answer: jobs not handed back return after their lock expires.
    setTimeout(() => resolveDone(130), 1000).unref();
  }

  log.info(
    {
      event: 'worker.started',
      concurrency: o.concurrency,
      exitWhenEmpty: o.exitWhenEmpty,
      maxJobs: o.maxJobs,
      types: deps.jobs.all.map((d) => d.name),
      healthPort: health?.port,
    },
    'worker started',
  );
  return { done, shutdown, healthPort: health?.port, metrics };
}
