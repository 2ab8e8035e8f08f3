/**
 * `startWorker` in this process, against the run's Redis, for each way a worker ends: exit code 0 (a
 * signal lets the running job finish; past the hand-back time it is handed back), 130 (a second signal),
 * 1 (a failure; a stop still closing at its deadline) and a refused start (a busy HEALTH_PORT, which
 * the CLI turns into exit 2) that must leave no Redis connection behind. The stop's deadlines run on a
 * manual clock: nothing here waits on a kq timer.
 */
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { handBackReserveMs } from '../../src/worker/lifecycle.js';
import { useTestQueue } from '../helpers/context.js';
import { freePort } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';
import { inProcessWorker } from './in-process.js';

describe('startWorker in-process: exit codes', () => {
  it('a signal lets the running job finish: exit 0, the job completed', async () => {
    const t = useTestQueue();
    const s = inProcessWorker(t, { SHUTDOWN_TIMEOUT_MS: '10000' });
    const w = await s.start();
    const job = await t.bull.add('gated', {});
    await waitFor('job started', () => s.job.started.length === 1);
    w.shutdown('SIGTERM');
    s.job.open();
    expect(await w.done).toBe(0);
    expect(await t.bull.getJobState(job.id as string)).toBe('completed');
  });

  it('past the hand-back time the running job goes back to waiting, its attempt not counted: exit 0', async () => {
    const t = useTestQueue();
    const s = inProcessWorker(t, { SHUTDOWN_TIMEOUT_MS: '10000' });
    const w = await s.start();
    const job = await t.bull.add('gated', {});
    await waitFor('job started', () => s.job.started.length === 1);
    w.shutdown('SIGTERM');
    s.timers.advance(10_000 - handBackReserveMs(10_000));
    expect(await w.done).toBe(0);
    expect(await t.bull.getJobState(job.id as string)).toBe('waiting');
    expect((await t.bull.getJob(job.id as string))?.attemptsMade).toBe(0);
  });

  it('a second signal hands the running job back at once: exit 130', async () => {
    const t = useTestQueue();
    const s = inProcessWorker(t, { SHUTDOWN_TIMEOUT_MS: '60000' });
    const w = await s.start();
    const job = await t.bull.add('gated', {});
    await waitFor('job started', () => s.job.started.length === 1);
    w.shutdown('SIGTERM');
    w.shutdown('SIGINT');
    expect(await w.done).toBe(130);
    expect(await t.bull.getJobState(job.id as string)).toBe('waiting');
  });

  it('a failure (an uncaught exception) hands the running job back: exit 1', async () => {
    const t = useTestQueue();
    const s = inProcessWorker(t);
    const w = await s.start();
    const job = await t.bull.add('gated', {});
    await waitFor('job started', () => s.job.started.length === 1);
    w.fail('uncaught exception: boom');
    expect(await w.done).toBe(1);
    expect(await t.bull.getJobState(job.id as string)).toBe('waiting');
  });

  it('a stop still closing at its deadline (Redis unreachable) ends by it: exit 1', async () => {
    const t = useTestQueue();
    const s = inProcessWorker(
      { ...t, redisUrl: `redis://127.0.0.1:${await freePort()}` },
      { SHUTDOWN_TIMEOUT_MS: '2000' },
    );
    const w = await s.start();
    w.shutdown('SIGTERM');
    // Synchronously after the signal: the close has not ended (it waits on Redis), the deadline passes.
    s.timers.advance(2000);
    expect(await w.done).toBe(1);
    expect(s.events()).toContain('worker.deadline');
    // The close goes on after the deadline (the process would have left): let it end, leaving nothing open.
    await waitFor('the close to end', () => s.events().includes('worker.stopped'), { timeoutMs: 20_000 });
  });

  it('a busy HEALTH_PORT refuses the start (a ConfigError: exit 2) before any Redis connection', async () => {
    const t = useTestQueue();
    // Stands in for Redis: counts the connections made to it.
    const sockets: Socket[] = [];
    const redis = createServer((c) => sockets.push(c));
    redis.listen(0, '127.0.0.1');
    await once(redis, 'listening');
    const blocker = createServer();
    blocker.listen(await freePort(), '0.0.0.0');
    await once(blocker, 'listening');
    try {
      const s = inProcessWorker(
        { ...t, redisUrl: `redis://127.0.0.1:${(redis.address() as { port: number }).port}` },
        { HEALTH_PORT: String((blocker.address() as { port: number }).port) },
      );
      const o = s.start();
      await expect(o).rejects.toBeInstanceOf(ConfigError);
      await expect(o).rejects.toThrow(/HEALTH_PORT \d+ is already in use/);
      // A connection of ours, made after the refusal, arrives after any the worker would have made.
      const mine = connect((redis.address() as { port: number }).port, '127.0.0.1');
      await once(mine, 'connect');
      await waitFor('our own connection', () => sockets.some((c) => c.remotePort === mine.localPort));
      mine.destroy();
      expect(sockets).toHaveLength(1);
    } finally {
      for (const c of sockets) c.destroy();
      redis.close();
      blocker.close();
    }
  });
});
