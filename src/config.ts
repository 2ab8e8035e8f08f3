/**
 * Options: every setting of every command is declared once as an `OptionSpec` with its flag, its
 * environment variable(s), its default and its rule. `parseOptions` reads flags first, then env, then
 * the default, and fails fast with a message naming the option, the value and the rule.
 */
import { parseArgs as nodeParseArgs } from 'node:util';
import { ConfigError } from './errors.js';
import { redactUrl } from './log.js';
import { parseRedisUrl, REDIS_URL_RULE, type RedisAuth, RedisUrlError } from './queue/redis-url.js';

export interface OptionSpec<T> {
  /** Long flag without dashes, e.g. `concurrency` for `--concurrency`. */
  flag: string;
  /** Environment variables, first match wins (e.g. `REDIS_URL`, then the seed's `REDIS_CONNECTION_URL`). */
  env: readonly string[];
  default: T;
  /** One line for `--help` and the docs. */
  doc: string;
  /** The rule in words, used in error messages ("an integer from 1 to 1000"). */
  rule: string;
  /** Converts the raw string; returns `undefined` when the value breaks the rule. */
  parse(raw: string): T | undefined;
  /** A boolean flag takes no value (`--exit-when-empty`); `--no-<flag>` sets it false. */
  boolean?: boolean;
  /** Says which part of a rejected value is wrong, where `rule` alone would leave the reader guessing. */
  why?(raw: string): string | undefined;
  /** How a rejected value is shown in errors: secrets are redacted. @default JSON.stringify */
  display?(raw: string): string;
}

export type OptionSpecs = Record<string, OptionSpec<unknown>>;
export type OptionValues<S extends OptionSpecs> = {
  [K in keyof S]: S[K] extends OptionSpec<infer T> ? T : never;
};

export function intOption(
  flag: string,
  env: string[],
  def: number,
  min: number,
  max: number,
  doc: string,
): OptionSpec<number> {
  return {
    flag,
    env,
    default: def,
    doc,
    rule: `must be a whole number from ${min} to ${max}`,
    parse(raw) {
      if (!/^-?\d+$/.test(raw.trim())) return undefined;
      const n = Number(raw);
      return n >= min && n <= max ? n : undefined;
    },
  };
}

export function boolOption(flag: string, env: string[], def: boolean, doc: string): OptionSpec<boolean> {
  return {
    flag,
    env,
    default: def,
    doc,
    boolean: true,
    rule: 'must be 1, 0, true, false, yes or no',
    parse(raw) {
      const v = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
      return undefined;
    },
  };
}

export function stringOption(
  flag: string,
  env: string[],
  def: string,
  doc: string,
  pattern?: { re: RegExp; rule: string },
): OptionSpec<string> {
  return {
    flag,
    env,
    default: def,
    doc,
    rule: pattern?.rule ?? 'must be a string',
    parse: (raw) => (pattern && !pattern.re.test(raw) ? undefined : raw),
  };
}

export function enumOption<T extends string>(
  flag: string,
  env: string[],
  def: T,
  values: readonly T[],
  doc: string,
): OptionSpec<T> {
  return {
    flag,
    env,
    default: def,
    doc,
    rule: `must be one of ${values.join(', ')}`,
    parse: (raw) => (values.includes(raw as T) ? (raw as T) : undefined),
  };
}

/**
 * `REDIS_URL` for every command. `emptyMeans` (kq dev) lets it be unset: default '' and a doc saying what
 * that means; any URL given is checked by the same rule.
 */
export function redisUrlOption(o: { emptyMeans?: string } = {}): OptionSpec<string> {
  const why = (raw: string): string | undefined => {
    if (raw === '' && o.emptyMeans !== undefined) return undefined;
    try {
      parseRedisUrl(raw);
      return undefined;
    } catch (err) {
      if (err instanceof RedisUrlError) return err.message;
      throw err;
    }
  };
  return {
    flag: 'redis-url',
    env: ['REDIS_URL', 'REDIS_CONNECTION_URL'],
    default: o.emptyMeans === undefined ? 'redis://127.0.0.1:6379' : '',
    doc: `Redis URL: redis://, rediss://, redis+sentinel://h1:26379,h2:26379/<master>, redis+cluster://h1:6379,h2:6379 (see docs/ha.md); the seed’s REDIS_CONNECTION_URL is read too${o.emptyMeans ? `; unset = ${o.emptyMeans}` : ''}`,
    rule: REDIS_URL_RULE,
    why,
    display: (raw) => JSON.stringify(redactUrl(raw)),
    parse: (raw) => (why(raw) === undefined ? raw : undefined),
  };
}

/** Options for the data nodes' and the Sentinels' passwords; spread next to `redisUrlOption()`. */
export const redisAuthOptions = () => ({
  redisPassword: stringOption(
    'redis-password',
    ['REDIS_PASSWORD'],
    '',
    'password of the Redis data nodes (primary, replicas, cluster shards); overrides one in REDIS_URL',
  ),
  redisSentinelPassword: stringOption(
    'redis-sentinel-password',
    ['REDIS_SENTINEL_PASSWORD'],
    '',
    'password of the Sentinels themselves (redis+sentinel:// only)',
  ),
});

/**
 * How long Redis may be unusable before a long-running process' `/healthz` fails (src/queue/redis-liveness.ts).
 * 30 s = the manifests' liveness probe (period 10 s x failureThreshold 3): a stuck process is restarted
 * about a minute after it got stuck, while a Sentinel failover (2.5-5 s, docs/ha.md) never comes near it.
 */
export const redisLivenessOption = () =>
  intOption(
    'redis-liveness-timeout-ms',
    ['REDIS_LIVENESS_TIMEOUT_MS'],
    30_000,
    0,
    3_600_000,
    'Redis unusable (no connection, or no PING answer) longer than this = /healthz 503, so Kubernetes restarts the process; 0 = never',
  );

/** The `RedisAuth` that `createRedis` takes, from the values of `redisAuthOptions()`. */
export function redisAuth(v: { redisPassword: string; redisSentinelPassword: string }): RedisAuth {
  return {
    ...(v.redisPassword ? { password: v.redisPassword } : {}),
    ...(v.redisSentinelPassword ? { sentinelPassword: v.redisSentinelPassword } : {}),
  };
}

export const QUEUE_NAME_RULE = {
  re: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/,
  rule: 'must be 1-100 letters, digits, ".", "_" or "-", starting with a letter or digit',
};

export const queueOption = (): OptionSpec<string> =>
  stringOption('queue', ['QUEUE'], 'jobs', 'queue name', QUEUE_NAME_RULE);

export const prefixOption = (): OptionSpec<string> =>
  stringOption(
    'prefix',
    ['KQ_PREFIX'],
    'bull',
    'BullMQ key prefix; on Redis Cluster kq gives each queue its own hash tag (bull:{<queue>}:...)',
    {
      re: /^[A-Za-z0-9_{}.-]{1,50}$/,
      rule: 'must be 1-50 letters, digits, "_", "-", ".", "{" or "}"',
    },
  );

export interface ParsedArgs<S extends OptionSpecs> {
  values: OptionValues<S>;
  positionals: string[];
  help: boolean;
  /** The options given as flags (not from env or defaults). */
  given: ReadonlySet<keyof S>;
}

function describe(spec: OptionSpec<unknown>, source: string): string {
  const env = spec.env.length ? ` (env ${spec.env.join(' / ')})` : '';
  return source.startsWith('--') ? `${source}${env}` : `${source} (flag --${spec.flag})`;
}

function invalid(spec: OptionSpec<unknown>, source: string, raw: string): ConfigError {
  const why = spec.why?.(raw);
  const shown = spec.display ? spec.display(raw) : JSON.stringify(raw);
  return new ConfigError(
    `Invalid ${describe(spec, source)}: ${shown}${why ? ` (${why})` : ''} ${spec.rule}. Default: ${JSON.stringify(spec.default)}.`,
    { option: spec.flag, value: spec.display ? shown : raw, rule: spec.rule },
  );
}

/**
 * Parses `argv` (after the sub-command) and `env` against `specs`.
 * @example
 * const { values } = parseOptions({ concurrency: intOption('concurrency', ['CONCURRENCY'], 1, 1, 1000, '') }, ['--concurrency', '4'], {});
 */
export function parseOptions<S extends OptionSpecs>(
  specs: S,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  maxPositionals = 0,
): ParsedArgs<S> {
  const byFlag = new Map(Object.entries(specs).map(([key, spec]) => [spec.flag, key]));
  // Tokenising is node:util's; what a token means (negation, values that look like flags, the errors)
  // is kq's. `strict: false` so unknown options come back as tokens and get kq's message.
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const spec of Object.values(specs)) {
    options[spec.flag] = { type: spec.boolean ? 'boolean' : 'string' };
    if (spec.boolean && !byFlag.has(`no-${spec.flag}`)) options[`no-${spec.flag}`] = { type: 'boolean' };
  }
  const { tokens } = nodeParseArgs({
    args: [...argv],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const fromFlags = new Map<string, unknown>();
  const positionals: string[] = [];
  const shortAsPositional = new Set<number>();
  let help = false;
  for (const token of tokens) {
    if (token.kind === 'positional') {
      positionals.push(token.value);
      continue;
    }
    if (token.kind === 'option-terminator') continue;
    if (token.name === 'help') {
      help = true;
      continue;
    }
    // A single-dash word (`-1`, `-x`) is an argument to kq, as it always was: pass it on whole, once.
    if (!token.rawName.startsWith('--')) {
      if (!shortAsPositional.has(token.index)) positionals.push(argv[token.index] as string);
      shortAsPositional.add(token.index);
      continue;
    }
    let name = token.name;
    let negated = false;
    const negates = byFlag.get(name.slice(3));
    if (!byFlag.has(name) && name.startsWith('no-') && negates && specs[negates]?.boolean) {
      name = name.slice(3);
      negated = true;
    }
    const key = byFlag.get(name);
    if (!key) {
      const known = [...byFlag.keys()].map((f) => `--${f}`).join(', ');
      throw new ConfigError(`Unknown option --${name}. Known options: ${known || '(none)'}; see --help.`, {
        option: name,
      });
    }
    const spec = specs[key] as OptionSpec<unknown>;
    let raw: string;
    if (spec.boolean && token.value === undefined) raw = negated ? 'false' : 'true';
    else if (token.inlineValue) raw = token.value as string;
    else if (token.value === undefined || token.value.startsWith('--')) {
      throw new ConfigError(`Option --${name} needs a value: it ${spec.rule}.`, { option: name });
    } else raw = token.value;
    const value = spec.parse(raw);
    if (value === undefined) throw invalid(spec, `--${name}`, raw);
    fromFlags.set(key, value);
  }
  if (positionals.length > maxPositionals) {
    throw new ConfigError(
      `Unexpected argument ${JSON.stringify(positionals[maxPositionals])}: this command takes ${maxPositionals || 'no'} positional argument${maxPositionals === 1 ? '' : 's'}; see --help.`,
    );
  }
  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs)) {
    if (fromFlags.has(key)) {
      values[key] = fromFlags.get(key);
      continue;
    }
    const envName = spec.env.find((n) => env[n] !== undefined && env[n] !== '');
    if (envName !== undefined) {
      const raw = env[envName] as string;
      const value = spec.parse(raw);
      if (value === undefined) throw invalid(spec, envName, raw);
      values[key] = value;
    } else values[key] = spec.default;
  }
  return { values: values as OptionValues<S>, positionals, help, given: new Set(fromFlags.keys()) };
}

/** Renders the options table for `--help`. */
export function formatHelp(usage: string, summary: string, specs: OptionSpecs): string {
  const rows = Object.values(specs).map((s) => {
    const flag = s.boolean ? `--${s.flag}` : `--${s.flag} <value>`;
    const env = s.env.length ? s.env.join(', ') : '';
    return `  ${flag.padEnd(30)} ${env.padEnd(26)} ${s.doc} (default: ${JSON.stringify(s.default)})`;
  });
  return `${usage}\n\n${summary}\n\nOptions (flag, env, meaning):\n${rows.join('\n')}\n  --help, -h\n`;
}
