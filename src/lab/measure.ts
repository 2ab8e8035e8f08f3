/**
 * The figures of one run, from three records that do not depend on each other: the ledger the handler
 * wrote (every start and end of a handler, by pid), the jobs' final states in Redis, and the pods the
 * runner played. Every time is workload time.
 */
import type { LabClock } from './clock.js';
import { POD_DELETION_COST } from './controllers/replica-set.js';
import type { FaultEvent } from './faults.js';
import type { LedgerEntry } from './ledger.js';
import type { LabPod } from './pod-runner.js';
import type { LabJob } from './workload.js';

export interface JobOutcome {
  id: string;
  job: LabJob;
  state: 'completed' | 'failed' | 'lost';
  /** Lost and still in the active list: nobody will run it again. */
  stranded: boolean;
  /** Where a lost job was left (BullMQ state: waiting, active, delayed, ..., or unknown). */
  leftIn?: string;
  /** Why a job failed for good (BullMQ's failedReason). */
  failedReason?: string;
}

export interface Figures {
  submitted: number;
  completed: number;
  failed: number;
  lost: number;
  stranded: number;
  /** Lost jobs by id, with the BullMQ state each was left in. */
  lostJobs: { id: string; leftIn: string }[];
  /** Jobs failed for good, with BullMQ's reason (e.g. the stalled-job limit). */
  failedJobs: { id: string; reason: string }[];
  runTwice: number;
  /** Handler runs cut short (kill, hand-back) and started again. */
  interruptedRuns: number;
  waitP50Ms: number;
  waitP95Ms: number;
  waitP99Ms: number;
  endToEndP50Ms: number;
  endToEndP95Ms: number;
  endToEndP99Ms: number;
  podsStarted: number;
  podSeconds: number;
  /**
   * Pod-seconds per 1,000 completed jobs: only for runs of at least `MIN_JOBS_PER_1000` completed jobs
   * (a smaller run's idle pods would be multiplied into a figure it cannot carry).
   */
  podSecondsPer1000Jobs?: number;
  /** Pod-seconds per second of handler work asked (completed jobs' durations): 1 is no idle pod at all. */
  podSecondsPerJobSecond: number;
  /** Jobs whose first run waited for its pod to start (the pod became ready after the job was due). */
  coldStarts: number;
  handBacks: number;
  handBacksOnScaleIn: number;
  podsScaledIn: number;
  /** Jobs running on a pod when a scale-in chose it (they finish in the grace period or are handed back). */
  interruptedByScaleIn: number;
  /** Of those, the ones whose pod was chosen while an idle pod of the same ReplicaSet stayed up. */
  idleWhenInterrupted: number;
  /** Pods whose worker set their pod-deletion-cost through the lab's kube API. */
  podsWithDeletionCost: number;
  containerRestarts: number;
  /** Pod creation to Ready (first container), workload ms: the played latency, or more when loading lagged. */
  podStartP50Ms: number;
  podStartP95Ms: number;
  /** How worker processes ended: exit code or signal -> count. */
  exits: Record<string, number>;
  /** Median wall ms from process spawn to `worker.started` (the Node part of pod start). */
  nodeStartWallMsP50: number;
  faults: (FaultEvent & { recoverMs: number | null; interruptedJobs: number })[];
  /** Largest recovery time among faults, workload ms (null when a fault never recovered; absent without faults). */
  recoverMaxMs?: number | null;
}

/** Completed jobs a run needs before it reports a per-1,000-jobs figure. */
export const MIN_JOBS_PER_1000 = 1000;

export function percentile(values: readonly number[], p: number): number {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round(sorted[i] as number);
}

function faultRecovery(
  f: FaultEvent,
  runs: Map<string, LedgerEntry[]>,
  at: (e: LedgerEntry) => number,
): { recoverMs: number | null; interruptedJobs: number } {
  if (f.kind === 'redis-restart') {
    const after = [...runs.values()].flat().filter((e) => e.event === 'done' && at(e) > f.at);
    const first = Math.min(...after.map(at));
    return { recoverMs: after.length ? first - f.at : null, interruptedJobs: 0 };
  }
  let worst: number | null = 0;
  let interrupted = 0;
  for (const entries of runs.values()) {
    const mine = entries.filter((e) => e.pid === f.pid && at(e) <= f.at);
    const last = mine.at(-1);
    if (last?.event !== 'start') continue;
    // Its run on the faulted pod had not ended when the fault hit; did it end there (within the grace
    // period of a drain) or start again elsewhere?
    const ended = entries.find((e) => e.pid === f.pid && e.event !== 'start' && at(e) > f.at);
    if (ended) continue;
    interrupted++;
    const again = entries.find((e) => e.event === 'start' && at(e) > f.at && e.pid !== f.pid);
    if (!again) worst = null;
    else if (worst !== null) worst = Math.max(worst, at(again) - f.at);
  }
  return { recoverMs: worst, interruptedJobs: interrupted };
}

/** @example const figures = measure({ outcomes, ledger, pods, faults, clock, endMs }); */
export function measure(o: {
  outcomes: readonly JobOutcome[];
  ledger: readonly LedgerEntry[];
  pods: readonly LabPod[];
  faults: readonly FaultEvent[];
  clock: LabClock;
  endMs: number;
}): Figures {
  const at = (e: LedgerEntry) => o.clock.at(e.wallMs);
  const runs = new Map<string, LedgerEntry[]>();
  for (const e of o.ledger) {
    const list = runs.get(e.id) ?? [];
    list.push(e);
    runs.set(e.id, list);
  }
  const readyByPid = new Map<number, number | undefined>();
  for (const pod of o.pods) for (const c of pod.containers) readyByPid.set(c.pid, c.readyAt);

  const waits: number[] = [];
  const e2e: number[] = [];
  let runTwice = 0;
  let interrupted = 0;
  let cold = 0;
  for (const out of o.outcomes) {
    const entries = runs.get(out.id) ?? [];
    const due = out.job.at + out.job.delayMs;
    const firstStart = entries.find((e) => e.event === 'start');
    if (firstStart) {
      waits.push(Math.max(0, at(firstStart) - due));
      const readyAt = readyByPid.get(firstStart.pid);
      if (readyAt !== undefined && readyAt > due) cold++;
    }
    const dones = entries.filter((e) => e.event === 'done');
    if (dones.length > 1) runTwice++;
    const starts = entries.filter((e) => e.event === 'start').length;
    interrupted += Math.max(0, starts - (entries.length - starts));
    const lastDone = dones.at(-1);
    if (out.state === 'completed' && lastDone) e2e.push(at(lastDone) - out.job.at);
  }

  const started = o.pods.filter((p) => p.containers.length > 0);
  const podStarts = started.flatMap((p) => (p.readyAt === undefined ? [] : [p.readyAt - p.createdAt]));
  const podSeconds = o.pods.reduce((s, p) => s + ((p.endedAt ?? o.endMs) - p.createdAt) / 1000, 0);
  const completed = o.outcomes.filter((x) => x.state === 'completed').length;
  const jobSeconds = o.outcomes
    .filter((x) => x.state === 'completed')
    .reduce((sum, x) => sum + x.job.durationMs / 1000, 0);
  const faults = o.faults.map((f) => ({ ...f, ...faultRecovery(f, runs, at) }));
  const recoveries = faults.map((f) => f.recoverMs);
  const nodeStarts = started.flatMap((p) =>
    p.containers.flatMap((c) => (c.nodeStartWallMs === undefined ? [] : [c.nodeStartWallMs])),
  );
  return {
    submitted: o.outcomes.length,
    completed,
    failed: o.outcomes.filter((x) => x.state === 'failed').length,
    lost: o.outcomes.filter((x) => x.state === 'lost').length,
    stranded: o.outcomes.filter((x) => x.stranded).length,
    lostJobs: o.outcomes
      .filter((x) => x.state === 'lost')
      .map((x) => ({ id: x.id, leftIn: x.leftIn ?? 'unknown' })),
    failedJobs: o.outcomes
      .filter((x) => x.state === 'failed')
      .map((x) => ({ id: x.id, reason: x.failedReason ?? 'unknown' })),
    runTwice,
    interruptedRuns: interrupted,
    waitP50Ms: percentile(waits, 50),
    waitP95Ms: percentile(waits, 95),
    waitP99Ms: percentile(waits, 99),
    endToEndP50Ms: percentile(e2e, 50),
    endToEndP95Ms: percentile(e2e, 95),
    endToEndP99Ms: percentile(e2e, 99),
    podsStarted: started.length,
    podSeconds: Math.round(podSeconds),
    ...(completed >= MIN_JOBS_PER_1000
      ? { podSecondsPer1000Jobs: Math.round((podSeconds / completed) * 1000) }
      : {}),
    podSecondsPerJobSecond: jobSeconds > 0 ? Math.round((podSeconds / jobSeconds) * 100) / 100 : 0,
    coldStarts: cold,
    handBacks: o.pods.reduce((s, p) => s + p.handBacks, 0),
    handBacksOnScaleIn: o.pods.filter((p) => p.reason === 'scale-in').reduce((s, p) => s + p.handBacks, 0),
    podsScaledIn: o.pods.filter((p) => p.reason === 'scale-in').length,
    interruptedByScaleIn: o.pods.reduce((n, p) => n + (p.scaleIn?.runningJobs ?? 0), 0),
    idleWhenInterrupted: o.pods.reduce(
      (n, p) => n + (p.scaleIn?.idlePodStayed ? p.scaleIn.runningJobs : 0),
      0,
    ),
    podsWithDeletionCost: o.pods.filter((p) => p.annotations?.[POD_DELETION_COST] !== undefined).length,
    containerRestarts: o.pods.reduce((s, p) => s + p.restarts, 0),
    podStartP50Ms: percentile(podStarts, 50),
    podStartP95Ms: percentile(podStarts, 95),
    exits: started
      .flatMap((p) => p.containers.map((c) => c.exit ?? 'running'))
      .reduce<Record<string, number>>((m, e) => {
        m[e] = (m[e] ?? 0) + 1;
        return m;
      }, {}),
    nodeStartWallMsP50: percentile(nodeStarts, 50),
    faults,
    ...(faults.length
      ? { recoverMaxMs: recoveries.includes(null) ? null : Math.max(0, ...(recoveries as number[])) }
      : {}),
  };
}
