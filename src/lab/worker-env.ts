/**
 * The environment of a lab pod's `kq worker` process, taken from the rendered container: its literal
 * env values (QUEUE, KQ_PREFIX, CONCURRENCY, EXIT, MAX_JOBS, SHUTDOWN_TIMEOUT_MS, NODE_OPTIONS, ...), with
 * what only a cluster can provide replaced: REDIS_URL points at the lab's Redis (Secret references are
 * dropped), a `fieldRef` to a pod label or the pod's name takes the played pod's (K8S_JOB_NAME is the
 * played Job's name, as the Job controller's `batch.kubernetes.io/job-name` label gives it), HEALTH_PORT
 * is 0 (readiness is the worker's own `worker.started` line), HANDLERS is the lab's job type, and a
 * worker keeping its pod-deletion-cost (POD_NAME set) talks to the lab's kube API (KUBE_API_URL). Durations
 * are workload time, so every `*_MS` setting is divided by the speed, clamped at the worker's own
 * minimum where it has one (REDIS_DOWN_TIMEOUT_MS excepted, see below), and so is ACTIVE_DEADLINE_SECONDS
 * (at least 1 s), which the played Job's `activeDeadlineSeconds` counts in workload time too.
 */

import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { workerOptionSpecs } from '../worker/options.js';
import { LEDGER_ENV } from './lab-jobs.js';

/**
 * Worker settings in ms that the lab compresses, with the worker's minimum for each. REDIS_DOWN_TIMEOUT_MS
 * is not among them: Redis outages (and a loaded machine's slow replies) take real time, not workload time.
 */
const SCALED_MS: Record<string, { default: number; min: number }> = {
  SHUTDOWN_TIMEOUT_MS: { default: workerOptionSpecs.shutdownTimeoutMs.default, min: 0 },
  LOCK_DURATION_MS: { default: workerOptionSpecs.lockDurationMs.default, min: 1000 },
  POD_DELETION_COST_INTERVAL_MS: { default: workerOptionSpecs.podDeletionCostIntervalMs.default, min: 0 },
};

/** The package root (holding package.json and dist/), whether this runs from src/ or from a bundle chunk. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(resolve(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('kq lab: cannot find the kq package root (package.json)');
    dir = up;
  }
  return dir;
}

export interface WorkerEnvOptions {
  redisUrl: string;
  speed: number;
  ledgerFile: string;
  /** The lab's kube API: given to workers whose container sets `POD_NAME` (pod-deletion-cost). */
  kubeApiUrl?: string;
  /** The played pod: what a `fieldRef` may read. */
  pod?: { name: string; labels: Readonly<Record<string, string>> };
}

/** The namespace a lab pod's `metadata.namespace` reads. */
export const LAB_NAMESPACE = 'kq-lab';

/** The value of a downward-API `fieldRef` for the played pod; anything else is refused by name. */
function fieldValue(envName: string, fieldPath: string, pod: WorkerEnvOptions['pod']): string {
  const label = /^metadata\.labels\['([^']+)'\]$/.exec(fieldPath);
  const value =
    fieldPath === 'metadata.name'
      ? pod?.name
      : fieldPath === 'metadata.namespace'
        ? LAB_NAMESPACE
        : label
          ? pod?.labels[label[1] as string]
          : undefined;
  if (value === undefined) {
    const known = Object.keys(pod?.labels ?? {});
    throw new Error(
      `kq lab: env ${envName} reads fieldRef ${JSON.stringify(fieldPath)}, which the lab cannot resolve for pod ${pod?.name ?? '(unnamed)'} (it resolves metadata.name, metadata.namespace and metadata.labels['<label>'] for the labels ${known.length ? known.join(', ') : '(none)'})`,
    );
  }
  return value;
}

/** @example workerEnv(pod.spec.containers[0], { redisUrl, speed: 60, ledgerFile }) */
export function workerEnv(container: IContainer, o: WorkerEnvOptions): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef) env[e.name] = fieldValue(e.name, e.valueFrom.fieldRef.fieldPath, o.pod);
    else if (!e.valueFrom?.secretKeyRef) {
      throw new Error(
        `kq lab: env ${e.name} of container ${container.name} is set from ${JSON.stringify(e.valueFrom)}; the lab plays literal values, secretKeyRef (dropped) and fieldRef only`,
      );
    }
  }
  delete env.REDIS_PASSWORD;
  for (const [name, s] of Object.entries(SCALED_MS)) {
    const workload = env[name] !== undefined ? Number(env[name]) : s.default;
    env[name] = String(Math.max(s.min, Math.round(workload / o.speed)));
  }
  if (env.ACTIVE_DEADLINE_SECONDS !== undefined && Number(env.ACTIVE_DEADLINE_SECONDS) > 0)
    env.ACTIVE_DEADLINE_SECONDS = String(
      Math.max(1, Math.round(Number(env.ACTIVE_DEADLINE_SECONDS) / o.speed)),
    );
  return {
    ...env,
    REDIS_URL: o.redisUrl,
    HEALTH_PORT: '0',
    HANDLERS: resolve(packageRoot(), LAB_RUNTIME_FILES.handlers),
    [LEDGER_ENV]: o.ledgerFile,
    ...(env.POD_NAME && o.kubeApiUrl ? { KUBE_API_URL: o.kubeApiUrl } : {}),
    LOG_LEVEL: 'info',
  };
}

/**
 * Files of the package a lab pod's process loads besides the bundle, relative to the package root. They
 * are listed in package.json `files` (a guard test checks `npm pack` ships them and what they import).
 */
export const LAB_RUNTIME_FILES = {
  podGate: 'dist/lab/pod-gate.js',
  handlers: 'dist/lab/lab-jobs.js',
  cli: 'dist/cli.js',
} as const;

/** `node --import <pod gate> dist/cli.js <container args>` (see pod-gate.ts). */
export function workerCommand(container: IContainer): string[] {
  const root = packageRoot();
  return [
    '--import',
    pathToFileURL(resolve(root, LAB_RUNTIME_FILES.podGate)).href,
    resolve(root, LAB_RUNTIME_FILES.cli),
    ...(container.args ?? ['worker']),
  ];
}
