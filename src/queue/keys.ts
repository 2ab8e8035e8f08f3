/**
 * The one place that names Redis keys. kq keeps BullMQ's layout (`<prefix>:<queue>:<suffix>`) so that
 * KEDA's redis trigger, bull-board and BullMQ workers in other languages see the same queues; the few
 * keys of kq's own live under `<prefix>:<queue>:kq:*`.
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
}

/** @example queueKeys('bull', 'jobs').wait === 'bull:jobs:wait' */
export function queueKeys(prefix: string, queue: string): QueueKeys {
  const base = `${prefix}:${queue}`;
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
  };
}

/** Pattern matching every queue's meta key, for discovering queues with SCAN. */
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
