/**
 * A job longer than its pod's deadline (a Job's activeDeadlineSeconds): the worker fails the running
 * attempt shortly before the deadline, counted and with a reason, instead of handing it back at the
 * SIGTERM that comes with the deadline (which gave the attempt back, so the job ran again forever).
 * The worker runs in this process with a manual clock as its uptime: the deadline is reached by moving
 * the clock, not by waiting for it.
 */
import { describe, expect, it } from 'vitest';
import { deadlineMarginMs } from '../../src/worker/pod-deadline.js';
import { useTestQueue } from '../helpers/context.js';
import { waitFor } from '../helpers/wait.js';
import { inProcessWorker } from './in-process.js';

const FAIL_AT_MS = 3000 - deadlineMarginMs(3);

describe('worker: the pod deadline (ACTIVE_DEADLINE_SECONDS)', () => {
  it('fails the running attempt one margin before the deadline, counted, with the reason; then exits 0', async () => {
    const t = useTestQueue();
    // As a ScaledJob's pod runs it: one job, then exit (it stopped fetching when that job started).
    const s = inProcessWorker(t, {
      ACTIVE_DEADLINE_SECONDS: '3',
      SHUTDOWN_TIMEOUT_MS: '30000',
      MAX_JOBS: '1',
      EXIT: '1',
    });
    const job = await t.bull.add('gated', {}, { attempts: 1 });
    const id = job.id as string;
    const w = await s.start();
    await waitFor('job started', () => s.job.started.length === 1);
    // Measured from the worker's start: not before the margin.
    s.timers.advance(FAIL_AT_MS - 1);
    expect(s.events()).not.toContain('worker.deadline-near');
    expect(await t.bull.getJobState(id)).toBe('active');
    s.timers.advance(1);
    expect(await w.done).toBe(0);
    const failed = await t.bull.getJob(id);
    expect(await t.bull.getJobState(id)).toBe('failed');
    expect(failed?.attemptsMade).toBe(1);
    expect(failed?.failedReason).toBe(
      "Attempt failed: the pod's deadline (ACTIVE_DEADLINE_SECONDS 3 s, the Job's activeDeadlineSeconds) is 0.3 s away; failed now so that it counts, instead of being handed back when Kubernetes stops the pod (raise the Job's deadline, or make the job shorter).",
    );
    expect(s.lines.find((l) => l.event === 'worker.deadline-near')?.running).toBe(1);
    expect(s.events()).not.toContain('job.handed-back');
  });

  it('an attempt failed at the deadline is retried like any failure (attempts left)', async () => {
    const t = useTestQueue();
    const s = inProcessWorker(t, { ACTIVE_DEADLINE_SECONDS: '3' });
    const job = await t.bull.add('gated', {}, { attempts: 2, backoff: { type: 'fixed', delay: 0 } });
    const id = job.id as string;
    const w = await s.start();
    await waitFor('job started', () => s.job.started.length === 1);
    s.timers.advance(FAIL_AT_MS);
    expect(await w.done).toBe(0);
    const after = await t.bull.getJob(id);
    expect(after?.attemptsMade).toBe(1);
    expect(['waiting', 'delayed']).toContain(await t.bull.getJobState(id));
    expect(after?.failedReason).toMatch(/^Attempt failed: the pod's deadline/);
    // Failed, not handed back: no other worker took it in between, and this one took it once.
    expect(s.job.started).toEqual([id]);
  });

  it('the margin: min(30 s, a tenth of the deadline)', () => {
    expect(deadlineMarginMs(3)).toBe(300);
    expect(deadlineMarginMs(60)).toBe(6000);
    expect(deadlineMarginMs(3600)).toBe(30_000);
  });
});
