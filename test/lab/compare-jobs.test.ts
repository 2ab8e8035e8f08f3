/**
 * `kq lab compare` of the approaches that start Jobs (CronJob, KEDA ScaledJob), on the smoke workload
 * with pod kills and a Redis restart, at speed 20 (each pod start costs a real Node start).
 */
import { describe, expect, it } from 'vitest';
import { expectCommonInvariants, expectNothingLost, labCompare } from './lab-run.js';

describe('kq lab compare: Job approaches (smoke, pod kills, Redis restart)', () => {
  it('completes the jobs, every pod exits, a ScaledJob never exceeds maxReplicaCount', async () => {
    const { report } = await labCompare([
      ...['cronjob', 'keda-scaledjob', '--workload', 'smoke', '--speed', '20', '--kill-rate', '3'],
      ...[
        '--max-replicas',
        '2',
        '--parallelism',
        '2',
        '--redis-restart-at',
        '25',
        '--max-drain-seconds',
        '120',
      ],
    ]);
    const cron = report.approaches.cronjob;
    const sj = report.approaches['keda-scaledjob'];
    if (!cron || !sj) throw new Error('approach missing from the report');
    for (const [name, a] of [
      ['cronjob', cron],
      ['keda-scaledjob', sj],
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
    }
    expectNothingLost('cronjob', cron);
    expect(cron.controller.jobsStarted).toBeGreaterThan(0);

    expect(sj.controller.maxRunningJobs).toBeGreaterThan(0);
    expect(sj.controller.maxRunningJobs).toBeLessThanOrEqual(sj.controller.maxReplicaCount ?? 0);
    expect(sj.controller.maxReplicaCount).toBe(2);
    // The ScaledJob's metric is wait + prioritized: a retry in backoff (the smoke workload's lab-0) that
    // comes due after the last pod exited stays in `delayed` and no Job is started for it, the limitation
    // docs/approaches.md states (delayed-jobs.test.ts pins it). When the triggers count due delayed jobs,
    // this becomes expectNothingLost('keda-scaledjob', sj). Until then whatever is lost must be exactly
    // that case, never a job stranded in `active` or gone.
    expect(sj.stranded).toBe(0);
    for (const j of sj.lostJobs) expect(j.leftIn, j.id).toBe('delayed');
    expect(sj.completed + sj.lostJobs.length).toBe(sj.submitted);
  }, 180_000);
});
