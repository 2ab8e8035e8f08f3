/**
 * The ONE job-submission path of the API: every route that stores jobs calls `submit` or `submitMany`.
 * Fastify's JSON schema has already checked the envelope; here the type is resolved and `data` validated
 * with the type's zod schema (`prepareJob`), an Idempotency-Key becomes a deterministic job id, and the job
 * is stored. The function returns only after Redis has acknowledged the write.
 * (Kept in one place on purpose: coalescing concurrent submissions into pipelined writes belongs here.)
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { JobRegistry } from '../jobs/registry.js';
import { type EnqueueRequest, enqueueMany, prepareJob } from '../queue/enqueue.js';
import { locateJob, readJobStatus } from '../queue/job-status.js';
import type { QueueRegistry } from '../queue/queues.js';

export interface SubmitRequest extends Omit<EnqueueRequest, 'jobId'> {
  idempotencyKey?: string;
}

export interface Submitted {
  id: string;
  type: string;
  queue: string;
  status: string;
  /** True when an Idempotency-Key matched a job that already exists: nothing new was stored. */
  replayed: boolean;
}

/**
 * `idem-<sha256(queue, key) prefix>`: BullMQ custom ids must not contain ':' nor be plain integers, and
 * the same key on two queues names two different jobs.
 */
export function idempotentJobId(queue: string, key: string): string {
  return `idem-${createHash('sha256').update(`${queue}\n${key}`).digest('hex').slice(0, 40)}`;
}

export interface Submitter {
  submit(req: SubmitRequest): Promise<Submitted>;
  /** Validates every request first (nothing stored if one is invalid), then stores all in one go. */
  submitMany(reqs: readonly SubmitRequest[]): Promise<Submitted[]>;
}

/** @example const s = createSubmitter({ queues, jobs, redis }); await s.submit({ type: 'sleep' }) */
export function createSubmitter(o: { queues: QueueRegistry; jobs: JobRegistry; redis: Redis }): Submitter {
  const withId = (req: SubmitRequest): EnqueueRequest => {
    const { idempotencyKey, ...fields } = req;
    // An omitted payload is an empty object, so types whose fields all have defaults need no `data`.
    const rest = fields.data === undefined ? { ...fields, data: {} } : fields;
    // Ids are UUIDs (not BullMQ's per-queue counters) so that `/jobs/<id>` names one job across queues.
    if (idempotencyKey === undefined) return { ...rest, jobId: randomUUID() };
    const queue = rest.queue ?? o.jobs.require(rest.type).queue;
    return { ...rest, queue, jobId: idempotentJobId(queue, idempotencyKey) };
  };
  const initialStatus = (r: EnqueueRequest) => (r.delay && r.delay > 0 ? 'delayed' : 'waiting');

  async function submit(req: SubmitRequest): Promise<Submitted> {
    const r = withId(req);
    const p = prepareJob(o.jobs, r);
    if (req.idempotencyKey !== undefined && r.jobId) {
      // A replay: answer with the existing job (or its cancellation) and store nothing.
      const found = await locateJob(o.redis, o.queues.prefix, [p.queue], r.jobId);
      if (found) {
        const existing = await readJobStatus(o.queues.get(p.queue), o.redis, o.queues.prefix, r.jobId);
        if (existing) {
          return {
            id: existing.id,
            type: existing.type,
            queue: p.queue,
            status: existing.status,
            replayed: true,
          };
        }
      }
    }
    const job = await o.queues.get(p.queue).add(p.name, p.data, p.opts);
    return { id: job.id as string, type: p.name, queue: p.queue, status: initialStatus(r), replayed: false };
  }

  async function submitMany(reqs: readonly SubmitRequest[]): Promise<Submitted[]> {
    const rs = reqs.map((r) => withId(r));
    const stored = await enqueueMany(o.queues, o.jobs, rs);
    return stored.map((s, i) => ({ ...s, status: initialStatus(rs[i] as EnqueueRequest), replayed: false }));
  }

  return { submit, submitMany };
}
