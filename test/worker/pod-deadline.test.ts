/**
 * A job longer than its pod's deadline (a Job's activeDeadlineSeconds): the worker fails the running
 * attempt shortly before the deadline, counted and with a reason, instead of handing it back at the
 * SIGTERM that comes with the deadline (which gave the attempt back, so the job ran again forever).
 */
import { describe, expect, it } from 'vitest';
import { deadlineMarginMs } from '../../src/worker/pod-deadline.js';
import { useTestQueue } from '../helpers/context.js';
import { waitFor } from '../helpers/wait.js';
import { cleanupRuns, runs, spawnWorker } from './helpers.js';

describe('worker: the pod deadline (ACTIVE_DEADLINE_SECONDS)', () => {
  it('fails the running attempt shortly before the deadline, counted, with the reason; then exits 0', async () => {
    const t = useTestQueue();
    // As a ScaledJob's pod runs it: one job, then exit (it stopped fetching when that job started).
    const w = spawnWorker(t, {
      ACTIVE_DEADLINE_SECONDS: '3',
      SHUTDOWN_TIMEOUT_MS: '30000',
      MAX_JOBS: '1',
      EXIT: '1',
    });
    const job = await t.bull.add('work', { ms: 60_000 }, { attempts: 1 });
    const id = job.id as string;
    await waitFor('job started', async () => (await runs(t.redis, t.queue, 'started')).length === 1);
    await waitFor('attempt failed', async () => (await t.bull.getJobState(id)) === 'failed', {
      timeoutMs: 15_000,
    });
    const failed = await t.bull.getJob(id);
    expect(failed?.attemptsMade).toBe(1);
    expect(failed?.failedReason).toBe(
      "Attempt failed: the pod's deadline (ACTIVE_DEADLINE_SECONDS 3 s, the Job's activeDeadlineSeconds) is 0.3 s away; failed now so that it counts, instead of being handed back when Kubernetes stops the pod (raise the Job's deadline, or make the job shorter).",
    );
    // Failed, as measured from the worker's start, one margin before the deadline: not before it.
    const near = await w.waitForLog('deadline near', (l) => l.event === 'worker.deadline-near');
    expect(near.running).toBe(1);
    expect((await w.waitForExit()).code).toBe(0);
    expect(w.logs.some((l) => l.event === 'job.handed-back')).toBe(false);
    await cleanupRuns(t.redis, t.queue);
  });

  it('an attempt failed at the deadline is retried like any failure (attempts left)', async () => {
    const t = useTestQueue();
    const w = spawnWorker(t, { ACTIVE_DEADLINE_SECONDS: '3' });
    const job = await t.bull.add(
      'work',
      { ms: 60_000 },
      { attempts: 2, backoff: { type: 'fixed', delay: 0 } },
    );
    const id = job.id as string;
    expect((await w.waitForExit(15_000)).code).toBe(0);
    const after = await t.bull.getJob(id);
    expect(after?.attemptsMade).toBe(1);
    expect(['waiting', 'delayed']).toContain(await t.bull.getJobState(id));
    expect(after?.failedReason).toMatch(/^Attempt failed: the pod's deadline/);
    await cleanupRuns(t.redis, t.queue);
  });

  it('the margin: min(30 s, a tenth of the deadline)', () => {
    expect(deadlineMarginMs(3)).toBe(300);
    expect(deadlineMarginMs(60)).toBe(6000);
    expect(deadlineMarginMs(3600)).toBe(30_000);
  });
});
