/**
 * Pods played by real processes. A pod is created Pending with its `kq worker` process spawned at once but
 * held by the pod gate (pod-gate.ts) while it loads; after the played start latency (scheduling + image
 * pull + the Node part, parameters) the gate lets it go, and the pod is Ready when the worker logs
 * `worker.started`.
 * Its container restarts in place as the kubelet would (restartPolicy Always, or OnFailure after a non-zero
 * exit) with the CrashLoopBackOff delay (10 s, doubling, at most 300 s); otherwise the pod ends Succeeded
 * (exit 0) or Failed. Termination is the kubelet's: SIGTERM, then SIGKILL after the pod's
 * terminationGracePeriodSeconds. All delays are workload time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { LabClock } from './clock.js';
import { type LedgerEntry, readLedger } from './ledger.js';
import { workerCommand, workerEnv } from './worker-env.js';

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';
export type EndReason =
  | 'exited'
  | 'scale-in'
  | 'kill'
  | 'drain'
  | 'rollout'
  | 'deadline'
  | 'replaced'
  | 'end-of-run';

export interface LabPod {
  name: string;
  /** Controller that owns it (e.g. `deployment`, `job-3`). */
  owner: string;
  /** Labels its controller gives it (a Job's pods: `batch.kubernetes.io/job-name`), read by fieldRefs. */
  labels: Record<string, string>;
  createdAt: number;
  readyAt?: number;
  endedAt?: number;
  phase: PodPhase;
  ready: boolean;
  /** SIGTERM sent (scale-in, drain, deadline): it is on its way out. */
  terminating: boolean;
  /** Why it was stopped, when something stopped it. */
  reason?: EndReason;
  restarts: number;
  /** Set by its worker through the lab's kube API (kube-api.ts): pod-deletion-cost. */
  annotations?: Record<string, string>;
  /** Chosen by a scale-in: the jobs it was running then, and whether an idle pod of its ReplicaSet stayed. */
  scaleIn?: { runningJobs: number; idlePodStayed: boolean };
  lastExitCode?: number | null;
  pids: number[];
  handBacks: number;
  /** Each container start: its process, when it logged `worker.started` (workload ms), how it ended. */
  containers: {
    pid: number;
    /** Workload ms at spawn, and the start duration asked (latency, or back-off + Node start). */
    spawnedAt: number;
    askedStartMs: number;
    readyAt?: number;
    /** Workload ms the lab sent SIGKILL (a kill fault), and the process was gone. */
    killedAt?: number;
    exitedAt?: number;
    /** Wall ms from the worker leaving (stopping, its last job ended: `leavingWatch`) to its exit. */
    stopWallMs?: number;
    /** Wall ms from spawn to `worker.started`: the real load, hidden behind the played latency. */
    nodeStartWallMs?: number;
    /** Wall ms from release to `worker.started`: what the played latency could not hide. */
    lateWallMs?: number;
    exit?: string;
  }[];
  spec: IPodSpec;
}

export interface PodRunnerOptions {
  clock: LabClock;
  redisUrl: string;
  ledgerFile: string;
  /** Scheduling + image pull, workload ms. */
  startLatencyMs: number;
  /** The Node part of a container start (process start to `worker.started`), workload ms. */
  nodeStartMs: number;
  /** The lab's kube API (kube-api.ts) for workers whose pods keep their pod-deletion-cost. */
  kubeApiUrl?: string;
  /**
   * A container exited on its own with a non-zero code before `worker.started` for a reason other than an
   * unreachable Redis (a module that does not load, a bad setting): every pod would do the same, so the
   * run cannot measure anything. Called with the pod and the end of the process's output.
   */
  onStartFailure?: (failure: StartFailure) => void;
}

export interface StartFailure {
  pod: string;
  exit: string;
  /** The last lines the process wrote (stderr and stdout). */
  output: string;
}

/**
 * Output of a start that failed because Redis was not reachable or not answering yet (refused, reset,
 * timed out, still loading; ioredis' `Command timed out` from a sweeper pod): a fault the lab plays, not a bug.
 */
export const REDIS_UNREACHABLE =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|Command timed out|worker\.redis-down|Redis unreachable|LOADING/;
const OUTPUT_TAIL_CHARS = 4000;

export interface PodRunner {
  readonly pods: LabPod[];
  create(owner: string, spec: IPodSpec, labels?: Record<string, string>): LabPod;
  /** SIGTERM, then SIGKILL after terminationGracePeriodSeconds; a Pending pod is just removed. */
  terminate(pod: LabPod, reason: EndReason): void;
  /** SIGKILL the container now (a crash or OOM kill); the restart policy decides what follows. */
  kill(pod: LabPod): boolean;
  /** Processes still running. */
  liveProcesses(): number;
  /** Workload ms now (the ReplicaSet's reference time; without it, times compare exactly). */
  now?(): number;
  /** Jobs whose handler runs in the pod's current container now (from the ledger); without it, scale-ins are not accounted. */
  runningJobs?(pod: LabPod): number;
  /** Pods not yet ended. */
  active(): LabPod[];
  /** SIGKILLs every process left and waits for it to exit. */
  close(): Promise<void>;
}

/** Handler runs started and not yet ended, by worker pid. */
export function runningByPid(ledger: readonly LedgerEntry[]): Map<number, number> {
  const open = new Map<string, number>();
  for (const e of ledger) {
    const key = `${e.pid} ${e.id} ${e.attempt}`;
    if (e.event === 'start') open.set(key, e.pid);
    else open.delete(key);
  }
  const byPid = new Map<number, number>();
  for (const pid of open.values()) byPid.set(pid, (byPid.get(pid) ?? 0) + 1);
  return byPid;
}

const JOB_END = /"event":"job\.(completed|failed|retried|cancelled|handed-back)"/;

/**
 * Reads a worker's log lines and answers true from the line on which it leaves: it is stopping and its
 * last job has ended. Its `worker.stopping` line counts the jobs it still runs (a `MAX_JOBS` stop comes as
 * the last job is taken, and counts it); each of those ends with one line. All that follows (closing
 * connections, exiting) is overhead a real run's speed multiplies; the jobs' own run is not.
 * @example const leaving = leavingWatch(); for (const line of lines) if (leaving(line)) stopAt ??= Date.now();
 */
export function leavingWatch(): (line: string) => boolean {
  let running: number | undefined;
  return (line) => {
    if (running === undefined && line.includes('"worker.stopping"')) {
      const n = /"running":(\d+)/.exec(line)?.[1];
      running = n === undefined ? 0 : Number(n);
    } else if (running !== undefined && running > 0 && JOB_END.test(line)) running--;
    return running === 0;
  };
}

/** A pod as the API server has it right after creation: Pending, no container started yet. */
export function newLabPod(
  name: string,
  owner: string,
  labels: Record<string, string>,
  createdAt: number,
  spec: IPodSpec,
): LabPod {
  return {
    name,
    owner,
    labels,
    createdAt,
    phase: 'Pending',
    ready: false,
    terminating: false,
    restarts: 0,
    annotations: {},
    pids: [],
    handBacks: 0,
    containers: [],
    spec,
  };
}

const BACKOFF_START_MS = 10_000;
const BACKOFF_MAX_MS = 300_000;

/**
 * The kubelet's answer to a pod's container exiting with `code` (null: killed by a signal): restart it in
 * place after the CrashLoopBackOff delay (restartPolicy Always, or OnFailure after a non-zero exit) unless
 * the pod is terminating or the run is closing; otherwise the pod ends (Succeeded on exit 0), if it has
 * not already. Both engines play a container's exit through it.
 * @example const next = containerExited(pod, 1, false); if (next?.restartInMs !== undefined) restart(next.restartInMs);
 */
export function containerExited(
  pod: LabPod,
  code: number | null,
  closing: boolean,
):
  | { restartInMs: number; phase?: undefined }
  | { phase: 'Succeeded' | 'Failed'; restartInMs?: undefined }
  | undefined {
  pod.ready = false;
  pod.lastExitCode = code;
  const policy = pod.spec.restartPolicy ?? 'Always';
  if (!pod.terminating && !closing && (policy === 'Always' || (policy === 'OnFailure' && code !== 0))) {
    pod.restarts++;
    return { restartInMs: Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** (pod.restarts - 1)) };
  }
  return pod.endedAt === undefined ? { phase: code === 0 ? 'Succeeded' : 'Failed' } : undefined;
}

/** @example const runner = createPodRunner({ clock, redisUrl, ledgerFile, startLatencyMs: 2000 }); */
export function createPodRunner(o: PodRunnerOptions): PodRunner {
  const pods: LabPod[] = [];
  const procs = new Map<LabPod, ChildProcess>();
  /** Processes spawned but not yet let go by the pod gate. */
  const held = new Set<ChildProcess>();
  const timers = new Set<NodeJS.Timeout>();
  const exits: Promise<void>[] = [];
  let seq = 0;
  let closing = false;

  const later = (workloadMs: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, o.clock.toWall(workloadMs));
    timers.add(t);
  };

  const end = (pod: LabPod, phase: 'Succeeded' | 'Failed') => {
    pod.phase = phase;
    pod.ready = false;
    pod.endedAt = o.clock.now();
  };

  /** Spawns the container's process now, held by the pod gate, and lets it start after `releaseAfterMs`. */
  function startContainer(pod: LabPod, releaseAfterMs: number) {
    if (closing || pod.endedAt !== undefined) return;
    const container = pod.spec.containers[0];
    if (!container) throw new Error(`pod ${pod.name} has no container`);
    const [cli, ...args] = workerCommand(container);
    const env = workerEnv(container, {
      redisUrl: o.redisUrl,
      speed: o.clock.speed,
      ledgerFile: o.ledgerFile,
      kubeApiUrl: o.kubeApiUrl,
      pod: { name: pod.name, labels: pod.labels },
    });
    const spawnedAt = Date.now();
    const p = spawn(process.execPath, [cli as string, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    procs.set(pod, p);
    const c: LabPod['containers'][number] = {
      pid: p.pid ?? 0,
      spawnedAt: o.clock.now(),
      askedStartMs: releaseAfterMs,
    };
    pod.containers.push(c);
    if (p.pid) pod.pids.push(p.pid);
    p.stdin?.on('error', () => undefined);
    let releasedAt: number | undefined;
    later(releaseAfterMs, () => {
      if (procs.get(pod) !== p) return;
      releasedAt = Date.now();
      held.delete(p);
      pod.phase = 'Running';
      p.stdin?.end('go\n');
    });
    held.add(p);
    let partial = '';
    let tail = '';
    let stoppingAt: number | undefined;
    const leaving = leavingWatch();
    const keepTail = (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
    };
    p.stdout?.on('data', (chunk: Buffer) => {
      keepTail(chunk);
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line.includes('"worker.started"') && !pod.terminating) {
          pod.ready = true;
          pod.readyAt ??= o.clock.now();
          c.readyAt = o.clock.now();
          c.nodeStartWallMs = Date.now() - spawnedAt;
          c.lateWallMs = Date.now() - (releasedAt ?? Date.now());
        } else if (line.includes('"job.handed-back"')) pod.handBacks++;
        if (leaving(line)) stoppingAt ??= Date.now();
      }
    });
    p.stderr?.on('data', keepTail);
    exits.push(
      new Promise<void>((resolveExit) => {
        p.once('exit', (code, signal) => {
          procs.delete(pod);
          c.exit = signal ?? String(code);
          c.exitedAt = o.clock.now();
          if (stoppingAt !== undefined) c.stopWallMs = Date.now() - stoppingAt;
          const startFailed =
            c.readyAt === undefined && signal === null && code !== 0 && !pod.terminating && !closing;
          if (startFailed && !REDIS_UNREACHABLE.test(tail))
            o.onStartFailure?.({ pod: pod.name, exit: c.exit, output: tail.trim() });
          const next = containerExited(pod, code, closing);
          if (next?.restartInMs !== undefined) startContainer(pod, next.restartInMs + o.nodeStartMs);
          else if (next) end(pod, next.phase);
          resolveExit();
        });
      }),
    );
  }

  return {
    pods,
    create(owner, spec, labels = {}) {
      const pod = newLabPod(`${owner}-${seq++}`, owner, labels, o.clock.now(), spec);
      pods.push(pod);
      startContainer(pod, o.startLatencyMs + o.nodeStartMs);
      return pod;
    },
    terminate(pod, reason) {
      if (pod.terminating || pod.endedAt !== undefined) return;
      pod.terminating = true;
      pod.ready = false;
      pod.reason = reason;
      const p = procs.get(pod);
      if (!p || held.has(p)) {
        // Never started (still Pending, or waiting out CrashLoopBackOff): nothing to stop gracefully.
        if (p) p.kill('SIGKILL');
        end(pod, 'Failed');
        return;
      }
      p.kill('SIGTERM');
      const graceMs = (pod.spec.terminationGracePeriodSeconds ?? 30) * 1000;
      later(graceMs, () => {
        if (procs.get(pod) === p) p.kill('SIGKILL');
      });
    },
    kill(pod) {
      const p = procs.get(pod);
      if (!p || held.has(p)) return false;
      const c = pod.containers.at(-1);
      if (c) c.killedAt = o.clock.now();
      p.kill('SIGKILL');
      return true;
    },
    liveProcesses: () => procs.size,
    now: () => o.clock.now(),
    runningJobs(pod) {
      const pid = procs.get(pod)?.pid;
      return pid === undefined ? 0 : (runningByPid(readLedger(o.ledgerFile)).get(pid) ?? 0);
    },
    active: () => pods.filter((p) => p.endedAt === undefined),
    async close() {
      closing = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const [pod, p] of procs) {
        pod.reason ??= 'end-of-run';
        p.kill('SIGKILL');
      }
      await Promise.all(exits);
      for (const pod of pods) if (pod.endedAt === undefined) end(pod, 'Failed');
    },
  };
}
