/**
 * The worker runtime: a BullMQ Worker plus kq's processor, crash recovery, exit conditions, shutdown and
 * health, wired to the lifecycle (src/worker/lifecycle.ts: its states, exit codes and deadlines).
 *
 * Start: the health server first (a busy `HEALTH_PORT` is a config error, exit 2, before anything
 * connects: the lifecycle's `refused`), then the Redis connections, orphan recovery
 * (src/worker/orphan-recovery.ts), then fetching. Ways to stop, each with its exit code:
 * - `shutdown()` (SIGTERM/SIGINT): stop fetching, let running jobs finish, hand the rest back to waiting
 *   the hand-back reserve before the deadline; exit code 0.
 * - `shutdown()` again: hand back at once; exit code 130.
 * - exit mode saw an empty queue, or `maxJobs` jobs started: close after running jobs finish; exit code 0.
 * - exit mode saw Redis unreachable for `redisDownTimeoutMs`: exit code 1.
 * - `fail()` (an uncaught exception): hand running jobs back at once; exit code 1.
 * - every slot is held by an abandoned handler (one that ignored its signal): recycle, as a SIGTERM
 *   would; exit code 1, so the pod restarts with a clean process.
 */
import { Worker } from 'bullmq';
import { resolveQueueLimits } from '../jobs/queue-limits.js';
import type { JobRegistry } from '../jobs/registry.js';
import type { Logger } from '../log.js';
import { createWorkerMetrics, type WorkerMetrics } from '../metrics/worker-metrics.js';
import { recordClaim, releaseClaim } from '../queue/bullmq-internals.js';
import { isCancelRequested, listenForCancels } from '../queue/cancel-request.js';
import { closeRedis } from '../queue/connection.js';
import { delayBackJob, handBackJob } from '../queue/hand-back.js';
import { readJobType } from '../queue/job-keys.js';
import { bullQueueName, isCluster } from '../queue/keys.js';
import { registerQueue } from '../queue/queue-directory.js';
import { createQueueCache } from '../queue/queues.js';
import { recordCancelled } from '../queue/record-cancelled.js';
import { createRedisGuard } from '../queue/redis-guard.js';
import { livenessMessage } from '../queue/redis-liveness.js';
import { loadTracing } from '../tracing/load-tracing.js';
import { watchForEmpty } from './exit-when-empty.js';
import { startHealthServer } from './health-server.js';
import { recordJobEvents } from './job-events.js';
import { createWorkerLifecycle, type LifecycleTimers } from './lifecycle.js';
import type { WorkerOptions } from './options.js';
import { createOrphanRecovery } from './orphan-recovery.js';
import { watchPodDeadline } from './pod-deadline.js';
import { createPodDeletionCost } from './pod-deletion-cost.js';
import { createProcessor } from './processor.js';
import { createWorkerQueueLimits } from './queue-limits.js';
import { createUnknownTypeHandler } from './unknown-types.js';
import { createWorkerConnections, throttled } from './worker-connections.js';

export interface WorkerHandle {
  /** Resolves with the process exit code once everything is closed (or the deadline passed). */
  done: Promise<number>;
  /** Graceful shutdown; a second call hands running jobs back at once. */
  shutdown(reason: string): void;
  /** Something broke inside the process: hand running jobs back now and exit 1. */
  fail(reason: string): void;
  healthPort?: number;
  metrics: WorkerMetrics;
}

export { handBackReserveMs } from './lifecycle.js';

/** @example const handle = await startWorker(options, { jobs, log }); process.exitCode = await handle.done; */
export async function startWorker(
  o: WorkerOptions,
  deps: {
    jobs: JobRegistry;
    log: Logger;
    /** The clock and timers of the lifecycle (tests pass a manual one). @default realTimers */
    timers?: LifecycleTimers;
    /** Process uptime in ms, which the pod deadline counts from. @default process.uptime() * 1000 */
    uptimeMs?: () => number;
  },
): Promise<WorkerHandle> {
  const log = deps.log.child({ queue: o.queue });
  const life = createWorkerLifecycle({
    log,
    shutdownTimeoutMs: o.shutdownTimeoutMs,
    timers: deps.timers,
    running: () => processor.running.size,
    close,
    handBackAll: () => processor.handBackAll(),
    // Not at the stop: a MAX_JOBS worker stops fetching when its job starts, and that job still has the deadline.
    onStopped: () => podDeadline?.close(),
  });
  const refuse = (err: unknown): never => {
    life.refuse();
    throw err;
  };
  // Before anything starts: a flag that conflicts with the declaration is a config error (exit 2).
  let limits: ReturnType<typeof resolveQueueLimits>;
  try {
    limits = resolveQueueLimits(o, deps.jobs.limits(o.queue));
  } catch (err) {
    return refuse(err);
  }
  const metrics = createWorkerMetrics({ queue: o.queue, count: () => processor.running.size });
  // Off unless the OTLP endpoint environment is set: then one span per attempt (src/tracing/job-spans.ts).
  const tracing = await loadTracing(process.env, 'kq-worker', log);
  tracing?.registerMetrics(metrics.registry);
  const health =
    o.healthPort > 0
      ? await startHealthServer({
          port: o.healthPort,
          metrics: metrics.registry,
          isReady: async () => {
            const reason = life.notReadyReason();
            if (reason) return { ready: false, reason };
            await probeRedis(() => control.ping());
            return { ready: true };
          },
          isAlive: () => {
            const s = liveness.state();
            return { alive: s.alive, reason: livenessMessage(s, o.redisLivenessTimeoutMs) };
          },
        }).catch(refuse)
      : undefined;

  // Only now, once the start can no longer be refused: a refused start leaves no connection open.
  const { control, connection, subscriber, probeRedis, liveness } = createWorkerConnections(o, log);
  // The queue directory (src/queue/queue-directory.ts): a worker's queue is listed by the API, /metrics
  // and the adapter from the moment the worker starts. Best effort, off the start-up path: a Redis that
  // is down now is retried at the next start, and the API registers the queue at its first job anyway.
  createRedisGuard([control], 10_000)(() => registerQueue(control, o.prefix, o.queue)).catch(() => undefined);
  const queues = createQueueCache(control, o.prefix);
  const queueLimits = createWorkerQueueLimits({
    limits,
    control,
    queues,
    prefix: o.prefix,
    queue: o.queue,
    log,
    metrics,
    isRunning: () => life.state === 'starting' || life.state === 'running',
  });

  const cancels = await listenForCancels(subscriber, o.prefix, o.queue, (id) => {
    if (processor.cancel(id))
      log.info({ event: 'job.cancel-requested', jobId: id }, 'cancel request received');
  });
  const deletionCost = createPodDeletionCost({
    enabled: o.podDeletionCost,
    podName: o.podName,
    podNamespace: o.podNamespace,
    kubeApiUrl: o.kubeApiUrl,
    intervalMs: o.podDeletionCostIntervalMs,
    log,
  });
  const claimOwner = o.maxJobs > 0 && o.k8sJobName ? o.k8sJobName : undefined;
  let abandoned = 0;
  const processor = createProcessor({
    jobs: deps.jobs,
    queue: o.queue,
    log,
    maxJobs: o.maxJobs,
    wasCancelled: cancels.wasCancelled,
    isCancelRequested: (id) => isCancelRequested(control, o.prefix, o.queue, id),
    onRunningChange: (n) => deletionCost.update(n),
    onMaxJobsStarted: () => life.stop(0, `MAX_JOBS (${o.maxJobs}) reached`, { maxJobs: true }),
    handBack: (job, token) => handBackJob(control, o.prefix, o.queue, job, token),
    onHandBack: (job) => metrics.handedBack.inc({ queue: o.queue, type: job.name }),
    onUnknownType: createUnknownTypeHandler({
      known: deps.jobs.all.map((d) => d.name),
      delayMs: o.unknownTypeDelayMs,
      graceMs: o.unknownTypeGraceMs,
      log,
      delayBack: (job, ms, token) => delayBackJob(control, o.prefix, o.queue, job, ms, token),
      onDelayed: (job) => metrics.unknownType.inc({ queue: o.queue, type: job.name }),
    }),
    onRateLimited: queueLimits.onRateLimited,
    onStart: claimOwner
      ? (job, token) => {
          metrics.jobStarted(job);
          if (token)
            recordClaim(control, o.prefix, o.queue, claimOwner, job.id as string, token).catch(
              () => undefined,
            );
        }
      : (job) => metrics.jobStarted(job),
    onAbandoned: (job) => {
      abandoned++;
      metrics.abandoned.inc({ queue: o.queue, type: job.name });
      metrics.abandonedRunning.set({ queue: o.queue }, abandoned);
      log.warn(
        { event: 'job.handler-abandoned', jobId: job.id, type: job.name, abandoned },
        `the handler of job ${job.id} ignored its AbortSignal and still runs: it keeps its slot until it returns (${abandoned} of CONCURRENCY ${o.concurrency})`,
      );
      if (abandoned >= o.concurrency) {
        life.stopWithDeadline(
          1,
          `every CONCURRENCY slot (${o.concurrency}) is held by an abandoned handler: recycling the process`,
        );
      } else worker.concurrency = o.concurrency - abandoned;
    },
    onAbandonedSettled: () => {
      abandoned--;
      metrics.abandonedRunning.set({ queue: o.queue }, abandoned);
      if (abandoned < o.concurrency) worker.concurrency = o.concurrency - abandoned;
    },
  });
  const process_ = tracing ? tracing.wrapProcess(o.queue, processor.process) : processor.process;
  const worker = new Worker(bullQueueName(o.queue, isCluster(connection)), process_, {
    ...(tracing ? { telemetry: tracing.bullmq } : {}),
    connection,
    prefix: o.prefix,
    concurrency: o.concurrency,
    lockDuration: o.lockDurationMs,
    ...(limits.rateLimit
      ? { limiter: { max: limits.rateLimit.max, duration: limits.rateLimit.durationMs } }
      : {}),
    stalledInterval: o.lockDurationMs,
    maxStalledCount: o.maxStalledCount,
    skipVersionCheck: true,
    autorun: false,
  });
  worker.on('error', throttled(log, 'worker.error'));
  recordJobEvents({
    worker,
    queue: o.queue,
    log,
    metrics,
    maxStalledCount: o.maxStalledCount,
    typeOf: (jobId) => readJobType(control, o.prefix, o.queue, jobId),
    afterJob,
    onCancelled: (job) =>
      recordCancelled(control, o.prefix, o.queue, job.id as string, { ran: true }).catch((err: Error) =>
        log.warn({ event: 'job.cancel-not-counted', jobId: job.id, err: err.message }),
      ),
  });
  const recovery = createOrphanRecovery({
    redis: control,
    prefix: o.prefix,
    queue: o.queue,
    worker,
    log,
    claimOwner,
  });

  const watcher = o.exitWhenEmpty
    ? watchForEmpty({
        redis: control,
        prefix: o.prefix,
        queue: o.queue,
        isIdle: () => processor.running.size === 0,
        recover: recovery.recoverNow,
        redisDownTimeoutMs: o.redisDownTimeoutMs,
        now: deps.timers?.now,
        onEmpty: (why) => life.stop(0, why === 'paused' ? 'queue is paused' : 'queue is empty'),
        onRedisDown: (err, ms) => {
          log.error(
            { event: 'worker.redis-down', err: err.message, downForMs: ms },
            `Redis unreachable for ${ms} ms (REDIS_DOWN_TIMEOUT_MS=${o.redisDownTimeoutMs}): exiting 1 so the Job retries; an unreachable Redis is never an empty queue`,
          );
          life.redisDown();
        },
      })
    : undefined;

  // A Job's deadline: fail running attempts shortly before it and leave (src/worker/pod-deadline.ts).
  const podDeadline = watchPodDeadline({
    deadlineSeconds: o.activeDeadlineSeconds,
    timers: deps.timers,
    uptimeMs: deps.uptimeMs,
    onNear: (why) => {
      life.endFinishing();
      log.warn(
        {
          event: 'worker.deadline-near',
          running: processor.running.size,
          deadlineSeconds: o.activeDeadlineSeconds,
        },
        `${why}: failing running attempts (counted) and stopping`,
      );
      // Stop fetching first, so that a failed attempt's retry is left to another pod.
      life.stopWithDeadline(0, why);
      processor.failAll(why);
    },
  });

  function afterJob() {
    if (processor.running.size === 0) life.jobsSettled();
    watcher?.poke();
    // The job settled: its claim has nothing left to protect (its lock is gone), so drop the key.
    if (claimOwner) releaseClaim(control, o.prefix, o.queue, claimOwner).catch(() => undefined);
  }

  /** The lifecycle's `close`: stop fetching, then close everything in the order it was opened, reversed. */
  async function close(force: boolean) {
    watcher?.stop();
    recovery.close();
    deletionCost.close();
    await worker
      .close(force)
      .catch((err: Error) => log.warn({ event: 'worker.close-error', err: err.message }));
    await cancels.close();
    await queues.close();
    await health?.close();
    liveness.close();
    await Promise.all([closeRedis(connection), closeRedis(control), closeRedis(subscriber)]);
    await tracing?.shutdown();
  }

  // Before taking anything new: recover what dead workers left behind, and store the queue's limits as
  // this worker's configuration states them (side by side: a Redis down at start costs one wait, not two).
  await Promise.all([recovery.start(), queueLimits.store()]);
  if (life.begin())
    worker.run().catch((err: Error) => log.error({ event: 'worker.run-error', err: err.message }));

  log.info(
    {
      event: 'worker.started',
      concurrency: o.concurrency,
      exitWhenEmpty: o.exitWhenEmpty,
      maxJobs: o.maxJobs,
      ...limits,
      types: deps.jobs.all.map((d) => d.name),
      healthPort: health?.port,
    },
    'worker started',
  );
  return {
    done: life.done,
    shutdown: life.shutdown,
    fail: life.fail,
    healthPort: health?.port,
    metrics,
  };
}
