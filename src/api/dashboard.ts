/**
 * /ui: the bull-board dashboard (queues, jobs, retry/remove), with security headers. Queues appear on
 * their own: before a dashboard request is served the list is refreshed (at most every 2 s) from the
 * queue directory, so queues created after start-up show up without a restart.
 */

import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { RedisUnavailableError } from '../errors.js';
import type { QueueDirectory } from '../queue/queue-directory.js';
import type { QueueRegistry } from '../queue/queues.js';
import { sendError } from './errors.js';

export const UI_PATH = '/ui';

/** @example await registerDashboard(app, { queues, directory }) */
export async function registerDashboard(
  app: FastifyInstance,
  o: { queues: QueueRegistry; directory: QueueDirectory; redis: Redis; refreshMs?: number },
): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(UI_PATH);
  const board = createBullBoard({
    queues: [],
    serverAdapter,
    options: { uiConfig: { boardTitle: 'kq' } },
  });
  const shown = new Set<string>();
  let lastRefresh = 0;
  const refresh = async () => {
    const now = Date.now();
    if (now - lastRefresh < (o.refreshMs ?? 2000)) return;
    lastRefresh = now;
    const names = await o.directory.names().catch(() => undefined);
    if (!names) return;
    for (const name of names) {
      if (shown.has(name)) continue;
      shown.add(name);
      board.addQueue(new BullMQAdapter(o.queues.get(name)));
    }
  };
  await app.register(async (ui) => {
    await ui.register(helmet, {
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          styleSrc: ["'self'", "'unsafe-inline'"],
          scriptSrc: ["'self'", "'unsafe-inline'"],
          fontSrc: ["'self'", 'data:'],
        },
      },
    });
    ui.addHook('onRequest', async (request, reply) => {
      // bull-board answers its own errors with 500; a Redis outage is a 503 in kq's shape instead.
      if (o.redis.status !== 'ready' && request.url.startsWith(`${UI_PATH}/api/`)) {
        return sendError(request, reply, new RedisUnavailableError());
      }
      await refresh();
    });
    await ui.register(serverAdapter.registerPlugin(), { prefix: UI_PATH });
  });
}
