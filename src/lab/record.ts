/**
 * `kq lab record`: a workload file from a live queue's history, read from the jobs BullMQ retains in
 * `completed` and `failed` (their `timestamp`, `delay`, `processedOn`, `finishedOn`, `attemptsMade` and
 * options): arrivals per second as they came, run times as seen (an empirical distribution), the share
 * delayed, retried and failed. BullMQ keeps only what `removeOnComplete` / `removeOnFail` retain, so the
 * result says when that history is too short to be representative.
 */
import type { Redis } from 'ioredis';
import { ConfigError } from '../errors.js';
import { isCluster, queueKeys } from '../queue/keys.js';
import type { Workload } from './workload.js';

/** Fewer finished jobs, or a shorter span, than this and the recording is flagged as thin. */
export const REPRESENTATIVE = { jobs: 50, spanSeconds: 600 } as const;
/** Run times kept in the empirical distribution (evenly thinned beyond). */
const MAX_VALUES = 1000;

export interface Recorded {
  workload: Workload;
  /** Set when the history is too thin to stand for the queue's traffic. */
  warning?: string;
}

/** `90m`, `24h`, `3600s`, `2d` -> ms. @example parseSince('24h') === 86_400_000 */
export function parseSince(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(raw.trim());
  if (!m) {
    throw new ConfigError(
      `Invalid --since ${JSON.stringify(raw)}: must be a duration like 90m, 24h, 3600s or 7d (how far back to read finished jobs).`,
      { option: 'since', value: raw },
    );
  }
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

interface FinishedJob {
  timestamp: number;
  delay: number;
  processedOn: number;
  finishedOn: number;
  attemptsMade: number;
  failed: boolean;
  attempts: number;
  backoffMs?: number;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

function thin(values: number[]): number[] {
  if (values.length <= MAX_VALUES) return values;
  const step = values.length / MAX_VALUES;
  return Array.from({ length: MAX_VALUES }, (_, i) => values[Math.floor(i * step)] as number);
}

/** @example const { workload, warning } = await recordWorkload(redis, 'bull', 'jobs', 86_400_000); */
export async function recordWorkload(
  redis: Redis,
  prefix: string,
  queue: string,
  sinceMs: number,
  nowMs = Date.now(),
): Promise<Recorded> {
  const k = queueKeys(prefix, queue, isCluster(redis));
  const exists = await Promise.all(
    [k.meta, k.completed, k.failed, k.wait, k.active, k.delayed].map((key) => redis.exists(key)),
  );
  if (!exists.some((e) => e === 1)) {
    throw new ConfigError(
      `Queue ${JSON.stringify(queue)} does not exist with prefix ${JSON.stringify(prefix)} on this Redis: check --queue and --prefix (kq queues lists the queues).`,
      { option: 'queue', value: queue },
    );
  }
  const from = nowMs - sinceMs;
  const [doneIds, failedIds] = await Promise.all([
    redis.zrangebyscore(k.completed, from, '+inf'),
    redis.zrangebyscore(k.failed, from, '+inf'),
  ]);
  const ids = [...doneIds.map((id) => [id, false] as const), ...failedIds.map((id) => [id, true] as const)];
  const pipe = redis.pipeline();
  // `atm`: BullMQ's attempts-made field (`attemptsMade` in older versions).
  for (const [id] of ids)
    pipe.hmget(
      `${k.job}${id}`,
      'timestamp',
      'delay',
      'processedOn',
      'finishedOn',
      'atm',
      'opts',
      'attemptsMade',
    );
  const rows = (await pipe.exec()) ?? [];
  const jobs: FinishedJob[] = [];
  rows.forEach(([, value], i) => {
    const [timestamp, delay, processedOn, finishedOn, atm, opts, oldAtm] = (value ?? []) as (string | null)[];
    const attemptsMade = atm ?? oldAtm;
    if (!timestamp || !processedOn || !finishedOn) return;
    let o: { attempts?: number; delay?: number; backoff?: number | { delay?: number } } = {};
    try {
      o = JSON.parse(opts ?? '{}');
    } catch {
      // A job hash without readable options: the defaults below.
    }
    jobs.push({
      timestamp: Number(timestamp),
      // BullMQ resets the hash's delay once the job is promoted; its options keep what was asked.
      delay: Math.max(Number(delay ?? 0), o.delay ?? 0),
      processedOn: Number(processedOn),
      finishedOn: Number(finishedOn),
      attemptsMade: Number(attemptsMade ?? 1),
      failed: (ids[i] as readonly [string, boolean])[1],
      attempts: o.attempts ?? 1,
      backoffMs: typeof o.backoff === 'number' ? o.backoff : o.backoff?.delay,
    });
  });
  if (!jobs.length) {
    throw new ConfigError(
      `Queue ${JSON.stringify(queue)} holds no finished jobs since ${new Date(from).toISOString()}: nothing to record. BullMQ keeps finished jobs only as removeOnComplete / removeOnFail allow; record after traffic, or over a longer --since.`,
      { option: 'queue', value: queue },
    );
  }
  jobs.sort((a, b) => a.timestamp - b.timestamp);
  const t0 = (jobs[0] as FinishedJob).timestamp;
  const perSecond = new Map<number, number>();
  for (const j of jobs) {
    const at = Math.floor((j.timestamp - t0) / 1000);
    perSecond.set(at, (perSecond.get(at) ?? 0) + 1);
  }
  const arrivals = [...perSecond].sort((a, b) => a[0] - b[0]).map(([at, count]) => ({ at, count }));
  const spanSeconds = (arrivals.at(-1)?.at ?? 0) + 1;
  const completed = jobs.filter((j) => !j.failed);
  const runTimes = thin(
    (completed.length ? completed : jobs).map((j) =>
      round2(Math.max(0, j.finishedOn - j.processedOn) / 1000),
    ),
  );
  const delayed = jobs.filter((j) => j.delay > 0);
  const retried = completed.filter((j) => j.attemptsMade > 1).length;
  const backoffs = jobs.flatMap((j) => (j.backoffMs === undefined ? [] : [j.backoffMs]));
  const workload: Workload = {
    name: `recorded-${queue}`,
    description: `${jobs.length} finished jobs of queue ${queue}, ${new Date(t0).toISOString()} to ${new Date((jobs.at(-1) as FinishedJob).timestamp).toISOString()}`,
    durationSeconds: spanSeconds,
    arrivals,
    jobSeconds: { dist: 'empirical', values: runTimes },
    ...(delayed.length
      ? {
          delayed: {
            fraction: round2(delayed.length / jobs.length),
            seconds: { dist: 'empirical' as const, values: thin(delayed.map((j) => round2(j.delay / 1000))) },
          },
        }
      : {}),
    failOnceFraction: round2(retried / jobs.length),
    failAlwaysFraction: round2(jobs.filter((j) => j.failed).length / jobs.length),
    attempts: Math.max(
      1,
      Math.min(
        100,
        jobs.reduce((m, j) => Math.max(m, j.attempts), 1),
      ),
    ),
    ...(backoffs.length
      ? { backoffSeconds: round2(backoffs.reduce((m, b) => Math.max(m, b), 0) / 1000) }
      : {}),
    recorded: {
      queue,
      from: new Date(t0).toISOString(),
      to: new Date((jobs.at(-1) as FinishedJob).timestamp).toISOString(),
      jobs: jobs.length,
    },
  };
  const thinHistory = jobs.length < REPRESENTATIVE.jobs || spanSeconds < REPRESENTATIVE.spanSeconds;
  return {
    workload,
    ...(thinHistory
      ? {
          warning: `only ${jobs.length} finished jobs over ${spanSeconds} s are retained: the workload may not be representative (at least ${REPRESENTATIVE.jobs} jobs over ${REPRESENTATIVE.spanSeconds / 60} minutes are wanted); keep more with larger removeOnComplete / removeOnFail counts, or record after more traffic`,
        }
      : {}),
  };
}
