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
});
