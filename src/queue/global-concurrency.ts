/**
 * A queue's global concurrency lives where BullMQ keeps it: the `concurrency` field of the queue's meta
 * hash, read by its fetch script on every move to active (set and read through BullMQ's `Queue` API).
 */
import type { QueueRegistry } from './queues.js';

/**
 * Makes the queue's global concurrency `n` (none when undefined); returns the value it had before.
 * @example const before = await applyGlobalConcurrency(queues, 'images', 4);
 */
export async function applyGlobalConcurrency(
  queues: QueueRegistry,
  queue: string,
  n: number | undefined,
): Promise<number | null> {
  const q = queues.get(queue);
  const before = await q.getGlobalConcurrency();
  if (n === undefined) {
    if (before !== null) await q.removeGlobalConcurrency();
  } else if (before !== n) await q.setGlobalConcurrency(n);
  return before;
}

/** @example await readGlobalConcurrency(queues, 'images') // 4, or null when none is set */
export function readGlobalConcurrency(queues: QueueRegistry, queue: string): Promise<number | null> {
  return queues.get(queue).getGlobalConcurrency();
}
