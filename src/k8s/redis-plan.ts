/**
 * Which Redis kq's manifests point at: the in-cluster one (a single pod, or the Sentinel set) or the one
 * `--redis-url` names (one Redis, Sentinels or a Cluster), from `--redis-mode` and `--redis-url`. Every
 * inconsistent combination is a ConfigError naming the option, the value and the rule.
 */
import { ConfigError } from '../errors.js';
import { redactUrl } from '../log.js';
import { parseRedisUrl, type RedisMode, type RedisNode, RedisUrlError } from '../queue/redis-url.js';
import type { ManifestOptions } from './options.js';

/** `--redis-mode` values; `auto` follows `--redis-url`. */
export const REDIS_MODES = ['auto', 'standalone', 'sentinel', 'external', 'cluster'] as const;

/** The parsed external Redis, or undefined for the in-cluster one. */
export interface ExternalRedis {
  topology: RedisMode;
  /** The one data node (standalone), the Sentinels, or the Cluster's seed nodes. */
  nodes: RedisNode[];
  /** Sentinel topology: the monitored master's name. */
  masterName?: string;
  /** Database index (always 0 on a Cluster). */
  db: number;
  tls: boolean;
}

/** Where kq's Redis comes from: rendered in the cluster (one pod, or a Sentinel set) or `--redis-url`. */
export interface RedisPlan {
  external: ExternalRedis | undefined;
  /** The in-cluster Sentinel set (3 Redis + 3 Sentinels) instead of the single Redis. */
  sentinel: boolean;
}

function modeError(o: ManifestOptions, rule: string): ConfigError {
  return new ConfigError(`Invalid --redis-mode ${JSON.stringify(o.redisMode)}: ${rule}`, {
    option: 'redis-mode',
    value: o.redisMode,
    rule,
  });
}

/** The Redis part of `checkManifestOptions`. */
export function checkRedisOptions(o: ManifestOptions): RedisPlan {
  const mode = o.redisMode;
  if (!o.redisUrl) {
    if (mode === 'external' || mode === 'cluster') {
      throw modeError(
        o,
        mode === 'cluster'
          ? 'kq renders no in-cluster Redis Cluster; run one (or a managed one) and pass --redis-url redis+cluster://host1:6379,host2:6379 (rediss+cluster:// for TLS).'
          : 'needs --redis-url, e.g. --redis-url redis://redis.example:6379/0 or redis+sentinel://s1:26379,s2:26379/mymaster.',
      );
    }
    if (!o.redisPassword) {
      throw new ConfigError(
        '--no-redis-password needs --redis-url: the in-cluster Redis always requires its password.',
        { option: 'redis-password' },
      );
    }
    if (o.redisSentinelPassword) {
      throw new ConfigError(
        '--redis-sentinel-password needs --redis-url redis+sentinel://...: the in-cluster Sentinels use the password of Secret kq-redis (key password).',
        { option: 'redis-sentinel-password' },
      );
    }
    return { external: undefined, sentinel: mode === 'sentinel' };
  }
  if (mode === 'standalone' || mode === 'sentinel') {
    throw modeError(
      o,
      `renders an in-cluster Redis and conflicts with --redis-url; drop --redis-url, or use --redis-mode external for the Redis it names.`,
    );
  }
  const external = parseExternalUrl(o.redisUrl);
  if (mode === 'cluster' && external.topology !== 'cluster') {
    throw modeError(o, 'needs a redis+cluster:// (or rediss+cluster://) --redis-url.');
  }
  if (o.redisSentinelPassword && external.topology !== 'sentinel') {
    throw new ConfigError(
      '--redis-sentinel-password needs a redis+sentinel:// (or rediss+sentinel://) --redis-url.',
      { option: 'redis-sentinel-password' },
    );
  }
  return { external, sentinel: false };
}

function parseExternalUrl(url: string): ExternalRedis {
  // Redacted: the rejected URL may hold the very password this check keeps out of the output.
  const shown = redactUrl(url);
  const bad = (rule: string) =>
    new ConfigError(`Invalid --redis-url ${JSON.stringify(shown)}: ${rule}`, {
      option: 'redis-url',
      value: shown,
      rule,
    });
  let t: ReturnType<typeof parseRedisUrl>;
  try {
    t = parseRedisUrl(url);
  } catch (err) {
    if (!(err instanceof RedisUrlError)) throw err;
    throw bad(
      `${err.message}; use redis://host:6379/0, redis+sentinel://h1:26379,h2:26379/<master> or redis+cluster://h1:6379,h2:6379 (rediss... for TLS).`,
    );
  }
  const authority = url.slice(url.indexOf('//') + 2).split(/[/?#]/)[0] ?? '';
  if (authority.includes('@')) {
    throw bad(
      'must not contain a user or password: manifests would show it in plain text. Put the password in Secret kq-redis (key password); kq adds it to REDIS_URL in the pod.',
    );
  }
  if (/[?#]/.test(url)) throw bad('must not have a query or fragment.');
  const nodes =
    t.mode === 'standalone' ? [hostPort(url.slice(url.indexOf('//') + 2).split('/')[0] ?? '')] : t.nodes;
  return {
    topology: t.mode,
    nodes,
    ...(t.masterName ? { masterName: t.masterName } : {}),
    db: t.db ?? 0,
    tls: t.tls,
  };
}

/** The one node of a standalone URL (parseRedisUrl has checked its shape). */
function hostPort(raw: string): RedisNode {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(raw);
  return { host: (m?.[1] ?? raw).replace(/^\[|\]$/g, ''), port: Number(m?.[2] ?? 6379) };
}
