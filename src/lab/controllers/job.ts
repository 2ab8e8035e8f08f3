/**
 * A Kubernetes Job (batch/v1), as the Job controller runs it: up to `parallelism` pods; with
 * `completions` unset it is a work-queue Job (once one pod exits 0 no new pods start, and it completes
 * when all have ended); pod failures (and container restarts under OnFailure) count against
 * `backoffLimit`, replacement pods wait 10 s, doubling, at most 6 min; `activeDeadlineSeconds` stops
 * every pod; `podFailurePolicy` rules (onExitCodes, onPodConditions DisruptionTarget) can ignore a failure
 * or fail the Job at once.
 */
import type { IJobSpec } from 'kubernetes-models/batch/v1/JobSpec';
import type { IPodFailurePolicyRule } from 'kubernetes-models/batch/v1/PodFailurePolicyRule';
import type { LabPod, PodRunner } from '../pod-runner.js';

export type JobStatus = 'Active' | 'Complete' | 'Failed';

export interface LabJobObject {
  name: string;
  status: JobStatus;
  startedAt: number;
  failures: number;
  pods(): LabPod[];
  /** Creates or stops pods as the spec says; call on every tick. */
  reconcile(now: number): void;
  /** Stops every pod (CronJob Replace, end of run). */
  stop(reason: 'replaced' | 'deadline'): void;
  /** Jobs counted "pending" by KEDA: no pod running yet. */
  isPending(): boolean;
}

/** What a pod failure counts as under the Job's podFailurePolicy. */
export function podFailureAction(
  rules: readonly IPodFailurePolicyRule[],
  exitCode: number,
  disruption: boolean,
): 'FailJob' | 'Ignore' | 'Count' {
  for (const r of rules) {
    const byCode = r.onExitCodes;
    if (byCode) {
      const inList = byCode.values.includes(exitCode);
      if (byCode.operator === 'In' ? inList : !inList)
        return r.action === 'FailIndex' ? 'Count' : (r.action as 'FailJob' | 'Ignore' | 'Count');
    }
    if (
      r.onPodConditions?.some((c) => c.type === 'DisruptionTarget' && (c.status ?? 'True') === 'True') &&
      disruption
    ) {
      return r.action === 'FailIndex' ? 'Count' : (r.action as 'FailJob' | 'Ignore' | 'Count');
    }
  }
  return 'Count';
}

/** The label the Job controller puts on its pods; the ScaledJob approaches read it as K8S_JOB_NAME. */
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';

const REPLACE_BACKOFF_MS = 10_000;
const REPLACE_BACKOFF_MAX_MS = 360_000;

/** @example const job = createJob(runner, cronJob.spec.jobTemplate.spec, 'cron-0', now); */
export function createJob(runner: PodRunner, spec: IJobSpec, name: string, now: number): LabJobObject {
  const template = spec.template.spec;
  if (!template) throw new Error(`Job ${name} has no pod template`);
  const parallelism = spec.parallelism ?? 1;
  const completions = spec.completions;
  const backoffLimit = spec.backoffLimit ?? 6;
  const rules = spec.podFailurePolicy?.rules ?? [];
  const counted = new Set<string>();
  let restartsSeen = 0;
  let nextCreateAt = now;
  const mine = () => runner.pods.filter((p) => p.owner === name);
  const job: LabJobObject = {
    name,
    status: 'Active',
    startedAt: now,
    failures: 0,
    pods: mine,
    isPending: () => !mine().some((p) => p.ready || p.endedAt !== undefined),
    stop(reason) {
      for (const p of mine()) runner.terminate(p, reason);
      if (job.status === 'Active') job.status = 'Failed';
    },
    reconcile(t) {
      if (job.status !== 'Active') return;
      const pods = mine();
      const deadline = spec.activeDeadlineSeconds;
      if (deadline !== undefined && t - job.startedAt > deadline * 1000) {
        job.stop('deadline');
        return;
      }
      // Failures: ended pods that failed (policy permitting) plus in-place restarts (OnFailure).
      const restarts = pods.reduce((n, p) => n + p.restarts, 0);
      if (restarts > restartsSeen) {
        job.failures += restarts - restartsSeen;
        restartsSeen = restarts;
      }
      for (const p of pods) {
        if (p.phase !== 'Failed' || counted.has(p.name) || p.reason === 'end-of-run') continue;
        counted.add(p.name);
        const action = podFailureAction(rules, p.lastExitCode ?? 137, p.reason === 'drain');
        if (action === 'FailJob') {
          job.stop('deadline');
          return;
        }
        if (action === 'Count') {
          job.failures++;
          nextCreateAt = t + Math.min(REPLACE_BACKOFF_MAX_MS, REPLACE_BACKOFF_MS * 2 ** (job.failures - 1));
        }
      }
      if (job.failures > backoffLimit) {
        job.stop('deadline');
        return;
      }
      const succeeded = pods.filter((p) => p.phase === 'Succeeded').length;
      const active = pods.filter((p) => p.endedAt === undefined);
      if (completions === undefined) {
        if (succeeded > 0) {
          if (active.length === 0) job.status = 'Complete';
          return;
        }
      } else if (succeeded >= completions) {
        for (const p of active) runner.terminate(p, 'replaced');
        job.status = 'Complete';
        return;
      }
      const want = Math.min(parallelism, completions === undefined ? parallelism : completions - succeeded);
      if (t < nextCreateAt) return;
      for (let i = active.length; i < want; i++) runner.create(name, template, { [JOB_NAME_LABEL]: name });
    },
  };
  return job;
}
