/** Redis failures map to 503 with an honest message, whatever error ioredis raises (no 500). */
import { describe, expect, it } from 'vitest';
import { toHttpError } from '../../src/api/errors.js';
import { createRedis } from '../../src/queue/connection.js';
import { blockedOn, freePort, startRedisServer } from '../helpers/redis-server.js';

describe('Redis errors as HTTP', () => {
  it('a command in flight when Redis dies is a 503 whose outcome is unknown, not a 500', async () => {
    const server = await startRedisServer();
    const redis = createRedis(server.url, { kind: 'fail-fast', commandTimeoutMs: 10_000 });
    try {
      if (redis.status !== 'ready') await new Promise((r) => redis.once('ready', r));
      const inFlight = redis.blpop('kq-test-never', 5).catch((e: unknown) => e);
      await blockedOn(server, 'blpop');
      await server.stop();
      const err = await inFlight;
      expect(err).toBeInstanceOf(Error);
      const { status, body } = toHttpError(err, 0);
      expect(status).toBe(503);
      expect(body.error.code).toBe('REDIS_UNAVAILABLE');
      expect(body.error.message).toMatch(/may or may not have been stored.*Idempotency-Key/);
    } finally {
      redis.disconnect();
      await server.stop();
    }
  });

  it('a command refused before it was sent says nothing was stored', async () => {
    const redis = createRedis(`redis://127.0.0.1:${await freePort()}`, { kind: 'fail-fast' });
    try {
      const err = await redis.ping().catch((e: unknown) => e);
      const { status, body } = toHttpError(err, 0);
      expect(status).toBe(503);
      expect(body.error.message).toMatch(/nothing was stored/);
    } finally {
      redis.disconnect();
    }
  });
});
