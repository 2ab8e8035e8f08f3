/**
 * `kq dev` with a handlers module whose job types span queues `jobs` and `images`: it starts workers for
 * each queue, and its curl hint names a type the handlers know (one whose payload may be empty).
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { curlBody } from '../../src/dev/run-dev.js';
import { loadRegistry } from '../../src/jobs/registry.js';
import { pidAlive, spawnKq } from '../helpers/kq-process.js';
import { freePort } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

const JOBS_AND_IMAGES = resolve(import.meta.dirname, '../fixtures/jobs-and-images-handlers.mjs');

async function submit(base: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(202);
  const { id } = (await res.json()) as { id: string };
  return waitFor(
    `job ${id} completed`,
    async () => {
      const s = (await (await fetch(`${base}/jobs/${id}`)).json()) as Record<string, unknown>;
      return s.status === 'completed' ? s : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 50 },
  );
}

describe('kq dev with handlers on two queues', () => {
  it("the hint's type: one whose payload may be empty, else the first, with a note", async () => {
    const both = await loadRegistry(JOBS_AND_IMAGES);
    expect(curlBody(both.all)).toEqual({ body: '{"type":"thumbnail","data":{}}' });
    const emailOnly = both.all.filter((d) => d.name === 'email');
    expect(curlBody(emailOnly)).toEqual({
      body: '{"type":"email","data":{}}',
      note: 'fill in the payload of "email"',
    });
    expect(curlBody(undefined)).toEqual({ body: '{"type":"sleep","data":{"seconds":2}}' });
  });

  it('runs workers for every queue, and hints a type the handlers know', async () => {
    const prefix = `devq-${randomBytes(4).toString('hex')}`;
    const redisUrl = inject('redisUrl');
    onTestFinished(async () => {
      const c = new Redis(redisUrl);
      const keys = await c.keys(`${prefix}:*`);
      if (keys.length) await c.del(...keys);
      c.disconnect();
    });
    const port = await freePort();
    const dev = spawnKq(['dev', '--port', String(port), '--workers', '1'], {
      REDIS_URL: redisUrl,
      KQ_PREFIX: prefix,
      HANDLERS: JOBS_AND_IMAGES,
    });
    const pids = () =>
      [...dev.output().matchAll(/started (?:api|worker-\S+) \(pid (\d+)/g)].map((m) => Number(m[1]));
    onTestFinished(() => {
      for (const pid of pids()) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
    });
    // The banner's lines may arrive in more than one chunk: wait for the last one this test reads.
    await waitFor('dev banner', () => dev.output().includes('curl -s http'), { timeoutMs: 30_000 });
    expect(dev.output()).toContain('1 worker each on queues "jobs", "images"');
    expect(dev.output()).toContain('started worker-images-1');
    expect(dev.output()).toContain('started worker-jobs-1');
    const base = `http://127.0.0.1:${port}`;
    // The hint: thumbnail (its payload may be empty), not the demo's sleep, and it works as printed.
    const curl = dev.output().match(/curl -s -X POST .* -d '(.*)'$/m);
    expect(curl?.[1]).toBe('{"type":"thumbnail","data":{}}');
    const thumb = await submit(base, JSON.parse(curl?.[1] as string));
    expect(thumb.queue).toBe('images');
    const email = await submit(base, { type: 'email', data: { to: 'a@example.com' } });
    expect(email.queue).toBe('jobs');
    expect((email.result as { queue: string }).queue).toBe('jobs');
    expect((thumb.result as { queue: string }).queue).toBe('images');
    dev.kill('SIGTERM');
    expect((await dev.waitForExit(40_000)).code).toBe(0);
    for (const pid of pids()) expect(pidAlive(pid), `child ${pid}`).toBe(false);
  });
});
