/**
 * A Deployment's ReplicaSet: keeps `replicas` pods of one template, replaces pods that ended, and on
 * scale-in deletes pods in the order of Kubernetes' `ActivePodsWithRanks.Less` (`deletionOrder`), which
 * honours `controller.kubernetes.io/pod-deletion-cost`: kq workers keep theirs at 0 while idle, higher while
 * busy, through the lab's kube API (kube-api.ts), so idle workers go first. Each pod chosen for scale-in
 * records the jobs it was running then and whether an idle pod of the same ReplicaSet stayed up
 * (`LabPod.scaleIn`, counted in the report as interruptedByScaleIn and idleWhenInterrupted).
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

/** What the deletion order reads of a pod (a `LabPod` has it all). */
export interface RankedPod {
  name: string;
  /** Bound to a node (`spec.nodeName` set); the lab's pods always are. @default true */
  scheduled?: boolean;
  phase: string;
  ready: boolean;
  /** When the pod became Ready (its Ready condition's lastTransitionTime), ms. */
  readyAt?: number;
  restarts: number;
  createdAt: number;
  annotations?: Readonly<Record<string, string>>;
}

export const POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';
const PHASE_ORDINAL: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/** The annotation as the controller reads it: an int32, and 0 when absent or not a valid int32. */
export function deletionCost(p: RankedPod): number {
  const raw = p.annotations?.[POD_DELETION_COST];
  if (raw === undefined || !/^[+-]?\d+$/.test(raw)) return 0;
  const n = Number(raw);
  return n >= -(2 ** 31) && n <= 2 ** 31 - 1 ? n : 0;
}

/** floor(log2) of the time since `t` in nanoseconds, as the controller ranks times; -1 for none. */
const logRank = (t: number, now: number) => {
  const ns = (now - t) * 1e6;
  return ns > 0 ? Math.floor(Math.log2(ns)) : -1;
};

/**
 * Negative when `a` should be deleted before `b`: Kubernetes' `ActivePodsWithRanks.Less`
 * (pkg/controller/controller_utils.go), with `LogarithmicScaleDown` (on by default) when `now` is given:
 * 1. unscheduled before scheduled; 2. Pending < Unknown < Running; 3. not Ready before Ready, whatever the
 * cost; 4. lower pod-deletion-cost first; 5. (pods doubled up on a node: the lab has no nodes); 6. Ready
 * for less time first, compared in log2 bands of the time since, ties by UID (the lab's pod name);
 * 7. more container restarts first; 8. newer first, in log2 bands likewise.
 */
export function deletionOrder(a: RankedPod, b: RankedPod, now = 0): number {
  const sa = a.scheduled ?? true;
  const sb = b.scheduled ?? true;
  if (sa !== sb) return sa ? 1 : -1;
  const pa = PHASE_ORDINAL[a.phase] ?? 0;
  const pb = PHASE_ORDINAL[b.phase] ?? 0;
  if (pa !== pb) return pa - pb;
  if (a.ready !== b.ready) return a.ready ? 1 : -1;
  const ca = deletionCost(a);
  const cb = deletionCost(b);
  if (ca !== cb) return ca - cb;
  const byTime = (ta: number | undefined, tb: number | undefined): number => {
    // afterOrZero: an unset time first, then the later one (workload time 0 is a real time here).
    if (ta === undefined || tb === undefined) return ta === tb ? 0 : ta === undefined ? -1 : 1;
    if (now <= 0) return tb - ta;
    const diff = logRank(ta, now) - logRank(tb, now);
    if (diff !== 0) return diff;
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  };
  if (a.ready && b.ready && a.readyAt !== b.readyAt) return byTime(a.readyAt, b.readyAt);
  if (a.restarts !== b.restarts) return b.restarts - a.restarts;
  if (a.createdAt !== b.createdAt) return byTime(a.createdAt, b.createdAt);
  return 0;
}

/**
 * Marks the pods a scale-in chose: the jobs each was running, and whether a pod of the same ReplicaSet
 * that stays up was idle (it could have gone instead).
 */
export function recordScaleIn(doomed: LabPod[], pods: LabPod[], runningJobs: (p: LabPod) => number): void {
  const staying = pods.filter((p) => !doomed.includes(p));
  const idleStayed = staying.some((p) => runningJobs(p) === 0);
  for (const pod of doomed) pod.scaleIn = { runningJobs: runningJobs(pod), idlePodStayed: idleStayed };
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
    const now = runner.now?.() ?? 0;
    for (const pod of olds.sort((a, b) => deletionOrder(a, b, now))) {
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
        const now = runner.now?.() ?? 0;
        const doomed = [...pods].sort((a, b) => deletionOrder(a, b, now)).slice(0, pods.length - rs.replicas);
        const running = runner.runningJobs?.bind(runner);
        if (running) recordScaleIn(doomed, pods, running);
        for (const pod of doomed) runner.terminate(pod, 'scale-in');
      }
    },
  };
  return rs;
}
