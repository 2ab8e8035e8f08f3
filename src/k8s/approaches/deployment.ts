/**
 * Approach 1 (the seed's worker Deployment): a fixed number of always-on workers. On SIGTERM (rollout,
 * drain) a worker stops fetching, finishes or hands back its jobs within SHUTDOWN_TIMEOUT_MS, and
 * terminationGracePeriodSeconds leaves room for that.
 */
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { meta, type RenderContext, selector, workerName, workerPodSpec } from '../common.js';
import { podDeletionCostRbac, withPodDeletionCost } from '../pod-deletion-cost.js';

/**
 * The worker Deployment. `replicas` is omitted when an autoscaler owns it: a value here would be reset
 * by every `kubectl apply` and fight the HPA.
 */
export function workerDeployment(ctx: RenderContext, replicas?: number): Deployment {
  const d = new Deployment({
    metadata: meta(ctx, workerName(ctx), 'worker'),
    spec: {
      ...(replicas === undefined ? {} : { replicas }),
      selector: { matchLabels: selector(workerName(ctx)) },
      // A new pod first, then the old one drains: capacity never drops during a rollout.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: meta(ctx, workerName(ctx), 'worker').labels },
        spec: workerPodSpec(ctx),
      },
    },
  });
  withPodDeletionCost(ctx, d);
  return d;
}

/**
 * The worker Deployment and what its pods need to patch their pod-deletion-cost, in apply order: a
 * ReplicaSet scaling in (HPA, KEDA, `kubectl scale`) then removes idle workers first.
 */
export function workerDeploymentObjects(ctx: RenderContext, replicas?: number) {
  return [...podDeletionCostRbac(ctx), workerDeployment(ctx, replicas)];
}

export function deploymentApproach(ctx: RenderContext) {
  return workerDeploymentObjects(ctx, ctx.o.replicas);
}
