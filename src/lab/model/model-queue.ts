/**
 * The model's queue: BullMQ's states for the workload's jobs (delayed, waiting, active, completed,
 * failed) with its rules as kq's workers meet them: a failed attempt goes back delayed by its backoff
 * until its attempts are used; a hand-back (SIGTERM) returns the job to the front of the wait list and
 * uses no attempt; a job whose worker died keeps its place in `active` until its lock expires, and is
 * then an orphan a live worker requeues, failing it once it has lost its worker more than
 * MAX_STALLED_COUNT times. It answers the controllers' reads (QueueSource) from these states.
 */
import type { QueueSource } from '../controllers/controller.js';
import type { LedgerEntry } from '../ledger.js';
import type { JobOutcome } from '../measure.js';
import { labJobId } from '../producer.js';
import type { LabJob } from '../workload.js';

type State = 'pending' | 'delayed' | 'waiting' | 'active' | 'completed' | 'failed';

export interface ModelJob {
  job: LabJob;
  id: string;
  state: State;
  attemptsMade: number;
  stalls: number;
  /** Delayed: when it falls due. Active and orphaned: when its lock expires (Infinity while renewed). */
  until: number;
  failedReason?: string;
}

export interface ModelQueue {
  readonly jobs: readonly ModelJob[];
  readonly ledger: LedgerEntry[];
  submit(j: ModelJob, now: number): void;
  /** Moves delayed jobs due at `now` to waiting (BullMQ's workers do it as they fetch). */
  promote(now: number): void;
  /** The next waiting job, now active (its lock held), or undefined. */
  take(pid: number, now: number): ModelJob | undefined;
  finish(j: ModelJob, pid: number, now: number): void;
  handBack(j: ModelJob): void;
  /** Its worker died: the lock runs out `lockMs` from now. */
  orphan(j: ModelJob, now: number, lockMs: number): void;
  /** Requeues (or fails) jobs whose lock has expired; how many. */
  recover(now: number, maxStalledCount: number): number;
  /** Due work a worker could start now (waiting; delayed are promoted first). */
  runnable(): number;
  counts(): { waiting: number; active: number; delayed: number; completed: number; failed: number };
  settled(): number;
  outcomes(): JobOutcome[];
  source: QueueSource;
}

/**
 * `now`: the model's clock, for what readers count as due (the scaler's due delayed jobs).
 * @example const q = createModelQueue(jobs, clock.now); q.submit(q.jobs[0], 0);
 */
export function createModelQueue(labJobs: readonly LabJob[], now: () => number = () => 0): ModelQueue {
  const jobs: ModelJob[] = labJobs.map((job) => ({
    job,
    id: labJobId(job),
    state: 'pending',
    attemptsMade: 0,
    stalls: 0,
    until: 0,
  }));
  const ledger: LedgerEntry[] = [];
  const waiting: ModelJob[] = [];
  const delayed = new Set<ModelJob>();
  const active = new Set<ModelJob>();
  let completed = 0;
  let failed = 0;

  const toDelayed = (j: ModelJob, until: number) => {
    j.state = 'delayed';
    j.until = until;
    delayed.add(j);
  };
  const fail = (j: ModelJob, reason: string) => {
    j.state = 'failed';
    j.failedReason = reason;
    failed++;
  };

  const q: ModelQueue = {
    jobs,
    ledger,
    submit(j, now) {
      if (j.job.delayMs > 0) toDelayed(j, now + j.job.delayMs);
      else {
        j.state = 'waiting';
        waiting.push(j);
      }
    },
    promote(now) {
      if (!delayed.size) return;
      const due = [...delayed].filter((j) => j.until <= now).sort((a, b) => a.until - b.until);
      for (const j of due) {
        delayed.delete(j);
        j.state = 'waiting';
        waiting.push(j);
      }
    },
    take(pid, now) {
      const j = waiting.shift();
      if (!j) return undefined;
      j.state = 'active';
      j.until = Number.POSITIVE_INFINITY;
      active.add(j);
      j.attemptsMade++;
      ledger.push({ event: 'start', id: j.id, attempt: j.attemptsMade, pid, wallMs: now });
      return j;
    },
    finish(j, pid, now) {
      active.delete(j);
      if (j.attemptsMade <= j.job.failAttempts) {
        ledger.push({ event: 'fail', id: j.id, attempt: j.attemptsMade, pid, wallMs: now });
        if (j.attemptsMade < j.job.attempts) toDelayed(j, now + j.job.backoffMs);
        else fail(j, `lab: attempt ${j.attemptsMade} fails on purpose (failAttempts ${j.job.failAttempts})`);
        return;
      }
      ledger.push({ event: 'done', id: j.id, attempt: j.attemptsMade, pid, wallMs: now });
      j.state = 'completed';
      completed++;
    },
    handBack(j) {
      active.delete(j);
      j.attemptsMade--;
      j.state = 'waiting';
      waiting.unshift(j);
    },
    orphan(j, now, lockMs) {
      j.until = now + lockMs;
    },
    recover(now, maxStalledCount) {
      let n = 0;
      for (const j of [...active]) {
        if (j.until > now) continue;
        active.delete(j);
        n++;
        j.stalls++;
        if (j.stalls > maxStalledCount) fail(j, 'job stalled more than allowable limit');
        else {
          j.attemptsMade--;
          j.state = 'waiting';
          waiting.push(j);
        }
      }
      return n;
    },
    runnable: () => waiting.length,
    counts: () => ({
      waiting: waiting.length,
      active: active.size,
      delayed: delayed.size,
      completed,
      failed,
    }),
    settled: () => completed + failed,
    outcomes: () =>
      jobs.map((j): JobOutcome => {
        const state = j.state === 'completed' ? 'completed' : j.state === 'failed' ? 'failed' : 'lost';
        return {
          id: j.id,
          job: j.job,
          state,
          stranded: state === 'lost' && j.state === 'active',
          ...(state === 'lost' ? { leftIn: j.state === 'pending' ? 'unknown' : j.state } : {}),
          ...(j.failedReason ? { failedReason: j.failedReason } : {}),
        };
      }),
    source: {
      async keyLength(key) {
        if (key.endsWith(':wait')) return waiting.length;
        if (key.endsWith(':active')) return active.size;
        if (key.endsWith(':delayed')) return delayed.size;
        return 0;
      },
      async backlog() {
        return waiting.length + active.size;
      },
      async runnableBacklog() {
        // The scaler's count: waiting + due delayed (promoted or not: its script counts them) + active.
        const t = now();
        let due = 0;
        for (const j of delayed) if (j.until <= t) due++;
        return { runnableAndRunning: waiting.length + due + active.size, known: true };
      },
    },
  };
  return q;
}
