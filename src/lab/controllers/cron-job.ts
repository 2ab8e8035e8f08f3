/**
 * Approach `cronjob`: the CronJob controller on `spec.schedule` with `concurrencyPolicy` (Allow, Forbid,
 * Replace) and `startingDeadlineSeconds`; each run is a Job from `jobTemplate` (see job.ts).
 */

import { parseCron } from '../../k8s/cron-schedule.js';
import type { Controller, ControllerDeps } from './controller.js';
import { createJob, type LabJobObject } from './job.js';
import { findObject, type RenderedObject } from './objects.js';

/** Long enough for one more scheduled run after the last job, and for its pods to exit. */
export function cronJobTailMs(objects: readonly RenderedObject[], name?: string): number {
  const spec = findObject(objects, 'CronJob', name).spec;
  if (!spec?.jobTemplate.spec) throw new Error('kq lab: the CronJob has no jobTemplate.spec');
  const schedule = parseCron(spec.schedule);
  const grace = spec.jobTemplate.spec.template.spec?.terminationGracePeriodSeconds ?? 30;
  return schedule.next(schedule.next(0)) - schedule.next(0) + grace * 1000;
}

/** `name`: which rendered CronJob (the worker's, or `kq-worker-sweeper` beside a ScaledJob). */
export function cronJobController(
  objects: readonly RenderedObject[],
  deps: ControllerDeps,
  name?: string,
  jobPrefix = 'cron',
): Controller {
  const cj = findObject(objects, 'CronJob', name);
  const spec = cj.spec;
  if (!spec) throw new Error('kq lab: the CronJob has no spec');
  const schedule = parseCron(spec.schedule);
  const policy = spec.concurrencyPolicy ?? 'Allow';
  const startingDeadlineMs =
    spec.startingDeadlineSeconds === undefined ? undefined : spec.startingDeadlineSeconds * 1000;
  const jobSpec = spec.jobTemplate.spec;
  if (!jobSpec) throw new Error('kq lab: the CronJob has no jobTemplate.spec');
  const jobs: LabJobObject[] = [];
  let next = schedule.next(-1);
  let skipped = 0;
  let suspended = false;
  let maxActive = 0;
  return {
    tailMs: cronJobTailMs(objects, name),
    notes: [
      `CronJob ${cj.metadata?.name}: schedule ${JSON.stringify(spec.schedule)}, concurrencyPolicy ${policy}, startingDeadlineSeconds ${spec.startingDeadlineSeconds ?? 'unset'}, parallelism ${jobSpec.parallelism ?? 1}, backoffLimit ${jobSpec.backoffLimit ?? 6}, activeDeadlineSeconds ${jobSpec.activeDeadlineSeconds ?? 'unset'}`,
    ],
    atRest: () => undefined,
    suspend() {
      suspended = true;
    },
    async tick(now) {
      while (!suspended && now >= next) {
        const scheduled = next;
        next = schedule.next(next);
        if (startingDeadlineMs !== undefined && now - scheduled > startingDeadlineMs) {
          skipped++;
          continue;
        }
        const active = jobs.filter((j) => j.status === 'Active');
        if (policy === 'Forbid' && active.length > 0) {
          skipped++;
          continue;
        }
        if (policy === 'Replace') for (const j of active) j.stop('replaced');
        jobs.push(createJob(deps.runner, jobSpec, `${jobPrefix}-${jobs.length}`, now));
      }
      for (const j of jobs) j.reconcile(now);
      maxActive = Math.max(maxActive, jobs.filter((j) => j.status === 'Active').length);
    },
    stats: () => ({
      jobsStarted: jobs.length,
      jobsFailed: jobs.filter((j) => j.status === 'Failed').length,
      runsSkipped: skipped,
      maxActiveJobs: maxActive,
    }),
  };
}
