/**
 * Handing a running job back to the queue (shutdown deadline, a job fetched past `MAX_JOBS`, a type this
 * worker does not know) costs no attempt. BullMQ's `moveToWait` keeps the attempt it counted when the job became active (`ats`), so a job
 * handed back once showed "attempts 2 of 1"; this takes that count back.
 */
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { isCluster, queueKeys } from './keys.js';

// KEYS: job hash. Decrements `ats` but never below 0.
const UNCOUNT_ATTEMPT = `
local n = tonumber(redis.call('HGET', KEYS[1], 'ats') or '0')
if n and n > 0 then redis.call('HINCRBY', KEYS[1], 'ats', -1) end
return n
`;

/** @example await handBackJob(redis, 'bull', 'jobs', job, token); */
export async function handBackJob(
  redis: Redis,
  prefix: string,
  queue: string,
  job: Job,
  token?: string,
): Promise<void> {
  await job.moveToWait(token);
  // Best effort: the job is back either way; a failed correction only leaves the count one too high.
  await redis
    .eval(UNCOUNT_ATTEMPT, 1, `${queueKeys(prefix, queue, isCluster(redis)).job}${job.id}`)
    .catch(() => undefined);
}

/**
 * Puts a job this worker holds back as delayed by `delayMs`, costing no attempt: BullMQ's public
 * `Job.moveToDelayed` passes `skipAttempt` (its moveToDelayed script then leaves `atm` alone), and the
 * `ats` it counted when the job became active is taken back as in `handBackJob`.
 * @example await delayBackJob(redis, 'bull', 'jobs', job, 5000, token); throw new DelayedError();
 */
export async function delayBackJob(
  redis: Redis,
  prefix: string,
  queue: string,
  job: Job,
  delayMs: number,
  token?: string,
): Promise<void> {
  await job.moveToDelayed(Date.now() + delayMs, token);
  await redis
    .eval(UNCOUNT_ATTEMPT, 1, `${queueKeys(prefix, queue, isCluster(redis)).job}${job.id}`)
    .catch(() => undefined);
}
