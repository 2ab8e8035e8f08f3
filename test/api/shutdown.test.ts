/**
 * Defect 8 through a real `kq api` process: SIGTERM under load. In-flight requests finish, new ones get
 * 503 SHUTTING_DOWN (Connection: close) while the listener stays open for SHUTDOWN_DRAIN_MS, and no
 * client sees a connection reset.
 */
import { describe, expect, it } from 'vitest';
import { useTestQueue } from '../helpers/context.js';
import { spawnKq } from '../helpers/kq-process.js';
import { waitFor } from '../helpers/wait.js';
import { HANDLERS, TOKEN } from './app-fixture.js';

describe('shutdown under load', () => {
  it('drains: every request gets an answer, none a reset; the process exits 0', async () => {
    const t = useTestQueue();
    const api = spawnKq(['api'], {
      PORT: '0',
      HOST: '127.0.0.1',
      API_TOKENS: TOKEN,
      HANDLERS,
      REDIS_URL: t.redisUrl,
      SHUTDOWN_DRAIN_MS: '1500',
    });
    const line = await api.waitForLog('api.listening', (l) => l.event === 'api.listening', 20_000);
    const base = `http://127.0.0.1:${line.port}`;
    const tally = { accepted: 0, shuttingDown: 0, other: 0, errors: [] as string[] };
    let signalled = false;
    // 32 clients, each posting in a loop (keep-alive) until the API says it is shutting down, as a load
    // balancer stops routing to an endpoint that answers 503. Bounded: at most 400 requests each.
    const clientLoop = async () => {
      for (let i = 0; i < 400; i++) {
        try {
          const res = await fetch(`${base}/jobs`, {
            method: 'POST',
            headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
            body: JSON.stringify({ type: 'work', queue: t.queue, data: { ms: 1 } }),
            signal: AbortSignal.timeout(10_000),
          });
          const body = (await res.json()) as { error?: { code: string } };
          if (res.status === 202) tally.accepted++;
          else if (res.status === 503 && body.error?.code === 'SHUTTING_DOWN') {
            tally.shuttingDown++;
            return;
          } else tally.other++;
        } catch (err) {
          tally.errors.push(String((err as Error).cause ?? err));
          return;
        }
        if (signalled && i > 390) return;
      }
    };
    const clients = Array.from({ length: 32 }, clientLoop);
    // Under load: every client has had about two answers (not a fixed time, which a loaded machine stretches).
    await waitFor('the clients under way', () => tally.accepted >= 64 || tally.errors.length > 0, {
      timeoutMs: 30_000,
      intervalMs: 10,
    });
    signalled = true;
    api.kill('SIGTERM');
    await Promise.all(clients);
    const exit = await api.waitForExit(20_000);
    expect(tally.errors).toEqual([]);
    expect(tally.accepted).toBeGreaterThan(0);
    expect(tally.shuttingDown).toBe(32);
    expect(tally.other).toBe(0);
    expect(exit.code).toBe(0);
  });
});
