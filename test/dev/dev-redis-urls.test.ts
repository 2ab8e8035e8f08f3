/**
 * `kq dev` takes the same REDIS_URL forms as every other command: a job goes through its API and
 * workers on a real 3-shard Cluster and on a real Sentinel set (with REDIS_PASSWORD passed on to its
 * children); a malformed URL is refused naming the option, the value and the rule.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { type KqProcess, spawnKq } from '../helpers/kq-process.js';
import { sharedRedisCluster } from '../helpers/redis-cluster.js';
import { startSentinelSet } from '../helpers/redis-sentinel.js';
import { freePort } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

const childPids = (dev: KqProcess) =>
  [...dev.output().matchAll(/started (api|worker-\d+) \(pid (\d+)/g)].map((m) => Number(m[2]));

/** Starts `kq dev` on `env`, runs one job through its API, stops it; returns its output. */
async function oneJob(env: Record<string, string>): Promise<string> {
  const port = await freePort();
  const dev = spawnKq(['dev', '--port', String(port), '--workers', '1'], env);
  onTestFinished(() => {
    for (const pid of childPids(dev))
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
  });
  await waitFor(
    'dev banner',
    () => dev.output().includes('kq dev is running') || dev.proc.exitCode !== null,
    {
      timeoutMs: 30_000,
    },
  );
  expect(dev.output()).toContain('kq dev is running');
  const base = `http://127.0.0.1:${port}`;
  const res = await fetch(`${base}/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'sleep', data: { seconds: 0.1 } }),
  });
  expect(res.status, await res.clone().text()).toBe(202);
  const { id } = (await res.json()) as { id: string };
  await waitFor(
    'job completed',
    async () =>
      ((await (await fetch(`${base}/jobs/${id}`)).json()) as { status?: string }).status === 'completed',
    { timeoutMs: 20_000, intervalMs: 100 },
  );
  dev.kill('SIGTERM');
  expect((await dev.waitForExit(40_000)).code).toBe(0);
  return dev.output();
}

describe('kq dev with every REDIS_URL form', () => {
  it('runs a job on a Redis Cluster', { timeout: 60_000 }, async () => {
    const out = await oneJob({ REDIS_URL: sharedRedisCluster().url });
    expect(out).not.toContain('private redis-server');
  });

  it('runs a job on a Sentinel set, passing REDIS_PASSWORD on', { timeout: 60_000 }, async () => {
    const set = await startSentinelSet({ replicas: 1 });
    onTestFinished(() => set.close());
    const primary = set.client(await set.primaryPort());
    await primary.config('SET', 'requirepass', 'dev-secret');
    primary.disconnect();
    await oneJob({ REDIS_URL: set.url, REDIS_PASSWORD: 'dev-secret' });
  });

  it('refuses a malformed URL naming the option, the value and the rule', async () => {
    const dev = spawnKq(['dev', '--redis-url', 'redis+sentinel://127.0.0.1:26379'], {});
    expect((await dev.waitForExit(15_000)).code).toBe(2);
    expect(dev.output()).toMatch(/Invalid --redis-url .*redis\+sentinel:\/\/127\.0\.0\.1:26379.*master-name/);
  });
});
