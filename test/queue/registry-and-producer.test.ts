/** The queue directory and the bounded batching producer, against real Redis. */
import { Redis } from 'ioredis';
import { describe, expect, inject, it, onTestFinished, vi } from 'vitest';
import { RedisUnavailableError, ValidationError } from '../../src/errors.js';
import { createRedis } from '../../src/queue/connection.js';
import type { PreparedJob } from '../../src/queue/enqueue.js';
import { newJobId } from '../../src/queue/job-ids.js';
import { directoryKeys } from '../../src/queue/keys.js';
import { createProducer } from '../../src/queue/producer.js';
import { createQueueDirectory, discoverQueues, registerQueue } from '../../src/queue/queue-directory.js';
import { createQueueCache } from '../../src/queue/queues.js';
import { createRedisGuard } from '../../src/queue/redis-guard.js';
import { uniqueName } from '../helpers/context.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

/** A client on the shared test Redis and a private prefix, removed afterwards. */
function usePrefix(url = inject('redisUrl')) {
  const prefix = uniqueName('pfx');
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  onTestFinished(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });
  return { prefix, redis };
}

const job = (queue: string, data: unknown = {}): PreparedJob => ({
  queue,
  name: 'noop',
  data,
  opts: { jobId: newJobId(queue), removeOnComplete: { age: 3600 } },
});

/** A private redis-server (the tests freeze it) with the producer's connections, closed after the test. */
async function privateRedisForProducer() {
  const server = await startRedisServer();
  onTestFinished(() => server.stop());
  const prefix = 'bull';
  const ingest = createRedis(server.url, { kind: 'fail-fast', commandTimeoutMs: null });
  const control = createRedis(server.url, { kind: 'fail-fast' });
  const queues = createQueueCache(ingest, prefix);
  onTestFinished(async () => {
    await queues.close();
    ingest.disconnect();
    control.disconnect();
  });
  const guard = createRedisGuard([ingest, control], 400);
  return { server, prefix, ingest, control, queues, guard };
}

describe('queue directory', () => {
  it('admits declared queues, refuses names outside the pattern, and bounds creation atomically', async () => {
    const { prefix, redis } = usePrefix();
    const dir = createQueueDirectory({ redis, prefix, declared: ['main'], maxQueues: 5, pattern: /^t-\d+$/ });
    await dir.admit('main');
    expect(await redis.sismember(directoryKeys(prefix).queues, 'main')).toBe(1);
    await expect(dir.admit('junk')).rejects.toMatchObject({ code: 'QUEUE_NOT_ALLOWED' });
    await expect(dir.admit('kq')).rejects.toBeInstanceOf(ValidationError);
    // Two replicas racing for the last slots: the Lua script lets exactly maxQueues names in.
    const other = createQueueDirectory({ redis, prefix, maxQueues: 5, pattern: /^t-\d+$/ });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? dir : other).admit(`t-${i}`)),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ code: 'QUEUE_LIMIT_REACHED' });
    expect(await redis.scard(directoryKeys(prefix).queues)).toBe(5);
    // A queue registered by a worker or the operator is usable even when the pattern refuses its name.
    await registerQueue(redis, prefix, 'legacy');
    await dir.admit('legacy');
    expect(await dir.has('legacy')).toBe(true);
    expect(await dir.has('nope')).toBe(false);
    expect((await createQueueDirectory({ redis, prefix, declared: ['main'] }).names())[0]).toBe('main');
    expect(await dir.forget(['legacy'])).toBe(1);
  });

  it('discovery (operator-run) finds queues made outside kq; request paths never scan', async () => {
    const { prefix, redis } = usePrefix();
    await redis.hset(`${prefix}:outside:meta`, 'opts.maxLenEvents', '10000');
    expect(await discoverQueues(redis, prefix)).toEqual(['outside']);
    const dir = createQueueDirectory({ redis, prefix });
    expect(await dir.names()).toEqual([]);
    await dir.register(await discoverQueues(redis, prefix));
    expect(await dir.names()).toEqual(['outside']);
  });

  it('a queue made outside kq is registered the first time a request names it (no scan)', async () => {
    const { prefix, redis } = usePrefix();
    await redis.hset(`${prefix}:elsewhere:meta`, 'opts.maxLenEvents', '10000');
    const dir = createQueueDirectory({ redis, prefix, pattern: null });
    expect(await dir.has('elsewhere')).toBe(true);
    expect(await redis.sismember(directoryKeys(prefix).queues, 'elsewhere')).toBe(1);
    await dir.admit('elsewhere');
    expect(await dir.has('never-made')).toBe(false);
    await expect(dir.admit('never-made')).rejects.toMatchObject({ code: 'QUEUE_NOT_ALLOWED' });
  });
});

describe('producer', () => {
  it('stores concurrent jobs in one batch, with no key of kq’s own per job', async () => {
    const { prefix, redis } = usePrefix();
    const ingest = createRedis(inject('redisUrl'), { kind: 'fail-fast', commandTimeoutMs: null });
    const queues = createQueueCache(ingest, prefix);
    onTestFinished(async () => {
      await queues.close();
      ingest.disconnect();
    });
    const guard = createRedisGuard([ingest], 5000);
    const directory = createQueueDirectory({ redis, prefix, pattern: /.*/ });
    const producer = createProducer({ queues, directory, guard, timeoutMs: 5000 });
    const jobs = Array.from({ length: 50 }, (_, i) => job(i % 2 ? 'a' : 'b', { i }));
    const ids = await Promise.all(jobs.map((j) => producer.add(j, 10)));
    expect(ids).toEqual(jobs.map((j) => j.opts.jobId));
    expect(await queues.get('a').getJob(ids[1] as string)).toMatchObject({ data: { i: 1 } });
    // kq's own keys are the queue directory only: nothing per job (ids name their queue instead).
    expect(await redis.keys(`${prefix}:kq:*`)).toEqual([directoryKeys(prefix).queues]);
    expect(await directory.names()).toEqual(['a', 'b']);
    expect(producer.inFlight()).toEqual({ jobs: 0, bytes: 0 });
  });

  it.each([
    [true, { addBulk: 1, add: 0 }],
    [false, { addBulk: 0, add: 20 }],
  ])('coalesce %s: one turn’s jobs go out in %o calls to BullMQ', async (coalesce, calls) => {
    const { prefix, redis } = usePrefix();
    const ingest = createRedis(inject('redisUrl'), { kind: 'fail-fast', commandTimeoutMs: null });
    const queues = createQueueCache(ingest, prefix);
    onTestFinished(async () => {
      await queues.close();
      ingest.disconnect();
    });
    const guard = createRedisGuard([ingest], 5000);
    const directory = createQueueDirectory({ redis, prefix, pattern: /.*/ });
    await directory.admit('c');
    await guard(() => Promise.resolve());
    const producer = createProducer({ queues, directory, guard, timeoutMs: 5000, coalesce });
    // Spies that call through: the jobs are really stored, the calls are counted.
    const addBulk = vi.spyOn(queues.get('c'), 'addBulk');
    const add = vi.spyOn(queues.get('c'), 'add');
    const jobs = Array.from({ length: 20 }, (_, i) => job('c', { i }));
    const ids = await Promise.all(jobs.map((j) => producer.add(j)));
    expect(ids).toEqual(jobs.map((j) => j.opts.jobId));
    expect(await queues.get('c').getWaitingCount()).toBe(20);
    expect({ addBulk: addBulk.mock.calls.length, add: add.mock.calls.length }).toEqual(calls);
    expect(producer.inFlight()).toEqual({ jobs: 0, bytes: 0 });
  });

  it('under a frozen Redis: bounded in count and bytes, not-sent past the bound, maybe-sent with the id', async () => {
    const { server, prefix, control, queues, guard } = await privateRedisForProducer();
    const directory = createQueueDirectory({ redis: control, prefix, declared: ['jobs'] });
    const producer = createProducer({
      queues,
      directory,
      guard,
      timeoutMs: 400,
      maxInFlightJobs: 5,
      maxInFlightBytes: 1000,
    });
    await producer.add(job('jobs'), 10);
    process.kill(server.pid as number, 'SIGSTOP');
    onTestFinished(() => {
      if (server.running) process.kill(server.pid as number, 'SIGCONT');
    });
    const frozen = Array.from({ length: 5 }, () => job('jobs'));
    const pending = frozen.map((j) =>
      producer.add(j, 100).then(
        () => undefined,
        (e: unknown) => e as RedisUnavailableError,
      ),
    );
    await new Promise((r) => setImmediate(r));
    // Past the count bound: refused at once, and it is true that nothing left the process.
    // At once: settled within one turn of the event loop, before any Redis I/O could answer.
    let settled = false;
    const refusal = producer.add(job('jobs'), 1).catch((e: unknown) => e);
    void refusal.finally(() => {
      settled = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(true);
    const refused = (await refusal) as RedisUnavailableError;
    expect(refused.details.stored).toBe(false);
    const answers = await Promise.all(pending);
    for (const [i, e] of answers.entries()) {
      expect(e).toBeInstanceOf(RedisUnavailableError);
      expect(e?.details).toMatchObject({ stored: 'unknown', jobId: frozen[i]?.opts.jobId });
    }
    // Answered, but still in flight: the bound holds until Redis answers.
    expect(producer.inFlight().jobs).toBe(5);
    process.kill(server.pid as number, 'SIGCONT');
    await waitFor('in-flight drained', () => producer.inFlight().jobs === 0);
    // The maybe-sent jobs were stored after all: their ids resolve them.
    const stored = await queues.get('jobs').getJob(frozen[0]?.opts.jobId as string);
    expect(stored?.id).toBe(frozen[0]?.opts.jobId);
    // The byte bound: one job may exceed it alone, but not join others past it.
    process.kill(server.pid as number, 'SIGSTOP');
    const big = producer.add(job('jobs'), 900).catch((e: unknown) => e);
    await new Promise((r) => setImmediate(r));
    const byBytes = (await producer.add(job('jobs'), 200).catch((e: unknown) => e)) as RedisUnavailableError;
    expect(byBytes.message).toMatch(/MAX_INFLIGHT_BYTES/);
    expect(byBytes.details.stored).toBe(false);
    process.kill(server.pid as number, 'SIGCONT');
    await big;
  });

  it('a batch answers once, ids in order across queues; a job’s own error wins, a frozen Redis names all', async () => {
    const { server, prefix, control, queues, guard } = await privateRedisForProducer();
    const directory = createQueueDirectory({ redis: control, prefix, pattern: /.*/ });
    const producer = createProducer({ queues, directory, guard, timeoutMs: 400, maxInFlightJobs: 20 });
    const mixed = Array.from({ length: 6 }, (_, i) => job(i % 3 ? 'a' : 'b', { i }));
    expect(await producer.addMany(mixed, 100)).toEqual(mixed.map((j) => j.opts.jobId));
    expect(await queues.get('b').getJob(mixed[0]?.opts.jobId as string)).toBeDefined();
    // One job BullMQ refuses: the others are stored one by one, the batch answers that job's error.
    const bad = job('a');
    bad.opts.priority = 3_000_000;
    const withBad = [job('a'), bad, job('a')];
    await expect(producer.addMany(withBad)).rejects.toThrow(/[Pp]riority/);
    expect(await queues.get('a').getJob(withBad[2]?.opts.jobId as string)).toBeDefined();
    expect(await queues.get('a').getJob(bad.opts.jobId as string)).toBeUndefined();
    process.kill(server.pid as number, 'SIGSTOP');
    onTestFinished(() => {
      if (server.running) process.kill(server.pid as number, 'SIGCONT');
    });
    // Past its deadline on a frozen Redis: maybe-sent, naming every job of the batch.
    const frozen = Array.from({ length: 15 }, () => job('a'));
    const late = producer.addMany(frozen).catch((e: unknown) => e as RedisUnavailableError);
    await new Promise((r) => setImmediate(r));
    // Past the count bound: the whole batch is refused at once, nothing sent.
    const refused = await producer
      .addMany([job('a'), job('a'), job('a'), job('a'), job('a'), job('a')])
      .catch((e: unknown) => e as RedisUnavailableError);
    expect(refused).toMatchObject({ details: { stored: false } });
    const answer = await late;
    expect(answer).toBeInstanceOf(RedisUnavailableError);
    expect(answer).toMatchObject({ details: { stored: 'unknown', jobIds: frozen.map((j) => j.opts.jobId) } });
    process.kill(server.pid as number, 'SIGCONT');
    await waitFor('in-flight drained', () => producer.inFlight().jobs === 0);
  });
});
