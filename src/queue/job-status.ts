/**
 * A job as kq reports it: one flat record with one of six statuses. BullMQ's states map as follows:
 * waiting / prioritized / waiting-children -> `waiting`; delayed (also a retry waiting out its backoff)
 * -> `delayed`; active; completed; failed with failedReason `kq:cancelled` -> `cancelled`, else `failed`.
 * A job cancelled before it ran no longer exists in BullMQ; its tombstone answers `cancelled`.
 */
import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { CANCELLED_REASON } from './cancel-request.js';
import { type ChildCounts, isFlowParent, readChildCounts } from './flow-children.js';
import { JOB_ID_RE, jobKey, tombstoneKey } from './job-keys.js';
import { isCluster, kqQueueName } from './keys.js';

export const JOB_STATUSES = ['waiting', 'delayed', 'active', 'completed', 'failed', 'cancelled'] as const;
export type JobStatusName = (typeof JOB_STATUSES)[number];

export interface JobStatus {
  id: string;
  type: string;
  queue: string;
  status: JobStatusName;
  progress: number | Record<string, unknown>;
  /** Attempts started so far. */
  attempts: number;
  maxAttempts: number;
  data: unknown;
  result: unknown;
  error: string | null;
  createdAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** A flow parent only: its direct children by status. */
  children?: ChildCounts;
  /** A flow child only: its parent's id. */
  parent?: string;
}

/** What a tombstone stores about a job removed before it ran. */
export interface Tombstone {
  type: string;
  data: unknown;
  attempts: number;
  maxAttempts: number;
  createdAt: string | null;
  cancelledAt: string;
}

const iso = (ms: number | undefined | null): string | null =>
  typeof ms === 'number' && ms > 0 ? new Date(ms).toISOString() : null;

/** Maps BullMQ's state name (from `job.getState()`) to kq's; `undefined` for `unknown` (job gone). */
export function statusOf(state: string, failedReason?: string): JobStatusName | undefined {
  switch (state) {
    case 'waiting':
    case 'prioritized':
    case 'waiting-children':
      return 'waiting';
    case 'delayed':
    case 'active':
    case 'completed':
      return state;
    case 'failed':
      return failedReason === CANCELLED_REASON ? 'cancelled' : 'failed';
    default:
      return undefined;
  }
}

export function toJobStatus(job: Job, queue: string, status: JobStatusName): JobStatus {
  const failed = status === 'failed';
  return {
    id: job.id as string,
    type: job.name,
    queue,
    status,
    progress: (job.progress as number | Record<string, unknown>) ?? 0,
    attempts: job.attemptsStarted ?? job.attemptsMade,
    maxAttempts: job.opts.attempts ?? 1,
    data: job.data ?? null,
    result: job.returnvalue ?? null,
    error: failed || status === 'delayed' ? job.failedReason || null : null,
    createdAt: iso(job.timestamp),
    startedAt: iso(job.processedOn),
    finishedAt: iso(job.finishedOn),
  };
}

export function fromTombstone(id: string, queue: string, t: Tombstone): JobStatus {
  return {
    id,
    type: t.type,
    queue,
    status: 'cancelled',
    progress: 0,
    attempts: t.attempts,
    maxAttempts: t.maxAttempts,
    data: t.data,
    result: null,
    error: null,
    createdAt: t.createdAt,
    startedAt: null,
    finishedAt: t.cancelledAt,
  };
}

/**
 * Which of `queues` holds job `id` (a live job first, else a tombstone), in one pipelined round trip.
 * Ids are unique per queue only (BullMQ numbers each queue from 1), so the first match in order wins.
 */
export async function locateJob(
  redis: Redis,
  prefix: string,
  queues: readonly string[],
  id: string,
): Promise<string | undefined> {
  if (!JOB_ID_RE.test(id) || queues.length === 0) return undefined;
  const cluster = isCluster(redis);
  // `timestamp` is a field every job hash has and no other hash of a queue (e.g. `meta`) has.
  const probes = (r: Pick<Redis, 'hexists' | 'exists'>) =>
    queues.flatMap((q) => [
      r.hexists(jobKey(prefix, q, id, cluster), 'timestamp'),
      r.exists(tombstoneKey(prefix, q, id, cluster)),
    ]);
  let results: [Error | null, unknown][];
  if (cluster) {
    // On a Cluster each queue is in its own slot: one pipeline cannot span them.
    const settled = await Promise.allSettled(probes(redis));
    results = settled.map((s) => (s.status === 'fulfilled' ? [null, s.value] : [s.reason as Error, 0]));
  } else {
    const pipe = redis.pipeline();
    probes(pipe as unknown as Redis);
    results = ((await pipe.exec()) ?? []) as [Error | null, unknown][];
  }
  const hit = (i: number): boolean => {
    const [err, value] = results[i] ?? [new Error('no result'), 0];
    if (err) {
      if (/^WRONGTYPE/.test(err.message)) return false;
      throw err;
    }
    return value === 1;
  };
  for (let i = 0; i < queues.length; i++) if (hit(2 * i)) return queues[i];
  for (let i = 0; i < queues.length; i++) if (hit(2 * i + 1)) return queues[i];
  return undefined;
}

/** The job's record, or `undefined` when it exists neither as a job nor as a tombstone. */
export async function readJobStatus(
  queue: Queue,
  redis: Redis,
  prefix: string,
  id: string,
): Promise<JobStatus | undefined> {
  if (!JOB_ID_RE.test(id)) return undefined;
  // The state first, then the job: a job that finishes between the two reads then shows its old state
  // with newer fields, never `completed` with the result it did not have yet (job, then state, did).
  const state = await queue.getJobState(id);
  const job = state === 'unknown' ? undefined : await queue.getJob(id);
  if (job) {
    const status = statusOf(state, job.failedReason);
    if (status) {
      const out = toJobStatus(job, kqQueueName(queue.name), status);
      if (isFlowParent(job)) out.children = await readChildCounts(job, redis, prefix);
      if (job.parent) out.parent = job.parent.id;
      return out;
    }
  }
  const raw = await redis.get(tombstoneKey(prefix, queue.name, id, isCluster(redis)));
  return raw ? fromTombstone(id, kqQueueName(queue.name), JSON.parse(raw) as Tombstone) : undefined;
}
