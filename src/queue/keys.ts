/**
 * The one place that names Redis keys. kq keeps BullMQ's layout (`<prefix>:<queue>:<suffix>`) so that
 * KEDA's redis trigger, bull-board and BullMQ workers in other languages see the same queues; the few
 * keys of kq's own live under `<prefix>:<queue>:kq:*`. Derived from these, not named anew: a job's own
 * keys (job-keys.ts), and BullMQ's private stall and lock keys, named beside the rest of its private
 * mechanics (bullmq-internals.ts `stallKeys`, `lockKey`).
 */
export interface QueueKeys {
  /** Prefix of a job's own keys: its hash is `<job><id>` (`:lock`, `:logs` follow the id). */
  job: string;
  /** LIST of plain waiting job ids: what a KEDA `redis` trigger should watch. */
  wait: string;
  /** LIST of running job ids. */
  active: string;
  /** ZSET of prioritized waiting jobs. */
  prioritized: string;
  /** ZSET of delayed jobs; score = dueTimestampMs * 0x1000 + counter. */
  delayed: string;
  completed: string;
  failed: string;
  /** HASH; field `paused` is set while the queue is paused. */
  meta: string;
  /** STREAM of BullMQ's queue events (`added`, `waiting`, `delayed`, `paused`, ...). */
  events: string;
  /** Pub/sub channel on which cancel requests for running jobs are published. */
  cancelChannel: string;
  /** Key prefix of tombstones for jobs cancelled before they ran (`<cancelled><jobId>`). */
  cancelled: string;
  /** Key prefix of cancel requests for running jobs (`<cancelRequested><jobId>`), read when a job restarts. */
  cancelRequested: string;
  /** ZSET of ids cancelled while they ran (score = when), for the counts (record-cancelled.ts, counts.ts). */
  cancelledRan: string;
  /** ZSET of ids removed before they ran (score = their tombstone's expiry), for the counts. */
  cancelledRemoved: string;
  /** The orphan scan's queue-wide throttle (bullmq-internals.ts `markOrphans`). */
  orphanScan: string;
  /** Key prefix of one-job-per-pod claims (`<claim><Kubernetes Job name>`, bullmq-internals.ts). */
  claim: string;
}

/**
 * The name BullMQ sees for a kq queue. On Redis Cluster it carries its own hash tag, `{jobs}`, so one
 * queue's keys share a slot (BullMQ's Lua scripts touch several at once) while different queues spread
 * over the shards; a single `{bull}` prefix would put every queue on one shard. Idempotent.
 * @example bullQueueName('jobs', true) === '{jobs}'
 */
export function bullQueueName(queue: string, cluster: boolean): string {
  return cluster && !/^\{.*\}$/.test(queue) ? `{${queue}}` : queue;
}

/** kq's queue name back from a BullMQ name (`{jobs}` -> `jobs`). */
export function kqQueueName(bullName: string): string {
  return /^\{.*\}$/.test(bullName) ? bullName.slice(1, -1) : bullName;
}

/** True for an ioredis `Cluster` (what `createRedis` returns for `redis+cluster://`). */
export function isCluster(redis: unknown): boolean {
  return (redis as { isCluster?: boolean } | null)?.isCluster === true;
}

/**
 * @example queueKeys('bull', 'jobs').wait === 'bull:jobs:wait'
 * @example queueKeys('bull', 'jobs', true).wait === 'bull:{jobs}:wait'
 */
export function queueKeys(prefix: string, queue: string, cluster = false): QueueKeys {
  const base = `${prefix}:${bullQueueName(queue, cluster)}`;
  return {
    job: `${base}:`,
    wait: `${base}:wait`,
    active: `${base}:active`,
    prioritized: `${base}:prioritized`,
    delayed: `${base}:delayed`,
    completed: `${base}:completed`,
    failed: `${base}:failed`,
    meta: `${base}:meta`,
    events: `${base}:events`,
    cancelChannel: `${base}:kq:cancel`,
    cancelled: `${base}:kq:cancelled:`,
    cancelRequested: `${base}:kq:cancel-requested:`,
    cancelledRan: `${base}:kq:cancelled-ran`,
    cancelledRemoved: `${base}:kq:cancelled-removed`,
    orphanScan: `${base}:kq:orphan-scan`,
    claim: `${base}:kq:claim:`,
  };
}

/**
 * kq's own keys that belong to no single queue. They live under `<prefix>:kq:`, which BullMQ would use
 * only for a queue named `kq`; kq refuses that queue name (`RESERVED_QUEUE_NAME`).
 */
export interface DirectoryKeys {
  /** SET of known queue names: the queue directory (queue-directory.ts). */
  queues: string;
}

/** The queue name whose BullMQ keys would overlap `directoryKeys`; kq never creates it. */
export const RESERVED_QUEUE_NAME = 'kq';

/** @example directoryKeys('bull').queues === 'bull:kq:queues' */
export function directoryKeys(prefix: string): DirectoryKeys {
  return { queues: `${prefix}:kq:queues` };
}

/** @deprecated Renamed `directoryKeys`: these are the keys of the queue directory. */
export const registryKeys = directoryKeys;

/** Pattern matching every queue's meta key, for the operator's `kq queues discover` (never a request). */
export function metaKeyPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}:*:meta`;
}

/** The queue name inside a key found with `metaKeyPattern`. */
export function queueNameFromMetaKey(prefix: string, key: string): string {
  return key.slice(prefix.length + 1, -':meta'.length);
}

/** Highest delayed-ZSET score of a job due at or before `nowMs` (BullMQ packs a counter in 12 bits). */
export function dueDelayedMaxScore(nowMs: number): number {
  return (nowMs + 1) * 0x1000 - 1;
}
