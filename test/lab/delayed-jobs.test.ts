/**
 * A job delayed past KEDA's cooldown, on an otherwise idle queue. A worker Deployment runs it when it is
 * due. The KEDA approaches as rendered today never do: their triggers read `wait` (+ `prioritized`,
 * + `active`), not `delayed`, so KEDA sees 0, scales to zero (ScaledObject) or starts no Job (ScaledJob),
 * and no worker is left to move the due job to `wait`. The lab shows it in report.json as `lost`, left in
 * `delayed`. The same happens to a retry whose backoff ends after the last pod exited.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { labCompare } from './lab-run.js';

function delayedWorkload(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kq-lab-delayed-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'delayed.json');
  writeFileSync(
    file,
    JSON.stringify({
      name: 'one-delayed-job',
      durationSeconds: 10,
      arrivals: [{ at: 0, count: 1 }],
      jobSeconds: { dist: 'fixed', value: 5 },
      delayed: { fraction: 1, seconds: { dist: 'fixed', value: 900 } },
    }),
  );
  return file;
}

const ARGS = ['--speed', '200', '--max-drain-seconds', '600'];

describe('kq lab: a job delayed 15 minutes on an idle queue', () => {
  it('runs on a worker Deployment', async () => {
    const { report } = await labCompare(['deployment', '--workload', delayedWorkload(), ...ARGS]);
    expect(report.approaches.deployment?.completed).toBe(1);
  }, 120_000);

  // TODO(lead): the KEDA triggers (src/k8s/keda-redis.ts) must count delayed jobs that are due, e.g. a
  // metrics-api trigger on the API's runnable count; then drop `.fails`.
  it.fails('runs under the rendered KEDA ScaledObject and ScaledJob (fails today: left in delayed)', async () => {
    const { report } = await labCompare([
      'keda-scaledobject',
      'keda-scaledjob',
      '--workload',
      delayedWorkload(),
      ...ARGS,
    ]);
    expect(report.approaches['keda-scaledobject']?.lostJobs).toEqual([]);
    expect(report.approaches['keda-scaledjob']?.lostJobs).toEqual([]);
  }, 120_000);
});
