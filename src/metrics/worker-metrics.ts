/** The worker's Prometheus metrics, on a registry of its own (served by the health server). */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface WorkerMetrics {
  registry: Registry;
  completed: Counter<'queue' | 'type'>;
  failed: Counter<'queue' | 'type'>;
  retried: Counter<'queue' | 'type'>;
  cancelled: Counter<'queue' | 'type'>;
  handedBack: Counter<'queue' | 'type'>;
  abandoned: Counter<'queue' | 'type'>;
  abandonedRunning: Gauge<'queue'>;
  running: Gauge<'queue'>;
  duration: Histogram<'queue' | 'type' | 'outcome'>;
  /**
   * The hot path: one completed job of `type` that ran `seconds`. Label children are cached per type
   * (a label object and its check per job were ~2 % of a no-op job's CPU, docs/performance.md).
   */
  jobCompleted(type: string, seconds: number): void;
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
  const m: Omit<WorkerMetrics, 'jobCompleted'> = {
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
  };
  const queue = runningJobs.queue;
  const completedByType = new Map<string, (seconds: number) => void>();
  return {
    ...m,
    jobCompleted(type, seconds) {
      let record = completedByType.get(type);
      if (!record) {
        record = completedRecorder(m.completed, m.duration, { queue, type });
        completedByType.set(type, record);
      }
      record(seconds);
    },
  };
}

/** prom-client's value records (v15): what `get()` reads at scrape time. */
interface CounterEntry {
  value: number;
  labels: Record<string, string>;
}
interface HistogramEntry {
  sum: number;
  count: number;
  bucketValues: Record<string, number>;
  labels: Record<string, string>;
}
type WithHashMap<T> = { hashMap: Record<string, T>; upperBounds?: readonly number[] };

/** The record prom-client keeps for `labels`, and its key, or undefined if its shape is not the one known. */
function findEntry<T extends { labels: Record<string, string> }>(
  metric: WithHashMap<T>,
  labels: Record<string, string>,
  valid: (e: T) => boolean,
): { key: string; entry: T } | undefined {
  for (const [key, entry] of Object.entries(metric.hashMap ?? {})) {
    const l = entry?.labels ?? {};
    if (Object.keys(labels).every((k) => l[k] === labels[k]) && valid(entry)) return { key, entry };
  }
  return undefined;
}

/**
 * Counts one completed job and observes its duration. prom-client's labelled children validate and hash
 * their labels on every call (~0.8 µs for the pair, 2 % of a no-op job's CPU): after the first call through
 * the public API, this updates the two records prom-client reads at scrape time directly, the same
 * arithmetic as its own `inc` and `observe`. If the records are not where or what prom-client v15 keeps
 * (a reset, another version), it goes through the public API. test/worker/worker-metrics.test.ts checks
 * the scraped text against plain prom-client.
 */
function completedRecorder(
  completed: Counter<'queue' | 'type'>,
  duration: Histogram<'queue' | 'type' | 'outcome'>,
  labels: { queue: string; type: string },
): (seconds: number) => void {
  const count = completed.labels(labels);
  const time = duration.labels({ ...labels, outcome: 'completed' });
  const c = completed as unknown as WithHashMap<CounterEntry>;
  const h = duration as unknown as WithHashMap<HistogramEntry>;
  const bounds = h.upperBounds;
  let counter: { key: string; entry: CounterEntry } | undefined;
  let histogram: { key: string; entry: HistogramEntry } | undefined;
  return (seconds) => {
    if (
      counter &&
      histogram &&
      bounds &&
      c.hashMap[counter.key] === counter.entry &&
      h.hashMap[histogram.key] === histogram.entry &&
      Number.isFinite(seconds)
    ) {
      counter.entry.value += 1;
      const e = histogram.entry;
      e.sum += seconds;
      e.count += 1;
      for (const bound of bounds) {
        if (seconds <= bound) {
          e.bucketValues[bound] = (e.bucketValues[bound] ?? 0) + 1;
          break;
        }
      }
      return;
    }
    count.inc();
    time.observe(seconds);
    counter = findEntry(c, labels, (e) => typeof e.value === 'number');
    histogram = findEntry(
      h,
      { ...labels, outcome: 'completed' },
      (e) => typeof e.sum === 'number' && typeof e.count === 'number' && typeof e.bucketValues === 'object',
    );
  };
}
