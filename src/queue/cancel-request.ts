/**
 * Cross-process cancel requests, for running jobs (cancelling a job in any state is cancel-job.ts).
 * BullMQ can abort a running job's signal only inside the process holding it (`worker.cancelJob`), so
 * a cancel request is published on the queue's channel and every worker of the queue listens. A worker that holds the job aborts it; the others ignore the message. A worker also
 * remembers ids it heard about for a short while, closing the window in which a job was moved to active
 * but its handler had not started yet when the message arrived.
 *
 * A message reaches only live workers. If the job's worker died, the job runs again after stall
 * detection, in a worker that never heard the message; so a cancel request is also written to a key
 * (with a TTL), and a worker reads it before re-running a job that has been started before.
 */
import type { Redis } from 'ioredis';
import { isCluster, queueKeys } from './keys.js';

/** `failedReason` of a job that was cancelled while running; the API reports such jobs as `cancelled`. */
export const CANCELLED_REASON = 'kq:cancelled';

/** Publishes a cancel request; resolves to the number of worker processes that heard it. */
export async function publishCancel(
  redis: Redis,
  prefix: string,
  queue: string,
  jobId: string,
): Promise<number> {
  return redis.publish(queueKeys(prefix, queue, isCluster(redis)).cancelChannel, jobId);
}

/** How long a cancel request is remembered for a job that may restart (after a crash, or a retry). */
export const CANCEL_REQUEST_TTL_SECONDS = 7 * 24 * 3600;

/**
 * Records a cancel request for a running job, then publishes it; resolves to the number of live worker
 * processes that heard it (0 when its worker died: the record stops the job when it restarts).
 */
export async function requestCancel(
  redis: Redis,
  prefix: string,
  queue: string,
  jobId: string,
): Promise<number> {
  const k = queueKeys(prefix, queue, isCluster(redis));
  const results = await redis
    .multi()
    .set(`${k.cancelRequested}${jobId}`, String(Date.now()), 'EX', CANCEL_REQUEST_TTL_SECONDS)
    .publish(k.cancelChannel, jobId)
    .exec();
  const published = results?.[1];
  if (!published || published[0]) throw published?.[0] ?? new Error('cancel request was not stored');
  return published[1] as number;
}

/** True when a cancel request was recorded for the job. */
export async function isCancelRequested(
  redis: Redis,
  prefix: string,
  queue: string,
  jobId: string,
): Promise<boolean> {
  return (await redis.exists(`${queueKeys(prefix, queue, isCluster(redis)).cancelRequested}${jobId}`)) === 1;
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
  const channel = queueKeys(prefix, queue, isCluster(subscriber)).cancelChannel;
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
