/** `kq api` options: one declaration each, shared by the CLI, the container env and docs/api.md. */

import {
  boolOption,
  enumOption,
  intOption,
  type OptionSpec,
  type OptionValues,
  prefixOption,
  QUEUE_NAME_RULE,
  redisAuthOptions,
  redisLivenessOption,
  redisUrlOption,
  stringOption,
} from '../config.js';

/** A regular expression option, anchored (`^(?:...)$`); `none` = no name matches. */
function regexOption(flag: string, env: string[], def: RegExp, doc: string): OptionSpec<RegExp | null> {
  return {
    flag,
    env,
    default: def,
    doc,
    rule: 'must be a valid regular expression (JavaScript syntax), or "none"',
    parse(raw) {
      if (raw === 'none') return null;
      try {
        return new RegExp(`^(?:${raw})$`);
      } catch {
        return undefined;
      }
    },
  };
}

export const apiOptionSpecs = {
  port: intOption('port', ['PORT'], 8080, 0, 65535, 'HTTP port'),
  host: stringOption(
    'host',
    ['HOST'],
    '',
    'address to listen on; empty = every address (:: where the machine has IPv6, else 0.0.0.0)',
  ),
  redisUrl: redisUrlOption(),
  ...redisAuthOptions(),
  redisLivenessTimeoutMs: redisLivenessOption(),
  prefix: prefixOption(),
  handlers: stringOption(
    'handlers',
    ['HANDLERS'],
    '',
    'JavaScript module exporting job definitions; empty = demo jobs',
  ),
  tokens: stringOption('api-tokens', ['API_TOKENS'], '', 'comma-separated bearer tokens'),
  tokensFile: stringOption('api-tokens-file', ['API_TOKENS_FILE'], '', 'file with one token per line'),
  auth: enumOption('auth', ['AUTH'], 'token', ['token', 'none'] as const, '"none" turns auth off explicitly'),
  noAuth: boolOption('no-auth', [], false, 'same as AUTH=none'),
  bodyLimit: intOption(
    'body-limit',
    ['BODY_LIMIT'],
    1_048_576,
    1024,
    104_857_600,
    'largest request body, bytes',
  ),
  requestTimeoutMs: intOption(
    'request-timeout-ms',
    ['REQUEST_TIMEOUT_MS'],
    5000,
    100,
    600_000,
    'longest a request waits on Redis before a 503',
  ),
  headersTimeoutMs: intOption(
    'headers-timeout-ms',
    ['HEADERS_TIMEOUT_MS'],
    10_000,
    1000,
    600_000,
    'longest a client may take to send the request headers (408, socket closed)',
  ),
  receiveTimeoutMs: intOption(
    'receive-timeout-ms',
    ['RECEIVE_TIMEOUT_MS'],
    30_000,
    1000,
    600_000,
    'longest a client may take to send a whole request (408, socket closed)',
  ),
  maxConnections: intOption(
    'max-connections',
    ['MAX_CONNECTIONS'],
    1000,
    1,
    1_000_000,
    'open connections at most; more are closed as they arrive',
  ),
  shutdownDrainMs: intOption(
    'shutdown-drain-ms',
    ['SHUTDOWN_DRAIN_MS'],
    5000,
    0,
    120_000,
    'on SIGTERM: answer new requests 503 SHUTTING_DOWN this long before the listener closes',
  ),
  uiWrite: boolOption(
    'ui-write',
    ['UI_WRITE'],
    false,
    "allow the dashboard's write actions (retry, remove, empty...), with the bearer token only",
  ),
  writeReplicas: intOption(
    'write-replicas',
    ['WRITE_REPLICAS'],
    0,
    0,
    10,
    'answer 202 only once this many replicas hold the job (Redis WAIT); 0 = once the primary has it (docs/ha.md)',
  ),
  maxQueues: intOption(
    'max-queues',
    ['MAX_QUEUES'],
    1000,
    1,
    1_000_000,
    'most queues in the queue directory for the API to create one more (QUEUE_PATTERN)',
  ),
  queuePattern: regexOption(
    'queue-pattern',
    ['QUEUE_PATTERN'],
    QUEUE_NAME_RULE.re,
    "regular expression (anchored): new queues the API may create, up to MAX_QUEUES; 'none' = only the job types' and registered queues",
  ),
  maxInflightJobs: intOption(
    'max-inflight-jobs',
    ['MAX_INFLIGHT_JOBS'],
    5000,
    1,
    1_000_000,
    'jobs waiting on Redis at most; more are refused at once with 503 (nothing stored)',
  ),
  maxInflightBytes: intOption(
    'max-inflight-bytes',
    ['MAX_INFLIGHT_BYTES'],
    16_777_216,
    1024,
    1_073_741_824,
    'request bytes waiting on Redis at most; more are refused at once with 503 (nothing stored)',
  ),
  ingestCoalescing: enumOption(
    'ingest-coalescing',
    ['INGEST_COALESCING'],
    'on',
    ['on', 'off'] as const,
    'on: jobs submitted in the same event-loop turn go to Redis in one pipeline per queue; off: each job on its own',
  ),
  maxEventStreams: intOption(
    'max-event-streams',
    ['MAX_EVENT_STREAMS'],
    1000,
    1,
    1_000_000,
    'open GET /jobs/:id/events streams at most per process; more get 503 OVERLOADED with Retry-After',
  ),
};

export type ApiOptions = OptionValues<typeof apiOptionSpecs>;
