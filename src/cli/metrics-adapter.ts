/** `kq metrics-adapter`: serves the Kubernetes external metrics API for kq's queues (HPA without KEDA). */

import type { Command } from '../cli.js';
import { parseOptions, redisAuth } from '../config.js';
import { anyAddress } from '../listen-address.js';
import { createLogger, redactUrl } from '../log.js';
import { adapterOptionSpecs, loadAdapterFiles } from '../metrics/adapter/options.js';
import { createMetricsAdapter } from '../metrics/adapter/server.js';
import { selfSignedServingPair } from '../metrics/adapter/serving-cert.js';
import { closeRedis, createRedis, throttleErrors } from '../queue/connection.js';

const summary = 'Serve external.metrics.k8s.io (kq_queue_backlog, ...) so a plain HPA scales on queue length';

export const command: Command = {
  summary,
  usage: 'kq metrics-adapter [options]',
  options: adapterOptionSpecs,
  async run(argv, env) {
    const { values: o } = parseOptions(adapterOptionSpecs, argv, env);
    const files = loadAdapterFiles(o);
    const log = createLogger({ component: 'metrics-adapter' });
    let serving = files.serving;
    if (!serving) {
      const pair = selfSignedServingPair();
      serving = pair;
      log.warn(
        { event: 'metrics-adapter.self-signed-cert', sha256: pair.fingerprint },
        'no --tls-cert-file: serving a self-signed certificate generated at start-up (the APIService needs insecureSkipTLSVerify: true)',
      );
    }
    if (!files.requestheaderCa) {
      log.warn(
        { event: 'metrics-adapter.insecure-no-client-auth' },
        'INSECURE: --insecure-no-client-auth is set: any client can read the metrics; never use this in a cluster',
      );
    }
    const redis = createRedis(o.redisUrl, {
      kind: 'fail-fast',
      auth: redisAuth(o),
      commandTimeoutMs: o.redisTimeoutMs,
      onError: throttleErrors((err) =>
        log.warn({ event: 'redis.unavailable', err: err.message }, `Redis: ${err.message} (retrying)`),
      ),
    });
    const host = o.bindAddress || anyAddress();
    const adapter = await createMetricsAdapter({
      port: o.securePort,
      host,
      cert: serving.cert,
      key: serving.key,
      requestheaderCa: files.requestheaderCa,
      requestheaderAllowedNames: o.requestheaderAllowedNames,
      redis,
      prefix: o.prefix,
      redisTimeoutMs: o.redisTimeoutMs,
      redisLivenessTimeoutMs: o.redisLivenessTimeoutMs,
      log,
    }).catch(async (err: NodeJS.ErrnoException) => {
      await closeRedis(redis);
      process.stderr.write(
        `kq metrics-adapter: cannot listen on ${host}:${o.securePort} (${err.code ?? err.message}); choose another --secure-port.\n`,
      );
      return undefined;
    });
    if (!adapter) return 1;
    log.info(
      {
        event: 'metrics-adapter.listening',
        port: adapter.port,
        host,
        redis: redactUrl(o.redisUrl),
        prefix: o.prefix,
        clientAuth: files.requestheaderCa ? 'requestheader-ca' : 'none',
        allowedNames: o.requestheaderAllowedNames,
      },
      `serving external.metrics.k8s.io on https://${host.includes(':') ? `[${host}]` : host}:${adapter.port}`,
    );
    const code = await new Promise<number>((resolve) => {
      const stop = (signal: NodeJS.Signals) => {
        log.info({ event: 'metrics-adapter.stopping', signal }, `${signal}: closing`);
        adapter.close().then(() => resolve(0));
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    await closeRedis(redis);
    log.info({ event: 'metrics-adapter.stopped' }, 'stopped');
    return code;
  },
};
