/**
 * `kq metrics-adapter` options. The TLS and request-header flags keep the names Kubernetes API servers use
 * (`--secure-port`, `--tls-cert-file`, `--requestheader-client-ca-file`, ...), so manifests read as usual.
 * `loadAdapterFiles` turns the file options into PEM text at start-up, failing with a ConfigError that
 * names the option and the path, never later on the first request.
 */

import {
  boolOption,
  intOption,
  type OptionSpec,
  type OptionValues,
  prefixOption,
  redisAuthOptions,
  redisLivenessOption,
  redisUrlOption,
  stringOption,
} from '../../config.js';
import { ConfigError } from '../../errors.js';
import { CERT_PEM, KEY_PEM, readPem } from '../../pem-files.js';

const NAME_RE = /^[^\s,]+$/;

function listOption(flag: string, env: string[], doc: string): OptionSpec<string[]> {
  return {
    flag,
    env,
    default: [],
    doc,
    rule: 'must be a comma-separated list of certificate common names, e.g. front-proxy-client',
    parse(raw) {
      const names = raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      return names.every((n) => NAME_RE.test(n)) ? names : undefined;
    },
  };
}

export const adapterOptionSpecs = {
  securePort: intOption(
    'secure-port',
    ['SECURE_PORT'],
    6443,
    0,
    65535,
    'HTTPS port for the external metrics API, /healthz and /readyz (0 = any free port)',
  ),
  bindAddress: stringOption(
    'bind-address',
    ['BIND_ADDRESS'],
    '',
    'address to listen on; empty = every address (:: where the machine has IPv6, else 0.0.0.0)',
    {
      re: /^$|^[0-9A-Fa-f.:]+$|^localhost$/,
      rule: 'must be an IP address such as 0.0.0.0, 127.0.0.1 or ::',
    },
  ),
  tlsCertFile: stringOption(
    'tls-cert-file',
    ['TLS_CERT_FILE'],
    '',
    'PEM serving certificate (chain); empty = a self-signed pair generated at start-up',
  ),
  tlsPrivateKeyFile: stringOption(
    'tls-private-key-file',
    ['TLS_PRIVATE_KEY_FILE'],
    '',
    'PEM private key of --tls-cert-file',
  ),
  requestheaderClientCaFile: stringOption(
    'requestheader-client-ca-file',
    ['REQUESTHEADER_CLIENT_CA_FILE'],
    '',
    'CA that signs the aggregator’s front-proxy client certificate (from kube-system/extension-apiserver-authentication)',
  ),
  requestheaderAllowedNames: listOption(
    'requestheader-allowed-names',
    ['REQUESTHEADER_ALLOWED_NAMES'],
    'client certificate common names allowed to call (empty = any name signed by the CA)',
  ),
  insecureNoClientAuth: boolOption(
    'insecure-no-client-auth',
    ['INSECURE_NO_CLIENT_AUTH'],
    false,
    'DEV ONLY: serve anyone without a client certificate when no request-header CA is set',
  ),
  redisUrl: redisUrlOption(),
  ...redisAuthOptions(),
  redisLivenessTimeoutMs: redisLivenessOption(),
  prefix: prefixOption(),
  redisTimeoutMs: intOption(
    'redis-timeout-ms',
    ['REDIS_TIMEOUT_MS'],
    1000,
    50,
    10_000,
    'bound on reading the counts from Redis; past it the request gets 503',
  ),
};

export type AdapterOptionValues = OptionValues<typeof adapterOptionSpecs>;

/** PEM material the server needs, read from the files named by the options. */
export interface AdapterFiles {
  /** Serving pair; undefined = generate a self-signed one. */
  serving?: { cert: string; key: string };
  /** Request-header CA bundle; undefined only with `insecureNoClientAuth`. */
  requestheaderCa?: string;
}

/**
 * Reads and checks the PEM files. Refuses to run without a request-header CA unless the insecure dev flag
 * says so: an adapter that anyone can query would leak queue names and sizes to the whole cluster network.
 * @example const files = loadAdapterFiles(values);
 */
export function loadAdapterFiles(o: AdapterOptionValues): AdapterFiles {
  if (Boolean(o.tlsCertFile) !== Boolean(o.tlsPrivateKeyFile)) {
    const missing = o.tlsCertFile ? 'tls-private-key-file' : 'tls-cert-file';
    throw new ConfigError(
      `--tls-cert-file and --tls-private-key-file go together: --${missing} is missing. Give both, or neither for a self-signed pair.`,
      { option: missing },
    );
  }
  const files: AdapterFiles = {};
  if (o.tlsCertFile) {
    files.serving = {
      cert: readPem('tls-cert-file', 'TLS_CERT_FILE', o.tlsCertFile, CERT_PEM),
      key: readPem('tls-private-key-file', 'TLS_PRIVATE_KEY_FILE', o.tlsPrivateKeyFile, KEY_PEM),
    };
  }
  if (o.requestheaderClientCaFile) {
    files.requestheaderCa = readPem(
      'requestheader-client-ca-file',
      'REQUESTHEADER_CLIENT_CA_FILE',
      o.requestheaderClientCaFile,
      CERT_PEM,
    );
  } else if (!o.insecureNoClientAuth) {
    throw new ConfigError(
      '--requestheader-client-ca-file (env REQUESTHEADER_CLIENT_CA_FILE) is required: without it any client could read the metrics. Copy the CA from kube-system/extension-apiserver-authentication (see docs/metrics-adapter.md), or pass --insecure-no-client-auth for local development only.',
      { option: 'requestheader-client-ca-file' },
    );
  }
  if (o.insecureNoClientAuth && o.requestheaderClientCaFile) {
    throw new ConfigError(
      '--insecure-no-client-auth conflicts with --requestheader-client-ca-file: drop one of them.',
      { option: 'insecure-no-client-auth' },
    );
  }
  if (o.requestheaderAllowedNames.length && !o.requestheaderClientCaFile) {
    throw new ConfigError(
      '--requestheader-allowed-names needs --requestheader-client-ca-file: names are checked on certificates signed by that CA.',
      { option: 'requestheader-allowed-names' },
    );
  }
  return files;
}
