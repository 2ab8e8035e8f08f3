/** `kq dev`: Redis found or started, API on 127.0.0.1 without auth, worker children, clean stop. */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { redisAnswers } from '../../src/dev/redis-process.js';
import { type KqProcess, pidAlive, spawnKq } from '../helpers/kq-process.js';
import { freePort } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

const childPids = (dev: KqProcess) =>
  [...dev.output().matchAll(/started (api|worker-\d+|a private redis-server.*?) \(pid (\d+)/g)].map((m) =>
    Number(m[2]),
  );

/** Children run in their own process groups: if a failing test SIGKILLs `kq dev`, stop them here. */
function reapChildren(dev: KqProcess) {
  onTestFinished(() => {
    for (const pid of childPids(dev)) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
  });
}

async function runJob(base: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'sleep', data: { seconds: 0.2 } }),
  });
  expect(res.status).toBe(202);
  const { id } = (await res.json()) as { id: string };
  return waitFor(
    'job completed',
    async () => {
      const s = (await (await fetch(`${base}/jobs/${id}`)).json()) as Record<string, unknown>;
      return s.status === 'completed' ? s : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 50 },
  );
}

describe('kq dev', () => {
  it('runs the API without auth on 127.0.0.1 plus 2 workers, prints URLs and curl, stops cleanly', async () => {
    // A prefix of its own: dev's API and workers use the default queue name `jobs`.
    const prefix = `dev-${randomBytes(4).toString('hex')}`;
    const redisUrl = inject('redisUrl');
    onTestFinished(async () => {
      const c = new Redis(redisUrl);
      const keys = await c.keys(`${prefix}:*`);
      if (keys.length) await c.del(...keys);
      c.disconnect();
    });
    const port = await freePort();
    const dev = spawnKq(['dev', '--port', String(port)], { REDIS_URL: redisUrl, KQ_PREFIX: prefix });
    reapChildren(dev);
    // The banner's lines may arrive in more than one chunk: wait for the last one this test reads.
    await waitFor('dev banner', () => dev.output().includes('curl -s http'), { timeoutMs: 30_000 });
    const base = `http://127.0.0.1:${port}`;
    for (const s of [`API        ${base}`, `${base}/docs`, `${base}/ui`, `curl -s -X POST ${base}/jobs`])
      expect(dev.output()).toContain(s);
    // The printed curl line works as printed.
    const curl = dev.output().match(/curl -s -X POST .*'$/m)?.[0];
    expect(curl).toContain(`-d '{"type":"sleep"`);
    const pids = childPids(dev);
    expect(pids).toHaveLength(3);
    // Workers need a moment to start; the job waits in the queue meanwhile.
    const done = await runJob(base);
    expect(done.queue).toBe('jobs');
    await waitFor('a worker line, prefixed', () => /\[worker-[12]\] .*job completed/.test(dev.output()));
    dev.kill('SIGTERM');
    expect((await dev.waitForExit(40_000)).code).toBe(0);
    expect(dev.output()).toContain('[dev] stopped');
    for (const pid of pids) expect(pidAlive(pid), `child ${pid}`).toBe(false);
  });

  it('a second signal makes workers hand a running job back at once', async () => {
    const prefix = `dev-${randomBytes(4).toString('hex')}`;
    const redisUrl = inject('redisUrl');
    const c = new Redis(redisUrl);
    onTestFinished(async () => {
      const keys = await c.keys(`${prefix}:*`);
      if (keys.length) await c.del(...keys);
      c.disconnect();
    });
    const port = await freePort();
    const dev = spawnKq(['dev', '--port', String(port), '--workers', '1'], {
      REDIS_URL: redisUrl,
      KQ_PREFIX: prefix,
    });
    reapChildren(dev);
    await waitFor('dev banner', () => dev.output().includes('kq dev is running'), { timeoutMs: 30_000 });
    const base = `http://127.0.0.1:${port}`;
    const res = await fetch(`${base}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'sleep', data: { seconds: 600 } }),
    });
    const { id } = (await res.json()) as { id: string };
    await waitFor('job active', () => dev.output().includes(`job started jobId=${id}`), {
      timeoutMs: 20_000,
    });
    dev.kill('SIGINT');
    // The first Ctrl-C says how to hurry; the second, sent at once (before the API has stopped and the
    // workers got their first SIGTERM), still reaches every worker as a second SIGTERM.
    await waitFor('the hint', () =>
      dev.output().includes('Press Ctrl-C again to hand running jobs back now'),
    );
    dev.kill('SIGINT');
    // Far below the job's 600 s and the worker's 25 s grace (bound loose for a loaded machine).
    expect((await dev.waitForExit(20_000)).code).toBe(0);
    expect(dev.output()).toContain('hand their running jobs back now');
    expect(dev.output()).toMatch(/\[worker-1\].*SIGTERM again: handing back running jobs now/);
    // Handed back, not lost: the job waits for the next worker.
    expect(await c.lrange(`${prefix}:jobs:wait`, 0, -1)).toContain(id);
  });

  it('starts and stops a private redis-server when no Redis answers', async () => {
    const port = await freePort();
    const closed = await freePort();
    const dev = spawnKq(
      [
        'dev',
        '--port',
        String(port),
        '--workers',
        '1',
        '--fallback-redis-url',
        `redis://127.0.0.1:${closed}`,
      ],
      {},
    );
    reapChildren(dev);
    await waitFor('dev banner', () => dev.output().includes('kq dev is running'), { timeoutMs: 30_000 });
    const url = dev.output().match(/private redis-server at (redis:\/\/127\.0\.0\.1:\d+)/)?.[1];
    expect(url).toBeTruthy();
    await runJob(`http://127.0.0.1:${port}`);
    dev.kill('SIGINT');
    expect((await dev.waitForExit(40_000)).code).toBe(0);
    expect(await redisAnswers(url as string, 500)).toBe(false);
    for (const pid of childPids(dev)) expect(pidAlive(pid), `child ${pid}`).toBe(false);
  });

  it('exits 1 saying how to get Redis when none can be found or started', async () => {
    const closed = await freePort();
    const dev = spawnKq(['dev', '--fallback-redis-url', `redis://127.0.0.1:${closed}`], {
      PATH: '/nonexistent-kq-path',
    });
    expect((await dev.waitForExit(20_000)).code).toBe(1);
    expect(dev.output()).toContain('No Redis found');
    expect(dev.output()).toContain('apt-get install redis-server');
  });

  it('a taken port stops it with exit 2 and a --port hint, before Redis or any child starts', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const port = (taken.address() as { port: number }).port;
    try {
      const dev = spawnKq(['dev', '--port', String(port), '--workers', '1'], {
        REDIS_URL: inject('redisUrl'),
      });
      reapChildren(dev);
      expect((await dev.waitForExit(30_000)).code).toBe(2);
      expect(dev.output()).toContain(`kq dev: PORT (--port) ${port}: 127.0.0.1:${port} is already in use`);
      expect(dev.output()).toContain('--port <n>');
      expect(dev.output()).not.toMatch(/Redis|started/);
      expect(childPids(dev)).toEqual([]);
    } finally {
      taken.close();
    }
  });

  it('exits 1 when REDIS_URL is set but does not answer', async () => {
    const closed = await freePort();
    const dev = spawnKq(['dev'], { REDIS_URL: `redis://127.0.0.1:${closed}` });
    expect((await dev.waitForExit(20_000)).code).toBe(1);
    expect(dev.output()).toMatch(/REDIS_URL redis:\/\/127\.0\.0\.1:\d+\/? does not answer/);
  });
});
