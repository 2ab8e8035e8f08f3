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
 * one fetch long. It stays Ready while that job runs (readiness means "doing its work"): a pod that
 * turned unready then would make KEDA count every running Job as pending and start none for new jobs. The other way round, a job already taken but whose pod is not yet Ready (up to one
 * readiness period, 10 s) is counted by neither, so KEDA starts one Job fewer until its next poll.
 *
 * Crash recovery (docs/approaches.md, "What a ScaledJob cannot see"): KEDA's redis triggers read list and
 * set lengths, so a job lost by a killed pod (still in `:active`) and a retry waiting out its backoff (in
 * `:delayed`) never make KEDA start a pod. Two things cover them without a new job arriving:
 * - each pod gets its Job's name (`K8S_JOB_NAME`, from the Job controller's pod label), so the pod the Job
 *   starts to replace a killed one takes back the job its predecessor held at once;
 * - a sweeper CronJob runs `kq sweep` every minute: it moves orphans whose lock expired (pods lost for
 *   good: node gone, `backoffLimit` or deadline used up) and retries that are due back to `wait`, and runs
 *   nothing itself, so each such job gets a Job of its own from KEDA at its next poll, with the Job's
 *   deadline and one-job-per-pod isolation (an idle sweep lasts about a second).
 */
import { ScaledJob } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledJob';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import type { IContainer } from 'kubernetes-models/v1/Container';
import {
  containerSecurityContext,
  meta,
  oneJobPerPodJobTarget,
  podSecurityContext,
  type RenderContext,
  redisEnv,
  workerName,
  workerNodeOptions,
  workerPodFailurePolicy,
} from '../common.js';
import { redisTriggers, triggerAuthentication } from '../keda-redis.js';

export function kedaScaledJobApproach(ctx: RenderContext) {
  const { o } = ctx;
  return [
    ...triggerAuthentication(ctx),
    new ScaledJob({
      metadata: meta(ctx, workerName(ctx), 'worker'),
      spec: {
        pollingInterval: o.pollingIntervalSeconds || 15,
        maxReplicaCount: o.maxReplicas,
        successfulJobsHistoryLimit: 5,
        failedJobsHistoryLimit: 5,
        rollout: { strategy: 'gradual' },
        scalingStrategy: {
          strategy: 'accurate',
          multipleScalersCalculation: 'sum',
          pendingPodConditions: ['Ready'],
        },
        jobTargetRef: oneJobPerPodJobTarget(ctx),
        triggers: redisTriggers(ctx, ['wait', 'prioritized'], 1),
      },
    }),
    sweeper(ctx),
  ];
}

const SWEEP_MEMORY_LIMIT = '128Mi';

/** Every minute, `kq sweep`: orphans and due retries back to `wait`, for KEDA to start Jobs for. */
function sweeper(ctx: RenderContext) {
  const { o } = ctx;
  const name = `${workerName(ctx)}-sweeper`;
  const container: IContainer = {
    name: 'sweep',
    image: o.image,
    imagePullPolicy: 'IfNotPresent',
    args: ['sweep'],
    env: [
      ...redisEnv(ctx),
      { name: 'QUEUE', value: o.queue },
      { name: 'KQ_PREFIX', value: o.prefix },
      { name: 'NODE_OPTIONS', value: workerNodeOptions(SWEEP_MEMORY_LIMIT) ?? '' },
    ],
    resources: {
      requests: { cpu: '50m', memory: '64Mi' },
      limits: { cpu: '500m', memory: SWEEP_MEMORY_LIMIT },
    },
    securityContext: containerSecurityContext(),
  };
  return new CronJob({
    metadata: meta(ctx, name, 'worker'),
    spec: {
      schedule: '* * * * *',
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: 30,
      successfulJobsHistoryLimit: 1,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        metadata: { labels: meta(ctx, name, 'worker').labels },
        spec: {
          backoffLimit: 1,
          activeDeadlineSeconds: o.jobDeadlineSeconds,
          // Fail on a config error (exit 2), ignore evictions; the history limits clean up.
          podFailurePolicy: workerPodFailurePolicy('sweep'),
          template: {
            metadata: { labels: meta(ctx, name, 'worker').labels },
            spec: {
              restartPolicy: 'Never',
              automountServiceAccountToken: false,
              securityContext: podSecurityContext(),
              containers: [container],
            },
          },
        },
      },
    },
  });
}
