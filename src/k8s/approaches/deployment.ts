/**
 * Approach 1 (the seed's worker Deployment): a fixed number of always-on workers. On SIGTERM (rollout,
 * drain) a worker stops fetching, finishes or hands back its jobs within SHUTDOWN_TIMEOUT_MS, and
 * terminationGracePeriodSeconds leaves room for that.
 */
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { meta, type RenderContext, selector, workerName, workerPodSpec } from '../common.js';

/**
 * The worker Deployment. `replicas` is omitted when an autoscaler owns it: a value here would be reset
 * by every `kubectl apply` and fight the HPA.
 */
export function workerDeployment(ctx: RenderContext, replicas?: number): Deployment {
  return new Deployment({
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
}

export function deploymentApproach(ctx: RenderContext) {
  return [workerDeployment(ctx, ctx.o.replicas)];
}
