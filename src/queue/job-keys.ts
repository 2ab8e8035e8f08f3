/**
 * Per-job keys, derived from `queueKeys` so that key naming stays in one place: a job's hash lives at
 * `<prefix>:<queue>:<id>` (BullMQ's layout) and a kq tombstone at `queueKeys(...).cancelled + id`.
 */
import { isCluster, queueKeys } from './keys.js';

/** BullMQ custom ids may not contain ':'; integers are BullMQ's own ids. */
export const JOB_ID_RE = /^[A-Za-z0-9_.-]{1,200}$/;

/** @example jobKey('bull', 'jobs', '42') === 'bull:jobs:42' */
export function jobKey(prefix: string, queue: string, id: string, cluster = false): string {
  return `${queueKeys(prefix, queue, cluster).job}${id}`;
}

/** @example tombstoneKey('bull', 'jobs', 'abc') === 'bull:jobs:kq:cancelled:abc' */
export function tombstoneKey(prefix: string, queue: string, id: string, cluster = false): string {
  return `${queueKeys(prefix, queue, cluster).cancelled}${id}`;
}

/** A job's type (BullMQ's job name), or undefined when the job is gone. @example await readJobType(redis, 'bull', 'jobs', '42') */
export async function readJobType(
  redis: import('ioredis').Redis,
  prefix: string,
  queue: string,
  id: string,
): Promise<string | undefined> {
  return (await redis.hget(jobKey(prefix, queue, id, isCluster(redis)), 'name')) ?? undefined;
}
