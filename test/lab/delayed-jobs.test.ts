/**
 * A job delayed past KEDA's cooldown, on an otherwise idle queue: the limitation docs/approaches.md
 * states ("Delayed jobs and zero workers"), measured. A worker Deployment runs the job when it is due;
 * so do `keda-external` and `keda-external-job` (kq keda-scaler's metric counts due delayed jobs) and
 * `keda-scaledjob` (its sweeper CronJob, `kq sweep` every minute, moves it to `wait` once due, and KEDA
 * starts a Job for it like for any waiting job). `keda-scaledobject` as rendered
 * never does: its triggers read `wait`, `prioritized` and `active`, not `delayed`, so KEDA sees 0 and
 * scales to zero, and no worker is left to move the due job to `wait`. report.json shows it as `lost`,
 * left in `delayed`. The same happens to a retry whose backoff ends after the last pod exited.
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
  const RUN_IT = ['deployment', 'keda-scaledjob', 'keda-external', 'keda-external-job'];
  it('runs on a worker Deployment, the ScaledJob with its sweeper, and both kq keda-scaler approaches', async () => {
    const { report } = await labCompare([...RUN_IT, '--workload', delayedWorkload(), ...ARGS]);
    for (const name of RUN_IT) {
      expect(report.approaches[name]?.lostJobs, name).toEqual([]);
      expect(report.approaches[name]?.completed, name).toBe(1);
    }
    // The sweeper moved it to wait and a ScaledJob Job ran it: the sweeper runs no job itself.
    expect(report.approaches['keda-scaledjob']?.controller.jobsCreated).toBeGreaterThan(0);
    expect(report.approaches['keda-scaledjob']?.controller.sweeperJobsStarted).toBeGreaterThan(0);
    expect(report.approaches['keda-external-job']?.controller.jobsCreated).toBeGreaterThan(0);
  }, 150_000);

  // When the ScaledObject's triggers count due delayed jobs (src/k8s/keda-redis.ts), this turns into
  // "completes it" and docs/approaches.md changes with it.
  it('is never run under the rendered KEDA ScaledObject: no pod starts, it stays delayed', async () => {
    const { report } = await labCompare([
      ...['keda-scaledobject', '--workload', delayedWorkload()],
      ...['--speed', '1000', '--max-drain-seconds', '60'],
    ]);
    const a = report.approaches['keda-scaledobject'];
    expect(a?.lostJobs).toEqual([{ id: 'lab-0', leftIn: 'delayed' }]);
    expect(a?.workerPids).toEqual([]);
  }, 120_000);
});
