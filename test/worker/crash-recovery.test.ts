/**
 * Crash recovery in every mode, and the shutdown paths that used to hang (issue 11, items 1, 2, 4-7).
 * Real worker processes against the run's Redis; a fault test that needs an unreachable Redis uses a free
 * port nobody listens on.
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { useTestQueue } from '../helpers/context.js';
import { freePort } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';
import { cleanupRuns, runs, spawnWorker } from './helpers.js';

const lockGone = (t: ReturnType<typeof useTestQueue>, id: string) =>
  waitFor('lock expired', async () => (await t.redis.exists(`bull:${t.queue}:${id}:lock`)) === 0, {
    timeoutMs: 10_000,
    intervalMs: 50,
  });

describe('worker: crash recovery in every mode', () => {
  it('EXIT=1 runs a SIGKILLed worker’s job (lock gone) instead of calling the queue empty', async () => {
    const t = useTestQueue();
    const env = { LOCK_DURATION_MS: '1500' };
    const victim = spawnWorker(t, env, 'victim');
    const job = await t.bull.add('work', { ms: 2000 });
    await waitFor('job started', async () => (await runs(t.redis, t.queue, 'started')).length === 1);
    victim.kill('SIGKILL');
    await victim.waitForExit();
    await lockGone(t, job.id as string);
    const cron = spawnWorker(t, { ...env, EXIT: '1' }, 'cron run');
    expect((await cron.waitForExit(20_000)).code).toBe(0);
    expect(await t.bull.getJobState(job.id as string)).toBe('completed');
    expect(cron.logs.some((l) => l.event === 'worker.orphans-found')).toBe(true);
    const done = await t.bull.getJob(job.id as string);
    // Counted as one stall (MAX_STALLED_COUNT semantics), not as a failed attempt.
    expect(done?.stalledCounter).toBe(1);
    expect(done?.attemptsMade).toBe(1);
    await cleanupRuns(t.redis, t.queue);
  });

  it('an always-on worker runs an orphan within LOCK_DURATION_MS + 2 s of its worker’s death', async () => {
    const t = useTestQueue();
    const env = { LOCK_DURATION_MS: '1500' };
    const rescuer = spawnWorker(t, env, 'rescuer');
    await rescuer.waitForLog('started', (l) => l.event === 'worker.started');
    const victim = spawnWorker(t, { ...env, QUEUE: t.queue }, 'victim');
    await victim.waitForLog('started', (l) => l.event === 'worker.started');
    rescuer.kill('SIGSTOP'); // so the victim takes the job
    const job = await t.bull.add('work', { ms: 1000 });
    await waitFor('job started', async () => (await runs(t.redis, t.queue, 'started')).length === 1);
    victim.kill('SIGKILL');
    const killedAt = Date.now();
    rescuer.kill('SIGCONT');
    await waitFor('job started again', async () => (await runs(t.redis, t.queue, 'started')).length === 2, {
      timeoutMs: 15_000,
      intervalMs: 50,
    });
    // Generous on a loaded machine; the crash matrix reports the real figure.
    expect(Date.now() - killedAt).toBeLessThan(1500 + 2000 + 3000);
    await waitFor('completed', async () => (await t.bull.getJobState(job.id as string)) === 'completed');
    rescuer.kill('SIGTERM');
    await rescuer.waitForExit();
    await cleanupRuns(t.redis, t.queue);
  });

  it('MAX_JOBS=1: the replacement pod of a killed one runs the lost job first, at once (K8S_JOB_NAME)', async () => {
    const t = useTestQueue();
    // The default 30 s lock: the replacement must not wait for it to expire.
    const env = { MAX_JOBS: '1', EXIT: '1', K8S_JOB_NAME: 'kq-worker-abc12' };
    const lost = await t.bull.add('work', { ms: 1500 });
    await t.bull.addBulk([
      { name: 'work', data: { ms: 0 } },
      { name: 'work', data: { ms: 0 } },
    ]);
    const pod = spawnWorker(t, env, 'pod 1');
    await waitFor('job started', async () => (await runs(t.redis, t.queue, 'started')).length === 1);
    pod.kill('SIGKILL');
    await pod.waitForExit();
    const replacement = spawnWorker(t, env, 'replacement pod');
    expect((await replacement.waitForExit(15_000)).code).toBe(0);
    const started = await runs(t.redis, t.queue, 'started');
    expect(started.map((s) => s.split(':')[0])).toEqual([lost.id, lost.id]);
    expect(await t.bull.getJobState(lost.id as string)).toBe('completed');
    expect(await t.bull.getWaitingCount()).toBe(2);
    await cleanupRuns(t.redis, t.queue);
  });

  it('MAX_JOBS=1 without K8S_JOB_NAME: the next pod after the lock expired runs the orphan, not a new job', async () => {
    const t = useTestQueue();
    const env = { MAX_JOBS: '1', EXIT: '1', LOCK_DURATION_MS: '1000' };
    const lost = await t.bull.add('work', { ms: 1500 });
    await t.bull.add('work', { ms: 0 });
    const pod = spawnWorker(t, env, 'pod 1');
    await waitFor('job started', async () => (await runs(t.redis, t.queue, 'started')).length === 1);
    pod.kill('SIGKILL');
    await lockGone(t, lost.id as string);
    const next = spawnWorker(t, env, 'pod 2');
    expect((await next.waitForExit(15_000)).code).toBe(0);
    expect(await t.bull.getJobState(lost.id as string)).toBe('completed');
    expect(await t.bull.getWaitingCount()).toBe(1);
    await cleanupRuns(t.redis, t.queue);
  });
});

describe('worker: stops that used to hang', () => {
  it('SIGTERM while Redis is unreachable: exits within SHUTDOWN_TIMEOUT_MS, code 1', async () => {
    const t = useTestQueue();
    const port = await freePort();
    const w = spawnWorker(t, { REDIS_URL: `redis://127.0.0.1:${port}`, SHUTDOWN_TIMEOUT_MS: '2000' });
    await w.waitForLog('started', (l) => l.event === 'worker.started');
    const t0 = Date.now();
    w.kill('SIGTERM');
    const { code } = await w.waitForExit(10_000);
    expect(code).toBe(1);
    expect(Date.now() - t0).toBeLessThan(2000 + 1500);
    expect(w.logs.some((l) => l.event === 'worker.deadline')).toBe(true);
  });

  it('a busy HEALTH_PORT is a one-line config error, exit 2, in every mode', async () => {
    const t = useTestQueue();
    const blocker = createServer();
    const port = await new Promise<number>((resolve) =>
      blocker.listen(0, '0.0.0.0', () => resolve((blocker.address() as { port: number }).port)),
    );
    try {
      const modes: Record<string, string>[] = [{}, { EXIT: '1' }, { MAX_JOBS: '1', EXIT: '1' }];
      for (const env of modes) {
        const w = spawnWorker(t, { ...env, HEALTH_PORT: String(port) }, 'second worker');
        expect((await w.waitForExit(10_000)).code).toBe(2);
        const out = w.output().trim();
        expect(out.split('\n').filter((l) => l.startsWith('kq worker:'))).toEqual([
          expect.stringMatching(new RegExp(`HEALTH_PORT ${port} is already in use.*0 to turn`)),
        ]);
        expect(out).not.toMatch(/ReferenceError| {4}at /);
        expect(w.logs.some((l) => l.event === 'worker.started')).toBe(false);
      }
    } finally {
      blocker.close();
    }
  });

  it('CONCURRENCY bounds handlers really running: an abandoned handler keeps its slot; all abandoned -> recycle', async () => {
    const t = useTestQueue();
    await t.bull.addBulk(Array.from({ length: 6 }, () => ({ name: 'stubborn', data: { ms: 1500 } })));
    const w = spawnWorker(t, { CONCURRENCY: '2', SHUTDOWN_TIMEOUT_MS: '1000' });
    const { code } = await w.waitForExit(15_000);
    expect(code).toBe(1);
    expect(Number(await t.redis.get(`kqtest:${t.queue}:max-running`))).toBeLessThanOrEqual(2);
    expect(w.logs.filter((l) => l.event === 'job.handler-abandoned')).toHaveLength(2);
    expect(w.logs.some((l) => l.event === 'worker.stopping' && /abandoned/.test(String(l.reason)))).toBe(
      true,
    );
    // Two timed out (failed, attempts 1); the rest wait for the next process, each started at most once.
    expect(await t.bull.getFailedCount()).toBe(2);
    expect(await t.bull.getWaitingCount()).toBe(4);
    const started = await runs(t.redis, t.queue, 'started');
    expect(new Set(started).size).toBe(started.length);
    await t.redis.del(`kqtest:${t.queue}:max-running`);
    await cleanupRuns(t.redis, t.queue);
  });

  it('an uncaught exception stops fetching, hands running jobs back and exits 1', async () => {
    const t = useTestQueue();
    const w = spawnWorker(t, { CONCURRENCY: '2' });
    const other = await t.bull.add('work', { ms: 60_000 });
    await waitFor('work started', async () => (await runs(t.redis, t.queue, 'started')).length === 1);
    const thrower = await t.bull.add('throw-later', {});
    expect((await w.waitForExit(10_000)).code).toBe(1);
    expect(w.logs.some((l) => l.event === 'worker.uncaught-exception')).toBe(true);
    expect(await t.bull.getJobState(other.id as string)).toBe('waiting');
    expect(await t.bull.getJobState(thrower.id as string)).toBe('waiting');
    await cleanupRuns(t.redis, t.queue);
  });
});
