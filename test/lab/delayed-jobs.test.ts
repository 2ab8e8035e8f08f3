/**
 * A job delayed past KEDA's cooldown, on an otherwise idle queue: the limitation docs/approaches.md
 * states ("Delayed jobs and zero workers"), measured. A worker Deployment runs the job when it is due.
 * The KEDA approaches as rendered never do: their triggers read `wait` (+ `prioritized`, + `active`), not
 * `delayed`, so KEDA sees 0 and scales to zero (ScaledObject) or starts no Job (ScaledJob), and no worker
 * is left to move the due job to `wait`. report.json shows it as `lost`, left in `delayed`. The same
 * happens to a retry whose backoff ends after the last pod exited.
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

// BullMQ promotes a due delayed job in wall time (its worker wakes on a timer), so the drain is generous.
const ARGS = ['--speed', '1000', '--max-drain-seconds', '6000'];

describe('kq lab: a job delayed 15 minutes on an idle queue', () => {
  it('runs on a worker Deployment', async () => {
    const { report } = await labCompare(['deployment', '--workload', delayedWorkload(), ...ARGS]);
    expect(report.approaches.deployment?.lostJobs).toEqual([]);
    expect(report.approaches.deployment?.completed).toBe(1);
  }, 120_000);

  // When the KEDA triggers count due delayed jobs (src/k8s/keda-redis.ts, e.g. a metrics-api trigger on
  // the API's runnable count), this turns into "completes it" and docs/approaches.md changes with it.
  it('is never run under the rendered KEDA ScaledObject and ScaledJob: no pod starts, it stays delayed', async () => {
    const { report } = await labCompare([
      ...['keda-scaledobject', 'keda-scaledjob', '--workload', delayedWorkload()],
      ...['--speed', '1000', '--max-drain-seconds', '60'],
    ]);
    for (const name of ['keda-scaledobject', 'keda-scaledjob']) {
      const a = report.approaches[name];
      expect(a?.lostJobs, name).toEqual([{ id: 'lab-0', leftIn: 'delayed' }]);
      expect(a?.workerPids, name).toEqual([]);
    }
  }, 120_000);
});
