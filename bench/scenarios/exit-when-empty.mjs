/**
 * Exit when empty: a backlog of no-op jobs, a worker at concurrency 50 that should exit once the queue is
 * empty. Figure: the last job's finish time (its score in the completed set, set by the worker) -> process
 * exit. kq uses EXIT=1; the baseline is the usual hand-rolled exit on BullMQ's `drained` event.
 * A second case starts the worker on a paused queue (a CronJob firing during a pause): there is nothing it
 * can take, so it should exit; a third with Redis unreachable. A run that does not exit within the bound
 * is killed and counted as hung.
 */
import { spawnWorker } from '../procs.mjs';
import { freePort } from '../redis-server.mjs';

async function exitAfter(worker, boundMs) {
  const timer = new Promise((r) => setTimeout(() => r('hung'), boundMs));
  const outcome = await Promise.race([worker.exited, timer]);
  if (outcome === 'hung') {
    await worker.stop(1000);
    return undefined;
  }
  return outcome;
}

async function run(ctx, variant) {
  const bound = ctx.quick ? 1500 : 10_000;
  const env = (name) => ({
    REDIS_URL: ctx.redisUrl,
    QUEUE: name,
    KQ_PREFIX: ctx.prefix,
    CONCURRENCY: '50',
    ...(variant === 'kq' ? { EXIT: '1' } : { EXIT_ON_DRAINED: '1' }),
  });

  const name = ctx.queueName('exit', variant);
  const queue = ctx.queue(name);
  await queue.addBulk(Array.from({ length: 500 }, () => ({ name: 'noop', data: {} })));
  const worker = spawnWorker(variant, env(name));
  const deadline = Date.now() + 30_000;
  while ((await queue.getJobCountByTypes('wait', 'active')) > 0 && worker.proc.exitCode === null) {
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const exit = await exitAfter(worker, bound);
  const [, lastFinished] = await ctx.redis.zrange(`${ctx.prefix}:${name}:completed`, -1, -1, 'WITHSCORES');
  const left = await queue.getJobCountByTypes('wait', 'active', 'prioritized');
  const result = {
    lastJobToExitMs: exit && left === 0 ? exit.at - Number(lastFinished) : Number.NaN,
    hungOrEarly: exit && left === 0 ? 0 : 1,
  };

  const pausedName = ctx.queueName('exit-paused', variant);
  const paused = ctx.queue(pausedName);
  await paused.add('noop', {});
  await paused.pause();
  const w2 = spawnWorker(variant, env(pausedName));
  result.pausedHung = (await exitAfter(w2, 5000 + bound)) ? 0 : 1;

  // Redis unreachable when the pod starts (a closed port): no fetch ever returns, so `drained` never
  // fires. kq counts the outage and exits 1 after REDIS_DOWN_TIMEOUT_MS (1 s here), so the Job retries.
  const w3 = spawnWorker(variant, {
    ...env('unreachable'),
    REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
    REDIS_DOWN_TIMEOUT_MS: '1000',
  });
  const t0 = Date.now();
  const down = await exitAfter(w3, 2000 + bound);
  result.redisDownHung = down ? 0 : 1;
  result.redisDownExitMs = down ? Date.now() - t0 : Number.NaN;
  return result;
}

export default {
  id: 'exit-when-empty',
  variants: ['kq', 'bullmq'],
  run,
  rows: () => [
    {
      scenario: 'exit when empty: last job finished -> exit, 500 jobs (ms)',
      figure: 'lastJobToExitMs',
      baselineName: '`drained`-based exit',
      target: '<= 1000 ms',
      met: (k) => k <= 1000,
      absolute: true,
    },
    {
      scenario: 'exit when empty: runs that hung or left jobs (share)',
      figure: 'hungOrEarly',
      baselineName: '`drained`-based exit',
      target: '0 (never hangs)',
      met: (k) => k === 0,
      absolute: true,
      stat: 'mean',
    },
    {
      scenario: 'exit when empty: Redis unreachable at start, runs that hung (share)',
      figure: 'redisDownHung',
      baselineName: '`drained`-based exit',
      target: '0 (never hangs)',
      met: (k) => k === 0,
      absolute: true,
      stat: 'mean',
    },
    {
      scenario: 'exit when empty: paused queue, runs that hung (share)',
      figure: 'pausedHung',
      baselineName: '`drained`-based exit',
      target: '0 (never hangs)',
      met: (k) => k === 0,
      absolute: true,
      stat: 'mean',
    },
  ],
};
