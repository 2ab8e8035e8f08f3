/** Which queue holds a job, from its id: shared by the job routes (status, cancel, wait, events). */
import { parseJobId } from '../queue/job-ids.js';
import { locateJob } from '../queue/job-status.js';
import type { ApiContext } from './context.js';

export type JobLookup = (id: string, queue: string | undefined) => Promise<string | undefined>;

/**
 * O(1) whatever the number of queues and keys: the id names its queue (job-ids.ts). An id kq did not
 * make is looked for in the queue its id may name, then the declared queues: a fixed, small list.
 */
export function createJobLookup(ctx: ApiContext): JobLookup {
  const declared = ctx.jobs.queues();
  return async (id, queue) => {
    if (queue) return locateJob(ctx.redis, ctx.prefix, [queue], id);
    const parsed = parseJobId(id);
    if (parsed?.kqMade) return locateJob(ctx.redis, ctx.prefix, [parsed.queue], id);
    const candidates = parsed ? [parsed.queue, ...declared.filter((q) => q !== parsed.queue)] : declared;
    return locateJob(ctx.redis, ctx.prefix, candidates, id);
  };
}
