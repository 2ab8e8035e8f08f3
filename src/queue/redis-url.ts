/**
 * `REDIS_URL` in its three topologies, parsed once into a `RedisTarget` that `createRedis` turns into an
 * ioredis connection:
 * - `redis://[user:pass@]host:port[/db]`, `rediss://` (TLS): one Redis, or a managed primary behind one name.
 * - `redis+sentinel://[user:pass@]h1:26379,h2:26379/<master-name>` (`rediss+sentinel://`): ask the Sentinels
 *   for the current primary and follow failovers. The user and password in the URL are the data nodes'
 *   (as in Lettuce and redis-py); the Sentinels' own password is a separate option.
 * - `redis+cluster://[user:pass@]h1:6379,h2:6379` (`rediss+cluster://`): Redis Cluster seed nodes.
 * `new URL` cannot read a host list, so the authority is split by hand; every rule broken is named.
 */
export type RedisMode = 'standalone' | 'sentinel' | 'cluster';

export interface RedisNode {
  host: string;
  port: number;
}

export interface RedisTarget {
  mode: RedisMode;
  tls: boolean;
  /** The URL as given (standalone: passed to ioredis unchanged). */
  url: string;
  /** Sentinels (sentinel mode) or seed nodes (cluster mode); empty for standalone. */
  nodes: RedisNode[];
  /** Sentinel mode: the monitored master's name. */
  masterName?: string;
  /** Data nodes' credentials (from the URL, or the `redisPassword` option, which wins). */
  username?: string;
  password?: string;
  /** Sentinels' own password (`REDIS_SENTINEL_PASSWORD`); none by default. */
  sentinelPassword?: string;
  db?: number;
}

/** Credentials given outside the URL, so a Kubernetes Secret can hold them. */
export interface RedisAuth {
  /** Password of the data nodes (primary, replicas, cluster shards). */
  password?: string;
  /** Password of the Sentinels themselves. */
  sentinelPassword?: string;
}

export const REDIS_URL_RULE =
  'must be redis://[user:pass@]host:port[/db], rediss://..., redis+sentinel://[user:pass@]host:26379[,host:26379...]/<master-name> (or rediss+sentinel://), or redis+cluster://[user:pass@]host:6379[,host:6379...] (or rediss+cluster://)';

export class RedisUrlError extends Error {}

const SCHEMES: Record<string, { mode: RedisMode; tls: boolean }> = {
  'redis:': { mode: 'standalone', tls: false },
  'rediss:': { mode: 'standalone', tls: true },
  'redis+sentinel:': { mode: 'sentinel', tls: false },
  'rediss+sentinel:': { mode: 'sentinel', tls: true },
  'redis+cluster:': { mode: 'cluster', tls: false },
  'rediss+cluster:': { mode: 'cluster', tls: true },
};

function parseNode(raw: string, defaultPort: number): RedisNode {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+)(?::(\d{1,5}))?$/.exec(raw);
  if (!m) throw new RedisUrlError(`host ${JSON.stringify(raw)} is not host or host:port`);
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (port < 1 || port > 65535)
    throw new RedisUrlError(`port ${port} in ${JSON.stringify(raw)} is not 1-65535`);
  return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port };
}

/**
 * Reads a Redis URL; throws `RedisUrlError` saying which part is wrong.
 * @example parseRedisUrl('redis+sentinel://h1:26379,h2:26379/mymaster').masterName === 'mymaster'
 */
export function parseRedisUrl(url: string, auth: RedisAuth = {}): RedisTarget {
  const schemeEnd = url.indexOf('//');
  const scheme = SCHEMES[url.slice(0, schemeEnd).toLowerCase()];
  if (schemeEnd < 1) {
    // Suggest the fix in full when the value is plainly host:port (nothing secret to echo).
    const e = /^[A-Za-z0-9_.:[\]-]+$/.test(url) ? `, e.g. redis://${url}` : '';
    throw new RedisUrlError(
      `no scheme: start it with redis://, rediss://, redis+sentinel:// or redis+cluster://${e}`,
    );
  }
  if (!scheme) throw new RedisUrlError(`unknown scheme ${JSON.stringify(url.slice(0, schemeEnd))}`);
  const rest = url.slice(schemeEnd + 2);
  const slash = rest.search(/[/?#]/);
  const authority = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? '' : rest.slice(slash);
  const at = authority.lastIndexOf('@');
  const userinfo = at === -1 ? '' : authority.slice(0, at);
  const hostList = at === -1 ? authority : authority.slice(at + 1);
  if (hostList === '') throw new RedisUrlError('no host');
  const colon = userinfo.indexOf(':');
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new RedisUrlError('user or password has a malformed %-escape');
    }
  };
  const username =
    userinfo === '' ? undefined : decode(colon === -1 ? userinfo : userinfo.slice(0, colon)) || undefined;
  const urlPassword = colon === -1 ? undefined : decode(userinfo.slice(colon + 1)) || undefined;
  const target: RedisTarget = {
    mode: scheme.mode,
    tls: scheme.tls,
    url,
    nodes: [],
    ...(username === undefined ? {} : { username }),
    ...((auth.password ?? urlPassword) ? { password: auth.password ?? urlPassword } : {}),
    ...(auth.sentinelPassword ? { sentinelPassword: auth.sentinelPassword } : {}),
  };
  if (scheme.mode === 'standalone') {
    if (hostList.includes(',')) {
      throw new RedisUrlError('a host list needs redis+sentinel:// or redis+cluster://');
    }
    parseNode(hostList, 6379);
    const db = /^\/(\d*)$/.exec(path.replace(/[?#].*$/, '')) ?? (path === '' ? ['', ''] : null);
    if (!db) throw new RedisUrlError(`path ${JSON.stringify(path)} is not a database number`);
    if (db[1]) target.db = Number(db[1]);
    return target;
  }
  const defaultPort = scheme.mode === 'sentinel' ? 26379 : 6379;
  target.nodes = hostList.split(',').map((h) => parseNode(h, defaultPort));
  if (scheme.mode === 'sentinel') {
    const m = /^\/([A-Za-z0-9_.-]{1,100})$/.exec(path);
    if (!m)
      throw new RedisUrlError('a Sentinel URL ends with /<master-name> (letters, digits, "_", "." or "-")');
    target.masterName = m[1] as string;
  } else if (path !== '' && path !== '/') {
    throw new RedisUrlError('a Cluster URL has no path (Redis Cluster has only database 0)');
  }
  return target;
}
