/**
 * The HTTP API as a Fastify instance, for `kq api`, `kq dev` and in-process tests (`app.inject`).
 * Order matters: error handling, the closing guard, auth and metrics hooks come first so that every
 * route below (including the dashboard and the docs) gets them; OpenAPI is registered before the routes
 * it describes. Closing the app closes its Redis connections and queues.
 */
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { QUEUE_NAME_RULE } from '../config.js';
import { ConfigError, KqError } from '../errors.js';
import type { JobRegistry } from '../jobs/registry.js';
import type { Logger } from '../log.js';
import { closeRedis, createRedis, redisMode, throttleErrors } from '../queue/connection.js';
import { createJobEvents } from '../queue/job-events.js';
import { createProducer } from '../queue/producer.js';
import { createQueueDirectory } from '../queue/queue-directory.js';
import { createQueueReads } from '../queue/queue-reads.js';
import { createQueueCache } from '../queue/queues.js';
import { createRedisGuard } from '../queue/redis-guard.js';
import { watchRedisLiveness } from '../queue/redis-liveness.js';
import type { RedisAuth } from '../queue/redis-url.js';
import type { PreparedSchedule } from '../queue/schedule-spec.js';
import { keepSchedulesApplied } from '../queue/schedule-sync.js';
import type { Tracing } from '../tracing/load-tracing.js';
import { createAuthCheck } from './auth.js';
import { createBodyBudget } from './body-budget.js';
import type { ApiContext } from './context.js';
import { registerDashboard } from './dashboard.js';
import { registerDocsUi, registerOpenApi } from './docs.js';
import { installErrorHandling, sendError } from './errors.js';
import { hardeningOptions, installJsonParsing, missingHost } from './hardening.js';
import { createHeldRequests } from './held-requests.js';
import { createApiMetrics } from './metrics.js';
import { createOversizeDrain } from './oversize-body.js';
import { flowRoutes } from './routes/flows.js';
import { healthRoutes } from './routes/health.js';
import { jobEventRoutes, tooManyStreams } from './routes/job-events.js';
import { jobRoutes } from './routes/jobs.js';
import { metricsRoutes } from './routes/metrics.js';
import { queueRoutes } from './routes/queues.js';
import { scheduleRoutes } from './routes/schedules.js';
import { seedRoutes } from './routes/seed.js';
import { createSubmitter } from './submit.js';

export interface AppOptions {
  redisUrl: string;
  /** Passwords given outside the URL. */
  redisAuth?: RedisAuth;
  /** @default 'bull' */
  prefix?: string;
  jobs: JobRegistry;
  /** Bearer tokens; `null` turns auth off (only when asked for explicitly). */
  tokens: readonly string[] | null;
  /** @default 1048576 */
  bodyLimit?: number;
  /** @default 5000 */
  requestTimeoutMs?: number;
  /** Redis unusable this long = `/healthz` 503 (src/queue/redis-liveness.ts); 0 = never. @default 0 */
  redisLivenessTimeoutMs?: number;
  /** Replicas that must hold a job before `202` (Redis `WAIT`). @default 0 */
  writeReplicas?: number;
  /** Concurrent submissions go to Redis together, one pipeline per queue and event-loop turn. @default true */
  coalesce?: boolean;
  /** Most queues in the queue directory for the API to create one more. @default 1000 */
  maxQueues?: number;
  /** Queues the API may create besides the declared and registered ones; null = none. @default any valid name */
  queuePattern?: RegExp | null;
  /** Jobs waiting on Redis at most (more: 503 at once, nothing stored). @default 5000 */
  maxInflightJobs?: number;
  /** Request bytes waiting on Redis at most. @default 16 MiB */
  maxInflightBytes?: number;
  /** Longest a client may take to send the request line and headers. @default 10000 */
  headersTimeoutMs?: number;
  /** Longest a client may take to send a whole request (headers and body). @default 30000 */
  receiveTimeoutMs?: number;
  /** Open connections at most; more are closed as they arrive. @default 1000 */
  maxConnections?: number;
  /** Allow the dashboard's write actions (with the bearer token). @default false */
  uiWrite?: boolean;
  /**
   * Shutdown gate: once `begin()` is called every new request gets 503 SHUTTING_DOWN (with
   * `Connection: close`) while the listener stays open; `kq api` opens it on SIGTERM, waits
   * SHUTDOWN_DRAIN_MS, then closes the app. @default a gate opened by `app.close()`
   */
  shutdown?: ShutdownGate;
  /** Open `GET /jobs/:id/events` streams at most; more get 503 OVERLOADED with Retry-After. @default 1000 */
  maxEventStreams?: number;
  /** A pino logger, or false for none (tests). @default false */
  logger?: Logger | false;
  /** OpenTelemetry traces (src/tracing/load-tracing.ts); its owner shuts it down. @default undefined (off) */
  tracing?: Tracing;
  /**
   * The handlers module's schedules (`loadSchedules`), applied at start (retried until Redis answers);
   * undefined = leave schedules alone. @default undefined
   */
  schedules?: readonly PreparedSchedule[];
}

export interface ShutdownGate {
  readonly closing: boolean;
  begin(): void;
  /** Calls `listener` once when `begin()` is called; returns a function that removes it. */
  onBegin?(listener: () => void): () => void;
}

/** @example const gate = createShutdownGate(); process.on('SIGTERM', () => gate.begin()); */
export function createShutdownGate(): ShutdownGate {
  let closing = false;
  const listeners = new Set<() => void>();
  return {
    get closing() {
      return closing;
    },
    begin() {
      closing = true;
      for (const l of [...listeners]) l();
      listeners.clear();
    },
    onBegin(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

const REQUEST_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * Request ids: a caller's valid `x-request-id`, else `<8 hex chars of this process>-<counter>`: unique
 * across replicas and restarts for log correlation, and cheaper than a UUID per request.
 */
function requestIds(): (req: { headers: Record<string, string | string[] | undefined> }) => string {
  const boot = randomBytes(4).toString('hex');
  let n = 0;
  return (req) => {
    const given = req.headers['x-request-id'];
    return typeof given === 'string' && REQUEST_ID.test(given) ? given : `${boot}-${(++n).toString(36)}`;
  };
}

/** Strips `?token=` from logged URLs: a token must never reach a log line. */
function redactTokenInUrl(url: string): string {
  if (!url.includes('?')) return url;
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
  if ((o.writeReplicas ?? 0) > 0 && redisMode(o.redisUrl) === 'cluster') {
    // WAIT answers for the one node it reaches; each shard's replicas would need their own.
    throw new ConfigError(
      `Invalid WRITE_REPLICAS (flag --write-replicas): ${o.writeReplicas} is not supported with a redis+cluster:// REDIS_URL yet; use 0 there (docs/ha.md).`,
      { option: 'write-replicas', value: String(o.writeReplicas) },
    );
  }
  const prefix = o.prefix ?? 'bull';
  const bodyLimit = o.bodyLimit ?? 1_048_576;
  const requestTimeoutMs = o.requestTimeoutMs ?? 5000;
  const receiveTimeoutMs = o.receiveTimeoutMs ?? 30_000;
  const headersTimeoutMs = Math.min(o.headersTimeoutMs ?? 10_000, receiveTimeoutMs);
  const app = Fastify({
    ...(o.logger ? { loggerInstance: apiLogger(o.logger) } : { logger: false }),
    bodyLimit,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: false,
    requestIdHeader: false,
    genReqId: requestIds(),
    // No child logger per request (it was a pino child and a bindings object per request): the lines
    // kq writes for a request carry its `reqId` themselves (below, and in errors.ts).
    childLoggerFactory: (logger) => logger,
    // Receiving a request is bounded (headers, then the whole request) and checked every second (Node's
    // default is every 30 s, which made a 30 s timeout fire after 62-87 s); the 408 then destroys the
    // socket (hardening.ts). Slow or silent clients cannot hold a socket for long.
    requestTimeout: receiveTimeoutMs,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true } },
    ...hardeningOptions({ headersTimeoutMs }),
    // Fastify's own request lines are off: kq writes one per request (onResponse below).
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance;
  // Node closes connections past this at once (before any byte is read): 5,000 silent sockets no longer
  // hold 5,000 descriptors.
  app.server.maxConnections = o.maxConnections ?? 1000;
  const onRedisError = throttleErrors((err) =>
    app.log.warn({ event: 'redis.unavailable', err: err.message }, `Redis: ${err.message} (retrying)`),
  );
  const redis = createRedis(o.redisUrl, {
    kind: 'fail-fast',
    ...(o.redisAuth ? { auth: o.redisAuth } : {}),
    commandTimeoutMs: requestTimeoutMs,
    onError: onRedisError,
  });
  // Job submissions have a connection of their own, without ioredis' per-command timer (~10 % of the
  // CPU per stored job, docs/performance.md): every submission is bounded as a whole instead (by the
  // guard, or by the coalescer's timer per batch: submit.ts). Other work (dashboard, metrics, lookups)
  // keeps the timed connection, and submissions do not queue behind it.
  const ingest = createRedis(o.redisUrl, {
    kind: 'fail-fast',
    ...(o.redisAuth ? { auth: o.redisAuth } : {}),
    commandTimeoutMs: null,
    onError: onRedisError,
  });
  const guard = createRedisGuard([redis, ingest], requestTimeoutMs);
  const queues = createQueueCache(redis, prefix);
  const ingestQueues = createQueueCache(ingest, prefix);
  const directory = createQueueDirectory({
    redis,
    prefix,
    declared: o.jobs.queues(),
    maxQueues: o.maxQueues,
    pattern: o.queuePattern === undefined ? QUEUE_NAME_RULE.re : o.queuePattern,
  });
  const reads = createQueueReads({ redis, prefix, directory, guard });
  const producer = createProducer({
    queues: ingestQueues,
    directory,
    guard,
    timeoutMs: requestTimeoutMs,
    maxInFlightJobs: o.maxInflightJobs,
    maxInFlightBytes: o.maxInflightBytes,
    ...(o.writeReplicas ? { writeReplicas: o.writeReplicas } : {}),
    ...(o.coalesce === false ? { coalesce: false } : {}),
  });
  const gate = o.shutdown ?? createShutdownGate();
  // Waiters and event streams end when shutdown begins; preClose covers a gate without onBegin.
  const closingListeners = new Set<() => void>();
  const closeWaiters = () => {
    for (const l of [...closingListeners]) l();
    closingListeners.clear();
  };
  gate.onBegin?.(closeWaiters);
  const events = createJobEvents({
    redis,
    prefix,
    // No per-command timeout on `ingest`, so the readers' blocking XREAD (a duplicate of it) is not cut short.
    connection: ingest,
  });
  const maxStreams = o.maxEventStreams ?? 1000;
  const held = {
    streams: createHeldRequests({ limit: maxStreams, refuse: () => tooManyStreams(maxStreams) }),
    waiters: createHeldRequests(),
  };
  const ctx: ApiContext = {
    jobs: o.jobs,
    queues,
    redis,
    prefix,
    directory,
    reads,
    guard,
    submitter: createSubmitter({ queues, jobs: o.jobs, redis, guard, producer, tracing: o.tracing }),
    isClosing: () => gate.closing,
    liveness: watchRedisLiveness({ connections: [redis, ingest], timeoutMs: o.redisLivenessTimeoutMs ?? 0 }),
    livenessTimeoutMs: o.redisLivenessTimeoutMs ?? 0,
    events,
    onClosing(listener) {
      if (gate.closing) {
        queueMicrotask(listener);
        return () => undefined;
      }
      closingListeners.add(listener);
      return () => closingListeners.delete(listener);
    },
    held,
  };

  installErrorHandling(app, bodyLimit);
  installJsonParsing(app, bodyLimit);
  // One onSend hook: a keep-alive connection that carried an in-flight request must not keep the server
  // open after shutdown began, and a 413's body is drained before its socket closes (oversize-body.ts).
  const drainOversize = createOversizeDrain({ maxBytes: 8 * bodyLimit, maxMs: receiveTimeoutMs });
  app.addHook('onSend', (request, reply, payload, done) => {
    if (gate.closing) reply.header('connection', 'close');
    if (reply.statusCode === 413) drainOversize(request, reply);
    done(null, payload);
  });
  // First among the hooks, so a request refused by the gate or auth still gets its span.
  o.tracing?.instrumentHttp(app);
  // One onRequest and one onResponse hook for everything kq does per request (each hook is a step in
  // Fastify's pipeline for every request; callback style, so no promise per hook). In order: the
  // shutdown gate, the Host check, auth, then the body budget (a refused request reserves nothing).
  const shuttingDown = new KqError('SHUTTING_DOWN', 'The API is shutting down; retry on another replica.');
  const auth = o.tokens ? createAuthCheck(o.tokens) : undefined;
  const budget = createBodyBudget({ maxBytes: o.maxInflightBytes ?? 16_777_216, bodyLimit });
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    if (gate.closing && request.url !== '/healthz') {
      reply.header('connection', 'close');
      sendError(request, reply, shuttingDown);
      return;
    }
    const refused = missingHost(request);
    if (refused) {
      sendError(request, reply, refused);
      return;
    }
    if (auth && !auth(request, reply)) return;
    if (budget.admit(request, reply)) done();
  });
  const metrics = createApiMetrics({ redis, reads });
  o.tracing?.registerMetrics(metrics.registry);
  const log = o.logger ? app.log : undefined;
  app.addHook('onResponse', (request, reply, done) => {
    metrics.observe(request, reply);
    if (log) {
      // One line per request, written when it is answered; Fastify's two lines per request (received,
      // completed) were a third of the API's CPU under load (docs/performance.md).
      const status = reply.statusCode;
      const durationMs = Math.round(reply.elapsedTime * 10) / 10;
      const url = redactTokenInUrl(request.url);
      const line = {
        event: 'http.request',
        reqId: request.id,
        method: request.method,
        url,
        status,
        durationMs,
        remoteAddress: request.ip,
      };
      if (status >= 500) log.error(line, 'request failed');
      else log.info(line, 'request');
    }
    done();
  });

  await registerOpenApi(app, o.jobs, o.tokens !== null);
  healthRoutes(app, ctx);
  metricsRoutes(app, metrics);
  jobRoutes(app, ctx);
  flowRoutes(app, ctx);
  jobEventRoutes(app, ctx);
  queueRoutes(app, ctx);
  scheduleRoutes(app, ctx);
  await seedRoutes(app, ctx);
  await registerDocsUi(app);
  await registerDashboard(app, { queues, directory, guard, write: o.uiWrite ?? false });

  // For tests and diagnostics: how many readers and subscriptions the waiters hold, and how many
  // streams and waiters are open.
  app.decorate('kqJobEvents', events);
  app.decorate('kqHeld', held);
  app.addHook('preClose', async () => {
    gate.begin();
    closeWaiters();
  });
  const schedules = o.schedules
    ? keepSchedulesApplied({
        queues,
        directory,
        guard,
        declared: o.schedules,
        ...(o.logger ? { log: o.logger } : {}),
      })
    : undefined;
  app.addHook('onClose', async () => {
    schedules?.close();
    ctx.liveness.close();
    await events.close();
    await Promise.all([queues.close(), ingestQueues.close()]);
    await Promise.all([closeRedis(redis), closeRedis(ingest)]);
    metrics.close();
  });
  return app;
}
