/**
 * Cancelling a job, whatever state it is in (a running one through cancel-request.ts).
 * - waiting / prioritized / delayed: removed from the queue, and a tombstone (with a TTL) is left so that
 *   reading the job still answers `cancelled`. The tombstone is written BEFORE the removal, so a reader
 *   never sees the job vanish; if the removal fails because a worker locked the job in between, the
 *   tombstone is deleted and the job is cancelled as a running one.
 * - active: the request is recorded and published on the queue's cancel channel; the worker holding the
 *   job, in whatever process, aborts its handler's signal and fails it with `kq:cancelled` (no retries);
 *   if that worker died, the record stops the job when it restarts after stall detection.
 * - completed / failed: a `ConflictError`; already cancelled: reported as such (cancelling is idempotent).
 * - a flow parent waiting for its children: removed alone (BullMQ's `removeChildren: false`; removing
 *   the whole tree would drop completed children's results, and fails while one runs), then its waiting
 *   and delayed children are cancelled the same way, recursively; running children finish, their result
 *   goes nowhere. The pending children are read BEFORE the parent is removed (its dependency keys go
 *   with it); removing the parent first means no child's removal can make it runnable.
 * Known gap: BullMQ has no atomic "remove if still waiting", so a job taken AND finished by a worker
 * within the one round trip between reading its state and removing it is reported as cancelled.
 */
import type { Redis } from 'ioredis';
import { ConflictError, NotFoundError } from '../errors.js';
import { requestCancel } from './cancel-request.js';
import { bullQueueOfKey, childIdOfKey, pendingChildKeys } from './flow-children.js';
import { tombstoneKey } from './job-keys.js';
import { statusOf, type Tombstone } from './job-status.js';
import { isCluster, kqQueueName } from './keys.js';
import type { QueueCache } from './queues.js';
import { recordCancelled } from './record-cancelled.js';

export type CancelOutcome =
  /** Removed before it ran. */
  | { outcome: 'removed' }
  /** Running: cancel published; `listeners` = worker processes of the queue that heard it. */
  | { outcome: 'signalled'; listeners: number }
  | { outcome: 'already-cancelled' };

export interface CancelJobOptions {
  queues: QueueCache;
  /** A fail-fast connection for kq's own keys and the cancel channel. */
  redis: Redis;
  queue: string;
  id: string;
  /** How long the tombstone of a removed job is kept. @default the job's `removeOnFail.age`, else 7 days */
  tombstoneTtlSeconds?: number;
}

const WEEK_SECONDS = 7 * 24 * 3600;

/** @example await cancelJob({ queues, redis, queue: 'jobs', id: '42' }) */
export async function cancelJob(o: CancelJobOptions): Promise<CancelOutcome> {
  const prefix = o.queues.prefix;
  const bull = o.queues.get(o.queue);
  const tomb = tombstoneKey(prefix, o.queue, o.id, isCluster(o.redis));
  const job = await bull.getJob(o.id);
  const state = job ? await job.getState() : 'unknown';
  const status = statusOf(state, job?.failedReason);
  if (!job || !status) {
    if ((await o.redis.exists(tomb)) === 1) return { outcome: 'already-cancelled' };
    throw new NotFoundError('JOB_NOT_FOUND', `Job ${JSON.stringify(o.id)} was not found.`, { id: o.id });
  }
  if (status === 'cancelled') return { outcome: 'already-cancelled' };
  if (status === 'completed' || status === 'failed') {
    throw new ConflictError(
      'JOB_FINISHED',
      `Job ${JSON.stringify(o.id)} already ${status}; only waiting, delayed or running jobs can be cancelled.`,
      { id: o.id, status },
    );
  }
  if (status === 'active') {
    return { outcome: 'signalled', listeners: await requestCancel(o.redis, prefix, o.queue, o.id) };
  }
  const stone: Tombstone = {
    type: job.name,
    data: job.data ?? null,
    attempts: job.attemptsStarted ?? job.attemptsMade,
    maxAttempts: job.opts.attempts ?? 1,
    createdAt: job.timestamp ? new Date(job.timestamp).toISOString() : null,
    cancelledAt: new Date().toISOString(),
  };
  // Kept as long as a failed job would be: a cancelled job is a finished job.
  const keep = job.opts.removeOnFail;
  const age = typeof keep === 'object' && 'age' in keep ? keep.age : undefined;
  const ttl = o.tombstoneTtlSeconds ?? (age && age > 0 ? age : WEEK_SECONDS);
  const children = state === 'waiting-children' ? await pendingChildKeys(job) : [];
  await o.redis.set(tomb, JSON.stringify(stone), 'EX', Math.max(1, Math.round(ttl)));
  if ((await bull.remove(o.id, { removeChildren: false })) === 1) {
    await recordCancelled(o.redis, prefix, o.queue, o.id, { ran: false, keepSeconds: ttl });
    await cancelWaitingChildren(o, children);
    return { outcome: 'removed' };
  }
  // A worker locked it between our read and the removal: cancel it as a running job.
  await o.redis.del(tomb);
  return { outcome: 'signalled', listeners: await requestCancel(o.redis, prefix, o.queue, o.id) };
}

/** Cancels the children (BullMQ job keys) that have not started; a child that finished meanwhile is skipped. */
async function cancelWaitingChildren(o: CancelJobOptions, keys: readonly string[]): Promise<void> {
  for (const key of keys) {
    const id = childIdOfKey(key);
    const queue = kqQueueName(bullQueueOfKey(o.queues.prefix, key));
    const state = await o.queues.get(queue).getJobState(id);
    if (state === 'active' || state === 'completed' || state === 'failed' || state === 'unknown') continue;
    await cancelJob({ ...o, queue, id }).catch((err: unknown) => {
      if (!(err instanceof ConflictError || err instanceof NotFoundError)) throw err;
    });
  }
}
