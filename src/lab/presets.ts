/** Built-in workloads for `kq lab --workload <name>`. Times in seconds of workload time. */
import type { Workload } from './workload.js';

export const PRESETS: Record<string, Workload> = {
  smoke: {
    name: 'smoke',
    description:
      'two bursts of six 5 s jobs, one delayed, one retried: the test run (well under a minute at --speed 60)',
    durationSeconds: 40,
    arrivals: [
      { at: 0, count: 6 },
      { at: 20, count: 6 },
    ],
    jobSeconds: { dist: 'fixed', value: 5 },
    delayed: { fraction: 0.1, seconds: { dist: 'fixed', value: 10 } },
    failOnceFraction: 0.1,
    backoffSeconds: 5,
    seed: 7,
    suggestedSpeed: 60,
  },
  steady: {
    name: 'steady',
    description: '12 jobs a minute for 10 minutes, 2-8 s each',
    durationSeconds: 600,
    rates: [{ from: 0, to: 600, perMinute: 12 }],
    jobSeconds: { dist: 'uniform', min: 2, max: 8 },
    suggestedSpeed: 20,
  },
  burst: {
    name: 'burst',
    description:
      "the seed's scenario: bursts of 30 five-second jobs every 10 minutes, quiet in between, for 30 minutes",
    durationSeconds: 1800,
    arrivals: [
      { at: 0, count: 30 },
      { at: 600, count: 30 },
      { at: 1200, count: 30 },
    ],
    jobSeconds: { dist: 'fixed', value: 5 },
    suggestedSpeed: 30,
  },
  'daily-spikes': {
    name: 'daily-spikes',
    description: 'a day: 1 job a minute, spikes of 20 a minute at 09:00 and 17:00 (15 min each), 3-10 s jobs',
    durationSeconds: 86_400,
    rates: [
      { from: 0, to: 86_400, perMinute: 1 },
      { from: 9 * 3600, to: 9 * 3600 + 900, perMinute: 20 },
      { from: 17 * 3600, to: 17 * 3600 + 900, perMinute: 20 },
    ],
    jobSeconds: { dist: 'uniform', min: 3, max: 10 },
    suggestedSpeed: 600,
  },
  'long-jobs': {
    name: 'long-jobs',
    description: 'ten 5-15 minute jobs arriving over the first 10 minutes: scale-in meets jobs in flight',
    durationSeconds: 600,
    rates: [{ from: 0, to: 600, perMinute: 1 }],
    jobSeconds: { dist: 'uniform', min: 300, max: 900 },
    seed: 3,
    suggestedSpeed: 60,
  },
  retries: {
    name: 'retries',
    description: '6 jobs a minute for 10 minutes; 30% delayed 1-2 min, 20% fail once, 5% fail every attempt',
    durationSeconds: 600,
    rates: [{ from: 0, to: 600, perMinute: 6 }],
    jobSeconds: { dist: 'exponential', mean: 4, max: 30 },
    delayed: { fraction: 0.3, seconds: { dist: 'uniform', min: 60, max: 120 } },
    failOnceFraction: 0.2,
    failAlwaysFraction: 0.05,
    backoffSeconds: 10,
    suggestedSpeed: 20,
  },
};
