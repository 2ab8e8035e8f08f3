/**
 * How each job of a run ended, read from BullMQ's own sets after the run: completed, failed for good, or
 * lost (neither); a lost job still in `active` is stranded, and every lost job says where it was left.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { queueKeys } from '../queue/keys.js';
import type { JobOutcome } from './measure.js';
import { labJobId } from './producer.js';
import type { LabJob } from './workload.js';

/** @example const outcomes = await readOutcomes(redis, queue, 'bull', jobs); */
export async function readOutcomes(
  redis: Redis,
  queue: Queue,
  prefix: string,
  jobs: readonly LabJob[],
): Promise<JobOutcome[]> {
  const k = queueKeys(prefix, queue.name);
  const pipe = redis.pipeline();
  for (const job of jobs) pipe.zscore(k.completed, labJobId(job)).zscore(k.failed, labJobId(job));
  const res = (await pipe.exec()) ?? [];
  const active = new Set(await redis.lrange(k.active, 0, -1));
  const outcomes = jobs.map((job, i): JobOutcome => {
    const state = res[2 * i]?.[1] != null ? 'completed' : res[2 * i + 1]?.[1] != null ? 'failed' : 'lost';
    return { id: labJobId(job), job, state, stranded: state === 'lost' && active.has(labJobId(job)) };
  });
  for (const out of outcomes) {
    if (out.state === 'lost') out.leftIn = await queue.getJobState(out.id).catch(() => 'unknown');
    if (out.state === 'failed')
      out.failedReason = (await redis.hget(`${k.job}${out.id}`, 'failedReason')) ?? undefined;
  }
  return outcomes;
}
