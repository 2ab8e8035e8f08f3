/**
 * Where `kq dev` gets Redis: REDIS_URL when set (it must answer), else a Redis already listening on
 * 127.0.0.1:6379, else a private `redis-server` started on a free port in a temp dir (no persistence) and
 * stopped on exit, else an error saying how to get one.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { KqError } from '../errors.js';
import { redactUrl } from '../log.js';

export interface DevRedis {
  url: string;
  /** How it was found, for the banner. */
  source: 'REDIS_URL' | 'local' | 'private';
  /** The private redis-server's pid. */
  pid?: number;
  stop(): Promise<void>;
}

/** True when a Redis at `url` answers PING within `timeoutMs`. */
export async function redisAnswers(url: string, timeoutMs = 1000): Promise<boolean> {
  const c = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
    enableOfflineQueue: false,
  });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return (await c.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    c.disconnect();
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

async function startPrivateRedis(): Promise<DevRedis | undefined> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'kq-dev-redis-'));
  const args = [
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
  ];
  // Own process group: a Ctrl-C in the terminal must not stop Redis before the workers have finished.
  const proc: ChildProcess = spawn('redis-server', args, { stdio: 'ignore', detached: true });
  const spawned = await new Promise<boolean>((resolve) => {
    proc.once('error', () => resolve(false));
    proc.once('spawn', () => resolve(true));
  });
  if (!spawned) {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  const url = `redis://127.0.0.1:${port}`;
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (await redisAnswers(url, 500)) return { url, source: 'private', pid: proc.pid, stop };
    if (proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new KqError(
    'REDIS_NOT_FOUND',
    `redis-server was found on the PATH but did not start on port ${port}.`,
  );
}

/** @example const redis = await findRedis({ redisUrl: process.env.REDIS_URL }); ...; await redis.stop(); */
export async function findRedis(o: { redisUrl?: string; fallbackUrl: string }): Promise<DevRedis> {
  const none = async () => undefined;
  if (o.redisUrl) {
    if (await redisAnswers(o.redisUrl, 2000)) return { url: o.redisUrl, source: 'REDIS_URL', stop: none };
    throw new KqError(
      'REDIS_NOT_FOUND',
      `REDIS_URL ${redactUrl(o.redisUrl)} does not answer. Start that Redis, fix REDIS_URL, or unset it to let kq dev find or start one.`,
    );
  }
  if (await redisAnswers(o.fallbackUrl, 1000)) return { url: o.fallbackUrl, source: 'local', stop: none };
  const started = await startPrivateRedis();
  if (started) return started;
  throw new KqError(
    'REDIS_NOT_FOUND',
    `No Redis found: REDIS_URL is not set, nothing answers at ${redactUrl(o.fallbackUrl)}, and redis-server is not on the PATH. Get one with: apt-get install redis-server (Debian/Ubuntu), brew install redis (macOS), or docker run -d -p 6379:6379 redis:7; or set REDIS_URL.`,
  );
}
