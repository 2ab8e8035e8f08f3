/**
 * The benchmark's private `redis-server`: kq's own starter (`src/dev/redis-process.ts`, built into dist/
 * by `npm run bench`) on a free loopback port, no persistence, `noeviction` (as BullMQ requires), in a
 * temp dir that is removed on stop or exit. Both kq and every baseline talk to this one server.
 */
import { rmSync } from 'node:fs';
import { Redis } from 'ioredis';
import { freePort, spawnRedisServer } from '../dist/dev/redis-process.js';

export { freePort };

/** @example const redis = await startRedisServer(); ...; await redis.stop(); */
export async function startRedisServer() {
  const server = await spawnRedisServer({ dirPrefix: 'kq-bench-redis-' });
  // A benchmark that dies half-way must not leave its Redis behind.
  process.once('exit', () => {
    if (server.running && server.pid) process.kill(server.pid, 'SIGKILL');
    rmSync(server.dir, { recursive: true, force: true });
  });
  return {
    port: server.port,
    url: server.url,
    pid: server.pid,
    client: () => new Redis(server.port, '127.0.0.1', { maxRetriesPerRequest: null }),
    stop: () => server.remove(),
  };
}
