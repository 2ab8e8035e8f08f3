/**
 * A real-engine run knows when not to be trusted: what was played is checked against what was asked,
 * with the documented tolerance, and each figure depending on a check out of tolerance is marked with
 * the reason. Per-1,000-job figures only for runs large enough to carry them.
 */
import { describe, expect, it } from 'vitest';
import { createClock } from '../../src/lab/clock.js';
import { type JobOutcome, MIN_JOBS_PER_1000, measure } from '../../src/lab/measure.js';
import { assessReliability, TOLERANCE } from '../../src/lab/reliability.js';
import type { LabJob } from '../../src/lab/workload.js';

const none = { arrivalLateMs: [], starts: [], killMs: [], redisDownMs: [] };

describe('assessReliability', () => {
  it('trusts a run that played within the tolerance', () => {
    const r = assessReliability(
      {
        arrivalLateMs: [0, 600, 1200, TOLERANCE.absoluteMs],
        starts: [{ askedMs: 3000, playedMs: 3000 + TOLERANCE.absoluteMs }],
        killMs: [60],
        redisDownMs: [1500],
      },
      60,
    );
    expect(r.reasons).toEqual([]);
    expect(r.reliable).toBe(true);
    expect(r.unreliableFigures).toEqual({});
    expect(r.checks.map((c) => c.what)).toEqual(['job arrival', 'pod start', 'pod kill', 'redis restart']);
  });

  it('marks the run and the figures that depend on a check past the tolerance, saying why', () => {
    const r = assessReliability(
      { ...none, starts: Array.from({ length: 20 }, () => ({ askedMs: 3000, playedMs: 120_000 })) },
      60,
    );
    expect(r.reliable).toBe(false);
    expect(r.reasons).toHaveLength(1);
    expect(r.reasons[0]).toMatch(
      /pod start played 117\.0 s later than asked \(p95 of 20; tolerance 2\.0 s\) at speed 60/,
    );
    expect(r.unreliableFigures.podStartP95Ms).toBe(r.reasons[0]);
    expect(r.unreliableFigures.waitP95Ms).toBe(r.reasons[0]);
    expect(r.unreliableFigures.recoverMaxMs).toBeUndefined();
  });

  it('scales the tolerance with a long asked duration, and checks restarts and kills', () => {
    const long = { askedMs: 100_000, playedMs: 100_000 + 0.09 * 100_000 };
    expect(assessReliability({ ...none, starts: [long] }, 10).reliable).toBe(true);
    const tooLong = { askedMs: 100_000, playedMs: 100_000 + 0.11 * 100_000 };
    expect(assessReliability({ ...none, starts: [tooLong] }, 10).reliable).toBe(false);
    const redis = assessReliability({ ...none, redisDownMs: [9300] }, 60);
    expect(redis.reasons[0]).toMatch(/^redis restart played 9\.3 s later/);
    expect(redis.unreliableFigures.recoverMaxMs).toBeDefined();
    expect(assessReliability({ ...none, killMs: [5000] }, 60).unreliableFigures.recoverMaxMs).toMatch(
      /^pod kill/,
    );
    // A worker leaving an empty queue: 140 wall ms of closing and exiting at 60x is 8.4 s of pod-seconds.
    const stop = assessReliability({ ...none, stopMs: [8400] }, 60);
    expect(stop.unreliableFigures.podSeconds).toMatch(/^pod stop played 8\.4 s later/);
    expect(stop.unreliableFigures.waitP95Ms).toBeUndefined();
  });
});

describe('cost figures', () => {
  const job = (index: number): LabJob =>
    ({ index, at: 0, delayMs: 0, durationMs: 5000, failAttempts: 0, attempts: 1, backoffMs: 0 }) as LabJob;
  const figures = (n: number) =>
    measure({
      outcomes: Array.from(
        { length: n },
        (_, i): JobOutcome => ({ id: `lab-${i}`, job: job(i), state: 'completed', stranded: false }),
      ),
      ledger: [],
      pods: [
        {
          name: 'p',
          owner: 'rs',
          labels: {},
          createdAt: 0,
          endedAt: n * 10_000,
          phase: 'Succeeded',
          ready: false,
          terminating: false,
          restarts: 0,
          annotations: {},
          pids: [],
          handBacks: 0,
          containers: [],
          spec: { containers: [] },
        },
      ],
      faults: [],
      clock: createClock(1),
      endMs: n * 10_000,
    });

  it('leaves out pod-s per 1,000 jobs below MIN_JOBS_PER_1000 completed jobs', () => {
    const small = figures(12);
    expect(small.podSecondsPer1000Jobs).toBeUndefined();
    // One pod for 10 s per 5 s job: two pod-seconds per second of work, whatever the run's size.
    expect(small.podSecondsPerJobSecond).toBe(2);
    const large = figures(MIN_JOBS_PER_1000);
    expect(large.podSecondsPer1000Jobs).toBe(10_000);
    expect(large.podSecondsPerJobSecond).toBe(2);
  });
});
