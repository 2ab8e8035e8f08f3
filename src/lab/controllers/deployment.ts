/** Approach `deployment`: the ReplicaSet keeps `spec.replicas` workers up, whatever the queue holds. */
import { WORKER_NAME } from '../../k8s/common.js';
import type { Controller, ControllerDeps } from './controller.js';
import { findObject, podSpecOf, type RenderedObject } from './objects.js';
import { createReplicaSet, rolloutStrategy } from './replica-set.js';

export function deploymentController(objects: readonly RenderedObject[], deps: ControllerDeps): Controller {
  const d = findObject(objects, 'Deployment');
  const rs = createReplicaSet(
    deps.runner,
    podSpecOf(d.spec?.template, 'Deployment'),
    WORKER_NAME,
    d.spec?.replicas ?? 1,
  );
  return {
    tailMs: 0,
    notes: [
      `Deployment: ${rs.replicas} replicas kept up; ended pods replaced, crashed containers restarted in place with CrashLoopBackOff`,
    ],
    atRest: () => rs.reconcile(),
    rollout: () => rs.rollout(rolloutStrategy(d, rs.replicas)),
    busy: () => rs.rollingOut,
    async tick() {
      rs.reconcile();
    },
    stats: () => ({
      rolledOut: rs.rolledOut,
      replicas: rs.replicas,
    }),
  };
}
