/**
 * Pods with modelled `kq worker`s, behind the same PodRunner interface the controllers drive in the real
 * engine. A pod is Pending for the start latency (scheduling + image pull + the Node start), then its
 * worker takes jobs up to CONCURRENCY; it exits 0 after MAX_JOBS jobs, or in EXIT mode once nothing is
 * runnable and it runs nothing. Termination (scale-in, drain, deadline) is SIGTERM: it takes nothing
 * new, its running jobs get SHUTDOWN_TIMEOUT_MS less the hand-back reserve to finish, the rest are handed
 * back, and the pod's terminationGracePeriodSeconds cuts it short (the SIGKILL leaves the jobs to lock
 * expiry). A kill (crash, OOM) leaves its jobs active until their lock expires. Restarts follow the pod's
 * restartPolicy with the kubelet's CrashLoopBackOff, as pod-runner.ts plays them.
 */
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { workerOptionSpecs } from '../../worker/options.js';
import { busyCost, IDLE_COST, POD_DELETION_COST } from '../../worker/pod-deletion-cost.js';
import type { LabClock } from '../clock.js';
import { containerExited, type EndReason, type LabPod, newLabPod, type PodRunner } from '../pod-runner.js';
import type { EventQueue } from './event-queue.js';
import type { ModelJob, ModelQueue } from './model-queue.js';

/** The worker's orphan scan period and its exit-mode emptiness check (src/worker/). */
export const RECOVER_EVERY_MS = 1000;

interface WorkerSettings {
  concurrency: number;
  exitWhenEmpty: boolean;
  maxJobs: number;
  shutdownTimeoutMs: number;
  lockDurationMs: number;
  maxStalledCount: number;
  /** The container sets POD_NAME (Downward API) and does not turn POD_DELETION_COST off. */
  keepsDeletionCost: boolean;
  /** `kq sweep` (the keda-scaledjob sweeper): moves orphans and due retries back to wait, runs no job. */
  sweepOnly: boolean;
}

/** Workload time 0 as Unix ms, for the busy costs the modelled workers set (deterministic). */
const MODEL_EPOCH_MS = Date.UTC(2026, 0, 1);

/** The worker settings a container's literal env gives, with the worker's defaults (src/worker/options.ts). */
export function workerSettings(spec: IPodSpec): WorkerSettings {
  const vars = spec.containers[0]?.env ?? [];
  const env = new Map(vars.map((e) => [e.name, e.value]));
  const num = (name: string, def: number) => {
    const v = env.get(name);
    return v === undefined || v === '' ? def : Number(v);
  };
  return {
    concurrency: num('CONCURRENCY', 1),
    exitWhenEmpty: ['1', 'true'].includes(env.get('EXIT') ?? ''),
    maxJobs: num('MAX_JOBS', 0),
    shutdownTimeoutMs: num('SHUTDOWN_TIMEOUT_MS', 25_000),
    lockDurationMs: num('LOCK_DURATION_MS', 30_000),
    maxStalledCount: num('MAX_STALLED_COUNT', workerOptionSpecs.maxStalledCount.default),
    sweepOnly: spec.containers[0]?.args?.[0] === 'sweep',
    keepsDeletionCost:
      vars.some((e) => e.name === 'POD_NAME') && !['0', 'false'].includes(env.get('POD_DELETION_COST') ?? ''),
  };
}

interface Worker {
  pod: LabPod;
  pid: number;
  s: WorkerSettings;
  running: Set<ModelJob>;
  taken: number;
  stopping: boolean;
  gone: boolean;
}

export interface ModelPods extends PodRunner {
  /** Starts waiting jobs on workers with a free slot, and lets idle exit-mode workers go. */
  dispatch(now: number): void;
  /** A live worker's orphan scan. */
  recover(now: number): void;
  /** Runs `fn` with pods starting at once (the cluster at rest, before traffic). */
  instantly(fn: () => void): void;
}

/** @example const pods = createModelPods({ clock, events, queue, startLatencyMs: 2000, nodeStartMs: 230 }); */
export function createModelPods(o: {
  clock: LabClock;
  events: EventQueue;
  queue: ModelQueue;
  startLatencyMs: number;
  nodeStartMs: number;
}): ModelPods {
  const pods: LabPod[] = [];
  const workers = new Map<LabPod, Worker>();
  /** Live workers in the order they became ready: the one that asked first is served first. */
  const ready: Worker[] = [];
  let seq = 0;
  let pidSeq = 1;
  let closing = false;
  let instant = false;
  const settingsBySpec = new Map<IPodSpec, WorkerSettings>();
  const settingsOf = (spec: IPodSpec) => {
    let s = settingsBySpec.get(spec);
    if (!s) {
      s = workerSettings(spec);
      settingsBySpec.set(spec, s);
    }
    return s;
  };

  const endPod = (pod: LabPod, phase: 'Succeeded' | 'Failed', now: number) => {
    pod.phase = phase;
    pod.ready = false;
    pod.endedAt = now;
  };

  function exit(w: Worker, exitCode: number | 'SIGKILL', now: number) {
    if (w.gone) return;
    w.gone = true;
    const i = ready.indexOf(w);
    if (i >= 0) ready.splice(i, 1);
    workers.delete(w.pod);
    const pod = w.pod;
    const c = pod.containers.at(-1);
    if (c) {
      c.exit = String(exitCode);
      c.exitedAt = now;
    }
    const next = containerExited(pod, exitCode === 'SIGKILL' ? null : exitCode, closing);
    if (next?.restartInMs !== undefined) startContainer(pod, next.restartInMs + o.nodeStartMs, now);
    else if (next) endPod(pod, next.phase, now);
  }

  function crash(w: Worker, now: number) {
    for (const j of w.running) o.queue.orphan(j, now, w.s.lockDurationMs);
    w.running.clear();
    exit(w, 'SIGKILL', now);
  }

  function maybeExit(w: Worker, now: number) {
    if (w.gone || w.running.size) return;
    if (w.stopping || (w.s.maxJobs > 0 && w.taken >= w.s.maxJobs)) exit(w, 0, now);
    else if (w.s.exitWhenEmpty && o.queue.runnable() === 0) exit(w, 0, now);
  }

  function startContainer(pod: LabPod, afterMs: number, now: number) {
    if (closing || pod.endedAt !== undefined) return;
    const pid = pidSeq++;
    pod.pids.push(pid);
    if (instant) afterMs = 0;
    const c: LabPod['containers'][number] = { pid, spawnedAt: now, askedStartMs: afterMs };
    pod.containers.push(c);
    const w: Worker = {
      pod,
      pid,
      s: settingsOf(pod.spec),
      running: new Set(),
      taken: 0,
      stopping: false,
      gone: false,
    };
    workers.set(pod, w);
    o.events.schedule(now + afterMs, () => {
      if (w.gone || pod.endedAt !== undefined) return;
      const at = o.clock.now();
      pod.phase = 'Running';
      pod.ready = true;
      pod.readyAt ??= at;
      c.readyAt = at;
      if (w.s.sweepOnly) {
        o.queue.recover(at, w.s.maxStalledCount);
        o.queue.promote(at);
        exit(w, 0, at);
        runner.dispatch(at);
        return;
      }
      ready.push(w);
      setCost(w, at);
      // A worker recovers what dead workers left before it takes anything.
      o.queue.recover(at, w.s.maxStalledCount);
      runner.dispatch(at);
    });
  }

  /** As src/worker/pod-deletion-cost.ts: idle lowest, busy higher the earlier it turned busy. */
  function setCost(w: Worker, now: number) {
    if (!w.s.keepsDeletionCost) return;
    const cost = w.running.size ? busyCost(MODEL_EPOCH_MS + now) : IDLE_COST;
    w.pod.annotations = { ...w.pod.annotations, [POD_DELETION_COST]: String(cost) };
  }

  function startJob(w: Worker, j: ModelJob, now: number) {
    w.running.add(j);
    if (w.running.size === 1) setCost(w, now);
    w.taken++;
    o.events.schedule(now + j.job.durationMs, () => {
      if (w.gone || !w.running.has(j)) return;
      const at = o.clock.now();
      w.running.delete(j);
      if (!w.running.size) setCost(w, at);
      o.queue.finish(j, w.pid, at);
      // A worker on its way out (SIGTERM) is no longer offered jobs: it leaves once its last one ends.
      if (w.stopping) maybeExit(w, at);
      runner.dispatch(at);
    });
  }

  const runner: ModelPods = {
    pods,
    create(owner, spec, labels = {}) {
      const now = o.clock.now();
      const pod = newLabPod(`${owner}-${seq++}`, owner, labels, now, spec);
      pods.push(pod);
      startContainer(pod, o.startLatencyMs + o.nodeStartMs, now);
      return pod;
    },
    terminate(pod, reason: EndReason) {
      if (pod.terminating || pod.endedAt !== undefined) return;
      const now = o.clock.now();
      pod.terminating = true;
      pod.ready = false;
      pod.reason = reason;
      const w = workers.get(pod);
      if (!w || !ready.includes(w)) {
        if (w) w.gone = true;
        workers.delete(pod);
        endPod(pod, 'Failed', now);
        return;
      }
      w.stopping = true;
      const i = ready.indexOf(w);
      if (i >= 0) ready.splice(i, 1);
      if (!w.running.size) return exit(w, 0, now);
      const reserve = Math.min(2000, w.s.shutdownTimeoutMs / 2);
      const handBackAt = now + Math.max(0, w.s.shutdownTimeoutMs - reserve);
      const killAt = now + (pod.spec.terminationGracePeriodSeconds ?? 30) * 1000;
      if (killAt < handBackAt) o.events.schedule(killAt, () => crash(w, o.clock.now()));
      else
        o.events.schedule(handBackAt, () => {
          if (w.gone) return;
          for (const j of w.running) {
            o.queue.handBack(j);
            pod.handBacks++;
          }
          w.running.clear();
          exit(w, 0, o.clock.now());
          runner.dispatch(o.clock.now());
        });
    },
    kill(pod) {
      const w = workers.get(pod);
      if (!w || !ready.includes(w)) return false;
      const now = o.clock.now();
      const c = pod.containers.at(-1);
      if (c) c.killedAt = now;
      crash(w, now);
      return true;
    },
    liveProcesses: () => workers.size,
    now: () => o.clock.now(),
    runningJobs: (pod) => workers.get(pod)?.running.size ?? 0,
    active: () => pods.filter((p) => p.endedAt === undefined),
    async close() {
      closing = true;
      const now = o.clock.now();
      for (const w of [...workers.values()]) {
        w.pod.reason ??= 'end-of-run';
        crash(w, now);
      }
      for (const pod of pods) if (pod.endedAt === undefined) endPod(pod, 'Failed', now);
    },
    dispatch(now) {
      // BullMQ promotes due delayed jobs when a worker fetches: with no worker taking jobs, they stay delayed.
      if (ready.some((w) => !w.stopping)) o.queue.promote(now);
      for (const w of [...ready]) {
        while (
          !w.stopping &&
          w.running.size < w.s.concurrency &&
          !(w.s.maxJobs > 0 && w.taken >= w.s.maxJobs)
        ) {
          const j = o.queue.take(w.pid, now);
          if (!j) break;
          startJob(w, j, now);
        }
        maybeExit(w, now);
      }
    },
    instantly(fn) {
      instant = true;
      try {
        fn();
      } finally {
        instant = false;
      }
    },
    recover(now) {
      const w = ready[0];
      if (w && o.queue.recover(now, w.s.maxStalledCount) > 0) runner.dispatch(now);
    },
  };
  return runner;
}
