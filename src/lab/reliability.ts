/**
 * Whether a real-engine run played what it was asked to. The machine runs the workload compressed in time:
 * on a loaded machine a pod starts late, a killed process takes time to go, a Redis restart takes real
 * seconds, a job is submitted after its arrival time, and at `--speed 60` every wall millisecond late is
 * 60 workload ms. Each of these is measured against what was asked; past the tolerance the run, and the
 * figures that depend on that part of the play, are marked unreliable with the reason (docs/lab.md).
 */
import { percentile } from './measure.js';

/**
 * How far the played may stray from the asked before a figure is not trusted: the larger of an absolute
 * bound and a fraction of the asked duration, both workload time, checked on the 95th percentile.
 */
export const TOLERANCE = { absoluteMs: 2000, fraction: 0.1 } as const;

export interface PlayedTimings {
  /** Per job: workload ms from its arrival time to its submission to Redis. */
  arrivalLateMs: readonly number[];
  /** Per container start: asked start duration and the played one (workload ms). */
  starts: readonly { askedMs: number; playedMs: number }[];
  /** Per SIGKILL the lab sent: workload ms until the process was gone (asked: at once). */
  killMs: readonly number[];
  /** Per Redis restart: workload ms Redis was down (asked: at once). */
  redisDownMs: readonly number[];
  /**
   * Per worker that left on its own (empty queue, MAX_JOBS, SIGTERM): workload ms from deciding to stop
   * to the process gone. Its wall part (closing connections, process exit) is multiplied by the speed.
   */
  stopMs?: readonly number[];
}

export interface Check {
  /** What was measured, e.g. `pod start`. */
  what: string;
  samples: number;
  /** 95th percentile of played minus asked, workload ms. */
  lateP95Ms: number;
  allowedMs: number;
  ok: boolean;
}

export interface Reliability {
  reliable: boolean;
  /** One sentence per check out of tolerance. */
  reasons: string[];
  checks: Check[];
  /** Figure name -> why it is not to be trusted. */
  unreliableFigures: Record<string, string>;
}

/** Figures that depend on each kind of timing. */
const DEPENDS: Record<string, readonly string[]> = {
  'job arrival': ['waitP50Ms', 'waitP95Ms', 'waitP99Ms', 'endToEndP50Ms', 'endToEndP95Ms', 'endToEndP99Ms'],
  'pod start': [
    'podStartP50Ms',
    'podStartP95Ms',
    'waitP50Ms',
    'waitP95Ms',
    'waitP99Ms',
    'endToEndP95Ms',
    'coldStarts',
    'podSeconds',
    'podSecondsPerJobSecond',
  ],
  'pod kill': ['recoverMaxMs', 'waitP95Ms', 'waitP99Ms'],
  'redis restart': ['recoverMaxMs', 'waitP95Ms', 'waitP99Ms', 'endToEndP95Ms', 'endToEndP99Ms'],
  'pod stop': ['podSeconds', 'podSecondsPerJobSecond'],
};

const allowed = (askedMs: number) => Math.max(TOLERANCE.absoluteMs, TOLERANCE.fraction * askedMs);

function check(what: string, late: readonly number[], askedMs: readonly number[]): Check | undefined {
  if (!late.length) return undefined;
  const lateP95Ms = percentile(late, 95);
  const allowedMs = Math.round(allowed(percentile(askedMs.length ? askedMs : [0], 50)));
  return { what, samples: late.length, lateP95Ms, allowedMs, ok: lateP95Ms <= allowedMs };
}

/** @example assessReliability({ arrivalLateMs: [0, 40], starts: [], killMs: [], redisDownMs: [] }, 60) */
export function assessReliability(t: PlayedTimings, speed: number): Reliability {
  const checks = [
    check('job arrival', t.arrivalLateMs, []),
    check(
      'pod start',
      t.starts.map((s) => s.playedMs - s.askedMs),
      t.starts.map((s) => s.askedMs),
    ),
    check('pod kill', t.killMs, []),
    check('redis restart', t.redisDownMs, []),
    check('pod stop', t.stopMs ?? [], []),
  ].filter((c): c is Check => c !== undefined);
  const reasons: string[] = [];
  const unreliableFigures: Record<string, string> = {};
  for (const c of checks.filter((x) => !x.ok)) {
    const reason = `${c.what} played ${(c.lateP95Ms / 1000).toFixed(1)} s later than asked (p95 of ${c.samples}; tolerance ${(c.allowedMs / 1000).toFixed(1)} s) at speed ${speed}: the machine is too slow or too busy for this speed; lower --speed`;
    reasons.push(reason);
    for (const f of DEPENDS[c.what] ?? []) unreliableFigures[f] ??= reason;
  }
  return { reliable: reasons.length === 0, reasons, checks, unreliableFigures };
}
