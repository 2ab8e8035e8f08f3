/**
 * `kq api`: the HTTP API. Refuses to start without tokens unless auth is turned off explicitly.
 * SIGTERM/SIGINT: stop accepting, let in-flight requests finish, close Redis, exit 0.
 */

import { buildApp, createShutdownGate } from '../api/app.js';
import { readTokens } from '../api/auth.js';
import { apiOptionSpecs } from '../api/options.js';
import type { Command } from '../cli.js';
import { parseOptions, redisAuth } from '../config.js';
import { ConfigError } from '../errors.js';
import { loadSchedules } from '../jobs/define-schedule.js';
import { loadRegistry } from '../jobs/registry.js';
import { anyAddress } from '../listen-address.js';
import { createLogger, redactUrl } from '../log.js';
import { loadTracing } from '../tracing/load-tracing.js';
import { assertPortFree, portError } from './port-check.js';

const summary = 'Run the HTTP API (jobs, queues, metrics, /docs, /ui dashboard)';

export const command: Command = {
  summary,
  usage: 'kq api [options]',
  options: apiOptionSpecs,
  async run(argv, env) {
    const { values } = parseOptions(apiOptionSpecs, argv, env);
    const authOff = values.noAuth || values.auth === 'none';
    const tokens = readTokens(values.tokens, values.tokensFile);
    if (!authOff && tokens.length === 0) {
      throw new ConfigError(
        'No API tokens: set API_TOKENS (comma-separated) or API_TOKENS_FILE, e.g. API_TOKENS=$(openssl rand -hex 32); or turn auth off explicitly with --no-auth / AUTH=none (only behind another gate).',
        { option: 'api-tokens' },
      );
    }
    // Before Redis is connected: a busy port is a configuration error, not a Redis warning on the way out.
    const host = values.host || anyAddress();
    await assertPortFree(host, values.port);
    const log = createLogger({ component: 'api' });
    const jobs = await loadRegistry(values.handlers);
    // Schedules only from a handlers module: the demo jobs declare none, and must not remove any.
    const schedules = values.handlers ? await loadSchedules(values.handlers, jobs) : undefined;
    const shutdown = createShutdownGate();
    const tracing = await loadTracing(env, 'kq-api', log);
    const app = await buildApp({
      tracing,
      shutdown,
      redisUrl: values.redisUrl,
      redisAuth: redisAuth(values),
      prefix: values.prefix,
      jobs,
      tokens: authOff ? null : tokens,
      bodyLimit: values.bodyLimit,
      requestTimeoutMs: values.requestTimeoutMs,
      maxQueues: values.maxQueues,
      writeReplicas: values.writeReplicas,
      redisLivenessTimeoutMs: values.redisLivenessTimeoutMs,
      uiWrite: values.uiWrite,
      headersTimeoutMs: values.headersTimeoutMs,
      receiveTimeoutMs: values.receiveTimeoutMs,
      maxConnections: values.maxConnections,
      queuePattern: values.queuePattern,
      maxInflightJobs: values.maxInflightJobs,
      maxInflightBytes: values.maxInflightBytes,
      coalesce: values.ingestCoalescing === 'on',
      maxEventStreams: values.maxEventStreams,
      logger: log,
      ...(schedules ? { schedules } : {}),
    });
    try {
      await app.listen({ port: values.port, host });
    } catch (err) {
      // Taken between the check above and now.
      await app.close();
      throw portError(host, values.port, (err as NodeJS.ErrnoException).code);
    }
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : values.port;
    log.info(
      {
        event: 'api.listening',
        host,
        port,
        redis: redactUrl(values.redisUrl),
        prefix: values.prefix,
        auth: authOff ? 'none' : `${tokens.length} token(s)`,
        types: jobs.all.map((d) => d.name),
      },
      `API listening on http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    );
    if (authOff)
      log.warn(
        { event: 'api.auth-off' },
        'auth is OFF (--no-auth / AUTH=none): anyone who can reach this port can use the API',
      );
    return new Promise<number>((resolve) => {
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info(
          { event: 'api.stopping', signal, drainMs: values.shutdownDrainMs },
          `${signal}: new requests get 503 SHUTTING_DOWN for ${values.shutdownDrainMs} ms while endpoints drain, then the listener closes`,
        );
        // Phase 1 (drain): still listening, every new request answered 503 with Connection: close, so
        // clients and load balancers move on while Kubernetes removes the endpoint; no connection resets.
        shutdown.begin();
        const close = () => {
          // Phase 2: stop listening, let in-flight requests finish (bounded by REQUEST_TIMEOUT_MS), then
          // close whatever is left.
          setTimeout(() => app.server.closeAllConnections(), values.requestTimeoutMs + 5000).unref();
          return app.close();
        };
        new Promise((r) => setTimeout(r, values.shutdownDrainMs)).then(close).then(
          async () => {
            const flushed = await tracing?.shutdown();
            log.info({ event: 'api.stopped' }, 'API stopped');
            resolve(0);
            // An export to an unreachable collector would keep the process up until its timeout.
            if (flushed === false) setTimeout(() => process.exit(), 100).unref();
          },
          (err: Error) => {
            log.error({ event: 'api.close-failed', err: err.message }, 'close failed');
            resolve(1);
          },
        );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    });
  },
};
