/** The layer's deadline, guard and error classification, against real redis-servers (no mocks). */
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { RedisUnavailableError } from '../../src/errors.js';
import { createRedis } from '../../src/queue/connection.js';
import { pendingDeadlines, TICK_MS, withDeadline } from '../../src/queue/deadline.js';
import { classifyRedisError, toUnavailable } from '../../src/queue/redis-errors.js';
import { createRedisGuard } from '../../src/queue/redis-guard.js';
import { createTtlCache } from '../../src/queue/ttl-cache.js';
import { blockedOn, freePort, startRedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

const ready = async (r: ReturnType<typeof createRedis>) => {
  if (r.status !== 'ready') await new Promise((res) => r.once('ready', res));
};

describe('classifyRedisError', () => {
  it('a refused connection is not-sent; a command in flight when Redis dies is maybe-sent', async () => {
    const down = createRedis(`redis://127.0.0.1:${await freePort()}`, { kind: 'fail-fast' });
    onTestFinished(() => down.disconnect());
    expect(classifyRedisError(await down.ping().catch((e: unknown) => e))).toBe('not-sent');

    const server = await startRedisServer();
    onTestFinished(() => server.stop());
    const redis = createRedis(server.url, { kind: 'fail-fast', commandTimeoutMs: null });
    onTestFinished(() => redis.disconnect());
    await ready(redis);
    const inFlight = redis.blpop('never', 5).catch((e: unknown) => e);
    await blockedOn(server, 'blpop');
    await server.stop();
    expect(classifyRedisError(await inFlight)).toBe('maybe-sent');
  });

  it('refusal replies are not-sent; other errors are not availability errors', async () => {
    expect(classifyRedisError(new Error('LOADING Redis is loading the dataset in memory'))).toBe('not-sent');
    expect(classifyRedisError(new Error('OOM command not allowed'))).toBe('not-sent');
    // ioredis Cluster while a shard fails over (seen as a 500 in chaos scenario 10 before it was classified).
    const gaveUp = (last: string) => new Error(`Too many Cluster redirections. Last error: ${last}`);
    expect(classifyRedisError(gaveUp('ReplyError: CLUSTERDOWN The cluster is down'))).toBe('not-sent');
    expect(classifyRedisError(gaveUp('ReplyError: TRYAGAIN Multiple keys request during rehashing'))).toBe(
      'not-sent',
    );
    expect(classifyRedisError(gaveUp('Error: Connection is closed.'))).toBe('maybe-sent');
    expect(classifyRedisError(new Error('Failed to refresh slots cache.'))).toBe('not-sent');
    expect(classifyRedisError(new Error('Command timed out'))).toBe('maybe-sent');
    const wrongType = new Error('WRONGTYPE Operation against a key holding the wrong kind of value');
    expect(classifyRedisError(wrongType)).toBeUndefined();
    expect(toUnavailable(wrongType)).toBe(wrongType);
    const e = toUnavailable(new Error('Command timed out'), ['job-1']) as RedisUnavailableError;
    expect(e.details).toMatchObject({ stored: 'unknown', jobId: 'job-1' });
    expect(e.message).toMatch(/job "job-1" may or may not have been stored/);
  });
});

describe('deadline and guard', () => {
  it('withDeadline rejects late work with the given error and leaves nothing pending', async () => {
    // The deadline's ticker and clock are faked: the test moves time instead of waiting for it.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    let settled = false;
    const late = withDeadline(
      () => new Promise(() => undefined),
      100,
      () => new Error('late'),
    ).finally(() => {
      settled = true;
    });
    late.catch(() => undefined);
    await vi.advanceTimersByTimeAsync(99);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(TICK_MS);
    await expect(late).rejects.toThrow('late');
    vi.useRealTimers();
    await expect(
      withDeadline(
        async () => 7,
        1000,
        () => new Error('x'),
      ),
    ).resolves.toBe(7);
    await waitFor('no pending deadlines', () => pendingDeadlines() === 0);
  });

  it('a frozen Redis (TCP up, no answers) is maybe-sent at the deadline; a dead one not-sent at once', async () => {
    const server = await startRedisServer();
    onTestFinished(() => server.stop());
    const redis = createRedis(server.url, { kind: 'fail-fast', commandTimeoutMs: null });
    onTestFinished(() => redis.disconnect());
    await ready(redis);
    const guard = createRedisGuard([redis], 300);
    expect(await guard(() => redis.ping())).toBe('PONG');
    process.kill(server.pid as number, 'SIGSTOP');
    onTestFinished(() => {
      if (server.running) process.kill(server.pid as number, 'SIGCONT');
    });
    const started = Date.now();
    const err = (await guard(() => redis.set('k', 'v')).catch((e: unknown) => e)) as RedisUnavailableError;
    expect(err).toBeInstanceOf(RedisUnavailableError);
    expect(err.details.stored).toBe('unknown');
    expect(Date.now() - started).toBeLessThan(5000);
    process.kill(server.pid as number, 'SIGCONT');
    await server.stop();
    await waitFor('connection lost', () => redis.status !== 'ready');
    // At once: settled within one turn of the event loop, with no I/O (not a time bound a loaded machine stretches).
    let settled = false;
    const answer = guard(() => redis.ping()).catch((e: unknown) => e);
    void answer.finally(() => {
      settled = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(true);
    const down = (await answer) as RedisUnavailableError;
    expect(down.details.stored).toBe(false);
  });
});

describe('ttl cache', () => {
  it('shares one read per key within the TTL and never keeps a failure', async () => {
    const cache = createTtlCache({ ttlMs: 10_000 });
    let reads = 0;
    const read = async () => ++reads;
    const [a, b] = await Promise.all([cache.get('k', read), cache.get('k', read)]);
    expect([a, b, reads]).toEqual([1, 1, 1]);
    await expect(cache.get('bad', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    await expect(cache.get('bad', async () => 'ok')).resolves.toBe('ok');
    let now = 0;
    const short = createTtlCache({ ttlMs: 1000, now: () => now });
    await short.get('k', read);
    now = 999;
    expect(await short.get('k', read)).toBe(2);
    now = 1000;
    expect(await short.get('k', read)).toBe(3);
  });
});
