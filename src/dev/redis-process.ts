/**
 * A private `redis-server` child process on a free loopback port, in its own temp dir: what `kq dev`
 * starts when no Redis answers, and what the tests and fault scenarios start, stop and restart.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
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

export interface RedisProcessOptions {
  /** @default a free port */
  port?: number;
  /** `appendonly yes` + `appendfsync always`. @default false (no persistence) */
  persistent?: boolean;
  extraArgs?: string[];
  /** Own process group, so a Ctrl-C meant for the parent does not stop Redis first. @default false */
  detached?: boolean;
  /** Prefix of the temp data dir. @default 'kq-redis-' */
  dirPrefix?: string;
}

export interface RedisProcess {
  port: number;
  url: string;
  /** Its data dir (AOF files when persistent). */
  dir: string;
  readonly pid: number | undefined;
  readonly running: boolean;
  /** Starts (or restarts) the server on the same port and data dir; resolves once it answers PING. */
  start(): Promise<void>;
  /** SIGTERM, then SIGKILL after 3 s. */
  stop(): Promise<void>;
  /** Stops it and removes its data dir. */
  remove(): Promise<void>;
}

/**
 * Spawns `redis-server`; rejects when it is not on the PATH or does not answer within 10 s.
 * @example const redis = await spawnRedisServer(); ...; await redis.remove();
 */
export async function spawnRedisServer(o: RedisProcessOptions = {}): Promise<RedisProcess> {
  const port = o.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), o.dirPrefix ?? 'kq-redis-'));
  const args = [
    ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''],
    ...['--maxmemory-policy', 'noeviction'],
    ...(o.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
    ...(o.extraArgs ?? []),
  ];
  const url = `redis://127.0.0.1:${port}`;
  let proc: ChildProcess | undefined;
  const alive = () => proc !== undefined && proc.exitCode === null && proc.signalCode === null;
  const server: RedisProcess = {
    port,
    url,
    dir,
    get pid() {
      return proc?.pid;
    },
    get running() {
      return alive();
    },
    async start() {
      const p = spawn('redis-server', args, { stdio: 'ignore', detached: o.detached ?? false });
      proc = p;
      const failed = new Promise<never>((_, reject) =>
        p.once('error', (err) =>
          reject(
            new Error(
              `could not start redis-server (${err.message}); install it: apt-get install -y redis-server`,
            ),
          ),
        ),
      );
      failed.catch(() => undefined);
      const deadline = Date.now() + 10_000;
      for (;;) {
        const up = await Promise.race([redisAnswers(url, 500), failed]);
        if (up) return;
        if (p.exitCode !== null || Date.now() > deadline) {
          throw new Error(`redis-server on port ${port} did not answer within 10 s`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      const p = proc;
      if (!p || !alive()) return;
      const exited = new Promise((resolve) => p.once('exit', resolve));
      p.kill('SIGTERM');
      const timer = setTimeout(() => p.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
    async remove() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await server.start();
  } catch (err) {
    await server.remove();
    throw err;
  }
  return server;
}
