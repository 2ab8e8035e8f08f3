import { describe, expect, it } from 'vitest';
import { CANCELLED_REASON } from '../../src/queue/cancel-request.js';
import { useTestQueue } from '../helpers/context.js';
import { waitFor } from '../helpers/wait.js';
import { cleanupRuns, runs, spawnWorker } from './helpers.js';

describe('worker: graceful shutdown and crashes', () => {
  it('SIGTERM lets a running job finish within SHUTDOWN_TIMEOUT_MS, then exits 0', async () => {
    const t = useTestQueue();
    const w = spawnWorker(t, { SHUTDOWN_TIMEOUT_MS: '10000' });
    const job = await t.bull.add('work', { ms: 800 });
    await waitFor('job started', async () => (await runs(t.redis, t.queue, 'started')).length === 1);
    w.kill('SIGTERM');
    expect((await w.waitForExit(15_000)).code).toBe(0);
    expect(await t.bull.getJobState(job.id as string)).toBe('completed');
    await cleanupRuns(t.redis, t.queue);
  });

  it('past the deadline hands running jobs straight back to waiting (not failed, not stalled)', async () => {
    const t = useTestQueue();
    const w = spawnWorker(t, { SHUTDOWN_TIMEOUT_MS: '300', CONCURRENCY: '2' });
    const jobs = await t.bull.addBulk([
      { name: 'work', data: { ms: 60_000 } },
      { name: 'work', data: { ms: 60_000, ignoreSignal: true } },
    ]);
    await waitFor('both jobs started', async () => (await runs(t.redis, t.queue, 'started')).length === 2);
    const t0 = Date.now();
    w.kill('SIGTERM');
    expect((await w.waitForExit(10_000)).code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    for (const job of jobs) {
      expect(await t.bull.getJobState(job.id as string)).toBe('waiting');
      const j = await t.bull.getJob(job.id as string);
      expect(j?.attemptsMade).toBe(0);
      // A hand-back costs no attempt: the attempt counted when it became active is taken back.
      expect(j?.attemptsStarted).toBe(0);
      expect(j?.failedReason).toBeFalsy();
    }
    expect(w.logs.filter((l) => l.event === 'job.handed-back')).toHaveLength(2);
    // Another worker starts them at once: no lock expiry (LOCK_DURATION_MS, 30 s), no stall detection in
    // between. The bound leaves room for a new process's start on a loaded machine, well inside the lock.
    const next = spawnWorker(t, { CONCURRENCY: '2' }, 'next worker');
    await waitFor(
      'handed-back jobs restarted',
      async () => (await runs(t.redis, t.queue, 'started')).length === 4,
      { timeoutMs: 15_000 },
    );
    next.kill('SIGKILL');
    await next.waitForExit();
    await cleanupRuns(t.redis, t.queue);
  });

  it('a second signal hands back at once and exits 130', async () => {
    const t = useTestQueue();
    const w = spawnWorker(t, { SHUTDOWN_TIMEOUT_MS: '60000' });
    const job = await t.bull.add('work', { ms: 60_000 });
    await waitFor('job started', async () => (await runs(t.redis, t.queue, 'started')).length === 1);
    w.kill('SIGTERM');
    await w.waitForLog('shutting down', (l) => l.event === 'worker.shutting-down');
    w.kill('SIGINT');
    expect((await w.waitForExit(5000)).code).toBe(130);
    expect(await t.bull.getJobState(job.id as string)).toBe('waiting');
    await cleanupRuns(t.redis, t.queue);
  });

  it('at-least-once: a SIGKILLed worker loses nothing; its job runs again after the lock expires', async () => {
    const t = useTestQueue();
    const env = { LOCK_DURATION_MS: '1000' };
    const victim = spawnWorker(t, env, 'victim');
    const job = await t.bull.add('work', { ms: 1500 });
    await waitFor('job started', async () => (await runs(t.redis, t.queue, 'started')).length === 1);
    victim.kill('SIGKILL');
    await victim.waitForExit();
    expect(await t.bull.getJobState(job.id as string)).toBe('active');
    const rescuer = spawnWorker(t, env, 'rescuer');
    await waitFor(
      'job completed by the rescuer',
      async () => (await t.bull.getJobState(job.id as string)) === 'completed',
      {
        timeoutMs: 20_000,
      },
    );
    const started = await runs(t.redis, t.queue, 'started');
    expect(started).toHaveLength(2);
    expect(rescuer.logs.some((l) => l.event === 'job.stalled' && l.jobId === job.id)).toBe(true);
    expect(new Set(started.map((s) => s.split(':')[1])).size).toBe(2);
    rescuer.kill();
    await rescuer.waitForExit();
    await cleanupRuns(t.redis, t.queue);
  });

  it('a job longer than its lock keeps the lock while the handler runs', async () => {
    const t = useTestQueue();
    const env = { LOCK_DURATION_MS: '1000' };
    const a = spawnWorker(t, env, 'a');
    const b = spawnWorker(t, env, 'b');
    const job = await t.bull.add('work', { ms: 4000 });
    await waitFor(
      'long job completed',
      async () => (await t.bull.getJobState(job.id as string)) === 'completed',
      {
        timeoutMs: 20_000,
      },
    );
    expect(await runs(t.redis, t.queue, 'started')).toHaveLength(1);
    a.kill();
    b.kill();
    await Promise.all([a.waitForExit(), b.waitForExit()]);
    await cleanupRuns(t.redis, t.queue);
  });
});

describe('worker: edge cases of shutdown and cancel', () => {
  it('still shuts down on SIGTERM after the reader of its stdout went away (EPIPE)', async () => {
    const t = useTestQueue();
    const w = spawnWorker(t, { SHUTDOWN_TIMEOUT_MS: '2000' });
    await w.waitForLog('started', (l) => l.event === 'worker.started');
    w.proc.stdout?.destroy();
    // Work after the pipe broke makes the worker write log lines into it.
    const job = await t.bull.add('work', { ms: 10 });
    await waitFor('job completed', async () => (await t.bull.getJobState(job.id as string)) === 'completed');
    w.kill('SIGTERM');
    expect((await w.waitForExit(10_000)).code).toBe(0);
    await cleanupRuns(t.redis, t.queue);
  });

  it('a cancel requested while the job’s worker is dead stops the job when it restarts', async () => {
    const t = useTestQueue();
    const env = { LOCK_DURATION_MS: '1000' };
    const victim = spawnWorker(t, env, 'victim');
    const job = await t.bull.add('work', { ms: 30_000 }, { attempts: 3 });
    await waitFor('job started', async () => (await runs(t.redis, t.queue, 'started')).length === 1);
    victim.kill('SIGKILL');
    await victim.waitForExit();
    const { requestCancel } = await import('../../src/queue/cancel-request.js');
    expect(await requestCancel(t.redis, t.prefix, t.queue, job.id as string)).toBe(0);
    const rescuer = spawnWorker(t, env, 'rescuer');
    await waitFor(
      'job cancelled on restart',
      async () => (await t.bull.getJobState(job.id as string)) === 'failed',
      {
        timeoutMs: 20_000,
      },
    );
    expect((await t.bull.getJob(job.id as string))?.failedReason).toBe(CANCELLED_REASON);
    expect(await runs(t.redis, t.queue, 'started')).toHaveLength(1);
    rescuer.kill();
    await rescuer.waitForExit();
    await t.redis.del(`${t.prefix}:${t.queue}:kq:cancel-requested:${job.id}`);
    await cleanupRuns(t.redis, t.queue);
  });
});
