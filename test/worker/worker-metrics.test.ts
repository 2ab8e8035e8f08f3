import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createWorkerMetrics } from '../../src/metrics/worker-metrics.js';

/** The same figures recorded through prom-client's public API: what the fast path must match. */
function reference(queue: string, observations: [string, number][]): Registry {
  const registry = new Registry();
  const completed = new Counter({
    name: 'kq_jobs_completed_total',
    help: 'x',
    labelNames: ['queue', 'type'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'kq_job_duration_seconds',
    help: 'x',
    labelNames: ['queue', 'type', 'outcome'],
    buckets: [0.005, 0.05, 0.25, 1, 5, 30, 120, 600, 3600, 14400],
    registers: [registry],
  });
  for (const [type, s] of observations) {
    completed.inc({ queue, type });
    duration.observe({ queue, type, outcome: 'completed' }, s);
  }
  return registry;
}

const lines = async (r: Registry, prefix: string) =>
  (await r.metrics())
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .sort();

describe('worker metrics: completed jobs', () => {
  it('scrape the same counts, sums and buckets as prom-client observing each job, across types and resets', async () => {
    const m = createWorkerMetrics({ queue: 'q', count: () => 0 });
    const seen: [string, number][] = [];
    const values = [0, 0.001, 0.005, 0.0051, 0.05, 0.3, 1, 4.9, 31, 20_000, 0.002, 0.07];
    for (let i = 0; i < 60; i++) {
      const type = i % 3 === 0 ? 'b' : 'a';
      const s = values[i % values.length] as number;
      m.jobCompleted(type, s);
      seen.push([type, s]);
    }
    // Failures go through the public API on the same histogram; they must not disturb completed jobs.
    m.duration.observe({ queue: 'q', type: 'a', outcome: 'failed' }, 0.2);
    const ref = reference('q', seen);
    (ref.getSingleMetric('kq_job_duration_seconds') as Histogram).observe(
      { queue: 'q', type: 'a', outcome: 'failed' },
      0.2,
    );
    for (const name of ['kq_jobs_completed_total', 'kq_job_duration_seconds']) {
      expect(await lines(m.registry, name)).toEqual(await lines(ref, name));
    }
    expect(await lines(m.registry, 'kq_jobs_completed_total{queue="q",type="a"}')).toEqual([
      'kq_jobs_completed_total{queue="q",type="a"} 40',
    ]);

    // After a reset (a test, a registry reset), counting starts again from zero, still right.
    m.registry.resetMetrics();
    const after: [string, number][] = [];
    for (let i = 0; i < 7; i++) {
      m.jobCompleted('a', 0.01 * i);
      after.push(['a', 0.01 * i]);
    }
    const ref2 = reference('q', after);
    for (const name of ['kq_jobs_completed_total', 'kq_job_duration_seconds']) {
      expect(await lines(m.registry, name)).toEqual(await lines(ref2, name));
    }
  });
});
