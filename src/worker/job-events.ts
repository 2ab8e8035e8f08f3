/** The worker's per-job log lines and metrics, from BullMQ's worker events. */
import type { Job, Worker } from 'bullmq';
import { isoTimeOf, type Logger } from '../log.js';
import type { WorkerMetrics } from '../metrics/worker-metrics.js';
import { CANCELLED_REASON } from '../queue/cancel-request.js';

export interface JobEventsOptions {
  worker: Worker;
  queue: string;
  log: Logger;
  metrics: WorkerMetrics;
  maxStalledCount: number;
  /** The type (name) of a job, read when only its id is known (a stalled job); undefined when it is gone. */
  typeOf: (jobId: string) => Promise<string | undefined>;
  /** Called after each job settles (completed or failed). */
  afterJob: () => void;
  /** Called when a job ended cancelled (kq files it for its counts). */
  onCancelled: (job: Job) => void;
}

/** @example recordJobEvents({ worker, queue: 'jobs', log, metrics, maxStalledCount: 1, afterJob }); */
export function recordJobEvents(o: JobEventsOptions): void {
  const { worker, log, metrics } = o;
  // Seen by the worker whose recovery found the job, not by the one that died holding it.
  worker.on('stalled', (jobId) => {
    log.warn(
      { event: 'job.stalled', jobId },
      `job ${jobId} lost its worker (lock expired): run again, or failed past MAX_STALLED_COUNT (${o.maxStalledCount})`,
    );
    // The event carries the id only: one read for the type, per stalled job (rare), never per job.
    o.typeOf(jobId).then(
      (type) => metrics.stalled.inc({ queue: o.queue, type: type ?? 'unknown' }),
      () => metrics.stalled.inc({ queue: o.queue, type: 'unknown' }),
    );
  });
  const durationMs = (job: Job) => (job.finishedOn ?? Date.now()) - (job.processedOn ?? Date.now());
  // The end of a job says when it started: a short job gets no `job.started` line (src/worker/start-log.ts).
  // The failure lines carry it as an ISO time. `job.completed`, written for every job at info, leaves it
  // to the reader (its `time` less `durationMs`): a second ISO time per job is much of the line's cost.
  const startedAt = (job: Job) => (job.processedOn ? isoTimeOf(job.processedOn) : undefined);
  worker.on('completed', (job) => {
    const ms = durationMs(job);
    metrics.jobCompleted(job.name, ms / 1000);
    log.info({ event: 'job.completed', jobId: job.id, type: job.name, durationMs: ms }, 'job completed');
    o.afterJob();
  });
  worker.on('failed', (job, err) => {
    if (!job) return;
    const ms = durationMs(job);
    const labels = { queue: o.queue, type: job.name };
    const base = {
      jobId: job.id,
      type: job.name,
      startedAt: startedAt(job),
      durationMs: ms,
      attempt: job.attemptsMade,
      error: err.message,
    };
    if (err.message === CANCELLED_REASON) {
      metrics.cancelled.inc(labels);
      o.onCancelled(job);
      log.info({ event: 'job.cancelled', ...base }, 'job cancelled');
    } else if (job.finishedOn) {
      metrics.failed.inc(labels);
      log.error({ event: 'job.failed', ...base }, `job failed for good: ${err.message}`);
    } else {
      metrics.retried.inc(labels);
      log.warn({ event: 'job.retried', ...base }, `job attempt failed, will retry: ${err.message}`);
    }
    metrics.duration.observe({ ...labels, outcome: 'failed' }, ms / 1000);
    o.afterJob();
  });
}
