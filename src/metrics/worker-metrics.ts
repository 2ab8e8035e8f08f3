/** The worker's Prometheus metrics, on a registry of its own (served by the health server). */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { countAndObserve } from './count-and-observe.js';

export interface WorkerMetrics {
  registry: Registry;
  completed: Counter<'queue' | 'type'>;
  failed: Counter<'queue' | 'type'>;
  retried: Counter<'queue' | 'type'>;
  cancelled: Counter<'queue' | 'type'>;
  handedBack: Counter<'queue' | 'type'>;
  stalled: Counter<'queue' | 'type'>;
  abandoned: Counter<'queue' | 'type'>;
  unknownType: Counter<'queue' | 'type'>;
  rateLimited: Counter<'queue' | 'type'>;
  abandonedRunning: Gauge<'queue'>;
  running: Gauge<'queue'>;
  duration: Histogram<'queue' | 'type' | 'outcome'>;
  wait: Histogram<'queue' | 'type'>;
  /**
   * The hot path: one completed job of `type` that ran `seconds`. Label children are cached per type,
   * so a job builds no label object (the cost measured: docs/performance.md).
   */
  jobCompleted(type: string, seconds: number): void;
  /**
   * A job's first attempt started: observes its wait, from enqueue (or, when delayed, from when it was
   * due) to now, from fields the job already carries (no Redis read). Later attempts are not observed:
   * their wait holds their backoff. Label children are cached per type, as for `jobCompleted`.
   */
  jobStarted(job: StartedJobFields): void;
}

/** The fields of a BullMQ job that say when it became runnable and when it started. */
export interface StartedJobFields {
  name: string;
  timestamp: number;
  delay: number;
  processedOn?: number;
  attemptsStarted: number;
}

/** The worker's queue, and where `kq_jobs_running` reads its value at scrape time. */
export interface RunningJobsSource {
  queue: string;
  count: () => number;
}

/** @example const m = createWorkerMetrics({ queue: 'jobs', count: () => 0 }); m.completed.inc({ queue: 'jobs', type: 'sleep' }); */
export function createWorkerMetrics(runningJobs: RunningJobsSource): WorkerMetrics {
  const registry = new Registry();
  const labels = ['queue', 'type'] as const;
  const m: Omit<WorkerMetrics, 'jobCompleted' | 'jobStarted'> = {
    registry,
    completed: new Counter({
      name: 'kq_jobs_completed_total',
      help: 'Jobs this worker completed.',
      labelNames: labels,
      registers: [registry],
    }),
    failed: new Counter({
      name: 'kq_jobs_failed_total',
      help: 'Jobs that failed for good (attempts used up, invalid payload, unrecoverable).',
      labelNames: labels,
      registers: [registry],
    }),
    retried: new Counter({
      name: 'kq_jobs_retried_total',
      help: 'Failed attempts that will be retried.',
      labelNames: labels,
      registers: [registry],
    }),
    cancelled: new Counter({
      name: 'kq_jobs_cancelled_total',
      help: 'Running jobs cancelled on request.',
      labelNames: labels,
      registers: [registry],
    }),
    handedBack: new Counter({
      name: 'kq_jobs_handed_back_total',
      help: 'Running jobs handed back to the queue at a shutdown deadline.',
      labelNames: labels,
      registers: [registry],
    }),
    stalled: new Counter({
      name: 'kq_jobs_stalled_total',
      help: 'Jobs found without a live worker (lock expired) and moved back to wait, or failed past MAX_STALLED_COUNT.',
      labelNames: labels,
      registers: [registry],
    }),
    unknownType: new Counter({
      name: 'kq_jobs_unknown_type_total',
      help: 'Jobs of a type this worker does not know, put back delayed for a worker that knows it (UNKNOWN_TYPE_DELAY_MS).',
      labelNames: labels,
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'kq_jobs_rate_limited_total',
      help: 'Jobs whose handler asked to be retried later (ctx.rateLimited), put back without using an attempt.',
      labelNames: labels,
      registers: [registry],
    }),
    abandoned: new Counter({
      name: 'kq_handlers_abandoned_total',
      help: 'Handlers still running after their job was settled (timeout, cancel, hand-back): they ignored their AbortSignal.',
      labelNames: labels,
      registers: [registry],
    }),
    abandonedRunning: new Gauge({
      name: 'kq_handlers_abandoned',
      help: 'Abandoned handlers still running now; each keeps one CONCURRENCY slot until it returns.',
      labelNames: ['queue'],
      registers: [registry],
    }),
    running: new Gauge({
      name: 'kq_jobs_running',
      help: 'Jobs running in this worker now.',
      labelNames: ['queue'],
      registers: [registry],
      // Read when scraped rather than set twice per job: a busy worker runs thousands of jobs a second.
      collect(this: Gauge<'queue'>) {
        this.set({ queue: runningJobs.queue }, runningJobs.count());
      },
    }),
    duration: new Histogram({
      name: 'kq_job_duration_seconds',
      help: 'Handler run time per attempt.',
      labelNames: ['queue', 'type', 'outcome'],
      buckets: [0.005, 0.05, 0.25, 1, 5, 30, 120, 600, 3600, 14400],
      registers: [registry],
    }),
    wait: new Histogram({
      name: 'kq_job_wait_seconds',
      help: 'Time from enqueue (or, for a delayed job, from when it was due) to the start of its first attempt.',
      labelNames: labels,
      buckets: [0.005, 0.05, 0.25, 1, 5, 30, 120, 600, 3600, 14400],
      registers: [registry],
    }),
  };
  const queue = runningJobs.queue;
  const completedByType = new Map<string, (seconds: number) => void>();
  const waitByType = new Map<string, { observe(seconds: number): void }>();
  return {
    ...m,
    jobStarted(job) {
      // A restart (stall recovery, retry) is not a first start; 0 covers a job BullMQ did not count.
      if (job.attemptsStarted > 1) return;
      let wait = waitByType.get(job.name);
      if (!wait) {
        wait = m.wait.labels({ queue, type: job.name });
        waitByType.set(job.name, wait);
      }
      // Clocks of the producer and the worker differ a little: never a negative wait.
      const ms = (job.processedOn ?? Date.now()) - job.timestamp - (job.delay || 0);
      wait.observe(ms > 0 ? ms / 1000 : 0);
    },
    jobCompleted(type, seconds) {
      let record = completedByType.get(type);
      if (!record) {
        record = countAndObserve(
          m.completed,
          m.duration,
          { queue, type },
          { queue, type, outcome: 'completed' },
        );
        completedByType.set(type, record);
      }
      record(seconds);
    },
  };
}
