/**
 * Processing and memory: a paused queue gets a backlog of no-op jobs, the worker (concurrency 50) starts
 * and connects, its idle RSS is read, then the queue is resumed and the clock runs until nothing is
 * waiting or active. Jobs carry kq's default job options for both (same Redis work per job).
 * Peak RSS is the kernel's high-water mark (VmHWM) of the worker process. kq's worker runs as a user
 * runs it: the whole `kq worker` process, default logging (`info`: one line per short job, see
 * docs/worker.md) to /dev/null, crash recovery on (its once-a-second orphan scan included).
 */
import { kqJobOptions, spawnWorker, waitForWorkers, wallNow } from '../procs.mjs';

const CONCURRENCY = 50;

/** The worker's NODE_OPTIONS in the generated manifests (128Mi limit), read from the generator itself. */
async function manifestNodeOptions() {
  try {
    const { workerNodeOptions } = await import('../../dist/k8s/common.js');
    return workerNodeOptions('128Mi');
  } catch {
    return undefined;
  }
}

async function fillBacklog(queue, n) {
  const opts = await kqJobOptions();
  for (let done = 0; done < n; done += 1000) {
    const size = Math.min(1000, n - done);
    await queue.addBulk(Array.from({ length: size }, () => ({ name: 'noop', data: {}, opts })));
  }
}

async function run(ctx, variant) {
  const n = ctx.quick ? 3000 : 20_000;
  const name = ctx.queueName('processing', variant);
  const queue = ctx.queue(name);
  await queue.pause();
  await fillBacklog(queue, n);
  const env = {
    REDIS_URL: ctx.redisUrl,
    QUEUE: name,
    KQ_PREFIX: ctx.prefix,
    CONCURRENCY: String(CONCURRENCY),
  };
  if (variant === 'kq-manifests') env.NODE_OPTIONS = await manifestNodeOptions();
  const worker = spawnWorker(variant === 'bullmq' ? 'bullmq' : 'kq', env);
  try {
    await waitForWorkers(queue, 1, 20_000, worker);
    await new Promise((r) => setTimeout(r, ctx.quick ? 300 : 1000));
    const idle = worker.memory();
    const cpu0 = worker.cpuMs();
    const t0 = wallNow();
    await queue.resume();
    const deadline = Date.now() + 120_000;
    for (;;) {
      const [wait, active] = await Promise.all([
        ctx.redis.llen(`${ctx.prefix}:${name}:wait`),
        ctx.redis.llen(`${ctx.prefix}:${name}:active`),
      ]);
      if (wait + active === 0) break;
      if (Date.now() > deadline)
        throw new Error(`${variant}: backlog not processed within 120 s (${wait} waiting)`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const seconds = (wallNow() - t0) / 1000;
    const cpuMsPer1000Jobs = ((worker.cpuMs() - cpu0) / n) * 1000;
    const loaded = worker.memory();
    const failed = await queue.getFailedCount();
    if (failed > 0) throw new Error(`${variant}: ${failed} jobs failed`);
    return {
      jobsPerSec: n / seconds,
      cpuMsPer1000Jobs,
      idleRssMiB: idle.peakMiB,
      loadedPeakRssMiB: loaded.peakMiB,
    };
  } finally {
    await worker.stop();
  }
}

export default {
  id: 'processing',
  fullRuns: 5,
  // kq-manifests: kq as the generated manifests run it, with their heap flags (NODE_OPTIONS).
  variants: ['kq', 'bullmq', 'kq-manifests'],
  run,
  rows(ctx) {
    const n = ctx.quick ? '3k' : '20k';
    return [
      {
        scenario: `processing: no-op, concurrency ${CONCURRENCY}, ${n} backlog (jobs/s)`,
        figure: 'jobsPerSec',
        baselineName: 'plain BullMQ Worker',
        higherIsBetter: true,
        target: '>= 0.95x',
        met: (k, b) => k >= 0.95 * b,
      },
      {
        scenario: 'processing: worker CPU time per 1,000 jobs (ms)',
        figure: 'cpuMsPer1000Jobs',
        baselineName: 'plain BullMQ Worker',
        target: '<= 1.05x',
        met: (k, b) => k <= 1.05 * b,
      },
      {
        scenario: 'memory: worker peak RSS idle (MiB)',
        figure: 'idleRssMiB',
        baselineName: 'plain BullMQ Worker',
        target: '<= 1.1x and <= 80 MiB',
        met: (k, b) => k <= 1.1 * b && k <= 80,
      },
      {
        scenario: `memory: worker peak RSS through ${n} jobs at concurrency ${CONCURRENCY} (MiB)`,
        figure: 'loadedPeakRssMiB',
        baselineName: 'plain BullMQ Worker',
        target: '<= 1.1x and <= 110 MiB',
        met: (k, b) => k <= 1.1 * b && k <= 110,
      },
      {
        scenario: "memory: idle, kq with the manifests' NODE_OPTIONS (MiB)",
        figure: 'idleRssMiB',
        variant: 'kq-manifests',
        baselineName: 'plain BullMQ Worker, no flags',
        target: '<= 80 MiB',
        met: (k) => k <= 80,
      },
      {
        scenario: `memory: through ${n} jobs, kq with the manifests' NODE_OPTIONS (MiB)`,
        figure: 'loadedPeakRssMiB',
        variant: 'kq-manifests',
        baselineName: 'plain BullMQ Worker, no flags',
        target: '<= 110 MiB',
        met: (k) => k <= 110,
      },
      {
        scenario: "processing: kq with the manifests' NODE_OPTIONS (jobs/s)",
        figure: 'jobsPerSec',
        variant: 'kq-manifests',
        baselineName: 'plain BullMQ Worker',
        target: '(reported)',
      },
    ];
  },
};
