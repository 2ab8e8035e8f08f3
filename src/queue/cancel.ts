/**
 * Cross-process cancel. BullMQ can abort a running job's signal only inside the process holding it
 * (`worker.cancelJob`), so a cancel request is published on the queue's channel and every worker of the
 * queue listens. A worker that holds the job aborts it; the others ignore the message. A worker also
 * remembers ids it heard about for a short while, closing the window in which a job was moved to active
 * but its handler had not started yet when the message arrived.
 */
import type { Redis } from 'ioredis';
import { queueKeys } from './keys.js';

/** `failedReason` of a job that was cancelled while running; the API reports such jobs as `cancelled`. */
export const CANCELLED_REASON = 'kq:cancelled';

/** Publishes a cancel request; resolves to the number of worker processes that heard it. */
export async function publishCancel(
  redis: Redis,
  prefix: string,
  queue: string,
  jobId: string,
): Promise<number> {
  return redis.publish(queueKeys(prefix, queue).cancelChannel, jobId);
}

export interface CancelListener {
  /** True when a cancel for `jobId` arrived within the memory window. */
  wasCancelled(jobId: string): boolean;
  close(): Promise<void>;
}

/**
 * Subscribes to the queue's cancel channel on a dedicated connection (`subscriber` is owned and closed here).
 * @example const listener = await listenForCancels(redis.duplicate(), 'bull', 'jobs', (id) => worker.cancelJob(id));
 */
export async function listenForCancels(
  subscriber: Redis,
  prefix: string,
  queue: string,
  onCancel: (jobId: string) => void,
  memoryMs = 60_000,
): Promise<CancelListener> {
  const channel = queueKeys(prefix, queue).cancelChannel;
  const recent = new Map<string, number>();
  subscriber.on('message', (ch: string, jobId: string) => {
    if (ch !== channel) return;
    const now = Date.now();
    recent.set(jobId, now);
    if (recent.size > 10_000) {
      for (const [id, at] of recent) if (now - at > memoryMs || recent.size > 10_000) recent.delete(id);
    }
    onCancel(jobId);
  });
  // Subscribing while Redis is down must not block start-up: ioredis re-subscribes on reconnect.
  subscriber.subscribe(channel).catch(() => undefined);
  return {
    wasCancelled(jobId) {
      const at = recent.get(jobId);
      return at !== undefined && Date.now() - at <= memoryMs;
    },
    async close() {
      subscriber.disconnect();
    },
  };
}
