/** The comparison table's columns, their formatting, and what the lab does not play. */
import type { LabRun } from './run-lab.js';

/** What the lab plays and what it leaves out; printed in both reports and in docs/lab.md. */
export const NOT_PLAYED = [
  'pod scheduling, node capacity and node autoscaling: every pod fits at once',
  'image pulls and scheduling beyond the fixed --pod-start-seconds, and the Node start beyond --node-start-seconds: the real worker process loads while its pod is Pending and starts when the played latency is over; when loading takes longer (a loaded machine, a high --speed) the pod is late by the difference (podStartP50Ms/P95Ms show it)',
  'liveness and readiness probes: a pod is Ready when its worker logs worker.started',
  'Deployment revisions (a rollout restarts the same template), PodDisruptionBudgets, history limits, ttlSecondsAfterFinished; of the ReplicaSet deletion order, the rank of pods doubled up on a node (the lab has no nodes)',
  'KEDA fallback, paused annotations, initialCooldownPeriod; the HPA’s missing-pod and readiness adjustments (it only sees External AverageValue metrics)',
  'kq keda-scaler’s gRPC transport, TLS and replicas: what it would answer (the runnable backlog, a pushed activation) is read in the lab from the same Redis by the same script',
  'worker durations below the worker’s minimums: LOCK_DURATION_MS is at least 1000 wall ms, so lock expiry takes at least --speed seconds of workload time',
];

export const TABLE_COLUMNS = [
  ['submitted', 'submitted'],
  ['completed', 'completed'],
  ['failed', 'failed'],
  ['lost', 'lost'],
  ['runTwice', 'run twice'],
  ['waitP50Ms', 'wait p50 s'],
  ['waitP95Ms', 'wait p95 s'],
  ['waitP99Ms', 'wait p99 s'],
  ['endToEndP95Ms', 'e2e p95 s'],
  ['podsStarted', 'pods'],
  ['podSeconds', 'pod-s'],
  ['podSecondsPerJobSecond', 'pod-s per job-s'],
  ['podSecondsPer1000Jobs', 'pod-s/1k jobs'],
  ['podStartP95Ms', 'pod start p95 s'],
  ['coldStarts', 'cold starts'],
  ['handBacksOnScaleIn', 'hand-backs on scale-in'],
  ['interruptedByScaleIn', 'busy at scale-in'],
  ['idleWhenInterrupted', 'busy at scale-in, idle pod spared'],
  ['recoverMaxMs', 'worst recovery s'],
] as const;

export function cell(key: string, value: unknown): string {
  if (value === null) return 'never';
  if (value === undefined) return '-';
  if (typeof value !== 'number') return String(value);
  return key.endsWith('Ms') ? (value / 1000).toFixed(1) : String(value);
}

/** A figure the run's reliability check does not trust is suffixed with this mark. */
export const UNRELIABLE_MARK = ' (?)';

/** A Markdown table, for the terminal and docs; unreliable figures marked, with the reasons below. */
export function markdownTable(run: LabRun): string {
  const head = `| approach | ${TABLE_COLUMNS.map(([, label]) => label).join(' | ')} |`;
  const sep = `| --- | ${TABLE_COLUMNS.map(() => '---:').join(' | ')} |`;
  const rows = run.results.map(
    (r) =>
      `| ${r.approach} | ${TABLE_COLUMNS.map(
        ([key]) =>
          cell(key, (r.figures as unknown as Record<string, unknown>)[key]) +
          (r.reliability.unreliableFigures[key] ? UNRELIABLE_MARK : ''),
      ).join(' | ')} |`,
  );
  const reasons = run.results.flatMap((r) =>
    r.reliability.reasons.map((reason) => `${r.approach}: unreliable: ${reason}`),
  );
  return [
    head,
    sep,
    ...rows,
    ...(reasons.length ? ['', `Figures marked${UNRELIABLE_MARK} are not to be trusted:`, ...reasons] : []),
  ].join('\n');
}
