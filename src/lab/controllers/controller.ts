/** What every played approach offers the run loop. */
import type { LabClock } from '../clock.js';
import type { PodRunner } from '../pod-runner.js';

export interface Controller {
  /** Puts the approach in its state at rest, before any traffic (a Deployment's replicas already up). */
  atRest(): void;
  /** Runs whatever is due at workload time `now` (syncs, polls, schedules, reconciles). */
  tick(now: number): Promise<void>;
  /**
   * At the end of the run: start nothing new (`suspend: true` on a CronJob, a ScaledJob with nothing left
   * to scale), so the run can wait for the pods already started to finish. Absent for controllers whose
   * pods run until deleted.
   */
  suspend?(): void;
  /** A rolling restart of the worker Deployment (absent for Job approaches). */
  rollout?(): void;
  /** True while a change it started (a rollout) is under way: the run does not end then. */
  busy?(): boolean;
  /** Approach-specific figures for the report (e.g. the most Jobs at once). */
  stats(): Record<string, number | string>;
  /** Workload ms after the last job the run keeps playing, so cooldowns and scale-in show. */
  tailMs: number;
  /** What this controller plays and leaves out, for the report. */
  notes: string[];
}

/**
 * What the controllers read of the queue, each the way its autoscaler reads it: from Redis (the real
 * engine, queue-metrics.ts) or from the model's queue (the model engine), so one set of formulas serves both.
 */
export interface QueueSource {
  /** KEDA's redis scaler: a key's length by its type (LIST, ZSET, SET, HASH; missing 0). */
  keyLength(key: string): Promise<number>;
  /** `kq_queue_backlog`: waiting + prioritized + active. */
  backlog(prefix: string, queue: string): Promise<number>;
  /** `kq keda-scaler`'s runnable backlog, and whether the queue exists. */
  runnableBacklog(prefix: string, queue: string): Promise<{ runnableAndRunning: number; known: boolean }>;
}

export interface ControllerDeps {
  runner: PodRunner;
  clock: LabClock;
  source: QueueSource;
  prefix: string;
  queue: string;
  /** hpa-prometheus: Prometheus scrape interval, workload ms, when the rendered scrape config sets none. */
  scrapeIntervalMs: number;
  /** hpa-adapter: how long `kq metrics-adapter` serves a cached backlog, workload ms. */
  adapterCacheMs: number;
}

/**
 * Every `periodMs` of workload time, starting at `firstAt`: at the first tick on or after a period's
 * time, that time (otherwise undefined). Controllers time what they do at it, not at the tick: in a
 * cluster a controller runs again a full period after its last run, so what it did then (a scale event,
 * the last activity) is a whole period old. The real engine's ticks come a few ms late by varying
 * amounts: timed at them, a policy period or a cooldown could end a few ms short and the decision wait
 * a whole period more.
 * @example const poll = every(30_000); const at = poll(now); if (at !== undefined) lastPoll = at;
 */
export function every(periodMs: number, firstAt = 0) {
  let next = firstAt;
  return (now: number): number | undefined => {
    if (now < next) return undefined;
    // A tick more than a period late runs now, as a controller that fell behind would.
    const at = now - next < periodMs ? next : now;
    next = at + periodMs;
    return at;
  };
}
