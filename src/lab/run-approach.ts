/**
 * One approach, played end to end: render its objects with the lab's queue, build its controller from
 * them, submit the workload on the lab clock, tick controllers and faults, sample the queue and the pods,
 * stop once the horizon is reached and every job has settled (or the drain limit passed), then measure.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { ManifestOptions } from '../k8s/options.js';
import { type ApproachName, renderObjects } from '../k8s/render.js';
import { readCounts } from '../queue/counts.js';
import { directoryKeys } from '../queue/keys.js';
import { createQueueCache } from '../queue/queues.js';
import { createClock, type LabClock } from './clock.js';
import { buildController, approachTailMs as tailMsOf } from './controllers/approaches.js';
import type { Controller } from './controllers/controller.js';
import type { RenderedObject } from './controllers/objects.js';
import { createFaults, type FaultPlan, type RestartableRedis } from './faults.js';
import { onInterrupt } from './interrupt.js';
import { startLabKubeApi } from './kube-api.js';
import { readLedger } from './ledger.js';
import { type Figures, measure } from './measure.js';
import { readOutcomes } from './outcomes.js';
import { createPodRunner, type LabPod, type StartFailure } from './pod-runner.js';
import { createProducer } from './producer.js';
import { redisQueueSource } from './queue-metrics.js';
import { assessReliability, type Reliability } from './reliability.js';
import type { LabJob } from './workload.js';

export interface RunSettings {
  speed: number;
  manifest: ManifestOptions;
  redis: Redis;
  redisUrl: string;
  /** The lab's own redis-server, for the restart fault. */
  redisProcess?: RestartableRedis;
  faults: FaultPlan;
  startLatencyMs: number;
  nodeStartMs: number;
  scrapeIntervalMs: number;
  adapterCacheMs: number;
  /** Workload ms the run lasts at least (arrivals + the longest tail of the approaches compared). */
  horizonMs: number;
  /** Workload ms after the horizon the run waits for unsettled jobs. */
  maxDrainMs: number;
  /** Workload ms over which faults are planned. */
  faultWindowMs: number;
}

export interface Series {
  t: number[];
  queued: number[];
  runningJobs: number[];
  pods: number[];
  readyPods: number[];
}

export interface ApproachResult {
  approach: ApproachName;
  figures: Figures;
  stats: Record<string, number | string>;
  notes: string[];
  series: Series;
  /** Pods not ended when the run stopped (before the lab's cleanup). */
  podsAtEnd: number;
  /** Those pods, for diagnosis. */
  podsLeft: {
    name: string;
    phase: string;
    ready: boolean;
    terminating: boolean;
    restarts: number;
    createdAtS: number;
  }[];
  /** Worker processes still alive after the lab's cleanup: must be 0. */
  processesLeft: number;
  /** Every worker process the run started. */
  workerPids: number[];
  runSeconds: number;
  wallSeconds: number;
  controllerErrors: number;
  /** Whether what was played matches what was asked (reliability.ts). */
  reliability: Reliability;
}

/** A lab worker exited at start (see `PodRunnerOptions.onStartFailure`): the run stops with its output. */
export class LabWorkerStartError extends Error {
  constructor(
    readonly approach: ApproachName,
    readonly failure: StartFailure,
  ) {
    super(
      `kq lab: ${approach}: worker of pod ${failure.pod} exited ${failure.exit} before it started; the run is stopped, as every pod would fail the same way. Its output:\n${failure.output || '(none)'}`,
    );
    this.name = 'LabWorkerStartError';
  }
}

const TICK_WALL_MS = 20;
const SAMPLE_WALL_MS = 100;

/** The pods still up when a run ended, as a report lists them (both engines). */
export function podsLeftOf(left: readonly LabPod[]): ApproachResult['podsLeft'] {
  return left.map((p) => ({
    name: p.name,
    phase: p.phase,
    ready: p.ready,
    terminating: p.terminating,
    restarts: p.restarts,
    createdAtS: Math.round(p.createdAt / 1000),
  }));
}

/** The objects an approach renders for queue `queue`, as plain JSON. */
export function renderForLab(name: ApproachName, manifest: ManifestOptions, queue: string): RenderedObject[] {
  return renderObjects(name, { ...manifest, queue }).map((o) => o.toJSON() as RenderedObject);
}

/** The controller's tail (cooldowns, windows), from the rendered objects, without building it. */
export function approachTailMs(name: ApproachName, manifest: ManifestOptions): number {
  return tailMsOf(name, renderForLab(name, manifest, 'lab'));
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** @example const result = await runApproach('cronjob', jobs, settings); */
export async function runApproach(
  name: ApproachName,
  jobs: readonly LabJob[],
  s: RunSettings,
): Promise<ApproachResult> {
  const queue = `lab-${name}-${Date.now().toString(36)}`;
  const prefix = s.manifest.prefix;
  const dir = mkdtempSync(join(tmpdir(), 'kq-lab-'));
  const ledgerFile = join(dir, 'ledger.txt');
  const queues = createQueueCache(s.redis, prefix);
  const q = queues.get(queue);
  const clock: LabClock = createClock(s.speed);
  // Workers whose pods keep their pod-deletion-cost patch them here, as they would the API server.
  const kubeApi = await startLabKubeApi(() => runner.pods);
  let startFailure: StartFailure | undefined;
  const runner = createPodRunner({
    clock,
    redisUrl: s.redisUrl,
    ledgerFile,
    startLatencyMs: s.startLatencyMs,
    nodeStartMs: s.nodeStartMs,
    kubeApiUrl: kubeApi.url,
    onStartFailure: (f) => {
      startFailure ??= f;
    },
  });
  const checkStarts = () => {
    if (startFailure) throw new LabWorkerStartError(name, startFailure);
  };
  let controller: Controller | undefined;
  const forgetQueue = () => s.redis.srem(directoryKeys(prefix).queues, queue);
  const release = onInterrupt(async () => {
    await runner.close();
    await kubeApi.close();
    await q.obliterate({ force: true }).catch(() => undefined);
    await forgetQueue().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    controller = buildController(name, renderForLab(name, s.manifest, queue), {
      runner,
      clock,
      source: redisQueueSource(s.redis),
      prefix,
      queue,
      scrapeIntervalMs: s.scrapeIntervalMs,
      adapterCacheMs: s.adapterCacheMs,
    });
    const producer = createProducer(q, jobs, s.speed, () => clock.now());
    const faults = createFaults(s.faults, {
      runner,
      clock,
      redis: s.redisProcess,
      untilMs: s.faultWindowMs,
      rollout: () => {
        if (!controller?.rollout) return false;
        controller.rollout();
        return true;
      },
    });
    // The cluster at rest before traffic: always-on pods are up and Ready when the first job arrives.
    controller.atRest();
    const warmUntil = Date.now() + 60_000;
    while (runner.active().some((p) => !p.ready) && Date.now() < warmUntil) {
      checkStarts();
      await new Promise((r) => setTimeout(r, TICK_WALL_MS));
    }
    clock.start();
    const series: Series = { t: [], queued: [], runningJobs: [], pods: [], readyPods: [] };
    let settled = false;
    let settledAt = Number.POSITIVE_INFINITY;
    let suspendedAt: number | undefined;
    let errors = 0;
    let lastSample = 0;
    const sample = async (now: number) => {
      const counts = await readCounts(s.redis, prefix, queue).catch(() => undefined);
      const pods = runner.active();
      series.t.push(Math.round(now / 100) / 10);
      series.queued.push(counts ? counts.waiting + counts.prioritized : Number.NaN);
      series.runningJobs.push(counts ? counts.active : Number.NaN);
      series.pods.push(pods.length);
      series.readyPods.push(pods.filter((p) => p.ready).length);
      return counts;
    };
    for (;;) {
      checkStarts();
      const now = clock.now();
      await producer.submitDue(now);
      try {
        await controller.tick(now);
      } catch {
        errors++; // a poll that could not read Redis: the controller skips it, as KEDA or the HPA would
      }
      faults.tick(now);
      if (Date.now() - lastSample >= SAMPLE_WALL_MS) {
        lastSample = Date.now();
        const counts = await sample(now);
        settled = producer.done && counts !== undefined && counts.completed + counts.failed >= jobs.length;
        if (settled) settledAt = Math.min(settledAt, now);
      }
      // The horizon, and this controller's tail after the last job settled (a cooldown must show).
      const tailDone = settled && now - settledAt >= controller.tailMs && !controller.busy?.();
      if (
        suspendedAt === undefined &&
        now >= s.horizonMs &&
        (tailDone || now >= s.horizonMs + s.maxDrainMs)
      ) {
        if (!controller.suspend) break;
        // Jobs and CronJobs: start nothing new and let the pods already started finish (bounded).
        controller.suspend();
        suspendedAt = now;
      }
      if (suspendedAt !== undefined && (runner.active().length === 0 || now >= suspendedAt + s.maxDrainMs))
        break;
      await new Promise((r) => setTimeout(r, TICK_WALL_MS));
    }
    const endMs = clock.now();
    await sample(endMs); // the state the run ended in
    await faults.settle();
    const left = runner.active();
    const podsAtEnd = left.length;
    const podsLeft = podsLeftOf(left);
    await runner.close();
    const processesLeft = runner.pods.flatMap((p) => p.pids).filter(alive).length;

    const outcomes = await readOutcomes(s.redis, q, prefix, jobs);
    const figures = measure({
      outcomes,
      ledger: readLedger(ledgerFile),
      pods: runner.pods,
      faults: faults.events,
      clock,
      endMs,
    });
    const containers = runner.pods.flatMap((p) => p.containers);
    const reliability = assessReliability(
      {
        arrivalLateMs: producer.lateMs,
        // Starts during traffic only: the cluster at rest starts before the workload clock runs.
        starts: containers.flatMap((c) =>
          c.readyAt !== undefined && c.readyAt > 0
            ? [{ askedMs: c.askedStartMs, playedMs: c.readyAt - c.spawnedAt }]
            : [],
        ),
        killMs: containers.flatMap((c) =>
          c.killedAt !== undefined && c.exitedAt !== undefined ? [c.exitedAt - c.killedAt] : [],
        ),
        redisDownMs: faults.events.flatMap((e) => (e.downMs === undefined ? [] : [e.downMs])),
        stopMs: containers.flatMap((c) => (c.stopWallMs === undefined ? [] : [c.stopWallMs * s.speed])),
      },
      s.speed,
    );
    return {
      approach: name,
      reliability,
      figures,
      stats: controller.stats(),
      notes: controller.notes,
      series,
      podsAtEnd,
      podsLeft,
      processesLeft,
      workerPids: runner.pods.flatMap((p) => p.pids),
      runSeconds: Math.round(endMs / 1000),
      wallSeconds: Math.round(clock.toWall(endMs) / 100) / 10,
      controllerErrors: errors,
    };
  } finally {
    release();
    await runner.close();
    await kubeApi.close();
    await q.obliterate({ force: true }).catch(() => undefined);
    // Its workers registered the queue in the queue directory: leave the user's Redis without lab queues.
    await forgetQueue().catch(() => undefined);
    await queues.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
