/**
 * GET /healthz (alive: Redis has not been unusable longer than REDIS_LIVENESS_TIMEOUT_MS) and GET /readyz
 * (Redis answers within 1 s, not shutting down).
 */
import type { FastifyInstance } from 'fastify';
import { KqError } from '../../errors.js';
import { createRedisGuard } from '../../queue/redis-guard.js';
import { livenessMessage } from '../../queue/redis-liveness.js';
import type { ApiContext } from '../context.js';

export function healthRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const within1s = createRedisGuard([ctx.redis], 1000);
  const ok = { type: 'object', properties: { status: { type: 'string' } } } as const;
  app.get(
    '/healthz',
    { schema: { summary: 'Liveness', tags: ['health'], response: { 200: ok } } },
    async () => {
      const s = ctx.liveness.state();
      if (!s.alive)
        throw new KqError('REDIS_UNAVAILABLE', livenessMessage(s, ctx.livenessTimeoutMs), {
          unusableForMs: s.unusableForMs,
        });
      return { status: 'ok' };
    },
  );
  app.get(
    '/readyz',
    { schema: { summary: 'Readiness: Redis answers within 1 s', tags: ['health'], response: { 200: ok } } },
    async () => {
      if (ctx.isClosing()) throw new KqError('SHUTTING_DOWN', 'The API is shutting down.');
      await within1s(() => ctx.redis.ping());
      return { status: 'ready' };
    },
  );
}
