/**
 * The benchmark's private `redis-server`: a free loopback port, no persistence, `noeviction` (as BullMQ
 * requires), in a temp dir that is removed on exit. Both kq and every baseline talk to this one server.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPing(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    c.on('error', () => undefined);
    try {
      await c.connect();
      if ((await c.ping()) === 'PONG') return;
    } catch {
      /* not up yet */
    } finally {
      c.disconnect();
    }
    if (Date.now() > deadline)
      throw new Error(`redis-server on port ${port} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** @example const redis = await startRedisServer(); ...; await redis.stop(); */
export async function startRedisServer() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'kq-bench-redis-'));
  const proc = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxmemory-policy',
      'noeviction',
    ],
    { stdio: 'ignore' },
  );
  const failed = new Promise((_, reject) =>
    proc.once('error', (err) =>
      reject(
        new Error(
          `could not start redis-server (${err.message}); install it: apt-get install -y redis-server`,
        ),
      ),
    ),
  );
  const cleanup = () => {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', cleanup);
  await Promise.race([waitForPing(port, 10_000), failed]);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: proc.pid,
    client: () => new Redis(port, '127.0.0.1', { maxRetriesPerRequest: null }),
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
