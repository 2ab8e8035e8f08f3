/**
 * The queue cache: BullMQ `Queue` objects, one per queue name, made on first use and sharing one
 * connection. Callers never construct `Queue` themselves, so the prefix and connection settings are the
 * same everywhere. (Which queues exist is the queue directory, queue-directory.ts.)
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { bullQueueName, isCluster } from './keys.js';

export interface QueueCache {
  readonly prefix: string;
  readonly connection: Redis;
  get(name: string): Queue;
  close(): Promise<void>;
}

/** @example const queues = createQueueCache(redis, 'bull'); await queues.get('jobs').add('sleep', {}); */
export function createQueueCache(connection: Redis, prefix: string): QueueCache {
  const queues = new Map<string, Queue>();
  return {
    prefix,
    connection,
    get(name) {
      let queue = queues.get(name);
      if (!queue) {
        queue = new Queue(bullQueueName(name, isCluster(connection)), {
          connection,
          prefix,
          skipVersionCheck: true,
        });
        // Errors surface on the awaited call; this listener keeps EventEmitter from throwing.
        queue.on('error', () => undefined);
        queues.set(name, queue);
      }
      return queue;
    },
    async close() {
      await Promise.all([...queues.values()].map((q) => q.close().catch(() => undefined)));
      queues.clear();
    },
  };
}

/** @deprecated Renamed `QueueCache`: a cache of BullMQ `Queue` objects, not the queue directory. */
export type QueueRegistry = QueueCache;
/** @deprecated Renamed `createQueueCache`. */
export const createQueueRegistry = createQueueCache;
