/**
 * `kq dev` takes the same REDIS_URL forms as every other command: a job goes through its API and
 * workers on the run's shared 3-shard Cluster (a Sentinel set: dev-sentinel-url.test.ts, slow tier); a
 * malformed URL is refused naming the option, the value and the rule.
 */
import { describe, expect, it } from 'vitest';
import { spawnKq } from '../helpers/kq-process.js';
import { sharedRedisCluster } from '../helpers/redis-cluster.js';
import { oneJob } from './dev-one-job.js';

describe('kq dev with every REDIS_URL form', () => {
  it('runs a job on a Redis Cluster', { timeout: 60_000 }, async () => {
    const out = await oneJob({ REDIS_URL: sharedRedisCluster().url });
    expect(out).not.toContain('private redis-server');
  });

  it('refuses a malformed URL naming the option, the value and the rule', async () => {
    const dev = spawnKq(['dev', '--redis-url', 'redis+sentinel://127.0.0.1:26379'], {});
    expect((await dev.waitForExit(15_000)).code).toBe(2);
    expect(dev.output()).toMatch(/Invalid --redis-url .*redis\+sentinel:\/\/127\.0\.0\.1:26379.*master-name/);
  });
});
