/**
 * `kq sweep` (keda-scaledjob's sweeper CronJob), a real process on a real Redis: it moves an orphan (an
 * active job whose lock is gone) and a retry whose backoff is over back to `wait`, leaves a delayed job
 * that is not due where it is, and runs nothing: the waiting job stays waiting and no job starts. Due
 * time is made by backdating the delayed job's score, not by waiting.
 */
import { Worker } from 'bullmq';
import { expect, it } from 'vitest';
import { dueDelayedMaxScore } from '../../src/queue/keys.js';
import { useTestQueue } from '../helpers/context.js';
import { spawnKq } from '../helpers/kq-process.js';

it('moves orphans and due retries to wait, leaves the rest, runs no job', async () => {
  const t = useTestQueue();
  const orphan = await t.bull.add('noop', {}, { jobId: 'orphan', attempts: 3 });
  // A worker takes it and dies: the job stays active and its lock expires (deleted here).
  const taker = new Worker(t.queue, null, {
    connection: t.redis.duplicate(),
    prefix: t.prefix,
    autorun: false,
  });
  expect((await taker.getNextJob('token'))?.id).toBe('orphan');
  await taker.close();
  await t.redis.del(`${t.prefix}:${t.queue}:orphan:lock`);
  const waiting = await t.bull.add('noop', {}, { jobId: 'waiting' });
  const retry = await t.bull.add('noop', {}, { jobId: 'retry', delay: 3_600_000 });
  const later = await t.bull.add('noop', {}, { jobId: 'later', delay: 3_600_000 });
  // The retry's backoff is over: its delayed score says due a minute ago.
  await t.redis.zadd(`${t.prefix}:${t.queue}:delayed`, dueDelayedMaxScore(Date.now() - 60_000), 'retry');

  const sweep = spawnKq(['sweep'], { REDIS_URL: t.redisUrl, QUEUE: t.queue, KQ_PREFIX: t.prefix });
  const { code } = await sweep.waitForExit(30_000);
  expect(code).toBe(0);
  const done = sweep.logs.find((l) => l.event === 'sweep.done') as { orphans?: number; promoted?: number };
  expect([done?.orphans, done?.promoted]).toEqual([1, 1]);

  const state = async (id: string) => (await t.bull.getJob(id))?.getState();
  expect(await state(orphan.id as string)).toBe('waiting');
  expect(await state(retry.id as string)).toBe('waiting');
  expect(await state(later.id as string)).toBe('delayed');
  expect(await state(waiting.id as string)).toBe('waiting');
  const counts = await t.bull.getJobCounts('active', 'completed', 'failed');
  expect(counts).toEqual({ active: 0, completed: 0, failed: 0 });
});

it('kq sweep --help names its settings; a bad value exits 2 naming the option, the value and the rule', async () => {
  const help = spawnKq(['sweep', '--help'], {});
  expect((await help.waitForExit(15_000)).code).toBe(0);
  for (const env of ['REDIS_URL', 'QUEUE', 'KQ_PREFIX', 'MAX_STALLED_COUNT'])
    expect(help.output()).toContain(env);
  const bad = spawnKq(['sweep'], { MAX_STALLED_COUNT: 'many' });
  expect((await bad.waitForExit(15_000)).code).toBe(2);
  expect(bad.output()).toContain(
    'Invalid MAX_STALLED_COUNT (flag --max-stalled-count): "many" must be a whole number',
  );
});
