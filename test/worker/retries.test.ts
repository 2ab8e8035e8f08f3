import { describe, expect, it } from 'vitest';
import { CANCELLED_REASON } from '../../src/queue/cancel-request.js';
import { useTestQueue } from '../helpers/context.js';
import { waitFor } from '../helpers/wait.js';
import { cleanupRuns, runs, spawnWorker } from './helpers.js';

describe('worker: retries, timeouts, invalid payloads', () => {
  it('retries a failing handler with backoff until it succeeds', async () => {
    const t = useTestQueue();
    const w = spawnWorker(t);
    const job = await t.bull.add(
      'flaky',
      { succeedOn: 3 },
      { attempts: 5, backoff: { type: 'fixed', delay: 50 } },
    );
    await waitFor(
      'flaky job completed',
      async () => (await t.bull.getJobState(job.id as string)) === 'completed',
    );
    const done = await t.bull.getJob(job.id as string);
    expect(done?.returnvalue).toEqual({ attempt: 3 });
    expect(done?.attemptsMade).toBe(3);
    expect(w.logs.filter((l) => l.event === 'job.retried' && l.jobId === job.id)).toHaveLength(2);
    w.kill();
    expect((await w.waitForExit()).code).toBe(0);
    await cleanupRuns(t.redis, t.queue);
  });

  it('fails for good after its attempts, keeps the error, and keeps serving (stray rejections included)', async () => {
    const t = useTestQueue();
    const w = spawnWorker(t);
    const bad = await t.bull.add('boom', {}, { attempts: 2, backoff: { type: 'fixed', delay: 20 } });
    const good = await t.bull.add('work', { ms: 10 });
    await waitFor('boom failed', async () => (await t.bull.getJobState(bad.id as string)) === 'failed');
    await waitFor(
      'work completed',
      async () => (await t.bull.getJobState(good.id as string)) === 'completed',
    );
    const failed = await t.bull.getJob(bad.id as string);
    expect(failed?.failedReason).toBe('boom: handler failed');
    expect(failed?.attemptsMade).toBe(2);
    // The line follows Redis' answer to the worker, so it may trail the state read above.
    const line = await w.waitForLog('job.failed', (l) => l.event === 'job.failed' && l.jobId === bad.id);
    // A short job has no `job.started` line: its end says when it started.
    expect(Date.parse(String(line.startedAt))).toBe(failed?.processedOn);
    expect(typeof line.durationMs).toBe('number');
    expect(w.logs.some((l) => l.event === 'worker.unhandled-rejection')).toBe(true);
    expect(w.proc.exitCode).toBeNull();
    w.kill();
    await w.waitForExit();
    await cleanupRuns(t.redis, t.queue);
  });

  it('hands handlers their context: plain return values, destructured progress, signal and log', async () => {
    const t = useTestQueue();
    const w = spawnWorker(t);
    const sync = await t.bull.add('context-sync', { n: 7 });
    const async_ = await t.bull.add('context-async', {});
    for (const job of [sync, async_]) {
      await waitFor(
        `${job.name} completed`,
        async () => (await t.bull.getJobState(job.id as string)) === 'completed',
      );
    }
    expect((await t.bull.getJob(sync.id as string))?.returnvalue).toEqual({
      n: 7,
      id: sync.id,
      type: 'context-sync',
      queue: t.queue,
      attempt: 1,
    });
    const done = await t.bull.getJob(async_.id as string);
    expect(done?.returnvalue).toEqual({ id: async_.id, signal: true });
    expect(done?.progress).toBe(10);
    // The handler's line is in the log too (lines may trail the job's end by up to ~10 ms, src/log.ts).
    await w.waitForLog(
      'the handler context line',
      (l) => l.event === 'fixture.context' && l.jobId === async_.id,
    );
    w.kill();
    await w.waitForExit();
  });

  it('aborts a handler at its timeout and counts it as a failed attempt', async () => {
    const t = useTestQueue();
    // `hang` ignores its signal: each timed-out run keeps a slot (and at 2 of 2 the worker recycles).
    const w = spawnWorker(t, { CONCURRENCY: '2' });
    const job = await t.bull.add('hang', {}, { attempts: 2, backoff: { type: 'fixed', delay: 20 } });
    // Two attempts that each time out at 300 ms; the bound leaves room for a loaded 2-core machine.
    await waitFor('hang failed', async () => (await t.bull.getJobState(job.id as string)) === 'failed', {
      timeoutMs: 30_000,
    });
    const failed = await t.bull.getJob(job.id as string);
    expect(failed?.failedReason).toMatch(/timed out after 300 ms/);
    expect(failed?.attemptsMade).toBe(2);
    expect((await w.waitForExit()).code).toBe(1);
    expect(w.logs.filter((l) => l.event === 'job.handler-abandoned')).toHaveLength(2);
  });

  it('fails an invalid payload at once, without retries', async () => {
    const t = useTestQueue();
    const w = spawnWorker(t);
    // Added behind the schema's back, as a stale producer or another language's client could.
    const job = await t.bull.add('work', { ms: 'soon' }, { attempts: 5 });
    await waitFor(
      'invalid job failed',
      async () => (await t.bull.getJobState(job.id as string)) === 'failed',
    );
    const failed = await t.bull.getJob(job.id as string);
    expect(failed?.failedReason).toMatch(/Invalid payload for job type "work": data\.ms/);
    expect(failed?.attemptsMade).toBe(1);
    w.kill();
    await w.waitForExit();
  });

  it('with UNKNOWN_TYPE_GRACE_MS=0 fails an unknown job type at once, naming the types it knows', async () => {
    const t = useTestQueue();
    const w = spawnWorker(t, { UNKNOWN_TYPE_GRACE_MS: '0' });
    const job = await t.bull.add('nope', {}, { attempts: 5 });
    await waitFor(
      'unknown job failed',
      async () => (await t.bull.getJobState(job.id as string)) === 'failed',
    );
    expect((await t.bull.getJob(job.id as string))?.failedReason).toMatch(/Unknown job type "nope".*work/);
    w.kill();
    await w.waitForExit();
  });

  it('cancels a running job from another process within seconds, not at the end of its 30 s', async () => {
    const t = useTestQueue();
    const w = spawnWorker(t);
    const job = await t.bull.add('work', { ms: 30_000 }, { attempts: 3 });
    await waitFor('job running', async () => (await runs(t.redis, t.queue, 'started')).length === 1);
    const sentAt = Date.now();
    const { publishCancel } = await import('../../src/queue/cancel-request.js');
    expect(await publishCancel(t.redis, t.prefix, t.queue, job.id as string)).toBeGreaterThan(0);
    await waitFor('job cancelled', async () => (await t.bull.getJobState(job.id as string)) === 'failed', {
      timeoutMs: 15_000,
    });
    const cancelled = await t.bull.getJob(job.id as string);
    expect(cancelled?.failedReason).toBe(CANCELLED_REASON);
    // A bound across processes with room for a loaded 2-core machine; the job itself would run 30 s.
    expect((cancelled?.finishedOn ?? 0) - sentAt).toBeLessThan(5000);
    expect(cancelled?.attemptsMade).toBe(1);
    w.kill();
    await w.waitForExit();
    await cleanupRuns(t.redis, t.queue);
  });
});
