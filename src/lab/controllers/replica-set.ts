/**
 * A Deployment's ReplicaSet: keeps `replicas` pods of one template, replaces pods that ended, and on
 * scale-in deletes pods in the ReplicaSet's order (Kubernetes `controller.ActivePodsWithRanks`): pending
 * before running, not ready before ready, ready for less time first, more restarts first, newest first.
 * It does not know which pods are busy: that is the point the lab shows (hand-backs on scale-in).
 */
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { LabPod, PodRunner } from '../pod-runner.js';

export interface ReplicaSet {
  replicas: number;
  /** Pods it counts (not ended, not terminating). */
  current(): LabPod[];
  reconcile(): void;
  /**
   * A rolling restart (`kubectl rollout restart`): new pods replace the current ones, at most `maxSurge`
   * above `replicas` and at most `maxUnavailable` Ready pods below it, old pods going once new ones are Ready.
   */
  rollout(strategy: { maxSurge: number; maxUnavailable: number }): void;
  /** Pods terminated by rollouts so far. */
  readonly rolledOut: number;
  /** A rollout is under way, or pods it stopped are still shutting down. */
  readonly rollingOut: boolean;
}

/** A RollingUpdate field (`1` or `"25%"`) as a pod count: surge rounds up, unavailable down. */
export function rollingCount(
  v: number | string | undefined,
  replicas: number,
  up: boolean,
  def = '25%',
): number {
  const value = v ?? def;
  if (typeof value === 'number') return value;
  const pct = Number(value.replace('%', '')) / 100;
  return up ? Math.ceil(replicas * pct) : Math.floor(replicas * pct);
}

/** The Deployment's update strategy as pod counts for `rs.rollout`. */
export function rolloutStrategy(
  d: IDeployment,
  replicas: number,
): { maxSurge: number; maxUnavailable: number } {
  if (d.spec?.strategy?.type === 'Recreate') return { maxSurge: 0, maxUnavailable: Math.max(1, replicas) };
  const ru = d.spec?.strategy?.rollingUpdate;
  return {
    maxSurge: rollingCount(ru?.maxSurge, replicas, true),
    maxUnavailable: rollingCount(ru?.maxUnavailable, replicas, false),
  };
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
  const old = new Set<LabPod>();
  let strategy = { maxSurge: 1, maxUnavailable: 0 };
  let rolledOut = 0;
  /** One step of a rollout; false once no old pod is left. */
  function rolloutStep(): boolean {
    const pods = mine();
    const olds = pods.filter((p) => old.has(p));
    if (!olds.length) {
      old.clear();
      return false;
    }
    const news = pods.length - olds.length;
    const surge = Math.min(rs.replicas + strategy.maxSurge - pods.length, rs.replicas - news);
    for (let i = 0; i < surge; i++) runner.create(owner, spec);
    let removable = pods.filter((p) => p.ready).length - (rs.replicas - strategy.maxUnavailable);
    for (const pod of olds.sort(deletionOrder)) {
      if (removable <= 0) break;
      runner.terminate(pod, 'rollout');
      rolledOut++;
      removable--;
    }
    return true;
  }
  const rs: ReplicaSet = {
    replicas,
    current: mine,
    get rolledOut() {
      return rolledOut;
    },
    get rollingOut() {
      return (
        old.size > 0 || runner.pods.some((p) => p.owner === owner && p.terminating && p.endedAt === undefined)
      );
    },
    rollout(s) {
      strategy = s;
      for (const p of mine()) old.add(p);
    },
    reconcile() {
      if (old.size && rolloutStep()) return;
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
