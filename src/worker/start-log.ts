/**
 * `job.started` lines, only for jobs that run long. A short job gets one line, at its end, with
 * `durationMs`: `job.failed`, `job.retried` and `job.cancelled` carry `startedAt` as well, `job.completed`
 * leaves it to the reader (its time less `durationMs`, src/worker/job-events.ts). Two lines per job
 * were most of a busy worker's CPU over plain BullMQ's (docs/performance.md).
 *
 * A job still running `afterMs` after its start gets its `job.started` line then, carrying its real start
 * time, so a long job's start still shows up within about a second. One ticker per worker walks the
 * running jobs (no timer per job); it runs only while jobs run and stops itself when none are left.
 * With `LOG_LEVEL=debug` every start is logged at once, at debug level.
 */
import { isoTimeOf, type Logger } from '../log.js';

/** What the ticker needs of a running job; `startLogged` is set once its line is out. */
export interface StartedJob {
  readonly id: string;
  readonly type: string;
  readonly attempt: number;
  /** Epoch ms: BullMQ's `processedOn`, set by Redis' move to active. */
  readonly startedAt: number;
  startLogged: boolean;
}

/** A running job's start is logged once it has run this long. */
export const LOG_START_AFTER_MS = 1000;

export interface StartLog {
  /** A job started: log it now (debug) or arm the ticker that logs it if it runs long. */
  started(job: StartedJob): void;
}

/** @example const startLog = createStartLog(log, running); startLog.started(entry); */
export function createStartLog(
  log: Logger,
  running: ReadonlyMap<string, StartedJob>,
  afterMs = LOG_START_AFTER_MS,
): StartLog {
  const everyMs = Math.max(20, Math.floor(afterMs / 4));
  const debug = log.isLevelEnabled('debug');
  let ticker: NodeJS.Timeout | undefined;

  const logStart = (j: StartedJob, level: 'info' | 'debug') => {
    j.startLogged = true;
    log[level](
      {
        jobId: j.id,
        type: j.type,
        attempt: j.attempt,
        startedAt: isoTimeOf(j.startedAt),
        event: 'job.started',
      },
      'job started',
    );
  };

  const tick = () => {
    if (running.size === 0) {
      clearInterval(ticker);
      ticker = undefined;
      return;
    }
    const due = Date.now() - afterMs;
    for (const j of running.values()) if (!j.startLogged && j.startedAt <= due) logStart(j, 'info');
  };

  return {
    started(j) {
      if (debug) logStart(j, 'debug');
      else if (!ticker) {
        ticker = setInterval(tick, everyMs);
        ticker.unref();
      }
    },
  };
}
