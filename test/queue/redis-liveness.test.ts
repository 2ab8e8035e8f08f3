/**
 * Liveness against a frozen Redis: the connection stays `ready` (the socket is open, nothing answers), so
 * only the PING bound can tell. A private redis-server is SIGSTOPped, then resumed. The bound is read on the
 * watcher's injected clock (moved by the test), not waited for.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { closeRedis, createRedis } from '../../src/queue/connection.js';
import { watchRedisLiveness } from '../../src/queue/redis-liveness.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

const BOUND_MS = 1500;

describe('Redis liveness', () => {
  it('a frozen Redis (connection still ready) fails liveness past the bound, never before; resumed, it is alive again', {
    timeout: 30_000,
  }, async () => {
    const server = await startRedisServer();
    onTestFinished(async () => {
      if (server.pid) process.kill(server.pid, 'SIGCONT');
      await server.remove();
    });
    const redis = createRedis(server.url, { kind: 'fail-fast', commandTimeoutMs: null });
    onTestFinished(() => closeRedis(redis));
    let clock = 0;
    const liveness = watchRedisLiveness({
      connections: [redis],
      timeoutMs: BOUND_MS,
      everyMs: 100,
      pingTimeoutMs: 300,
      now: () => clock,
    });
    onTestFinished(() => liveness.close());
    // Usable: connected and PING answered (a state with no reason).
    await waitFor('usable at first', () => redis.status === 'ready' && liveness.state().reason === undefined);

    clock = 10_000;
    process.kill(server.pid as number, 'SIGSTOP');
    // The first PING past its 300 ms (a real deadline) marks Redis unusable at clock 10,000.
    await waitFor('the frozen Redis seen', () => liveness.state().reason !== undefined, {
      timeoutMs: 10_000,
      intervalMs: 20,
    });
    expect(redis.status).toBe('ready');
    expect(liveness.state()).toMatchObject({ alive: true, unusableForMs: 0 });
    expect(liveness.state().reason).toMatch(/PING unanswered after 300 ms/);
    clock += BOUND_MS;
    expect(liveness.state(), 'alive up to the bound').toMatchObject({ alive: true, unusableForMs: BOUND_MS });
    clock += 1;
    expect(liveness.state(), 'not alive past it').toMatchObject({
      alive: false,
      unusableForMs: BOUND_MS + 1,
    });

    process.kill(server.pid as number, 'SIGCONT');
    await waitFor('alive again', () => liveness.state().alive, { timeoutMs: 5000, intervalMs: 50 });
  });
});
