/**
 * A job of a type a worker does not know (a rolling deploy: the API and some workers already run the next
 * version) goes back to the queue delayed, without using an attempt, until a worker that knows it runs it;
 * it fails only once older than UNKNOWN_TYPE_GRACE_MS.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTestQueue } from '../helpers/context.js';
import { freePort } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';
import { spawnWorker } from './helpers.js';

const NEXT_VERSION = resolve(import.meta.dirname, '../fixtures/next-version-handlers.mjs');

describe('worker: unknown job types', () => {
  it('an old worker puts a new type back delayed, no attempt used; a new worker runs it', async () => {
    const t = useTestQueue();
    const port = await freePort();
    const old = spawnWorker(t, { UNKNOWN_TYPE_DELAY_MS: '300', HEALTH_PORT: String(port) }, 'old worker');
    await old.waitForLog('started', (l) => l.event === 'worker.started');
    const job = await t.bull.add('report', {}, { attempts: 1 });
    const id = job.id as string;
    const line = await old.waitForLog('put back', (l) => l.event === 'job.unknown-type');
    expect(line).toMatchObject({ jobId: id, type: 'report', delayMs: 300 });
    expect(String(line.msg)).toContain('no attempt used');
    const put = await t.bull.getJob(id);
    expect(['delayed', 'waiting', 'active']).toContain(await t.bull.getJobState(id));
    expect(put?.attemptsMade).toBe(0);
    expect(put?.failedReason).toBeFalsy();
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const count = new RegExp(`kq_jobs_unknown_type_total\\{queue="${t.queue}",type="report"\\} (\\d+)`).exec(
      metrics,
    );
    expect(Number(count?.[1])).toBeGreaterThanOrEqual(1);

    const next = spawnWorker(t, { HANDLERS: NEXT_VERSION }, 'new worker');
    await waitFor('the new worker ran it', async () => (await t.bull.getJobState(id)) === 'completed', {
      timeoutMs: 15_000,
    });
    const done = await t.bull.getJob(id);
    // attempts: 1, and yet it ran: however often the old worker put it back, it ran on its first attempt.
    expect(done?.returnvalue).toEqual({ attempt: 1, pid: next.proc.pid });
    expect(old.logs.some((l) => l.event === 'job.failed' || l.event === 'job.retried')).toBe(false);
    old.kill();
    next.kill();
    expect((await old.waitForExit()).code).toBe(0);
    expect((await next.waitForExit()).code).toBe(0);
  });

  it('a job of an unknown type older than UNKNOWN_TYPE_GRACE_MS is failed, a younger one put back', async () => {
    const t = useTestQueue();
    const stale = await t.bull.add('report', {}, { attempts: 3 });
    const fresh = await t.bull.add('report', {}, { attempts: 3 });
    // Backdate the creation time in Redis instead of waiting out the default one-hour grace.
    await t.redis.hset(`${t.prefix}:${t.queue}:${stale.id}`, 'timestamp', String(Date.now() - 2 * 3_600_000));
    const old = spawnWorker(t, {}, 'old worker');
    await waitFor(
      'the stale job failed',
      async () => (await t.bull.getJobState(stale.id as string)) === 'failed',
    );
    const failed = await t.bull.getJob(stale.id as string);
    expect(failed?.failedReason).toMatch(
      /^Unknown job type "report": this worker knows .*work.*, and no worker of this queue ran it within UNKNOWN_TYPE_GRACE_MS \(3600000 ms\) of its creation/,
    );
    // Failed for good on the spot: no retries spent on a type nobody runs.
    expect(failed?.attemptsMade).toBe(1);
    await old.waitForLog('fresh put back', (l) => l.event === 'job.unknown-type' && l.jobId === fresh.id);
    expect(await t.bull.getJobState(fresh.id as string)).toBe('delayed');
    expect((await t.bull.getJob(fresh.id as string))?.attemptsMade).toBe(0);
    old.kill();
    expect((await old.waitForExit()).code).toBe(0);
  });
});
