/**
 * The contract of src/queue/bullmq-internals.ts with the BullMQ it was written against: the installed
 * version is the exact pin, and the private method, key names and stall semantics it relies on exist and
 * behave, on the run's Redis (a queue of the test's own). Fails on a BullMQ whose internals differ.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type Job, Worker } from 'bullmq';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  lockKey,
  markOrphans,
  recordClaim,
  releaseClaim,
  runStallPass,
  stallKeys,
} from '../../src/queue/bullmq-internals.js';
import { queueKeys } from '../../src/queue/keys.js';
import { useTestQueue } from '../helpers/context.js';

const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

describe('BullMQ internals contract', () => {
  it('the installed BullMQ is the exact version package.json pins', () => {
    const pin = pkg.dependencies.bullmq as string;
    expect(pin).toMatch(/^\d+\.\d+\.\d+$/);
    expect(require('bullmq/package.json').version).toBe(pin);
    expect(typeof (Worker.prototype as unknown as Record<string, unknown>).moveStalledJobsToWait).toBe(
      'function',
    );
  });

  it("a job's lock, BullMQ's stalled set and throttle, and its stall pass work as kq relies on", async () => {
    const t = useTestQueue();
    const jobPrefix = queueKeys(t.prefix, t.queue, false).job;
    const worker = new Worker(t.queue, null, {
      connection: { url: t.redisUrl },
      prefix: t.prefix,
      autorun: false,
      maxStalledCount: 1,
    });
    onTestFinished(() => worker.close(true));
    await worker.waitUntilReady();
    const stalledIds: string[] = [];
    worker.on('stalled', (id) => stalledIds.push(id));
    const added = await t.bull.add('work', { n: 1 });
    const id = added.id as string;

    // Taking a job sets its lock to the taker's token.
    const take = async (token: string) => {
      const job = (await worker.getNextJob(token, { block: false })) as Job | undefined;
      expect(job?.id).toBe(id);
      expect(await t.redis.get(lockKey(jobPrefix, id))).toBe(token);
    };
    await take('token-1');
    expect(await markOrphans(t.redis, t.prefix, t.queue)).toEqual({ orphans: [], scanned: true });

    // The lock gone: an orphan, marked in BullMQ's stalled set, with the pass' throttle lifted.
    const stall = stallKeys(jobPrefix);
    await t.redis.set(stall.stalledCheck, '1');
    await t.redis.del(lockKey(jobPrefix, id));
    expect(await markOrphans(t.redis, t.prefix, t.queue)).toEqual({ orphans: [id], scanned: true });
    expect(await t.redis.sismember(stall.stalled, id)).toBe(1);
    expect(await t.redis.exists(stall.stalledCheck)).toBe(0);

    // BullMQ's pass requeues it at once, emits `stalled` and counts the stall.
    await runStallPass(worker);
    expect(stalledIds).toEqual([id]);
    expect(await t.bull.getJobState(id)).toBe('waiting');
    expect((await t.bull.getJob(id))?.stalledCounter).toBe(1);

    // Past maxStalledCount the pass marks it to fail with BullMQ's reason (a deferred failure, `defa`):
    // the next worker to take it fails it instead of running it.
    await take('token-2');
    await t.redis.del(lockKey(jobPrefix, id));
    expect((await markOrphans(t.redis, t.prefix, t.queue)).orphans).toEqual([id]);
    await runStallPass(worker);
    expect(await t.redis.hget(`${jobPrefix}${id}`, 'defa')).toBe('job stalled more than allowable limit');
    expect((await t.bull.getJob(id))?.stalledCounter).toBe(2);
    const next = (await worker.getNextJob('token-3', { block: false })) as Job | undefined;
    expect([next?.id, next?.deferredFailure]).toEqual([id, 'job stalled more than allowable limit']);

    // A throttled scan reads nothing within its window.
    expect((await markOrphans(t.redis, t.prefix, t.queue, 60_000)).scanned).toBe(true);
    expect(await markOrphans(t.redis, t.prefix, t.queue, 60_000)).toEqual({ orphans: [], scanned: false });
  });

  it("a claim releases BullMQ's lock only while it still holds the claim's token", async () => {
    const t = useTestQueue();
    const jobPrefix = queueKeys(t.prefix, t.queue, false).job;
    const worker = new Worker(t.queue, null, {
      connection: { url: t.redisUrl },
      prefix: t.prefix,
      autorun: false,
    });
    onTestFinished(() => worker.close(true));
    await worker.waitUntilReady();
    const a = (await t.bull.add('work', {})).id as string;
    const b = (await t.bull.add('work', {})).id as string;
    expect((await worker.getNextJob('token-a', { block: false }))?.id).toBe(a);
    expect((await worker.getNextJob('token-b', { block: false }))?.id).toBe(b);
    await recordClaim(t.redis, t.prefix, t.queue, 'owner-a', a, 'token-a');
    await recordClaim(t.redis, t.prefix, t.queue, 'owner-b', b, 'a-token-since-replaced');
    expect(await releaseClaim(t.redis, t.prefix, t.queue, 'owner-a')).toBe(a);
    expect(await t.redis.exists(lockKey(jobPrefix, a))).toBe(0);
    expect(await releaseClaim(t.redis, t.prefix, t.queue, 'owner-b')).toBeUndefined();
    expect(await t.redis.get(lockKey(jobPrefix, b))).toBe('token-b');
    // The orphan the release made is found at once.
    expect((await markOrphans(t.redis, t.prefix, t.queue)).orphans).toEqual([a]);
  });
});
