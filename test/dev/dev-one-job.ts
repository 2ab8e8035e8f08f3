/** `kq dev` running one job on a given REDIS_URL form (test/dev/dev-redis-urls.test.ts, dev-sentinel-url.test.ts). */
import { expect, onTestFinished } from 'vitest';
import { type KqProcess, spawnKq } from '../helpers/kq-process.js';
import { freePort } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

const childPids = (dev: KqProcess) =>
  [...dev.output().matchAll(/started (api|worker-\d+) \(pid (\d+)/g)].map((m) => Number(m[2]));

/** Starts `kq dev` on `env`, runs one job through its API, stops it; returns its output. */
export async function oneJob(env: Record<string, string>): Promise<string> {
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
