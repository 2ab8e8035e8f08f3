/**
 * Approach 3e: KEDA scales the worker Deployment on kq's own runnable backlog, served by `kq keda-scaler`
 * through an `external-push` trigger. One trigger replaces `keda-scaledobject`'s three `redis` triggers and
 * counts what they cannot see (due delayed jobs and retries, orphaned active jobs, a paused queue); the
 * scaler pushes activation the moment a job arrives or a delayed job falls due, so scale-from-zero does
 * not wait for the polling interval, and KEDA needs no Redis password.
 *
 * Scale-in is as in `keda-scaledobject`: the same conservative `scaleDown` and shutdown grace.
 */
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { meta, type RenderContext, workerName } from '../common.js';
import { targetBacklog } from '../keda-redis.js';
import { workerDeploymentObjects } from './deployment.js';
import { conservativeBehavior } from './keda-scaledobject.js';
import { scalerObjects, scalerTrigger } from './keda-scaler.js';

export function kedaExternalApproach(ctx: RenderContext) {
  const { o } = ctx;
  return [
    ...workerDeploymentObjects(ctx),
    ...scalerObjects(ctx),
    new ScaledObject({
      metadata: meta(ctx, workerName(ctx), 'worker'),
      spec: {
        scaleTargetRef: { name: workerName(ctx) },
        // Activation is pushed; polling only confirms it and finds the moment to scale to zero.
        pollingInterval: o.pollingIntervalSeconds || 30,
        cooldownPeriod: o.cooldownPeriodSeconds,
        minReplicaCount: o.minReplicas,
        maxReplicaCount: o.maxReplicas,
        advanced: { horizontalPodAutoscalerConfig: { behavior: conservativeBehavior(o) } },
        triggers: [scalerTrigger(ctx, 'external-push', targetBacklog(ctx))],
      },
    }),
  ];
}
