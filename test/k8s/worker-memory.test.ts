/**
 * The worker fits the seed's container limit (128Mi) that the manifests keep: a real worker process,
 * configured as in the manifests (health server on), drains a few thousand jobs while its peak RSS
 * (VmHWM, the kernel's high-water mark) is sampled. Linux only.
 */
import { existsSync, readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { useTestQueue } from '../helpers/context.js';
import { spawnKq } from '../helpers/kq-process.js';
import { freePort } from '../helpers/redis-server.js';
import { firstContainer, render } from './manifest-fixture.js';

const LIMIT_MI = 128;

function peakRssMi(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Drains 3000 jobs with one worker process; returns its peak RSS in MiB. */
async function drainPeakMi(nodeOptions: string): Promise<number> {
  const t = useTestQueue();
  const payload = { text: 'x'.repeat(1024) };
  for (let i = 0; i < 3; i++)
    await t.bull.addBulk(Array.from({ length: 1000 }, () => ({ name: 'noop', data: payload })));
  const proc = spawnKq(['worker'], {
    REDIS_URL: t.redisUrl,
    QUEUE: t.queue,
    EXIT: '1',
    CONCURRENCY: '1',
    HEALTH_PORT: String(await freePort()),
    LOG_LEVEL: 'warn',
    NODE_OPTIONS: nodeOptions,
  });
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, peakRssMi(proc.proc.pid as number) ?? 0);
  }, 50);
  try {
    const { code } = await proc.waitForExit(180_000);
    expect(code, proc.output().slice(-2000)).toBe(0);
  } finally {
    clearInterval(sampler);
  }
  expect(await t.bull.getCompletedCount()).toBe(3000);
  expect(peak).toBeGreaterThan(10);
  return peak;
}

it.skipIf(!existsSync('/proc/self/status'))(
  `a worker draining 3000 jobs stays under the manifests' ${LIMIT_MI}Mi limit, thanks to the heap cap`,
  async () => {
    const worker = render('deployment').find(
      (o) => o.kind === 'Deployment' && o.metadata.name === 'kq-worker',
    );
    const container = firstContainer(worker);
    expect(container.resources?.limits?.memory).toBe(`${LIMIT_MI}Mi`);
    // The heap settings the manifests give the worker.
    const nodeOptions = container.env?.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '';
    expect(nodeOptions).toMatch(/--max-old-space-size=64/);
    const capped = await drainPeakMi(nodeOptions);
    const uncapped = await drainPeakMi('');
    console.info(
      `worker peak RSS draining 3000 jobs: ${capped.toFixed(1)} MiB with the manifests' NODE_OPTIONS, ${uncapped.toFixed(1)} MiB without (limit ${LIMIT_MI} MiB)`,
    );
    expect(capped).toBeLessThan(LIMIT_MI);
    // The cap is what makes it fit: without it V8 grows towards the limit.
    expect(capped).toBeLessThan(uncapped);
  },
  300_000,
);

it('the heap cap follows --worker-memory-limit', async () => {
  const { workerNodeOptions } = await import('../../src/k8s/common.js');
  expect(workerNodeOptions('128Mi')).toBe('--max-old-space-size=64 --max-semi-space-size=4');
  expect(workerNodeOptions('1Gi')).toMatch(/--max-old-space-size=512 /);
  expect(workerNodeOptions('512M')).toMatch(/--max-old-space-size=244 /);
  expect(workerNodeOptions('bogus')).toBeUndefined();
});
