/**
 * The model engine: one approach played as a deterministic discrete-event simulation, no processes and
 * no Redis. The approach's rendered objects build the very controllers the real engine runs
 * (src/lab/controllers/), ticked every STEP_MS of simulated time and reading the model's queue; pods and
 * workers are modelled (model-pods.ts), faults come from the same seeded plan (faults.ts), and the
 * figures from the same `measure` over the same records (a ledger, the jobs' final states, the pods).
 * Same inputs, same report: nothing reads the wall clock or an unseeded random source.
 */
import type { ApproachName } from '../../k8s/render.js';
import type { LabClock } from '../clock.js';
import { buildController } from '../controllers/approaches.js';
import { createFaults } from '../faults.js';
import { measure } from '../measure.js';
import type { Reliability } from '../reliability.js';
import {
  type ApproachResult,
  podsLeftOf,
  type RunSettings,
  renderForLab,
  type Series,
} from '../run-approach.js';
import type { LabJob } from '../workload.js';
import { createEventQueue } from './event-queue.js';
import { createModelPods, RECOVER_EVERY_MS } from './model-pods.js';
import { createModelQueue, type ModelJob } from './model-queue.js';

/** Simulated ms between controller ticks (KEDA's push is the finest thing they time: 500 ms). */
export const STEP_MS = 100;

export type ModelSettings = Omit<RunSettings, 'redis' | 'redisUrl' | 'redisProcess' | 'speed'>;

/** The model plays exactly what it is asked: nothing to distrust in its timing. */
const EXACT: Reliability = { reliable: true, reasons: [], checks: [], unreliableFigures: {} };

/** @example const result = await runModelApproach('deployment', jobs, settings); */
export async function runModelApproach(
  name: ApproachName,
  jobs: readonly LabJob[],
  s: ModelSettings,
): Promise<ApproachResult> {
  const queue = `lab-${name}`;
  let now = 0;
  const clock: LabClock = {
    speed: 1,
    now: () => now,
    toWall: (ms) => ms,
    toWorkload: (ms) => ms,
    at: (t) => t,
    start: () => undefined,
  };
  const events = createEventQueue();
  const q = createModelQueue(jobs, () => now);
  const runner = createModelPods({
    clock,
    events,
    queue: q,
    startLatencyMs: s.startLatencyMs,
    nodeStartMs: s.nodeStartMs,
  });
  const setNow = (t: number) => {
    now = t;
  };
  const controller = buildController(name, renderForLab(name, s.manifest, queue), {
    runner,
    clock,
    source: q.source,
    prefix: s.manifest.prefix,
    queue,
    scrapeIntervalMs: s.scrapeIntervalMs,
    adapterCacheMs: s.adapterCacheMs,
  });
  const faults = createFaults(s.faults, {
    runner,
    clock,
    redis: undefined,
    untilMs: s.faultWindowMs,
    rollout: () => {
      if (!controller.rollout) return false;
      controller.rollout();
      return true;
    },
  });
  // Jobs due at one instant are submitted together, as the real producer's addBulk does, before any
  // worker is offered one: otherwise the first of a burst would let a retry falling due then jump the rest.
  const byTime = new Map<number, ModelJob[]>();
  for (const j of q.jobs) {
    const list = byTime.get(j.job.at) ?? [];
    list.push(j);
    byTime.set(j.job.at, list);
  }
  for (const [at, due] of byTime) {
    events.schedule(at, () => {
      for (const j of due) q.submit(j, at);
      runner.dispatch(at);
    });
  }
  for (const j of q.jobs)
    if (j.job.delayMs > 0) events.schedule(j.job.at + j.job.delayMs, () => runner.dispatch(now));

  // The cluster at rest before traffic, as the real engine waits for it: always-on pods Ready at 0.
  runner.instantly(() => controller.atRest());
  events.runUntil(0, setNow);

  const sampleMs = Math.max(1000, Math.ceil(s.horizonMs / 2000 / 1000) * 1000);
  const series: Series = { t: [], queued: [], runningJobs: [], pods: [], readyPods: [] };
  const sample = (t: number) => {
    const c = q.counts();
    const pods = runner.active();
    series.t.push(Math.round(t / 100) / 10);
    series.queued.push(c.waiting);
    series.runningJobs.push(c.active);
    series.pods.push(pods.length);
    series.readyPods.push(pods.filter((p) => p.ready).length);
  };
  const lastArrival = Math.max(0, ...jobs.map((j) => j.at));
  let settledAt = Number.POSITIVE_INFINITY;
  let suspendedAt: number | undefined;
  let t = 0;
  for (; ; t += STEP_MS) {
    events.runUntil(t, setNow);
    now = t;
    await controller.tick(t);
    faults.tick(t);
    if (t % RECOVER_EVERY_MS === 0) runner.recover(t);
    runner.dispatch(t);
    if (t % sampleMs === 0) sample(t);
    const settled = t >= lastArrival && q.settled() >= jobs.length;
    if (settled) settledAt = Math.min(settledAt, t);
    const tailDone = settled && t - settledAt >= controller.tailMs && !controller.busy?.();
    if (suspendedAt === undefined && t >= s.horizonMs && (tailDone || t >= s.horizonMs + s.maxDrainMs)) {
      if (!controller.suspend) break;
      controller.suspend();
      suspendedAt = t;
    }
    if (suspendedAt !== undefined && (runner.active().length === 0 || t >= suspendedAt + s.maxDrainMs)) break;
  }
  const endMs = t;
  sample(endMs);
  const left = runner.active();
  const podsLeft = podsLeftOf(left);
  await runner.close();
  const figures = measure({
    outcomes: q.outcomes(),
    ledger: q.ledger,
    pods: runner.pods,
    faults: faults.events,
    clock,
    endMs,
  });
  return {
    approach: name,
    reliability: EXACT,
    figures,
    stats: controller.stats(),
    notes: controller.notes,
    series,
    podsAtEnd: left.length,
    podsLeft,
    processesLeft: 0,
    workerPids: [],
    runSeconds: Math.round(endMs / 1000),
    wallSeconds: 0,
    controllerErrors: 0,
  };
}
