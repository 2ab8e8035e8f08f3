/**
 * Approach 3b: KEDA starts one Kubernetes Job per waiting job. Each Job's pod runs `MAX_JOBS=1` with
 * `EXIT=1`: it takes one job and exits 0, or exits 0 at once if another pod took it first, so no pod ever
 * waits on an empty queue. Nothing is scaled in, so a long job is never killed by a scale-down; only
 * `activeDeadlineSeconds` bounds it.
 *
 * The metric is waiting + prioritized jobs (summed), which excludes jobs already taken by a Job's pod:
 * that is what the `accurate` strategy expects (it subtracts pending Jobs itself). `rollout.strategy:
 * gradual` keeps running Jobs when the ScaledJob is updated (the default would delete them mid-job).
 *
 * `pendingPodConditions: [Ready]`: KEDA counts a Job as pending (and subtracts it from the queue length)
 * until its pod is Ready. Without it a Job stops being pending as soon as its pod is Running, while its
 * worker has not yet moved the job from `wait` to `active`; a poll in that window counts the job twice and
 * starts a duplicate Job. A worker is Ready once it is running and Redis answers its PING, i.e. it is
 * fetching (`MAX_JOBS=1`: it holds its one job within milliseconds of that), so the remaining window is
 * one fetch long. The other way round, a job already taken but whose pod is not yet Ready (up to one
 * readiness period, 10 s) is counted by neither, so KEDA starts one Job fewer until its next poll.
 */
import { ScaledJob } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledJob';
import { meta, type RenderContext, workerName, workerPodFailurePolicy, workerPodSpec } from '../common.js';
import { redisTriggers, triggerAuthentication } from '../keda-redis.js';

export function kedaScaledJobApproach(ctx: RenderContext) {
  const { o } = ctx;
  // One job per pod: the Job's pod count is the number of jobs it can run.
  const oneAtATime: RenderContext = { ...ctx, o: { ...o, concurrency: 1 } };
  return [
    ...triggerAuthentication(ctx),
    new ScaledJob({
      metadata: meta(ctx, workerName(ctx), 'worker'),
      spec: {
        pollingInterval: 15,
        maxReplicaCount: o.maxReplicas,
        successfulJobsHistoryLimit: 5,
        failedJobsHistoryLimit: 5,
        rollout: { strategy: 'gradual' },
        scalingStrategy: {
          strategy: 'accurate',
          multipleScalersCalculation: 'sum',
          pendingPodConditions: ['Ready'],
        },
        jobTargetRef: {
          parallelism: 1,
          completions: 1,
          backoffLimit: 2,
          activeDeadlineSeconds: o.jobDeadlineSeconds,
          podFailurePolicy: workerPodFailurePolicy(),
          template: {
            metadata: { labels: meta(ctx, workerName(ctx), 'worker').labels },
            spec: workerPodSpec(oneAtATime, {
              restartPolicy: 'Never',
              modeEnv: [
                { name: 'MAX_JOBS', value: '1' },
                { name: 'EXIT', value: '1' },
              ],
            }),
          },
        },
        triggers: redisTriggers(ctx, ['wait', 'prioritized'], 1),
      },
    }),
  ];
}
