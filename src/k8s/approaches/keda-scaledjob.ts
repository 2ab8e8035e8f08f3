/**
 * Approach 3b: KEDA starts one Kubernetes Job per waiting job. Each Job's pod runs `MAX_JOBS=1` with
 * `EXIT=1`: it takes one job and exits 0, or exits 0 at once if another pod took it first, so no pod ever
 * waits on an empty queue. Nothing is scaled in, so a long job is never killed by a scale-down; only
 * `activeDeadlineSeconds` bounds it.
 *
 * The metric is waiting + prioritized jobs (summed), which excludes jobs already taken by a Job's pod:
 * that is what the `accurate` strategy expects (it subtracts pending Jobs itself). `rollout.strategy:
 * gradual` keeps running Jobs when the ScaledJob is updated (the default would delete them mid-job).
 */
import { ScaledJob } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledJob';
import { meta, type RenderContext, WORKER_NAME, workerPodSpec } from '../common.js';
import { redisTriggers, triggerAuthentication } from '../keda-redis.js';

export function kedaScaledJobApproach(ctx: RenderContext) {
  const { o } = ctx;
  // One job per pod: the Job's pod count is the number of jobs it can run.
  const oneAtATime: RenderContext = { ...ctx, o: { ...o, concurrency: 1 } };
  return [
    ...triggerAuthentication(ctx),
    new ScaledJob({
      metadata: meta(ctx, WORKER_NAME, 'worker'),
      spec: {
        pollingInterval: 15,
        maxReplicaCount: o.maxReplicas,
        successfulJobsHistoryLimit: 5,
        failedJobsHistoryLimit: 5,
        rollout: { strategy: 'gradual' },
        scalingStrategy: { strategy: 'accurate', multipleScalersCalculation: 'sum' },
        jobTargetRef: {
          parallelism: 1,
          completions: 1,
          backoffLimit: 2,
          activeDeadlineSeconds: o.jobDeadlineSeconds,
          template: {
            metadata: { labels: meta(ctx, WORKER_NAME, 'worker').labels },
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
