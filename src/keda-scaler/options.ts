/**
 * `kq keda-scaler` options. TLS flags keep the names of `kq metrics-adapter` (and of Kubernetes servers);
 * `--client-ca-file` turns on client-certificate checks, as KEDA's `tlsClientCert` / `tlsClientKey`
 * expect. `loadScalerTls` reads the PEM files at start-up, failing with a ConfigError that names the
 * option and the path, never later on the first call.
 */

import {
  intOption,
  type OptionValues,
  redisAuthOptions,
  redisLivenessOption,
  redisUrlOption,
  stringOption,
} from '../config.js';
import { ConfigError } from '../errors.js';
import { CERT_PEM, KEY_PEM, readPem } from '../pem-files.js';

export const scalerOptionSpecs = {
  port: intOption('port', ['SCALER_PORT'], 9090, 0, 65535, 'gRPC port KEDA calls (0 = any free port)'),
  bindAddress: stringOption(
    'bind-address',
    ['BIND_ADDRESS'],
    '',
    'address to listen on; empty = every address with TLS (:: where the machine has IPv6, else 0.0.0.0), 127.0.0.1 without (plaintext is for loopback use)',
    { re: /^$|^[0-9A-Fa-f.:]+$|^localhost$/, rule: 'must be an IP address such as 0.0.0.0, 127.0.0.1 or ::' },
  ),
  tlsCertFile: stringOption(
    'tls-cert-file',
    ['TLS_CERT_FILE'],
    '',
    'PEM serving certificate (chain); empty = plaintext gRPC',
  ),
  tlsPrivateKeyFile: stringOption(
    'tls-private-key-file',
    ['TLS_PRIVATE_KEY_FILE'],
    '',
    'PEM private key of --tls-cert-file',
  ),
  clientCaFile: stringOption(
    'client-ca-file',
    ['CLIENT_CA_FILE'],
    '',
    'PEM CA that signs KEDA’s client certificate (tlsClientCert); set = clients without one are refused',
  ),
  healthPort: intOption(
    'health-port',
    ['HEALTH_PORT'],
    8081,
    0,
    65535,
    'HTTP port for /healthz, /readyz and /metrics (0 = any free port)',
  ),
  redisUrl: redisUrlOption(),
  ...redisAuthOptions(),
  redisLivenessTimeoutMs: redisLivenessOption(),
  redisTimeoutMs: intOption(
    'redis-timeout-ms',
    ['REDIS_TIMEOUT_MS'],
    1000,
    50,
    10_000,
    'bound on one backlog read; past it KEDA gets UNAVAILABLE',
  ),
  pollMs: intOption(
    'poll-ms',
    ['SCALER_POLL_MS'],
    5000,
    100,
    600_000,
    'safety re-read of each watched queue, for changes no BullMQ event announces',
  ),
};

export type ScalerOptionValues = OptionValues<typeof scalerOptionSpecs>;

export interface ScalerTls {
  cert: string;
  key: string;
  /** Set = client certificates required and checked against it. */
  clientCa?: string;
}

/** @example const tls = loadScalerTls(values); // undefined = plaintext */
export function loadScalerTls(o: ScalerOptionValues): ScalerTls | undefined {
  if (Boolean(o.tlsCertFile) !== Boolean(o.tlsPrivateKeyFile)) {
    const missing = o.tlsCertFile ? 'tls-private-key-file' : 'tls-cert-file';
    throw new ConfigError(
      `--tls-cert-file and --tls-private-key-file go together: --${missing} is missing. Give both for TLS, or neither for plaintext.`,
      { option: missing },
    );
  }
  if (!o.tlsCertFile) {
    if (o.clientCaFile) {
      throw new ConfigError(
        '--client-ca-file needs --tls-cert-file and --tls-private-key-file: client certificates are only checked over TLS.',
        { option: 'client-ca-file', value: o.clientCaFile },
      );
    }
    return undefined;
  }
  return {
    cert: readPem('tls-cert-file', 'TLS_CERT_FILE', o.tlsCertFile, CERT_PEM),
    key: readPem('tls-private-key-file', 'TLS_PRIVATE_KEY_FILE', o.tlsPrivateKeyFile, KEY_PEM),
    ...(o.clientCaFile
      ? { clientCa: readPem('client-ca-file', 'CLIENT_CA_FILE', o.clientCaFile, CERT_PEM) }
      : {}),
  };
}
