/**
 * Approach `keda-scaledjob`: every `pollingInterval` KEDA reads the triggers, computes maxScale
 * (`multipleScalersCalculation`), counts running and pending Jobs and creates new Jobs from
 * `jobTargetRef` under `scalingStrategy.strategy`; Jobs run as job.ts plays them. Nothing is scaled in.
 */
import { type Controller, type ControllerDeps, every } from './controller.js';
import { createJob, type LabJobObject } from './job.js';
import { scaledJobMaxScale, scaledJobNewJobs, type TriggerReading } from './keda-formulas.js';
import { findObject, type RenderedObject } from './objects.js';
import { redisTriggerReads } from './scaled-object.js';

export function scaledJobController(objects: readonly RenderedObject[], deps: ControllerDeps): Controller {
  const spec = findObject(objects, 'ScaledJob').spec;
  if (!spec) throw new Error('kq lab: the ScaledJob has no spec');
  const triggers = redisTriggerReads(spec.triggers);
  return playScaledJob(objects, deps, async () => {
    const readings: TriggerReading[] = [];
    for (const t of triggers)
      readings.push({ name: t.name, value: await deps.source.keyLength(t.key), target: t.target });
    return readings;
  });
}

/** Two polls and the pods' grace: the last Jobs it starts can finish. */
export function scaledJobTailMs(objects: readonly RenderedObject[]): number {
  const spec = findObject(objects, 'ScaledJob').spec;
  if (!spec) throw new Error('kq lab: the ScaledJob has no spec');
  const grace = spec.jobTargetRef.template.spec?.terminationGracePeriodSeconds ?? 30;
  return (2 * (spec.pollingInterval ?? 30) + grace) * 1000;
}

/** The ScaledJob's operator loop on `readTriggers` (one reading per trigger), numbers from the object. */
export function playScaledJob(
  objects: readonly RenderedObject[],
  deps: ControllerDeps,
  readTriggers: () => Promise<TriggerReading[]>,
): Controller {
  const spec = findObject(objects, 'ScaledJob').spec;
  if (!spec) throw new Error('kq lab: the ScaledJob has no spec');
  const pollingMs = (spec.pollingInterval ?? 30) * 1000;
  const max = spec.maxReplicaCount ?? 100;
  const strategy = spec.scalingStrategy?.strategy ?? 'default';
  const calculation = spec.scalingStrategy?.multipleScalersCalculation ?? 'max';
  const jobSpec = spec.jobTargetRef;
  const jobs: LabJobObject[] = [];
  const poll = every(pollingMs);
  let maxUnfinished = 0;
  let suspended = false;
  return {
    tailMs: scaledJobTailMs(objects),
    notes: [
      `KEDA ScaledJob: pollingInterval ${pollingMs / 1000} s, maxReplicaCount ${max}, strategy ${strategy}, multipleScalersCalculation ${calculation}; Jobs with parallelism ${jobSpec.parallelism ?? 1}, completions ${jobSpec.completions ?? 'unset'}, backoffLimit ${jobSpec.backoffLimit ?? 6}`,
    ],
    atRest: () => undefined,
    suspend() {
      suspended = true;
    },
    async tick(now) {
      for (const j of jobs) j.reconcile(now);
      if (!suspended && poll(now) !== undefined) {
        const readings = await readTriggers();
        const unfinished = jobs.filter((j) => j.status === 'Active');
        const n = scaledJobNewJobs({
          strategy,
          maxScale: scaledJobMaxScale(readings, calculation, max),
          running: unfinished.length,
          pending: unfinished.filter((j) => j.isPending()).length,
          max,
        });
        for (let i = 0; i < n; i++) {
          const job = createJob(deps.runner, jobSpec, `sj-${jobs.length}`, now);
          jobs.push(job);
          job.reconcile(now);
        }
      }
      maxUnfinished = Math.max(maxUnfinished, jobs.filter((j) => j.status === 'Active').length);
    },
    stats: () => ({
      maxReplicaCount: max,
      jobsCreated: jobs.length,
      jobsFailed: jobs.filter((j) => j.status === 'Failed').length,
      maxRunningJobs: maxUnfinished,
    }),
  };
}
