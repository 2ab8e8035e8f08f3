/**
 * A workload: when jobs arrive, how long they run, which are delayed and which fail. Given as a preset
 * name or a JSON file of the same shape; `generateJobs` turns it into a fixed, seeded list of jobs, so
 * every approach of one comparison gets the very same jobs at the very same workload times.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { PRESETS } from './presets.js';

export interface Distribution {
  /**
   * `fixed` (value), `uniform` (min..max), `exponential` (mean, capped at max when given) or `empirical`
   * (one of `values`, each as likely: what `kq lab record` writes from the run times it saw).
   */
  dist: 'fixed' | 'uniform' | 'exponential' | 'empirical';
  value?: number;
  min?: number;
  max?: number;
  mean?: number;
  values?: number[];
}

export interface Workload {
  name: string;
  description: string;
  /** Seconds over which jobs arrive. */
  durationSeconds: number;
  /** Jobs at given times: `{ at: seconds, count }`. */
  arrivals?: { at: number; count: number }[];
  /** Poisson arrivals: `perMinute` jobs a minute on average between `from` and `to` seconds. */
  rates?: { from: number; to: number; perMinute: number }[];
  /** Run time of each job, seconds. */
  jobSeconds: Distribution;
  /** Share of jobs submitted with a delay, and the delay in seconds. */
  delayed?: { fraction: number; seconds: Distribution };
  /** Share of jobs whose first attempt throws (then retried). */
  failOnceFraction?: number;
  /** Share of jobs that throw on every attempt (they end `failed`). */
  failAlwaysFraction?: number;
  /** Attempts per job. @default 3 */
  attempts?: number;
  /** Fixed backoff between attempts, seconds. @default 5 */
  backoffSeconds?: number;
  /** RNG seed. @default 1 */
  seed?: number;
  /** A `--speed` that plays it in a minute or two. */
  suggestedSpeed?: number;
  /** Written by `kq lab record`: the queue and the span of history the workload was read from. */
  recorded?: { queue: string; from: string; to: string; jobs: number };
}

export interface LabJob {
  index: number;
  /** Workload ms of submission. */
  at: number;
  durationMs: number;
  delayMs: number;
  /** Attempts that throw before one succeeds (>= attempts: fails for good). */
  failAttempts: number;
  attempts: number;
  backoffMs: number;
}

/** mulberry32: small, seedable, good enough for arrival times. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sample(d: Distribution, rnd: () => number): number {
  if (d.dist === 'fixed') return d.value ?? 0;
  if (d.dist === 'uniform') return (d.min ?? 0) + rnd() * ((d.max ?? 0) - (d.min ?? 0));
  if (d.dist === 'empirical') {
    const values = d.values ?? [0];
    return values[Math.min(values.length - 1, Math.floor(rnd() * values.length))] ?? 0;
  }
  const v = -Math.log(1 - rnd()) * (d.mean ?? 1);
  return d.max !== undefined ? Math.min(v, d.max) : v;
}

/** The jobs of a workload, sorted by submission time. */
export function generateJobs(w: Workload): LabJob[] {
  const rnd = seededRandom(w.seed ?? 1);
  const times: number[] = [];
  for (const a of w.arrivals ?? []) for (let i = 0; i < a.count; i++) times.push(a.at * 1000);
  for (const r of w.rates ?? []) {
    let t = r.from;
    for (;;) {
      t += -Math.log(1 - rnd()) * (60 / r.perMinute);
      if (t >= r.to) break;
      times.push(t * 1000);
    }
  }
  times.sort((a, b) => a - b);
  const attempts = w.attempts ?? 3;
  return times.map((at, index) => {
    const delayed = w.delayed && rnd() < w.delayed.fraction;
    const f = rnd();
    const failAlways = f < (w.failAlwaysFraction ?? 0);
    const failOnce = !failAlways && f < (w.failAlwaysFraction ?? 0) + (w.failOnceFraction ?? 0);
    return {
      index,
      at: Math.round(at),
      durationMs: Math.round(sample(w.jobSeconds, rnd) * 1000),
      delayMs: delayed && w.delayed ? Math.round(sample(w.delayed.seconds, rnd) * 1000) : 0,
      failAttempts: failAlways ? attempts : failOnce ? 1 : 0,
      attempts,
      backoffMs: (w.backoffSeconds ?? 5) * 1000,
    };
  });
}

const bad = (where: string, rule: string) =>
  new ConfigError(`Invalid --workload ${where}: ${rule}`, { option: 'workload', value: where, rule });

const FIELDS = {
  workload: [
    'name',
    'description',
    'durationSeconds',
    'arrivals',
    'rates',
    'jobSeconds',
    'delayed',
    'failOnceFraction',
    'failAlwaysFraction',
    'attempts',
    'backoffSeconds',
    'seed',
    'suggestedSpeed',
    'recorded',
  ],
  arrival: ['at', 'count'],
  rate: ['from', 'to', 'perMinute'],
  delayed: ['fraction', 'seconds'],
  distribution: ['dist', 'value', 'min', 'max', 'mean', 'values'],
} as const;

/** Refuses a field the format does not have: a typo must not silently fall back to a default. */
function checkFields(o: unknown, known: readonly string[], where: string, field: string): void {
  if (typeof o !== 'object' || o === null || Array.isArray(o))
    throw bad(where, `${field} must be a JSON object`);
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) {
      throw bad(
        where,
        `unknown field ${field ? `${field}.` : ''}${k}: the fields here are ${known.join(', ')} (docs/lab.md)`,
      );
    }
  }
}

function checkDistribution(d: unknown, where: string, field: string): void {
  checkFields(d, FIELDS.distribution, where, field);
  const x = d as Distribution;
  if (!['fixed', 'uniform', 'exponential', 'empirical'].includes(x.dist)) {
    throw bad(where, `${field}.dist must be "fixed", "uniform", "exponential" or "empirical"`);
  }
  const number = (v: unknown) => typeof v === 'number' && v >= 0 && Number.isFinite(v);
  for (const k of ['value', 'min', 'max', 'mean'] as const) {
    if (x[k] !== undefined && !number(x[k]))
      throw bad(where, `${field}.${k} must be a number >= 0 (seconds)`);
  }
  if (x.dist === 'empirical' && !(Array.isArray(x.values) && x.values.length > 0 && x.values.every(number))) {
    throw bad(where, `${field}.values must be a non-empty list of numbers >= 0 (seconds) for "empirical"`);
  }
}

/** Checks a workload read from a file; errors name the field and the rule. */
export function checkWorkload(w: Workload, where: string): Workload {
  if (typeof w !== 'object' || w === null || Array.isArray(w)) throw bad(where, 'must be a JSON object');
  checkFields(w, FIELDS.workload, where, '');
  if (!(typeof w.durationSeconds === 'number' && w.durationSeconds > 0)) {
    throw bad(where, 'durationSeconds must be a number > 0');
  }
  if (w.arrivals !== undefined && !(Array.isArray(w.arrivals) && w.arrivals.length > 0)) {
    throw bad(where, 'arrivals must be a non-empty list (leave it out to use rates only)');
  }
  if (!w.arrivals?.length && !w.rates?.length) {
    throw bad(
      where,
      'needs "arrivals" ([{"at": seconds, "count": n}]) or "rates" ([{"from", "to", "perMinute"}])',
    );
  }
  (w.arrivals ?? []).forEach((a, i) => {
    checkFields(a, FIELDS.arrival, where, `arrivals[${i}]`);
    if (!(typeof a.at === 'number' && a.at >= 0 && Number.isInteger(a.count) && a.count >= 0)) {
      throw bad(where, `arrivals[${i}] needs "at" >= 0 (seconds) and a whole "count" >= 0`);
    }
    const before = w.arrivals?.[i - 1];
    if (before && a.at < before.at) {
      throw bad(
        where,
        `arrivals must be sorted by "at": arrivals[${i}].at (${a.at}) is before arrivals[${i - 1}].at (${before.at})`,
      );
    }
  });
  if (w.rates !== undefined && !Array.isArray(w.rates)) throw bad(where, 'rates must be a list');
  for (const [i, r] of (w.rates ?? []).entries()) checkFields(r, FIELDS.rate, where, `rates[${i}]`);
  const jobs = (w.arrivals ?? []).reduce((n, a) => n + a.count, 0);
  if (!jobs && !w.rates?.length)
    throw bad(where, 'arrivals add up to 0 jobs: the workload has no job to play');
  for (const r of w.rates ?? []) {
    if (!(r.from >= 0 && r.to > r.from && r.perMinute > 0)) {
      throw bad(where, 'each rate needs 0 <= "from" < "to" (seconds) and "perMinute" > 0');
    }
  }
  checkDistribution(w.jobSeconds, where, 'jobSeconds');
  if (w.delayed) {
    checkFields(w.delayed, FIELDS.delayed, where, 'delayed');
    if (!(typeof w.delayed.fraction === 'number' && w.delayed.fraction >= 0 && w.delayed.fraction <= 1))
      throw bad(where, 'delayed.fraction must be from 0 to 1');
    checkDistribution(w.delayed.seconds, where, 'delayed.seconds');
  }
  if (w.backoffSeconds !== undefined && !(typeof w.backoffSeconds === 'number' && w.backoffSeconds >= 0))
    throw bad(where, 'backoffSeconds must be a number >= 0');
  for (const k of ['failOnceFraction', 'failAlwaysFraction'] as const) {
    const v = w[k];
    if (v !== undefined && !(v >= 0 && v <= 1)) throw bad(where, `${k} must be from 0 to 1`);
  }
  if (w.attempts !== undefined && !(Number.isInteger(w.attempts) && w.attempts >= 1 && w.attempts <= 100)) {
    throw bad(where, 'attempts must be a whole number from 1 to 100');
  }
  return { ...w, name: w.name ?? where, description: w.description ?? `workload from ${where}` };
}

/**
 * A preset by name, or a JSON file.
 * @example loadWorkload('smoke').durationSeconds
 */
export function loadWorkload(nameOrFile: string): Workload {
  const preset = PRESETS[nameOrFile];
  if (preset) return preset;
  let text: string;
  try {
    text = readFileSync(nameOrFile, 'utf8');
  } catch {
    throw bad(
      JSON.stringify(nameOrFile),
      `not a preset (${Object.keys(PRESETS).join(', ')}) and no such file; give a preset name or a JSON file (docs/lab.md)`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw bad(JSON.stringify(nameOrFile), `not valid JSON (${(err as Error).message})`);
  }
  return checkWorkload(parsed as Workload, JSON.stringify(nameOrFile));
}
