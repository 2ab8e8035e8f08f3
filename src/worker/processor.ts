/**
 * The processor kq hands to BullMQ's Worker. Around each handler call it:
 * - validates the payload (an invalid one fails at once, no retries: retrying cannot fix it);
 * - gives the handler one AbortSignal that fires on timeout, on cancel, or at the shutdown deadline;
 * - does not wait for a handler that ignores its signal: the race below settles as soon as the signal
 *   fires, so a stuck handler cannot hold a shutdown or a cancel hostage;
 * - on a shutdown deadline moves the job straight back to waiting (`moveToWait` + `WaitingError`), so
 *   another worker starts it at once instead of after lock expiry and stall detection;
 * - with `maxJobs`, hands back any job fetched beyond the limit, so a one-job-per-pod worker runs exactly one;
 * - reports a handler still running after its job was settled (it ignored its signal) as abandoned, and
 *   again when it returns at last, so the runtime can keep its slot taken (`CONCURRENCY` bounds handlers
 *   really running, not just jobs BullMQ counts).
 */
import { type Job, UnrecoverableError, WaitingError } from 'bullmq';
import { type JobContext, RateLimited, throwRateLimited } from '../jobs/define-job.js';
import type { JobRegistry } from '../jobs/registry.js';
import { isoTimeOf, type Logger } from '../log.js';
import { CANCELLED_REASON } from '../queue/cancel-request.js';
import { childFailures, childResults } from '../queue/flow-children.js';
import { createStartLog, type StartedJob } from './start-log.js';

class AbortReason extends Error {}
/** The shutdown deadline passed: hand the job back. */
export class HandBack extends AbortReason {}
/** A cancel request arrived for this job. */
export class Cancelled extends AbortReason {}
/** The job type's `timeoutMs` passed. */
export class TimedOut extends AbortReason {}
/** The pod's deadline is near (src/worker/pod-deadline.ts): fail the attempt, counted. */
export class DeadlineNear extends AbortReason {}

interface RunningJob extends StartedJob {
  readonly job: Job;
  /** Settles the handler's race at once and fires its signal; the first reason wins, as with `abort()`. */
  abort(reason: AbortReason): void;
}

export interface ProcessorOptions {
  jobs: JobRegistry;
  queue: string;
  log: Logger;
  /** 0 = no limit. */
  maxJobs: number;
  /** Called once when the `maxJobs`-th job starts. */
  onMaxJobsStarted?: () => void;
  /** Called when a job is handed back at shutdown. */
  onHandBack?: (job: Job) => void;
  /** Moves a job this worker holds back to waiting without counting the attempt. @default job.moveToWait */
  handBack?: (job: Job, token?: string) => Promise<void>;
  /** Called with the job's id when the handler of a new job starts (before it runs). */
  onStart?: (job: Job, token?: string) => void;
  /** A handler kept running after its job was settled (timeout, cancel, hand-back): its slot stays taken. */
  onAbandoned?: (job: Job) => void;
  /** An abandoned handler returned at last: its slot is free again. */
  onAbandonedSettled?: (job: Job) => void;
  /** True when a cancel request for this id arrived before the handler started. */
  wasCancelled?: (jobId: string) => boolean;
  /** Reads the recorded cancel request of a job that was started before (its worker may have died). */
  isCancelRequested?: (jobId: string) => Promise<boolean>;
  /**
   * A job of a type `jobs` does not know: must throw (src/worker/unknown-types.ts puts it back delayed).
   * Such a job does not count towards `maxJobs`. @default fails it at once
   */
  onUnknownType?: (job: Job, token?: string) => Promise<never>;
  /**
   * The handler called `ctx.rateLimited(delayMs)`: must put the job back without using an attempt and
   * throw (a BullMQ `RateLimitError` or `DelayedError`). @default the attempt fails, counted
   */
  onRateLimited?: (job: Job, delayMs: number, token?: string) => Promise<never>;
  /** The number of running handlers changed (a job started or settled). */
  onRunningChange?: (running: number) => void;
  /** A job still running this long gets its `job.started` line (src/worker/start-log.ts). @default 1000 */
  logStartAfterMs?: number;
}

export interface KqProcessor {
  process: (job: Job, token?: string) => Promise<unknown>;
  /** Jobs whose handlers are running now. */
  readonly running: ReadonlyMap<string, RunningJob>;
  /** Aborts the job's handler if it runs here; returns whether it did. */
  cancel(jobId: string): boolean;
  /** Aborts every running handler and hands its job back to the queue. */
  handBackAll(): void;
  /** Aborts every running handler and fails its attempt (counted) with `reason`. */
  failAll(reason: string): void;
}

/**
 * One running job: what `running` holds, what the start-log ticker reads, and the job's abort state.
 * Its methods replace the closures a run needed before (abort, signal, child logger): fewer allocations
 * per job on the hot path (docs/performance.md). The AbortController and the child logger are made only
 * when a handler asks for them.
 */
class Run implements RunningJob {
  readonly id: string;
  readonly type: string;
  readonly attempt: number;
  readonly startedAt: number;
  startLogged = false;
  reason: AbortReason | undefined = undefined;
  /** Set while an async handler runs: settling the race early on abort. */
  work: Promise<unknown> | undefined = undefined;
  rejectRace: ((why: AbortReason) => void) | undefined = undefined;
  #controller: AbortController | undefined = undefined;
  #log: Logger | undefined = undefined;
  constructor(
    readonly job: Job,
    readonly opts: ProcessorOptions,
  ) {
    this.id = job.id as string;
    this.type = job.name;
    this.attempt = job.attemptsMade + 1;
    this.startedAt = job.processedOn ?? Date.now();
  }
  abort(why: AbortReason): void {
    if (this.reason) return;
    this.reason = why;
    this.#controller?.abort(why);
    if (this.rejectRace && this.work) settleAfterGrace(this.work, this.rejectRace, why, this.job, this.opts);
  }
  signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.reason) this.#controller.abort(this.reason);
    }
    return this.#controller.signal;
  }
  log(): Logger {
    this.#log ??= this.opts.log.child({ jobId: this.id, type: this.type, attempt: this.attempt });
    return this.#log;
  }
}

/**
 * What a handler receives. A class rather than an object literal: V8 pretenures a literal's allocation
 * site when its objects tend to survive a young-generation GC (50 jobs in flight at each one), after which
 * every job's context was allocated in the old generation and a busy worker's heap kept growing between
 * full GCs (peak RSS, docs/performance.md). `signal`, `log` and `progress` are made only when read (a
 * getter, so a destructured `progress` still works).
 */
class HandlerContext implements JobContext<unknown> {
  readonly #run: Run;
  constructor(
    readonly data: unknown,
    run: Run,
    readonly queue: string,
  ) {
    this.#run = run;
  }
  get id(): string {
    return this.#run.id;
  }
  get type(): string {
    return this.#run.type;
  }
  get attempt(): number {
    return this.#run.attempt;
  }
  get progress(): (value: number | Record<string, unknown>) => Promise<void> {
    const job = this.#run.job;
    return (value) => job.updateProgress(value);
  }
  get signal(): AbortSignal {
    return this.#run.signal();
  }
  get childResults(): () => Promise<Record<string, unknown>> {
    const job = this.#run.job;
    return () => childResults(job);
  }
  get childFailures(): () => Promise<Record<string, string>> {
    const job = this.#run.job;
    return () => childFailures(job);
  }
  get log(): Logger {
    return this.#run.log();
  }
  rateLimited(delayMs: number): never {
    return throwRateLimited(delayMs);
  }
}

/** How long an aborted handler gets to settle before it counts as abandoned and its job is settled. */
const ABANDON_GRACE_MS = 200;

/**
 * After an abort: settles the job's race as soon as the handler settles, or after `ABANDON_GRACE_MS`
 * without it; a handler that ignores its signal is then abandoned (it keeps running, and keeps its slot,
 * see `onAbandoned`). A module function, so nothing is allocated per job unless it is aborted.
 */
function settleAfterGrace(
  work: Promise<unknown>,
  reject: (why: AbortReason) => void,
  why: AbortReason,
  job: Job,
  opts: ProcessorOptions,
): void {
  let settled = false;
  const onSettled = (fn: () => void) => work.then(fn, fn);
  const giveUp = setTimeout(() => {
    if (!settled && opts.onAbandoned) {
      opts.onAbandoned(job);
      onSettled(() => opts.onAbandonedSettled?.(job));
    }
    reject(why);
  }, ABANDON_GRACE_MS);
  onSettled(() => {
    settled = true;
    clearTimeout(giveUp);
    reject(why);
  });
}

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  typeof (v as PromiseLike<unknown> | null)?.then === 'function';

function asError(err: unknown): Error {
  if (err instanceof Error) return err;
  return new Error(typeof err === 'string' ? err : `Handler threw a non-Error value: ${JSON.stringify(err)}`);
}

/** @example const p = createProcessor({ jobs, queue: 'jobs', log, maxJobs: 0 }); new Worker('jobs', p.process, opts) */
export function createProcessor(opts: ProcessorOptions): KqProcessor {
  const running = new Map<string, RunningJob>();
  const startLog = createStartLog(opts.log, running, opts.logStartAfterMs);
  let started = 0;
  const handBack =
    opts.handBack ??
    (async (job: Job, token?: string) => {
      await job.moveToWait(token);
    });

  async function process(job: Job, token?: string): Promise<unknown> {
    const id = job.id as string;
    if (opts.maxJobs > 0 && started >= opts.maxJobs) {
      // Fetched beyond the limit (concurrency > 1): give it back untouched.
      await handBack(job, token);
      throw new WaitingError();
    }
    const def = opts.jobs.get(job.name);
    if (!def) {
      if (opts.onUnknownType) return opts.onUnknownType(job, token);
      const known = opts.jobs.forQueue(opts.queue).map((d) => d.name);
      throw new UnrecoverableError(
        `Unknown job type ${JSON.stringify(job.name)}: this worker knows ${known.join(', ') || 'no types'} (check HANDLERS).`,
      );
    }
    started++;
    if (opts.maxJobs > 0 && started === opts.maxJobs) opts.onMaxJobsStarted?.();
    const parsed = def.schema.safeParse(job.data);
    if (!parsed.success) {
      const issues = parsed.error.issues.map(
        (i) => `data${i.path.map((p) => `.${String(p)}`).join('')}: ${i.message}`,
      );
      throw new UnrecoverableError(
        `Invalid payload for job type ${JSON.stringify(job.name)}: ${issues.join('; ')}`,
      );
    }

    // A restarted job (after a crash or a retry) may have been cancelled while no worker listened for
    // it; one read per restart, none on a first run, so the hot path pays nothing.
    if (job.attemptsStarted > 1 && opts.isCancelRequested) {
      const requested = await opts.isCancelRequested(id).catch(() => false);
      if (requested) throw new UnrecoverableError(CANCELLED_REASON);
    }

    // Per job, only what every job needs (profiled: docs/performance.md): one Run and one context.
    const run = new Run(job, opts);
    running.set(id, run);
    opts.onRunningChange?.(running.size);
    opts.onStart?.(job, token);
    startLog.started(run);
    if (opts.wasCancelled?.(id)) run.abort(new Cancelled('cancelled before start'));
    const timeoutMs = def.options.timeoutMs;
    const timer =
      timeoutMs > 0
        ? setTimeout(() => run.abort(new TimedOut(`timed out after ${timeoutMs} ms`)), timeoutMs)
        : undefined;
    try {
      if (run.reason) throw run.reason;
      const result = def.handler(new HandlerContext(parsed.data, run, opts.queue));
      // A handler that returned a plain value has finished (nothing could abort it while it ran).
      if (!isThenable(result)) return result;
      const pending = Promise.resolve(result);
      run.work = pending;
      // A handler that loses the race may reject later: that rejection must not become unhandled.
      pending.catch(() => undefined);
      // Settles with the handler, or at an abort (settleAfterGrace), whichever comes first.
      return await new Promise<unknown>((resolve, reject) => {
        run.rejectRace = reject;
        if (run.reason) settleAfterGrace(pending, reject, run.reason, job, opts);
        pending.then(resolve, reject);
      });
    } catch (err) {
      const reason = run.reason;
      if (reason instanceof HandBack) {
        await handBack(job, token);
        run
          .log()
          .warn(
            { event: 'job.handed-back', startedAt: isoTimeOf(run.startedAt) },
            'shutdown deadline passed: job handed back to the queue',
          );
        opts.onHandBack?.(job);
        throw new WaitingError();
      }
      if (reason instanceof Cancelled) throw new UnrecoverableError(CANCELLED_REASON);
      if (reason instanceof DeadlineNear) {
        throw new Error(
          `Attempt failed: ${reason.message}; failed now so that it counts, instead of being handed back when Kubernetes stops the pod (raise the Job's deadline, or make the job shorter).`,
        );
      }
      if (reason instanceof TimedOut) {
        throw new Error(`Job type ${JSON.stringify(job.name)} ${reason.message} (its timeoutMs)`);
      }
      if (err instanceof RateLimited && opts.onRateLimited)
        return await opts.onRateLimited(job, err.delayMs, token);
      throw asError(err);
    } finally {
      clearTimeout(timer);
      running.delete(id);
      opts.onRunningChange?.(running.size);
    }
  }

  return {
    process,
    running,
    cancel(jobId) {
      const r = running.get(jobId);
      if (!r) return false;
      r.abort(new Cancelled('cancelled on request'));
      return true;
    },
    handBackAll() {
      for (const r of running.values()) r.abort(new HandBack('shutdown deadline'));
    },
    failAll(reason) {
      for (const r of running.values()) r.abort(new DeadlineNear(reason));
    },
  };
}
