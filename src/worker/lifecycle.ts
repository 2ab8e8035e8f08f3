/**
 * The worker's lifecycle: which phase the process is in, the one exit code, and the deadlines that end a
 * stop whatever Redis or a handler does. It knows nothing of BullMQ or Redis: run-worker.ts gives it
 * `close` (stop fetching, let or not let running jobs finish, close every connection) and `handBackAll`.
 *
 *   starting ─begin─> running ─stop─> draining ─(hand-back time, 2nd signal, fail)─> leaving
 *      │                 │  └─MAX_JOBS─> finishing ─(own jobs settled, signal, pod deadline)─> draining
 *      │                 └─Redis down, fail─> leaving
 *      ├─stop (exit mode, pod deadline before fetching began)─> draining
 *      └─refuse (a config error: nothing of Redis opened yet)─> refused, exit 2
 *   draining | finishing | leaving ─(closed, or the deadline passed)─> stopped
 *
 * - starting: the health server listens (/readyz 503 "starting"), orphan recovery runs, nothing fetched.
 * - running: fetching. /readyz asks Redis.
 * - finishing: `MAX_JOBS` jobs started, fetching stopped; the pod still does what it is for, so it stays
 *   ready until those jobs settle (readiness means "up and doing its work", not "takes more": a
 *   ScaledJob's `pendingPodConditions: [Ready]` would otherwise count its running Job as pending).
 * - draining: fetching stopped, running jobs may finish; a signal's stop hands them back at
 *   `SHUTDOWN_TIMEOUT_MS` less the hand-back reserve.
 * - leaving: running jobs are being handed back (or no longer waited for); the connections close.
 * - stopped: `done` resolved with the exit code.
 *
 * The race it settles: a stop can start from seven places (signals, an empty queue, MAX_JOBS, Redis
 * down, an uncaught exception, the pod deadline, every slot held by an abandoned handler), several at
 * once; only the first runs `close`, each may raise
 * the exit code (never lower it), and a stop with a deadline arms it once. A deadline that passes while
 * `close` still waits (Redis unreachable, a close that hangs) ends the stop with code 1 or the higher
 * code already chosen; a job it could not hand back is recovered once its lock expires.
 */
import type { Logger } from '../log.js';

export type LifecycleState =
  | 'starting'
  | 'running'
  | 'finishing'
  | 'draining'
  | 'leaving'
  | 'stopped'
  | 'refused';

/**
 * The clock and timers of the worker's lifecycle: a stop's deadlines, the pod deadline, how long Redis has
 * been down in exit mode. Tests pass a manual one; the default is the real `Date.now` and `setTimeout`.
 */
export interface LifecycleTimers {
  /** The time in ms. */
  now(): number;
  /** Calls `fn` once after `ms`; with `unref`, the timer alone does not keep the process alive. */
  after(ms: number, fn: () => void, unref?: boolean): () => void;
}

export const realTimers: LifecycleTimers = {
  now: () => Date.now(),
  after(ms, fn, unref = false) {
    const t = setTimeout(fn, ms);
    if (unref) t.unref();
    return () => clearTimeout(t);
  },
};

/** The part of `SHUTDOWN_TIMEOUT_MS` kept for handing jobs back: min(2 s, half). */
export const handBackReserveMs = (timeoutMs: number): number => Math.min(2000, Math.floor(timeoutMs / 2));
/** Shortest deadline of a stop, so that a tiny `SHUTDOWN_TIMEOUT_MS` still leaves time to hand back. */
export const MIN_DEADLINE_MS = 1000;

export interface WorkerLifecycle {
  readonly state: LifecycleState;
  /** Resolves with the exit code once stopped (closed, or the deadline passed) or refused. */
  readonly done: Promise<number>;
  /** starting -> running; false when a stop came first (then nothing must be fetched). */
  begin(): boolean;
  /** starting -> refused: start-up failed before anything of Redis was opened; exit code 2. */
  refuse(): void;
  /** Why /readyz says 503 without asking Redis, or undefined when Redis decides. */
  notReadyReason(): 'starting' | 'shutting down' | undefined;
  /** A stop without a deadline: running jobs finish first (`force`: they are not waited for). */
  stop(code: number, why: string, o?: StopOptions): void;
  /** A stop with the deadline: running jobs are handed back at the hand-back time, the process leaves by it. */
  stopWithDeadline(code: number, why: string): void;
  /** SIGTERM/SIGINT: the first stops with the deadline (exit 0), the second hands back now (exit 130). */
  shutdown(reason: string): void;
  /** Something broke inside the process: hand running jobs back now and exit 1. */
  fail(reason: string): void;
  /** Exit mode saw Redis unreachable too long: leave with exit 1, by the deadline. */
  redisDown(): void;
  /** A job settled and none runs: a `finishing` worker has done what it was for. */
  jobsSettled(): void;
  /** Leaves `finishing` for `draining` (the pod deadline took over). */
  endFinishing(): void;
}

export interface StopOptions {
  /** Do not wait for running jobs (they are not handed back either: their locks expire). */
  force?: boolean;
  /** The stop of `MAX_JOBS`: a running worker goes to `finishing`, still ready. */
  maxJobs?: boolean;
  /** Running jobs were just handed back. */
  handingBack?: boolean;
}

export interface LifecycleParts {
  log: Logger;
  shutdownTimeoutMs: number;
  /** How many handlers run now (for log lines). */
  running(): number;
  /** Stops fetching and closes everything; `force`: does not wait for running jobs. */
  close(force: boolean): Promise<void>;
  /** Hands every running job back to waiting now. */
  handBackAll(): void;
  /** Called once, when `done` resolves. */
  onStopped?(code: number): void;
  /** @default realTimers */
  timers?: LifecycleTimers;
}

/** @example const life = createWorkerLifecycle({ log, shutdownTimeoutMs: 25_000, running, close, handBackAll }); */
export function createWorkerLifecycle(p: LifecycleParts): WorkerLifecycle {
  const timers = p.timers ?? realTimers;
  let state: LifecycleState = 'starting';
  let exitCode = 0;
  let finished = false;
  let deadlineArmed = false;
  let signals = 0;
  const cancels: (() => void)[] = [];
  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((r) => {
    resolveDone = r;
  });
  const stopping = () => state === 'finishing' || state === 'draining' || state === 'leaving';

  function finish(code: number) {
    if (finished) return;
    finished = true;
    state = 'stopped';
    for (const cancel of cancels) cancel();
    p.onStopped?.(code);
    resolveDone(code);
  }

  function handBackNow() {
    if (stopping()) state = 'leaving';
    p.handBackAll();
  }

  /** Past the deadline the process leaves whatever Redis or a handler does. */
  function armDeadline(code: number, deadlineMs = Math.max(p.shutdownTimeoutMs, MIN_DEADLINE_MS)) {
    if (finished) return;
    const cancel = timers.after(
      deadlineMs,
      () => {
        if (finished) return;
        exitCode = Math.max(exitCode, code, 1);
        p.log.error(
          { event: 'worker.deadline', deadlineMs, running: p.running(), exitCode },
          `could not stop cleanly within ${deadlineMs} ms (Redis unreachable or a close that hangs): exiting ${exitCode}; a job not handed back is recovered once its lock expires`,
        );
        finish(exitCode);
      },
      true,
    );
    cancels.push(cancel);
  }

  async function stop(code: number, why: string, o: StopOptions = {}) {
    if (state !== 'starting' && state !== 'running') return;
    state =
      o.force || o.handingBack ? 'leaving' : o.maxJobs && state === 'running' ? 'finishing' : 'draining';
    exitCode = Math.max(exitCode, code);
    p.log.info({ event: 'worker.stopping', reason: why, running: p.running() }, `stopping: ${why}`);
    await p.close(o.force ?? false);
    p.log.info({ event: 'worker.stopped', exitCode }, 'worker stopped');
    finish(exitCode);
  }

  /**
   * Graceful stop: running jobs get the deadline less the hand-back reserve, then are handed back. Also
   * when already stopping without a deadline (exit mode, MAX_JOBS), so a SIGTERM then still hands back.
   */
  function stopWithDeadline(code: number, why: string) {
    if (deadlineArmed || finished) return;
    deadlineArmed = true;
    const handBackAt = p.shutdownTimeoutMs - handBackReserveMs(p.shutdownTimeoutMs);
    cancels.push(timers.after(handBackAt, handBackNow));
    armDeadline(code);
    void stop(code, why);
  }

  function endFinishing() {
    if (state === 'finishing') state = 'draining';
  }

  return {
    get state() {
      return state;
    },
    done,
    begin() {
      if (state !== 'starting') return false;
      state = 'running';
      return true;
    },
    refuse() {
      if (state !== 'starting') return;
      exitCode = 2;
      finished = true;
      state = 'refused';
      resolveDone(exitCode);
    },
    notReadyReason() {
      if (state === 'starting') return 'starting';
      if (state !== 'running' && state !== 'finishing') return 'shutting down';
      return undefined;
    },
    stop: (code, why, o) => void stop(code, why, o),
    stopWithDeadline,
    shutdown(reason) {
      signals++;
      endFinishing();
      if (signals === 1) {
        p.log.info(
          { event: 'worker.shutting-down', reason, running: p.running(), timeoutMs: p.shutdownTimeoutMs },
          `${reason}: finishing running jobs, handing back the rest; exiting within ${Math.max(p.shutdownTimeoutMs, MIN_DEADLINE_MS)} ms`,
        );
        stopWithDeadline(0, reason);
        return;
      }
      p.log.warn(
        { event: 'worker.shutting-down-now', reason },
        `${reason} again: handing back running jobs now`,
      );
      exitCode = 130;
      handBackNow();
      // Leave at once even if Redis does not answer: jobs not handed back are recovered after their lock.
      armDeadline(130, MIN_DEADLINE_MS);
    },
    fail(reason) {
      endFinishing();
      p.log.error(
        { event: 'worker.failing', reason, running: p.running() },
        `${reason}: handing running jobs back and exiting 1`,
      );
      exitCode = Math.max(exitCode, 1);
      handBackNow();
      armDeadline(1);
      void stop(1, reason, { handingBack: true });
    },
    redisDown() {
      void stop(1, 'redis unreachable', { force: true });
      armDeadline(1);
    },
    jobsSettled: endFinishing,
    endFinishing,
  };
}
