/**
 * `kq lab compare` of the approaches that start Jobs (CronJob, KEDA ScaledJob with its sweeper, ScaledJob on
 * kq keda-scaler), on the smoke workload
 * with pod kills and a Redis restart, at speed 20 (each pod start costs a real Node start).
 */
import { describe, expect, it } from 'vitest';
import { expectCommonInvariants, labCompare } from './lab-run.js';

describe('kq lab compare: Job approaches (smoke, pod kills, Redis restart)', () => {
  it('completes the jobs, every pod exits, a ScaledJob never exceeds maxReplicaCount', async () => {
    const { report } = await labCompare([
      ...[
        'cronjob',
        'keda-scaledjob',
        'keda-external-job',
        '--workload',
        'smoke',
        '--speed',
        '20',
        '--kill-rate',
        '3',
      ],
      ...[
        '--max-replicas',
        '2',
        '--parallelism',
        '2',
        '--redis-restart-at',
        '25',
        // A retry in backoff under keda-scaledjob: the sweeper moves it to wait (within 60 s), then a
        // KEDA poll (15 s) starts its Job.
        '--max-drain-seconds',
        '240',
      ],
    ]);
    const cron = report.approaches.cronjob;
    const sj = report.approaches['keda-scaledjob'];
    const ej = report.approaches['keda-external-job'];
    if (!cron || !sj || !ej) throw new Error('approach missing from the report');
    for (const [name, a] of [
      ['cronjob', cron],
      ['keda-scaledjob', sj],
      ['keda-external-job', ej],
    ] as const) {
      expectCommonInvariants(name, a, report.settings.jobs);
      expect(
        a.faults.some((f) => f.kind === 'redis-restart'),
        name,
      ).toBe(true);
      // Every pod exited on its own (exit 0) unless the lab killed it: none was left running.
      expect(a.podsAtEnd, name).toBe(0);
      expect(Object.keys(a.exits).sort(), name).toEqual(expect.arrayContaining(['0']));
      for (const how of Object.keys(a.exits)) expect(['0', 'SIGKILL'], `${name} exit ${how}`).toContain(how);
      // Crash recovery (docs/worker.md): a killed pod's job is taken back by its Job's next pod, a retry
      // in backoff is run by the sweeper (keda-scaledjob) or counted by kq keda-scaler (keda-external-job).
      // Nothing is lost or stranded. At this kill rate plus a Redis restart a job can lose its worker several times,
      // and past MAX_STALLED_COUNT (3) BullMQ fails it for good (docs/worker.md): failed, not lost.
      expect(a.lostJobs, name).toEqual([]);
      expect(a.stranded, name).toBe(0);
      expect(a.completed + a.failed, name).toBe(a.submitted);
      for (const f of a.failedJobs)
        expect(f.reason, `${name}: ${f.id}`).toMatch(/stalled more than allowable limit/);
    }
    expect(cron.controller.jobsStarted).toBeGreaterThan(0);
    expect(sj.controller.sweeperJobsStarted).toBeGreaterThan(0);
    for (const [name, a] of [
      ['keda-scaledjob', sj],
      ['keda-external-job', ej],
    ] as const) {
      expect(a.controller.maxRunningJobs, name).toBeGreaterThan(0);
      expect(a.controller.maxRunningJobs, name).toBeLessThanOrEqual(a.controller.maxReplicaCount ?? 0);
      expect(a.controller.maxReplicaCount, name).toBe(2);
    }
  }, 180_000);
});
