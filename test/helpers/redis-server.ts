/**
 * A private `redis-server` on a free port for tests that must not share (or that stop and restart) their
 * Redis: kq's own `spawnRedisServer` (what `kq dev` uses), plus a client factory and cleanup on exit.
 */
import { rmSync } from 'node:fs';
import { Redis } from 'ioredis';
import {
  freePort,
  type RedisProcess,
  type RedisProcessOptions,
  spawnRedisServer,
} from '../../src/dev/redis-process.js';
import { waitFor } from './wait.js';

export { freePort };

export interface RedisServer extends RedisProcess {
  /** A fresh client; close it yourself. */
  client(): Redis;
}

export type RedisServerOptions = Pick<RedisProcessOptions, 'persistent' | 'extraArgs' | 'port'>;

/** @example const redis = await startRedisServer(); ...; await redis.stop(); */
export async function startRedisServer(opts: RedisServerOptions = {}): Promise<RedisServer> {
  const server = await spawnRedisServer(opts);
  process.once('exit', () => {
    if (server.pid && server.running) process.kill(server.pid, 'SIGKILL');
    rmSync(server.dir, { recursive: true, force: true });
  });
  return Object.assign(server, {
    client: () => new Redis(server.port, '127.0.0.1', { maxRetriesPerRequest: null }),
  });
}

/** Waits until some client of `server` is blocked in `command` (e.g. a BLPOP that is now in flight). */
export async function blockedOn(server: RedisServer, command: string): Promise<void> {
  const c = server.client();
  try {
    const re = new RegExp(`\\bcmd=${command}\\b`);
    await waitFor(`a client blocked in ${command}`, async () => re.test(String(await c.client('LIST'))), {
      intervalMs: 10,
    });
  } finally {
    c.disconnect();
  }
}
