/** Workloads: presets and files become the same seeded list of jobs every time. */
import { describe, expect, it } from 'vitest';
import { PRESETS } from '../../src/lab/presets.js';
import { checkWorkload, generateJobs, type Workload } from '../../src/lab/workload.js';

describe('workloads', () => {
  it('the smoke preset: two bursts of six 5 s jobs, one delayed and one retried, under a minute at speed 60', () => {
    const smoke = PRESETS.smoke as Workload;
    const jobs = generateJobs(smoke);
    expect(jobs).toHaveLength(12);
    expect(jobs.filter((j) => j.at === 0)).toHaveLength(6);
    expect(jobs.filter((j) => j.at === 20_000)).toHaveLength(6);
    expect(jobs.every((j) => j.durationMs === 5000)).toBe(true);
    expect(jobs.filter((j) => j.delayMs > 0).length).toBeGreaterThanOrEqual(1);
    expect(jobs.filter((j) => j.failAttempts > 0).length).toBeGreaterThanOrEqual(1);
    expect(smoke.durationSeconds / (smoke.suggestedSpeed ?? 1)).toBeLessThan(60);
  });
  it('is deterministic for a seed, and Poisson rates average out', () => {
    const w: Workload = {
      name: 'r',
      description: '',
      durationSeconds: 3600,
      rates: [{ from: 0, to: 3600, perMinute: 10 }],
      jobSeconds: { dist: 'exponential', mean: 4, max: 30 },
      failAlwaysFraction: 0.1,
    };
    const a = generateJobs(w);
    expect(generateJobs(w)).toEqual(a);
    expect(a.length).toBeGreaterThan(540);
    expect(a.length).toBeLessThan(660);
    expect(Math.max(...a.map((j) => j.durationMs))).toBeLessThanOrEqual(30_000);
    const failing = a.filter((j) => j.failAttempts >= j.attempts).length / a.length;
    expect(failing).toBeGreaterThan(0.05);
    expect(failing).toBeLessThan(0.15);
    expect(generateJobs({ ...w, seed: 2 })).not.toEqual(a);
  });
  it('every preset generates jobs in time order', () => {
    for (const [name, w] of Object.entries(PRESETS)) {
      const jobs = generateJobs(w);
      expect(jobs.length, name).toBeGreaterThan(0);
      for (let i = 1; i < jobs.length; i++)
        expect((jobs[i]?.at ?? 0) >= (jobs[i - 1]?.at ?? 0), name).toBe(true);
    }
  });
  it('checks files field by field', () => {
    const base = {
      durationSeconds: 60,
      arrivals: [{ at: 0, count: 1 }],
      jobSeconds: { dist: 'fixed', value: 1 },
    };
    expect(checkWorkload(base as Workload, 'f').name).toBe('f');
    expect(() => checkWorkload({ ...base, durationSeconds: 0 } as Workload, 'f')).toThrow(
      /durationSeconds must be a number > 0/,
    );
    expect(() =>
      checkWorkload({ ...base, jobSeconds: { dist: 'normal' } } as unknown as Workload, 'f'),
    ).toThrow(/jobSeconds.dist/);
    expect(() => checkWorkload({ ...base, failOnceFraction: 2 } as Workload, 'f')).toThrow(
      /failOnceFraction must be from 0 to 1/,
    );
    expect(() =>
      checkWorkload({ ...base, rates: [{ from: 10, to: 5, perMinute: 1 }] } as Workload, 'f'),
    ).toThrow(/each rate/);
  });
  it('refuses unknown fields, negative durations, unsorted or empty arrivals, naming the field', () => {
    const base = {
      durationSeconds: 60,
      arrivals: [{ at: 0, count: 1 }],
      jobSeconds: { dist: 'fixed', value: 1 },
    };
    const refused: [unknown, RegExp][] = [
      [
        { ...base, jobSecond: 3 },
        /unknown field jobSecond: the fields here are name, description, durationSeconds/,
      ],
      [{ ...base, arrivals: [{ at: 0, count: 1, every: 5 }] }, /unknown field arrivals\[0\]\.every/],
      [{ ...base, jobSeconds: { dist: 'fixed', value: 1, stddev: 2 } }, /unknown field jobSeconds\.stddev/],
      [{ ...base, jobSeconds: { dist: 'fixed', value: -1 } }, /jobSeconds\.value must be a number >= 0/],
      [{ ...base, backoffSeconds: -5 }, /backoffSeconds must be a number >= 0/],
      [
        {
          ...base,
          arrivals: [
            { at: 20, count: 1 },
            { at: 10, count: 1 },
          ],
        },
        /arrivals must be sorted by "at": arrivals\[1\]\.at \(10\) is before arrivals\[0\]\.at \(20\)/,
      ],
      [{ ...base, arrivals: [] }, /arrivals must be a non-empty list/],
      [{ ...base, arrivals: [{ at: 0, count: 0 }] }, /arrivals add up to 0 jobs/],
      [{ ...base, arrivals: [{ at: -1, count: 1 }] }, /arrivals\[0\] needs "at" >= 0/],
      [
        { ...base, jobSeconds: { dist: 'empirical', values: [] } },
        /jobSeconds\.values must be a non-empty list/,
      ],
      [
        { ...base, delayed: { fraction: 1.5, seconds: { dist: 'fixed', value: 1 } } },
        /delayed\.fraction must be from 0 to 1/,
      ],
    ];
    for (const [w, message] of refused)
      expect(() => checkWorkload(w as Workload, 'f'), JSON.stringify(w)).toThrow(message);
    const empirical = {
      ...base,
      arrivals: [{ at: 0, count: 50 }],
      jobSeconds: { dist: 'empirical', values: [1, 7] },
    };
    const durations = new Set(
      generateJobs(checkWorkload(empirical as Workload, 'f')).map((j) => j.durationMs),
    );
    expect([...durations].sort()).toEqual([1000, 7000]);
  });
});
