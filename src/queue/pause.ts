/**
 * Pausing a queue: BullMQ sets the `paused` field of the queue's meta hash; workers stop taking jobs
 * (running ones finish) until it is resumed. Counts report `paused: true` meanwhile.
 */
import type { QueueCache } from './queues.js';

/** @example await setPaused(queues, 'jobs', true) */
export async function setPaused(queues: QueueCache, queue: string, paused: boolean): Promise<void> {
  const q = queues.get(queue);
  if (paused) await q.pause();
  else await q.resume();
}
