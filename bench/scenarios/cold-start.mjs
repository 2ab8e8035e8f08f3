/**
 * Cold start: one waiting job, then a worker process is spawned; the figure is spawn -> handler start.
 * kq runs as a CronJob / ScaledJob pod would (EXIT=1, HEALTH_PORT=0) and exits by itself afterwards.
 */
import { spawnWorker, wallNow } from '../procs.mjs';

async function run(ctx, variant) {
  const name = ctx.queueName('cold', variant);
  const queue = ctx.queue(name);
  await queue.add('stamp', { t: 0 });
  const env = { REDIS_URL: ctx.redisUrl, QUEUE: name, KQ_PREFIX: ctx.prefix, CONCURRENCY: '1' };
  if (variant === 'kq') env.EXIT = '1';
  const t0 = wallNow();
  const worker = spawnWorker(variant, env);
  try {
    await worker.waitForStamps(1, 20_000);
    return { spawnToHandlerMs: worker.stamps[0].started - t0 };
  } finally {
    await worker.stop();
  }
}

export default {
  id: 'cold-start',
  fullRuns: 7,
  variants: ['kq', 'bullmq'],
  run,
  rows: () => [
    {
      scenario: 'cold start: spawn -> first handler start (ms)',
      figure: 'spawnToHandlerMs',
      baselineName: 'plain BullMQ worker script',
      target: '<= 0.8x',
      met: (k, b) => k <= 0.8 * b,
    },
  ],
};
