/**
 * The `autoscaling/v2` HPA both HPA approaches use: External metric `kq_queue_backlog` selected by
 * `queue=<name>`, AverageValue target per pod. `minReplicas` is at least 1: 0 needs an alpha feature gate
 * (only KEDA scales to zero, doing 0 <-> 1 itself).
 */
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { meta, type RenderContext, workerName } from '../common.js';
import { targetBacklog } from '../keda-redis.js';
import { conservativeBehavior } from './keda-scaledobject.js';

export const BACKLOG_METRIC = 'kq_queue_backlog';

export function externalBacklogHpa(ctx: RenderContext): HorizontalPodAutoscaler {
  const { o } = ctx;
  return new HorizontalPodAutoscaler({
    metadata: meta(ctx, workerName(ctx), 'worker'),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: workerName(ctx) },
      minReplicas: Math.max(1, o.minReplicas),
      maxReplicas: o.maxReplicas,
      behavior: conservativeBehavior(o),
      metrics: [
        {
          type: 'External',
          external: {
            metric: { name: BACKLOG_METRIC, selector: { matchLabels: { queue: o.queue } } },
            target: { type: 'AverageValue', averageValue: String(targetBacklog(ctx)) },
          },
        },
      ],
    },
  });
}
