/**
 * The job-id -> queue index, so `GET /jobs/<id>` without `?queue` costs one GET whatever the number of
 * queues and keys (before: a pipelined probe of every queue found by a keyspace SCAN). Every job kq
 * stores gets a STRING `registryKeys(prefix).jobQueue + id` holding its queue's name, written in the
 * same connection as the job and ahead of it (so a job that exists is always indexed), with a TTL that
 * outlives the job's retention (and a cancelled job's tombstone).
 *
 * Jobs stored by other producers are not indexed: a lookup that misses the index probes the declared
 * queues (a fixed, small list), else the caller passes `?queue=`. An id is unique across queues only for
 * ids kq generates (UUIDs, idempotency ids); BullMQ's per-queue counters are not indexed.
 */
import type { JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { JOB_ID_RE } from './job-keys.js';
import { locateJob } from './job-status.js';
import { isCluster, registryKeys } from './keys.js';

const DAY_SECONDS = 24 * 3600;

function ageOf(keep: JobsOptions['removeOnComplete']): number {
  if (keep === false || keep === undefined) return 30 * DAY_SECONDS;
  if (typeof keep === 'object')
    return 'age' in keep && typeof keep.age === 'number' ? keep.age : 30 * DAY_SECONDS;
  return 0;
}

/** How long a job's index entry lives: its longest retention (or a week, a tombstone's), plus its delay and a day. */
export function indexTtlSeconds(opts: JobsOptions): number {
  const retention = Math.max(ageOf(opts.removeOnComplete), ageOf(opts.removeOnFail), 7 * DAY_SECONDS);
  return Math.ceil(retention + (opts.delay ?? 0) / 1000 + DAY_SECONDS);
}

/** SET KEYS[i] ARGV[2i-1] EX ARGV[2i] for every key: one command per batch instead of one per job. */
const INDEX_SCRIPT = `
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], ARGV[2 * i - 1], 'EX', ARGV[2 * i])
end
return #KEYS`;

/** The common batch (one queue, one TTL): SET KEYS[i] ARGV[1] EX ARGV[2], two arguments instead of 2n. */
const UNIFORM_INDEX_SCRIPT = `
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], ARGV[1], 'EX', ARGV[2])
end
return #KEYS`;

/**
 * Writes the index entries for `jobs` in one script call. EVAL, not EVALSHA: a NOSCRIPT retry would
 * send the entries after the jobs that follow on the connection, and a job must never be acknowledged
 * before its entry exists (Redis caches the compiled script; the text is ~150 bytes per batch).
 * A batch whose jobs share queue and TTL (every producer batch with the same job options) sends those
 * once: per job, the API then builds and writes only the key.
 */
export function indexJobs(
  redis: Redis,
  prefix: string,
  jobs: readonly { id: string; queue: string; opts: JobsOptions }[],
): Promise<unknown> {
  if (!jobs.length) return Promise.resolve(0);
  const base = registryKeys(prefix).jobQueue;
  const keys = jobs.map((j) => `${base}${j.id}`);
  const ttls = jobs.map((j) => indexTtlSeconds(j.opts));
  const queue = jobs[0]?.queue;
  const ttl = ttls[0];
  if (jobs.every((j, i) => j.queue === queue && ttls[i] === ttl)) {
    return redis.eval(UNIFORM_INDEX_SCRIPT, keys.length, ...keys, queue as string, ttl as number);
  }
  const args = jobs.flatMap((j, i) => [j.queue, ttls[i] as number]);
  return redis.eval(INDEX_SCRIPT, keys.length, ...keys, ...args);
}

/**
 * Writes the index entries (and, if given, registers `register` queues) now. On a Cluster every entry is
 * its own slot, which one script cannot span (CROSSSLOT): there they go as single SETs, routed per key.
 */
export function writeJobIndex(
  redis: Redis,
  prefix: string,
  jobs: readonly { id: string; queue: string; opts: JobsOptions }[],
  register: readonly string[] = [],
): Promise<unknown> {
  if (!isCluster(redis)) {
    return Promise.all([
      ...(register.length ? [redis.sadd(registryKeys(prefix).queues, ...register)] : []),
      indexJobs(redis, prefix, jobs),
    ]);
  }
  const base = registryKeys(prefix).jobQueue;
  return Promise.all([
    ...(register.length ? [redis.sadd(registryKeys(prefix).queues, ...register)] : []),
    ...jobs.map((j) => redis.set(`${base}${j.id}`, j.queue, 'EX', indexTtlSeconds(j.opts))),
  ]);
}

/**
 * Which queue holds job `id`: the index first (one GET), else a probe of `fallback` (the declared
 * queues; a fixed list, never the registry). Resolves `undefined` when neither knows it.
 * @example const queue = await findJobQueue(redis, 'bull', id, ['jobs']);
 */
export async function findJobQueue(
  redis: Redis,
  prefix: string,
  id: string,
  fallback: readonly string[],
): Promise<string | undefined> {
  if (!JOB_ID_RE.test(id)) return undefined;
  const indexed = await redis.get(`${registryKeys(prefix).jobQueue}${id}`);
  if (indexed) return indexed;
  return locateJob(redis, prefix, fallback, id);
}
