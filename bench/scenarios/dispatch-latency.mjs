/**
 * Dispatch latency: idle workers (concurrency 50), a producer adding `stamp` jobs at a steady rate; each
 * handler writes its start time, so latency = handler start - the producer's clock just before `add`.
 * The first second is warm-up and not counted.
 */
import { kqLibrary, spawnWorker, waitForWorkers, wallNow } from '../procs.mjs';
import { percentile } from '../stats.mjs';

const RATE = 500;

async function produce(queue, seconds) {
  const opts = { ...(await kqLibrary()).DEFAULT_JOB_OPTIONS };
  delete opts.timeoutMs;
  const total = Math.round(RATE * seconds);
  const start = performance.now();
  const adds = [];
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * RATE) + 1);
    for (; sent < due; sent++) adds.push(queue.add('stamp', { t: wallNow() }, opts));
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(adds);
  return total;
}

async function run(ctx, variant) {
  const warmup = 1;
  const seconds = ctx.quick ? 2 : 8;
  const name = ctx.queueName('latency', variant);
  const queue = ctx.queue(name);
  const worker = spawnWorker(variant, {
    REDIS_URL: ctx.redisUrl,
    QUEUE: name,
    KQ_PREFIX: ctx.prefix,
    CONCURRENCY: '50',
  });
  try {
    await waitForWorkers(queue, 1, 20_000, worker);
    await new Promise((r) => setTimeout(r, 300));
    const t0 = wallNow();
    const total = await produce(queue, seconds);
    await worker.waitForStamps(total, 30_000);
    const lat = worker.stamps
      .filter((s) => s.sent >= t0 + warmup * 1000)
      .map((s) => s.started - s.sent)
      .sort((a, b) => a - b);
    return { p50Ms: percentile(lat, 50), p99Ms: percentile(lat, 99) };
  } finally {
    await worker.stop();
  }
}

export default {
  id: 'latency',
  // p99 of a few milliseconds moves with every GC pause: more runs for a steadier median.
  fullRuns: 5,
  variants: ['kq', 'bullmq'],
  run,
  rows: () => [
    {
      scenario: `dispatch latency p50, ${RATE} jobs/s, idle workers (ms)`,
      figure: 'p50Ms',
      baselineName: 'plain BullMQ producer + Worker',
      target: '(reported)',
    },
    {
      scenario: `dispatch latency p99, ${RATE} jobs/s, idle workers (ms)`,
      figure: 'p99Ms',
      baselineName: 'plain BullMQ producer + Worker',
      target: '<= 1.2x',
      met: (k, b) => k <= 1.2 * b,
    },
  ],
};
