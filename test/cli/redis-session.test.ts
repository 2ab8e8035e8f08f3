/**
 * The CLI's one Redis helper (src/cli/redis-session.ts), in-process with short deadlines: every way Redis
 * can fail a short command gives one line naming the URL (password hidden) and the fix; only a command
 * that writes talks about what was stored.
 */
import { createServer, type Server } from 'node:net';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { RedisSessionError, withRedis } from '../../src/cli/redis-session.js';
import { freePort } from '../helpers/redis-server.js';

const base = { command: 'status', auth: {}, writes: false };

async function failure(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RedisSessionError);
  return (err as Error).message;
}

/** A TCP server that accepts connections and never answers: a Redis that hangs. */
async function silentServer(): Promise<number> {
  const sockets = new Set<import('node:net').Socket>();
  const srv: Server = createServer((s) => sockets.add(s));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  onTestFinished(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  );
  return (srv.address() as { port: number }).port;
}

describe('withRedis: the CLI commands’ Redis errors', () => {
  it('nothing listening: names the URL with its password hidden and the fix, gives up early', async () => {
    const port = await freePort();
    const url = `redis://:hunter2@127.0.0.1:${port}`;
    const t0 = Date.now();
    const read = await failure(withRedis({ ...base, url, timeoutMs: 20_000 }, async () => 1));
    // Gives up on a refused connection long before the 20 s deadline (bound loose for a loaded machine).
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(read).toContain(`kq status: cannot reach Redis at redis://:***@127.0.0.1:${port}`);
    expect(read).toContain('ECONNREFUSED');
    expect(read).toContain(`redis-server --port ${port}`);
    expect(read).toContain('REDIS_URL (--redis-url)');
    expect(read).not.toContain('hunter2');
    expect(read).not.toMatch(/stored/);
    const write = await failure(
      withRedis({ ...base, command: 'enqueue', writes: true, url, timeoutMs: 20_000 }, async () => 1),
    );
    expect(write).toContain('Nothing was stored.');
    expect(write).not.toContain("Stream isn't writeable");
  });

  it('a Redis that never answers: the connect deadline names the URL; a read says nothing of storing', async () => {
    const port = await silentServer();
    const msg = await failure(
      withRedis({ ...base, url: `redis://127.0.0.1:${port}`, timeoutMs: 300 }, async () => 1),
    );
    expect(msg).toMatch(
      new RegExp(`cannot reach Redis at redis://127\\.0\\.0\\.1:${port} \\(not connected within 300 ms\\)`),
    );
    expect(msg).not.toMatch(/stored/);
  });

  it('work past the deadline: a read says it did not answer; a write says it may have been stored', async () => {
    const url = inject('redisUrl');
    const never = () => new Promise<never>(() => undefined);
    const read = await failure(withRedis({ ...base, url, timeoutMs: 300 }, never));
    expect(read).toBe(
      `kq status: Redis at ${url.replace(/\/$/, '')} did not answer within 300 ms. Check that it is up and not overloaded; REDIS_URL (--redis-url) names it.`,
    );
    const write = await failure(withRedis({ ...base, writes: true, url, timeoutMs: 300 }, never));
    expect(write).toContain('may or may not have been stored');
  });

  it('other errors pass through unchanged, and a good session returns the work’s value', async () => {
    const url = inject('redisUrl');
    await expect(
      withRedis({ ...base, url, timeoutMs: 5000 }, async () => {
        throw new TypeError('a bug');
      }),
    ).rejects.toThrow(TypeError);
    expect(await withRedis({ ...base, url, timeoutMs: 5000 }, (r) => r.ping())).toBe('PONG');
  });
});
