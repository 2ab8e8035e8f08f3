/** `kq api` options: one declaration each, shared by the CLI, the container env and docs/api.md. */
import {
  boolOption,
  enumOption,
  intOption,
  type OptionValues,
  prefixOption,
  redisUrlOption,
  stringOption,
} from '../config.js';

export const apiOptionSpecs = {
  port: intOption('port', ['PORT'], 8080, 0, 65535, 'HTTP port'),
  host: stringOption('host', ['HOST'], '0.0.0.0', 'address to listen on'),
  redisUrl: redisUrlOption(),
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
};

export type ApiOptions = OptionValues<typeof apiOptionSpecs>;
