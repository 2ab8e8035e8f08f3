/** REDIS_URL in its three topologies, and the errors every command gives for a malformed one. */
import { describe, expect, it } from 'vitest';
import { apiOptionSpecs } from '../../src/api/options.js';
import { parseOptions, redisAuth } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { redactUrl } from '../../src/log.js';
import { parseRedisUrl } from '../../src/queue/redis-url.js';
import { workerOptionSpecs } from '../../src/worker/options.js';

describe('parseRedisUrl', () => {
  it('reads one Redis, with or without TLS, credentials and a database', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379')).toMatchObject({ mode: 'standalone', tls: false });
    expect(parseRedisUrl('rediss://u:p%40ss@redis.example:6380/3')).toMatchObject({
      mode: 'standalone',
      tls: true,
      username: 'u',
      password: 'p@ss',
      db: 3,
    });
  });

  it('reads Sentinels, the master name, and keeps the two passwords apart', () => {
    const t = parseRedisUrl('redis+sentinel://:data-pw@s1:26379,s2,[::1]:26380/mymaster', {
      sentinelPassword: 'sentinel-pw',
    });
    expect(t).toMatchObject({
      mode: 'sentinel',
      tls: false,
      masterName: 'mymaster',
      password: 'data-pw',
      sentinelPassword: 'sentinel-pw',
    });
    expect(t.nodes).toEqual([
      { host: 's1', port: 26379 },
      { host: 's2', port: 26379 },
      { host: '::1', port: 26380 },
    ]);
    expect(parseRedisUrl('rediss+sentinel://s1/m', { password: 'from-option' })).toMatchObject({
      tls: true,
      password: 'from-option',
    });
  });

  it('reads Cluster seed nodes', () => {
    const t = parseRedisUrl('rediss+cluster://default:pw@n1:7000,n2');
    expect(t).toMatchObject({ mode: 'cluster', tls: true, username: 'default', password: 'pw' });
    expect(t.nodes).toEqual([
      { host: 'n1', port: 7000 },
      { host: 'n2', port: 6379 },
    ]);
  });

  it.each([
    ['http://h:6379', /unknown scheme "http:"/],
    ['127.0.0.1:6379', /no scheme: start it with redis:\/\//],
    ['redis://', /no host/],
    ['redis://a:6379,b:6379', /host list needs redis\+sentinel/],
    ['redis://h:99999', /port 99999/],
    ['redis://h:6379/zero', /not a database number/],
    ['redis+sentinel://s1:26379,s2:26379', /ends with \/<master-name>/],
    ['redis+sentinel://s1:26379/my/master', /ends with \/<master-name>/],
    ['redis+cluster://n1:6379/2', /Cluster URL has no path/],
    ['redis+cluster://n1:6379,,n2', /host "" is not host or host:port/],
    ['redis+cluster://n 1:6379', /is not host or host:port/],
  ])('rejects %s', (url, why) => {
    expect(() => parseRedisUrl(url)).toThrow(why);
  });
});

describe('REDIS_URL and the password options, the same in every command', () => {
  it('an invalid URL names the option, the value (password hidden), what is wrong and the rule', () => {
    for (const specs of [apiOptionSpecs, workerOptionSpecs]) {
      let err: unknown;
      try {
        parseOptions(specs, [], { REDIS_URL: 'redis+sentinel://:hunter2@s1:26379,s2:26379' });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      const message = (err as Error).message;
      expect(message).toContain('REDIS_URL (flag --redis-url)');
      expect(message).toContain('"redis+sentinel://:***@s1:26379,s2:26379"');
      expect(message).toContain('(a Sentinel URL ends with /<master-name>');
      expect(message).toContain('must be redis://[user:pass@]host:port[/db]');
      expect(message).not.toContain('hunter2');
      expect(() => parseOptions(specs, ['--redis-url', 'redis://h:0'], {})).toThrow(/--redis-url.*port 0/);
    }
  });

  it('REDIS_PASSWORD and REDIS_SENTINEL_PASSWORD (or their flags) become the connection auth', () => {
    const { values } = parseOptions(workerOptionSpecs, ['--redis-sentinel-password', 's-pw'], {
      REDIS_URL: 'redis+sentinel://s1,s2/m',
      REDIS_PASSWORD: 'd-pw',
    });
    expect(redisAuth(values)).toEqual({ password: 'd-pw', sentinelPassword: 's-pw' });
    expect(parseRedisUrl(values.redisUrl, redisAuth(values))).toMatchObject({
      password: 'd-pw',
      sentinelPassword: 's-pw',
    });
    expect(redisAuth(parseOptions(apiOptionSpecs, [], {}).values)).toEqual({});
  });

  it('logs show host lists with the password hidden', () => {
    expect(redactUrl('redis+cluster://u:secret@n1:6379,n2:6379')).toBe(
      'redis+cluster://u:***@n1:6379,n2:6379',
    );
    expect(redactUrl('redis+sentinel://s1,s2/m')).toBe('redis+sentinel://s1,s2/m');
    // A value without a scheme is shown as typed (so an error can echo it), a password still hidden.
    expect(redactUrl('127.0.0.1:6411')).toBe('127.0.0.1:6411');
    expect(redactUrl('u:secret@127.0.0.1:6411')).toBe('***@127.0.0.1:6411');
  });
});
