/**
 * The HTTP API as a Fastify instance, for `kq api`, `kq dev` and in-process tests (`app.inject`).
 * Order matters: error handling, the closing guard, auth and metrics hooks come first so that every
 * route below (including the dashboard and the docs) gets them; OpenAPI is registered before the routes
 * it describes. Closing the app closes its Redis connection and queues.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { KqError } from '../errors.js';
import type { JobRegistry } from '../jobs/registry.js';
import type { Logger } from '../log.js';
import { closeRedis, createRedis } from '../queue/connection.js';
import { createQueueRegistry } from '../queue/queues.js';
import { createAuthHook } from './auth.js';
import type { ApiContext } from './context.js';
import { registerDashboard } from './dashboard.js';
import { registerDocsUi, registerOpenApi } from './docs.js';
import { installErrorHandling, sendError } from './errors.js';
import { hardeningOptions, installRequestHardening } from './hardening.js';
import { createApiMetrics } from './metrics.js';
import { createQueueDirectory } from './queue-directory.js';
import { createRedisGuard } from './redis-guard.js';
import { healthRoutes } from './routes/health.js';
import { jobRoutes } from './routes/jobs.js';
import { metricsRoutes } from './routes/metrics.js';
import { queueRoutes } from './routes/queues.js';
import { seedRoutes } from './routes/seed.js';
import { createSubmitter } from './submit.js';

export interface AppOptions {
  redisUrl: string;
  /** @default 'bull' */
  prefix?: string;
  jobs: JobRegistry;
  /** Bearer tokens; `null` turns auth off (only when asked for explicitly). */
  tokens: readonly string[] | null;
  /** @default 1048576 */
  bodyLimit?: number;
  /** @default 5000 */
  requestTimeoutMs?: number;
  /** A pino logger, or false for none (tests). @default false */
  logger?: Logger | false;
}

const REQUEST_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

/** Strips `?token=` from logged URLs: a token must never reach a log line. */
function redactTokenInUrl(url: string): string {
  return url.replace(/([?&]token=)[^&]*/gi, '$1[redacted]');
}

/** The API's logger: request lines carry method, URL (token redacted) and client address, no headers. */
function apiLogger(log: Logger): Logger {
  return log.child(
    {},
    {
      serializers: {
        req: (r: { method: string; url: string; ip?: string }) => ({
          method: r.method,
          url: redactTokenInUrl(r.url),
          remoteAddress: r.ip,
        }),
      },
    },
  );
}

/**
 * @example
 * const app = await buildApp({ redisUrl: 'redis://127.0.0.1:6379', jobs, tokens: ['s3cr3t-token-0123456789'] });
 * await app.listen({ port: 8080, host: '0.0.0.0' });
 */
export async function buildApp(o: AppOptions): Promise<FastifyInstance> {
  const prefix = o.prefix ?? 'bull';
  const bodyLimit = o.bodyLimit ?? 1_048_576;
  const requestTimeoutMs = o.requestTimeoutMs ?? 5000;
  const app = Fastify({
    ...(o.logger ? { loggerInstance: apiLogger(o.logger) } : { logger: false }),
    bodyLimit,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: false,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // Receiving a request (headers + body) is bounded too: slow clients cannot hold a socket forever.
    requestTimeout: Math.max(30_000, requestTimeoutMs * 2),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true } },
    ...hardeningOptions(),
    // Fastify's two lines per request (received, completed) were a third of the API's CPU under load
    // (docs/performance.md); one line per request, written when it is answered, says the same.
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance;
  if (o.logger) {
    app.addHook('onResponse', (request, reply, done) => {
      const status = reply.statusCode;
      const line = {
        event: 'http.request',
        method: request.method,
        url: redactTokenInUrl(request.url),
        status,
        durationMs: Math.round(reply.elapsedTime * 10) / 10,
        remoteAddress: request.ip,
      };
      if (status >= 500) request.log.error(line, 'request failed');
      else request.log.info(line, 'request');
      done();
    });
  }

  const redis = createRedis(o.redisUrl, { kind: 'fail-fast', commandTimeoutMs: requestTimeoutMs });
  let lastRedisLog = 0;
  redis.on('error', (err: Error) => {
    if (Date.now() - lastRedisLog < 5000) return;
    lastRedisLog = Date.now();
    app.log.warn({ event: 'redis.unavailable', err: err.message }, `Redis: ${err.message} (retrying)`);
  });
  const queues = createQueueRegistry(redis, prefix);
  const directory = createQueueDirectory({ redis, prefix, jobs: o.jobs });
  let closing = false;
  const ctx: ApiContext = {
    jobs: o.jobs,
    queues,
    redis,
    prefix,
    directory,
    guard: createRedisGuard(redis, requestTimeoutMs),
    submitter: createSubmitter({ queues, jobs: o.jobs, redis }),
    isClosing: () => closing,
  };

  installErrorHandling(app, bodyLimit);
  installRequestHardening(app, bodyLimit);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (closing && request.url !== '/healthz') {
      reply.header('connection', 'close');
      return sendError(
        request,
        reply,
        new KqError('SHUTTING_DOWN', 'The API is shutting down; retry on another replica.'),
      );
    }
  });
  if (o.tokens) app.addHook('onRequest', createAuthHook(o.tokens));
  const metrics = createApiMetrics(app, { redis, prefix, directory });

  await registerOpenApi(app, o.jobs, o.tokens !== null);
  healthRoutes(app, ctx);
  metricsRoutes(app, metrics);
  jobRoutes(app, ctx);
  queueRoutes(app, ctx);
  await seedRoutes(app, ctx);
  await registerDocsUi(app);
  await registerDashboard(app, { queues, directory, redis });

  app.addHook('preClose', async () => {
    closing = true;
  });
  // A keep-alive connection that carried an in-flight request must not keep the server open after it.
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  app.addHook('onClose', async () => {
    await queues.close();
    await closeRedis(redis);
    metrics.close();
  });
  return app;
}
