/**
 * A Deployment's ReplicaSet: keeps `replicas` pods of one template, replaces pods that ended, and on
 * scale-in deletes pods in the ReplicaSet's order (Kubernetes `controller.ActivePodsWithRanks`): pending
 * before running, not ready before ready, ready for less time first, more restarts first, newest first.
 * It does not know which pods are busy: that is the point the lab shows (hand-backs on scale-in).
 */
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { LabPod, PodRunner } from '../pod-runner.js';

export interface ReplicaSet {
  replicas: number;
  /** Pods it counts (not ended, not terminating). */
  current(): LabPod[];
  reconcile(): void;
}

/** Negative when `a` should be deleted before `b`. */
export function deletionOrder(a: LabPod, b: LabPod): number {
  const phaseRank = (p: LabPod) => (p.phase === 'Pending' ? 0 : 1);
  if (phaseRank(a) !== phaseRank(b)) return phaseRank(a) - phaseRank(b);
  if (a.ready !== b.ready) return a.ready ? 1 : -1;
  if (a.ready && b.ready && a.readyAt !== b.readyAt) return (b.readyAt ?? 0) - (a.readyAt ?? 0);
  if (a.restarts !== b.restarts) return b.restarts - a.restarts;
  return b.createdAt - a.createdAt;
}

/** @example const rs = createReplicaSet(runner, deployment.spec.template.spec, 'kq-worker', 2); rs.reconcile(); */
export function createReplicaSet(
  runner: PodRunner,
  spec: IPodSpec,
  owner: string,
  replicas: number,
): ReplicaSet {
  const mine = () =>
    runner.pods.filter((p) => p.owner === owner && p.endedAt === undefined && !p.terminating);
  const rs: ReplicaSet = {
    replicas,
    current: mine,
    reconcile() {
      const pods = mine();
      for (let i = pods.length; i < rs.replicas; i++) runner.create(owner, spec);
      if (pods.length > rs.replicas) {
        const doomed = [...pods].sort(deletionOrder).slice(0, pods.length - rs.replicas);
        for (const pod of doomed) runner.terminate(pod, 'scale-in');
      }
    },
  };
  return rs;
}
