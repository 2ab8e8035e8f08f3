/**
 * Liveness against a frozen Redis: the connection stays `ready` (the socket is open, nothing answers), so
 * only the PING bound can tell. A private redis-server is SIGSTOPped past the liveness bound, then resumed.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { closeRedis, createRedis } from '../../src/queue/connection.js';
import { watchRedisLiveness } from '../../src/queue/redis-liveness.js';
import { startRedisServer } from '../helpers/redis-server.js';
import { sleep, waitFor } from '../helpers/wait.js';

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
    const liveness = watchRedisLiveness({
      connections: [redis],
      timeoutMs: BOUND_MS,
      everyMs: 100,
      pingTimeoutMs: 300,
    });
    onTestFinished(() => liveness.close());
    // Usable: connected and PING answered (a state with no reason).
    await waitFor('usable at first', () => redis.status === 'ready' && liveness.state().reason === undefined);

    const frozenAt = Date.now();
    process.kill(server.pid as number, 'SIGSTOP');
    await sleep(BOUND_MS / 2);
    expect(redis.status).toBe('ready');
    expect(liveness.state().alive, 'alive within the bound').toBe(true);
    await waitFor('not alive', () => !liveness.state().alive, { timeoutMs: BOUND_MS + 3000, intervalMs: 50 });
    expect(Date.now() - frozenAt).toBeGreaterThanOrEqual(BOUND_MS);
    expect(liveness.state().reason).toMatch(/PING unanswered after 300 ms/);

    process.kill(server.pid as number, 'SIGCONT');
    await waitFor('alive again', () => liveness.state().alive, { timeoutMs: 5000, intervalMs: 50 });
  });
});
