/**
 * The ONE job-submission path of the API: every route that stores jobs calls `submit` or `submitMany`.
 * Fastify's JSON schema has already checked the envelope; here the type is resolved and `data` validated
 * with the type's zod schema (`prepareJob`), an Idempotency-Key becomes a deterministic job id, and the job
 * is stored. The function returns only after Redis has acknowledged the write.
 *
 * Coalescing: single submissions that arrive in the same turn of the event loop (under load, every
 * request parsed in one I/O phase) are stored together with one `addBulk` per queue, which BullMQ sends
 * as one pipeline: one write and one read for the batch instead of one round trip per request, on the
 * API's side and on Redis'. Each request is still answered only after its own job is stored. If the
 * pipeline fails, its jobs are retried one by one so each request gets its own answer; that is safe
 * because every job carries its own id (a UUID or the idempotency id) and BullMQ stores nothing for an
 * id that exists. Measured in docs/performance.md.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { JobsOptions } from 'bullmq';
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

/** Jobs stored per pipeline at most; a larger backlog of concurrent requests goes out in several. */
const MAX_BATCH = 500;

interface PendingAdd {
  name: string;
  data: unknown;
  opts: JobsOptions;
  resolve: (id: string) => void;
  reject: (err: unknown) => void;
}

/** `add(queue, ...)` resolves with the stored job's id; concurrent adds share one pipeline. */
function createCoalescer(queues: QueueRegistry) {
  const pending = new Map<string, PendingAdd[]>();
  let scheduled = false;

  const addOne = (queue: string, j: PendingAdd) =>
    queues
      .get(queue)
      .add(j.name, j.data, j.opts)
      .then((job) => j.resolve(job.id as string), j.reject);

  function flushQueue(queue: string): void {
    const list = pending.get(queue);
    if (!list) return;
    pending.delete(queue);
    if (list.length === 1) {
      addOne(queue, list[0] as PendingAdd);
      return;
    }
    queues
      .get(queue)
      .addBulk(list.map(({ name, data, opts }) => ({ name, data, opts })))
      .then(
        (jobs) => {
          for (let i = 0; i < list.length; i++) (list[i] as PendingAdd).resolve(jobs[i]?.id as string);
        },
        () => {
          for (const j of list) addOne(queue, j);
        },
      );
  }

  function flush(): void {
    scheduled = false;
    for (const queue of [...pending.keys()]) flushQueue(queue);
  }

  return (queue: string, name: string, data: unknown, opts: JobsOptions): Promise<string> =>
    new Promise<string>((resolve, reject) => {
      let list = pending.get(queue);
      if (!list) {
        list = [];
        pending.set(queue, list);
      }
      list.push({ name, data, opts, resolve, reject });
      if (list.length >= MAX_BATCH) flushQueue(queue);
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}

/** @example const s = createSubmitter({ queues, jobs, redis }); await s.submit({ type: 'sleep' }) */
export function createSubmitter(o: { queues: QueueRegistry; jobs: JobRegistry; redis: Redis }): Submitter {
  const withId = (req: SubmitRequest): EnqueueRequest => {
    // An omitted `data` becomes {} in prepareJob, as for `kq enqueue`.
    const { idempotencyKey, ...rest } = req;
    // Ids are UUIDs (not BullMQ's per-queue counters) so that `/jobs/<id>` names one job across queues.
    if (idempotencyKey === undefined) return { ...rest, jobId: randomUUID() };
    const queue = rest.queue ?? o.jobs.require(rest.type).queue;
    return { ...rest, queue, jobId: idempotentJobId(queue, idempotencyKey) };
  };
  const add = createCoalescer(o.queues);
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
    const id = await add(p.queue, p.name, p.data, p.opts);
    return { id, type: p.name, queue: p.queue, status: initialStatus(r), replayed: false };
  }

  async function submitMany(reqs: readonly SubmitRequest[]): Promise<Submitted[]> {
    const rs = reqs.map((r) => withId(r));
    const stored = await enqueueMany(o.queues, o.jobs, rs);
    return stored.map((s, i) => ({ ...s, status: initialStatus(rs[i] as EnqueueRequest), replayed: false }));
  }

  return { submit, submitMany };
}
