/**
 * Processing and memory: a paused queue gets a backlog of no-op jobs, the worker (concurrency 50) starts
 * and connects, its idle RSS is read, then the queue is resumed and the clock runs until nothing is
 * waiting or active. Jobs carry kq's default job options for both (same Redis work per job).
 * Peak RSS is the kernel's high-water mark (VmHWM) of the worker process. kq's worker runs as a user
 * runs it: the whole `kq worker` process, default logging (`info`: one line per short job, see
 * docs/worker.md) to /dev/null, crash recovery on (its once-a-second orphan scan included).
 *
 * On a shared 2-core VM one run's CPU per job moves by +-10-15 % for the same binary, so a +-5 % target
 * needs many runs and a control: 12 rounds in a full run, 40k jobs each (warm-up is a smaller share than
 * with 20k), judged on paired ratios (each kq run against the baseline run next to it, bench/report.mjs),
 * and an A/A row, plain BullMQ against itself, that shows how far two identical workers differ here.
 * kq with the manifests' heap flags is its own, shorter scenario (processing-manifests.mjs).
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

/** The backlog of one run. */
export const backlog = (ctx) => (ctx.quick ? 3000 : 40_000);

/** A paused queue holding the backlog, and a worker of `kind` spawned on it and connected. */
export async function workerOnBacklog(ctx, name, kind, extraEnv = {}) {
  const queue = ctx.queue(name);
  await queue.pause();
  await fillBacklog(queue, backlog(ctx));
  const worker = spawnWorker(kind, {
    REDIS_URL: ctx.redisUrl,
    QUEUE: name,
    KQ_PREFIX: ctx.prefix,
    CONCURRENCY: String(CONCURRENCY),
    ...extraEnv,
  });
  try {
    await waitForWorkers(queue, 1, 20_000, worker);
  } catch (err) {
    await worker.stop();
    throw err;
  }
  return { queue, worker };
}

export async function run(ctx, variant) {
  const n = backlog(ctx);
  const name = ctx.queueName('processing', variant);
  const extraEnv = variant === 'kq-manifests' ? { NODE_OPTIONS: await manifestNodeOptions() } : {};
  const kind = variant.startsWith('bullmq') ? 'bullmq' : 'kq';
  const { queue, worker } = await workerOnBacklog(ctx, name, kind, extraEnv);
  try {
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
  fullRuns: 12,
  // bullmq-again: the same plain BullMQ worker a second time, the A/A control of every round.
  variants: ['kq', 'bullmq', 'bullmq-again'],
  run,
  rows(ctx) {
    const n = `${backlog(ctx) / 1000}k`;
    return [
      {
        scenario: `processing: no-op, concurrency ${CONCURRENCY}, ${n} backlog (jobs/s)`,
        figure: 'jobsPerSec',
        stat: 'paired',
        baselineName: 'plain BullMQ Worker',
        higherIsBetter: true,
        target: '>= 0.95x',
        met: (_k, _b, ratio) => ratio !== null && ratio >= 0.95,
      },
      {
        scenario: 'processing: worker CPU time per 1,000 jobs (ms)',
        figure: 'cpuMsPer1000Jobs',
        stat: 'paired',
        baselineName: 'plain BullMQ Worker',
        target: '<= 1.05x',
        met: (_k, _b, ratio) => ratio !== null && ratio <= 1.05,
      },
      {
        scenario: 'processing, A/A control: plain BullMQ against itself, jobs/s',
        figure: 'jobsPerSec',
        stat: 'paired',
        variant: 'bullmq-again',
        baselineName: 'plain BullMQ Worker',
        target: '(the noise: 1.0 is exact)',
      },
      {
        scenario: 'processing, A/A control: plain BullMQ against itself, CPU per 1,000 jobs',
        figure: 'cpuMsPer1000Jobs',
        stat: 'paired',
        variant: 'bullmq-again',
        baselineName: 'plain BullMQ Worker',
        target: '(the noise: 1.0 is exact)',
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
    ];
  },
};
