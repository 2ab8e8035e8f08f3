/**
 * A queue's limits live where BullMQ keeps them, in the queue's meta hash: `concurrency` (global
 * concurrency) and `max` / `duration` (global rate limit), read by its fetch script on every move to
 * active, whichever worker fetches. Set and read through BullMQ's `Queue` API only.
 */
import type { QueueLimits } from '../jobs/define-queue.js';
import type { QueueCache } from './queues.js';

/** The limits stored for a queue; `null` where none is. */
export interface StoredQueueLimits {
  rateLimit: { max: number; durationMs: number } | null;
  globalConcurrency: number | null;
}

/** @example await readQueueLimits(queues, 'images') // { rateLimit: null, globalConcurrency: 4 } */
export async function readQueueLimits(queues: QueueCache, queue: string): Promise<StoredQueueLimits> {
  const q = queues.get(queue);
  const [rate, globalConcurrency] = await Promise.all([q.getGlobalRateLimit(), q.getGlobalConcurrency()]);
  return {
    rateLimit: rate ? { max: rate.max, durationMs: rate.duration } : null,
    globalConcurrency,
  };
}

/**
 * Makes the stored limits `limits` (a part left out is removed); returns what was stored before.
 * @example const before = await applyQueueLimits(queues, 'images', { globalConcurrency: 4 });
 */
export async function applyQueueLimits(
  queues: QueueCache,
  queue: string,
  limits: QueueLimits,
): Promise<StoredQueueLimits> {
  const q = queues.get(queue);
  const before = await readQueueLimits(queues, queue);
  const rate = limits.rateLimit;
  if (!rate) {
    if (before.rateLimit) await q.removeGlobalRateLimit();
  } else if (before.rateLimit?.max !== rate.max || before.rateLimit.durationMs !== rate.durationMs) {
    await q.setGlobalRateLimit(rate.max, rate.durationMs);
  }
  const n = limits.globalConcurrency;
  if (n === undefined) {
    if (before.globalConcurrency !== null) await q.removeGlobalConcurrency();
  } else if (before.globalConcurrency !== n) await q.setGlobalConcurrency(n);
  return before;
}

/** The stored form of `limits`, to compare with what `readQueueLimits` returns. */
export function storedForm(limits: QueueLimits): StoredQueueLimits {
  return { rateLimit: limits.rateLimit ?? null, globalConcurrency: limits.globalConcurrency ?? null };
}
