/** `kq keda-scaler`: KEDA's external (push) scaler for kq's queues: the runnable backlog, pushed at once. */

import type { Command } from '../cli.js';
import { formatHelp, parseOptions, redisAuth } from '../config.js';
import { loadScalerTls, scalerOptionSpecs } from '../keda-scaler/options.js';
import { createKedaScaler } from '../keda-scaler/server.js';
import { anyAddress } from '../listen-address.js';
import { createLogger, redactUrl } from '../log.js';

const summary = 'Serve KEDA’s external-push scaler gRPC API: runnable backlog, activation pushed at once';

export const command: Command = {
  summary,
  async run(argv, env) {
    const { values: o, help } = parseOptions(scalerOptionSpecs, argv, env);
    if (help) {
      process.stdout.write(formatHelp('Usage: kq keda-scaler [options]', summary, scalerOptionSpecs));
      return 0;
    }
    const tls = loadScalerTls(o);
    const log = createLogger({ component: 'keda-scaler' });
    const host = o.bindAddress || (tls ? anyAddress() : '127.0.0.1');
    if (!tls) {
      log.warn(
        { event: 'keda-scaler.plaintext', host },
        'no --tls-cert-file: plaintext gRPC; use TLS (and --client-ca-file) anywhere but loopback',
      );
    }
    const scaler = await createKedaScaler({
      redisUrl: o.redisUrl,
      redisAuth: redisAuth(o),
      redisLivenessTimeoutMs: o.redisLivenessTimeoutMs,
      port: o.port,
      host,
      ...(tls ? { tls } : {}),
      healthPort: o.healthPort,
      redisTimeoutMs: o.redisTimeoutMs,
      pollMs: o.pollMs,
      log,
    }).catch((err: NodeJS.ErrnoException) => {
      process.stderr.write(
        `kq keda-scaler: cannot listen (${err.code ?? err.message}); check --port ${o.port} and --health-port ${o.healthPort}.\n`,
      );
      return undefined;
    });
    if (!scaler) return 1;
    log.info(
      {
        event: 'keda-scaler.listening',
        port: scaler.port,
        healthPort: scaler.healthPort,
        host,
        tls: tls ? (tls.clientCa ? 'mutual' : 'server') : 'none',
        redis: redactUrl(o.redisUrl),
      },
      `serving externalscaler.ExternalScaler on ${host}:${scaler.port}`,
    );
    await new Promise<void>((resolve) => {
      const stop = (signal: NodeJS.Signals) => {
        log.info({ event: 'keda-scaler.stopping', signal }, `${signal}: closing`);
        resolve();
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    await scaler.close();
    log.info({ event: 'keda-scaler.stopped' }, 'stopped');
    return 0;
  },
};
