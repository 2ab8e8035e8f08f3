/**
 * Approach 3a: KEDA scales the worker Deployment on the backlog, down to zero when idle. Three `redis`
 * triggers (waiting LIST, prioritized ZSET, running LIST) are summed by `scalingModifiers`, because with
 * several plain triggers the HPA takes the MAX, and a trigger on `:wait` alone would scale in while
 * prioritized or running jobs still need workers.
 *
 * Scale-in: the ReplicaSet deletes idle workers first, as each worker keeps its pod-deletion-cost
 * (`../pod-deletion-cost.ts`); when every pod is busy, the conservative `scaleDown` (one pod per two
 * minutes after ten quiet minutes) and a grace period above SHUTDOWN_TIMEOUT_MS make the chosen pod finish
 * or hand back its jobs; for jobs longer than that, use `keda-scaledjob`.
 */
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import type { IHorizontalPodAutoscalerBehavior } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscalerBehavior';
import { meta, type RenderContext, workerName } from '../common.js';
import { redisTriggers, targetBacklog, triggerAuthentication } from '../keda-redis.js';
import type { ManifestOptions } from '../options.js';
import { workerDeploymentObjects } from './deployment.js';

/**
 * Up fast (a burst should not wait), down slowly (each removed pod may be mid-job). The windows are
 * `--scale-up-window-seconds` and `--scale-down-window-seconds` (0 and 600 by default).
 */
export function conservativeBehavior(o: ManifestOptions): IHorizontalPodAutoscalerBehavior {
  return {
    scaleUp: {
      stabilizationWindowSeconds: o.scaleUpWindowSeconds,
      selectPolicy: 'Max',
      policies: [
        { type: 'Pods', value: 4, periodSeconds: 15 },
        { type: 'Percent', value: 100, periodSeconds: 15 },
      ],
    },
    scaleDown: {
      stabilizationWindowSeconds: o.scaleDownWindowSeconds,
      selectPolicy: 'Min',
      policies: [{ type: 'Pods', value: 1, periodSeconds: 120 }],
    },
  };
}

export function kedaScaledObjectApproach(ctx: RenderContext) {
  const { o } = ctx;
  const target = targetBacklog(ctx);
  return [
    ...workerDeploymentObjects(ctx),
    ...triggerAuthentication(ctx),
    new ScaledObject({
      metadata: meta(ctx, workerName(ctx), 'worker'),
      spec: {
        scaleTargetRef: { name: workerName(ctx) },
        pollingInterval: o.pollingIntervalSeconds || 15,
        cooldownPeriod: o.cooldownPeriodSeconds,
        minReplicaCount: o.minReplicas,
        maxReplicaCount: o.maxReplicas,
        advanced: {
          horizontalPodAutoscalerConfig: { behavior: conservativeBehavior(o) },
          scalingModifiers: {
            formula: 'wait + prioritized + active',
            target: String(target),
            activationTarget: '0',
            metricType: 'AverageValue',
          },
        },
        triggers: redisTriggers(ctx, ['wait', 'prioritized', 'active'], target),
      },
    }),
  ];
}
