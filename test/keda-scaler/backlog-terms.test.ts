/**
 * Every term of the runnable backlog, produced by real workers on a real Redis and read through the
 * scaler with a client built from KEDA's proto: what a `redis` trigger on `:wait` cannot see.
 */
import { describe, expect, it } from 'vitest';
import { readRunnableBacklog } from '../../src/queue/runnable-backlog.js';
import { useTestQueue } from '../helpers/context.js';
import { waitFor } from '../helpers/wait.js';
import { cleanupRuns, runs, spawnWorker } from '../worker/helpers.js';
import { scalerClient, startScaler } from './scaler-fixture.js';

async function setup() {
  const t = useTestQueue();
  const scaler = await startScaler(t.redisUrl);
  const client = scalerClient(`127.0.0.1:${scaler.port}`);
  const md = { queue: t.queue, scalerAddress: 'kq-keda-scaler.kq.svc:9090' };
  const backlog = async () => (await client.getMetrics(md))[0]?.metricValue;
  const done = async () => {
    client.close();
    await scaler.close();
  };
  return { t, client, md, backlog, done };
}

describe('runnable backlog terms', () => {
  it('waiting and prioritized jobs count; the oldest one gives oldestWaitingSeconds', async () => {
    const { t, client, md, backlog, done } = await setup();
    await client.getMetricSpec(md);
    expect(await client.isActive(md)).toBe(false);
    expect(await backlog()).toBe(0);
    await t.bull.add('work', {}, { timestamp: Date.now() - 120_000 });
    await t.bull.add('work', {});
    await t.bull.add('work', {}, { priority: 5 });
    expect(await backlog()).toBe(3);
    expect(await client.isActive(md)).toBe(true);
    const [age] = await client.getMetrics({ ...md, metric: 'oldestWaitingSeconds' });
    expect(age?.metricName).toBe(`kq-oldest-waiting-seconds-${t.queue}`);
    expect(age?.metricValueFloat).toBeGreaterThanOrEqual(119);
    expect(age?.metricValueFloat).toBeLessThan(200);
    const b = await readRunnableBacklog(t.redis, t.prefix, t.queue);
    expect(b).toMatchObject({ waiting: 2, prioritized: 1, running: 0, orphaned: 0, dueDelayed: 0 });
    await done();
  });

  it('oldestWaitingSeconds sees a starved low-priority job, not only the head of :prioritized', async () => {
    const { t, client, md, done } = await setup();
    const now = Date.now();
    // The head of the sorted set is the newest job (priority 1); the oldest waits at a lower priority.
    await t.bull.add('work', {}, { priority: 9, timestamp: now - 300_000 });
    await t.bull.add('work', {}, { priority: 9, timestamp: now - 30_000 });
    await t.bull.add('work', {}, { priority: 1, timestamp: now - 1_000 });
    const [age] = await client.getMetrics({ ...md, metric: 'oldestWaitingSeconds' });
    expect(age?.metricValueFloat).toBeGreaterThanOrEqual(299);
    expect(age?.metricValueFloat).toBeLessThan(400);
    const b = await readRunnableBacklog(t.redis, t.prefix, t.queue, now);
    expect(b.oldestWaitingSeconds).toBe(300);
    expect(b).toMatchObject({ waiting: 0, prioritized: 3 });
    await done();
  });

  it('a running job counts; after its worker is SIGKILLed it counts as orphaned (lock gone)', async () => {
    const { t, client, md, backlog, done } = await setup();
    const victim = spawnWorker(t, { LOCK_DURATION_MS: '1000' }, 'victim');
    await t.bull.add('work', { ms: 60_000 });
    await waitFor('job started', async () => (await runs(t.redis, t.queue, 'started')).length === 1);
    expect(await readRunnableBacklog(t.redis, t.prefix, t.queue)).toMatchObject({ running: 1, orphaned: 0 });
    expect(await backlog()).toBe(1);
    victim.kill('SIGKILL');
    await victim.waitForExit();
    const b = await waitFor(
      'the lock to expire',
      async () => {
        const r = await readRunnableBacklog(t.redis, t.prefix, t.queue);
        return r.orphaned === 1 ? r : undefined;
      },
      { timeoutMs: 10_000 },
    );
    expect(b).toMatchObject({ running: 0, orphaned: 1, waiting: 0, runnableAndRunning: 1 });
    // A `redis` trigger on the wait list would read 0 here and let KEDA scale to zero for good.
    expect(await t.redis.llen(`${t.prefix}:${t.queue}:wait`)).toBe(0);
    expect(await backlog()).toBe(1);
    expect(await client.isActive(md)).toBe(true);
    await cleanupRuns(t.redis, t.queue);
    await done();
  });

  it('a retry in backoff counts once due, pushed by StreamIsActive with no worker running', async () => {
    const { t, client, md, backlog, done } = await setup();
    const worker = spawnWorker(t, {}, 'worker');
    const job = await t.bull.add(
      'flaky',
      { succeedOn: 2 },
      { attempts: 2, backoff: { type: 'fixed', delay: 2500 } },
    );
    await waitFor('the first attempt to fail into backoff', async () => (await job.getState()) === 'delayed');
    // SIGKILL: gone at once (a slow shutdown on a loaded machine could outlast the backoff); the job
    // is in `delayed`, not active, so nothing is orphaned.
    worker.kill('SIGKILL');
    await worker.waitForExit();
    const stream = client.stream(md);
    await stream.next(false);
    expect(await backlog()).toBe(0);
    const { at } = await stream.next(true, 0, 10_000);
    const due = Number((await t.redis.zrange(`${t.prefix}:${t.queue}:delayed`, 0, 0, 'WITHSCORES'))[1]);
    const dueMs = Math.floor(due / 0x1000);
    expect(at).toBeGreaterThanOrEqual(dueMs);
    expect(at - dueMs).toBeLessThan(2000);
    expect(await backlog()).toBe(1);
    expect(await readRunnableBacklog(t.redis, t.prefix, t.queue)).toMatchObject({ dueDelayed: 1 });
    stream.cancel();
    await cleanupRuns(t.redis, t.queue);
    await done();
  });

  it('a delayed job becoming due with no worker: pushed true at its due time; a worker started then runs it', async () => {
    const { t, client, md, backlog, done } = await setup();
    const job = await t.bull.add('work', {}, { delay: 2500 });
    const stream = client.stream(md);
    await stream.next(false);
    expect(await client.isActive(md)).toBe(false);
    await stream.next(true, 0, 10_000);
    expect(await backlog()).toBe(1);
    expect(stream.results.map((r) => r.result)).toEqual([false, true]);
    // What KEDA does on that push: start a worker. It takes the due job; the stream then says false.
    const worker = spawnWorker(t, {}, 'woken worker');
    await waitFor('the delayed job to complete', async () => (await job.getState()) === 'completed', {
      timeoutMs: 20_000,
    });
    await stream.next(false, 2, 10_000);
    worker.kill('SIGTERM');
    await worker.waitForExit();
    stream.cancel();
    await cleanupRuns(t.redis, t.queue);
    await done();
  });

  it('a paused queue counts 0 runnable but keeps its running jobs counted', async () => {
    const { t, client, md, backlog, done } = await setup();
    const worker = spawnWorker(t, { LOCK_DURATION_MS: '1000' }, 'worker');
    await t.bull.add('work', { ms: 60_000 });
    await waitFor('job started', async () => (await runs(t.redis, t.queue, 'started')).length === 1);
    await t.bull.add('work', {});
    await t.bull.add('work', {});
    expect(await backlog()).toBe(3);
    await t.bull.pause();
    expect(await backlog()).toBe(1);
    expect(await client.isActive(md)).toBe(true);
    worker.kill('SIGKILL');
    await worker.waitForExit();
    // Its job is orphaned now, and a paused queue would not run it: nothing needs a worker.
    await waitFor('the orphan to be seen', async () => (await backlog()) === 0, { timeoutMs: 10_000 });
    expect(await client.isActive(md)).toBe(false);
    await t.bull.resume();
    expect(await backlog()).toBe(3);
    await cleanupRuns(t.redis, t.queue);
    await done();
  });
});
