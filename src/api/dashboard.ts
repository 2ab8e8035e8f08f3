/**
 * /ui: the bull-board dashboard, with security headers. Read-only unless the operator sets UI_WRITE=1:
 * bull-board's own API can empty queues and add jobs that skip kq's validation, so every write under
 * /ui is refused (403) when writes are off; when on, a write needs the bearer token (auth.ts: the
 * cookie only reads), and adding jobs through bull-board stays refused (POST /jobs validates them). Queues appear on
 * their own: before a dashboard request is served the list is refreshed (at most every 2 s) from the
 * queue directory, so queues created after start-up show up without a restart.
 */

import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import { KqError } from '../errors.js';
import type { QueueDirectory } from '../queue/queue-directory.js';
import type { QueueCache } from '../queue/queues.js';
import type { RedisGuard } from '../queue/redis-guard.js';
import { sendError } from './errors.js';

export const UI_PATH = '/ui';

/** @example await registerDashboard(app, { queues, directory }) */
export async function registerDashboard(
  app: FastifyInstance,
  o: {
    queues: QueueCache;
    directory: QueueDirectory;
    /** The layer's guard: bull-board's reads run only while Redis is up (else kq's 503). */
    guard: RedisGuard;
    refreshMs?: number;
    /** Allow bull-board's write actions (retry, remove, pause, empty, ...). @default false */
    write?: boolean;
  },
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
      board.addQueue(new BullMQAdapter(o.queues.get(name), { readOnlyMode: !o.write }));
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
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        const path = request.url.split('?')[0] ?? '';
        if (!o.write || /\/add$/.test(path)) {
          return sendError(
            request,
            reply,
            new KqError(
              'FORBIDDEN',
              o.write
                ? 'Jobs are added with POST /jobs, which validates them; the dashboard does not add jobs.'
                : 'The dashboard is read-only; the operator can allow its write actions with UI_WRITE=1 (they then need Authorization: Bearer <token>).',
            ),
          );
        }
      }
      // bull-board answers its own errors with 500; a Redis outage is a 503 in kq's shape instead.
      if (!o.guard.ready() && request.url.startsWith(`${UI_PATH}/api/`)) {
        // Waits for a first connection within the deadline; a Redis that is down answers 503 at once.
        const down = await o
          .guard(async () => undefined)
          .then(
            () => undefined,
            (err: unknown) => err,
          );
        if (down) return sendError(request, reply, down);
      }
      await refresh();
    });
    await ui.register(serverAdapter.registerPlugin(), { prefix: UI_PATH });
  });
}
