/**
 * Where `kq dev` gets Redis: REDIS_URL when set (any form every command takes: one Redis, Sentinel,
 * Cluster; it must answer), else a Redis already listening on
 * 127.0.0.1:6379, else a private `redis-server` started on a free port in a temp dir (no persistence) and
 * stopped on exit, else an error saying how to get one.
 */
import { KqError } from '../errors.js';
import { redactUrl } from '../log.js';
import { closeRedis, createRedis } from '../queue/connection.js';
import { createRedisGuard } from '../queue/redis-guard.js';
import type { RedisAuth } from '../queue/redis-url.js';
import { redisAnswers, spawnRedisServer } from './redis-process.js';

export interface DevRedis {
  url: string;
  /** How it was found, for the banner. */
  source: 'REDIS_URL' | 'local' | 'private';
  /** The private redis-server's pid. */
  pid?: number;
  stop(): Promise<void>;
}

async function startPrivateRedis(): Promise<DevRedis | undefined> {
  try {
    const server = await spawnRedisServer({ detached: true, dirPrefix: 'kq-dev-redis-' });
    return { url: server.url, source: 'private', pid: server.pid, stop: server.remove };
  } catch (err) {
    if (/could not start redis-server/.test((err as Error).message)) return undefined;
    throw new KqError(
      'REDIS_NOT_FOUND',
      `redis-server was found on the PATH but did not start: ${(err as Error).message}.`,
      {},
      { cause: err },
    );
  }
}

/** True when Redis at `url`, in any of its topologies (Sentinel, Cluster), answers PING within `timeoutMs`. */
async function answers(url: string, auth: RedisAuth, timeoutMs: number): Promise<boolean> {
  const c = createRedis(url, { kind: 'fail-fast', auth, commandTimeoutMs: timeoutMs });
  try {
    return (await createRedisGuard([c], timeoutMs)(() => c.ping())) === 'PONG';
  } catch {
    return false;
  } finally {
    await closeRedis(c, 200);
  }
}

/** @example const redis = await findRedis({ redisUrl: process.env.REDIS_URL }); ...; await redis.stop(); */
export async function findRedis(o: {
  redisUrl?: string;
  fallbackUrl: string;
  auth?: RedisAuth;
}): Promise<DevRedis> {
  const none = async () => undefined;
  if (o.redisUrl) {
    if (await answers(o.redisUrl, o.auth ?? {}, 5000))
      return { url: o.redisUrl, source: 'REDIS_URL', stop: none };
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
