/**
 * Approach 3f: KEDA starts one Kubernetes Job per job, counted by `kq keda-scaler` through an `external`
 * trigger. Unlike `keda-scaledjob` (waiting + prioritized lists only), the count includes retries whose
 * backoff is over, delayed jobs that are due and orphaned active jobs (their pod was killed), so each
 * gets a pod without a new job having to arrive.
 *
 * The metric counts running jobs too, which is what KEDA's `default` strategy expects: it starts
 * `ceil(metric / 1) - running Jobs` new Jobs. KEDA ignores pushes for ScaledJobs, hence the pull
 * `external` trigger and a short polling interval (each poll is one Lua read in the scaler).
 */
import { ScaledJob } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledJob';
import { meta, oneJobPerPodJobTarget, type RenderContext, workerName } from '../common.js';
import { scalerObjects, scalerTrigger } from './keda-scaler.js';

export function kedaExternalJobApproach(ctx: RenderContext) {
  const { o } = ctx;
  return [
    ...scalerObjects(ctx),
    new ScaledJob({
      metadata: meta(ctx, workerName(ctx), 'worker'),
      spec: {
        pollingInterval: o.pollingIntervalSeconds || 5,
        maxReplicaCount: o.maxReplicas,
        successfulJobsHistoryLimit: 5,
        failedJobsHistoryLimit: 5,
        rollout: { strategy: 'gradual' },
        scalingStrategy: { strategy: 'default' },
        jobTargetRef: oneJobPerPodJobTarget(ctx),
        triggers: [scalerTrigger(ctx, 'external', 1)],
      },
    }),
  ];
}
