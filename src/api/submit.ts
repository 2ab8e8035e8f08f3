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
import type { Redis } from 'ioredis';
import type { JobRegistry } from '../jobs/registry.js';
import { addPrepared, type EnqueueRequest, type PreparedJob, prepareJob } from '../queue/enqueue.js';
import { locateJob, readJobStatus } from '../queue/job-status.js';
import type { QueueRegistry } from '../queue/queues.js';
import { mapRedisError, type RedisGuard, redisTimedOut } from './redis-guard.js';

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
  /** `idempotencyKey` (the header) wins over `req.idempotencyKey`. */
  submit(req: SubmitRequest, idempotencyKey?: string): Promise<Submitted>;
  /** Validates every request first (nothing stored if one is invalid), then stores all in one go. */
  submitMany(reqs: readonly SubmitRequest[]): Promise<Submitted[]>;
}

/** Jobs stored per pipeline at most; a larger backlog of concurrent requests goes out in several. */
const MAX_BATCH = 500;

interface PendingAdd {
  job: PreparedJob;
  resolve: (id: string) => void;
  reject: (err: unknown) => void;
}

/**
 * `add(job)` resolves with the stored job's id; concurrent adds share one pipeline. Each flushed batch
 * is bounded by one timer (`timeoutMs`, then RedisUnavailableError), not one per request.
 */
function createCoalescer(queues: QueueRegistry, timeoutMs: number) {
  const pending = new Map<string, PendingAdd[]>();
  let scheduled = false;

  const addOne = (queue: string, j: PendingAdd) =>
    queues
      .get(queue)
      .add(j.job.name, j.job.data, j.job.opts)
      .then(
        (job) => j.resolve(job.id as string),
        (err) => j.reject(mapRedisError(err)),
      );

  function flushQueue(queue: string): void {
    const list = pending.get(queue);
    if (!list) return;
    pending.delete(queue);
    const timer = setTimeout(() => {
      for (const j of list) j.reject(redisTimedOut(timeoutMs));
    }, timeoutMs);
    const done = () => clearTimeout(timer);
    if (list.length === 1) {
      addOne(queue, list[0] as PendingAdd).then(done);
      return;
    }
    queues
      .get(queue)
      .addBulk(list.map((j) => j.job))
      .then(
        (jobs) => {
          done();
          for (let i = 0; i < list.length; i++) (list[i] as PendingAdd).resolve(jobs[i]?.id as string);
        },
        () => {
          Promise.all(list.map((j) => addOne(queue, j))).then(done);
        },
      );
  }

  function flush(): void {
    scheduled = false;
    for (const queue of [...pending.keys()]) flushQueue(queue);
  }

  return (job: PreparedJob): Promise<string> =>
    new Promise<string>((resolve, reject) => {
      const queue = job.queue;
      let list = pending.get(queue);
      if (!list) {
        list = [];
        pending.set(queue, list);
      }
      list.push({ job, resolve, reject });
      if (list.length >= MAX_BATCH) flushQueue(queue);
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}

/**
 * `ingestQueues` store jobs (the API gives them a connection of their own); `queues` and `redis` read
 * existing jobs for idempotent replays.
 * @example const s = createSubmitter({ queues, ingestQueues: queues, jobs, redis }); await s.submit({ type: 'sleep' })
 */
export function createSubmitter(o: {
  queues: QueueRegistry;
  ingestQueues: QueueRegistry;
  jobs: JobRegistry;
  redis: Redis;
  guard: RedisGuard;
  timeoutMs: number;
}): Submitter {
  /**
   * Validates and gives the job its id: a UUID (not BullMQ's per-queue counter, so that `/jobs/<id>`
   * names one job across queues), or the idempotency id. An omitted `data` becomes {} in prepareJob.
   */
  const prepare = (req: SubmitRequest, key: string | undefined, at?: string): PreparedJob => {
    const p = prepareJob(o.jobs, req, at);
    p.opts.jobId = key === undefined ? randomUUID() : idempotentJobId(p.queue, key);
    return p;
  };
  const add = createCoalescer(o.ingestQueues, o.timeoutMs);
  const initialStatus = (p: PreparedJob) => (p.opts.delay ? 'delayed' : 'waiting');

  /**
   * A plain submission (no Idempotency-Key, connections ready) skips the guard: the coalescer bounds
   * its batch as a whole, which saves a promise, a closure and a deadline entry per request.
   */
  async function submit(req: SubmitRequest, idempotencyKey = req.idempotencyKey): Promise<Submitted> {
    const p = prepare(req, idempotencyKey);
    if (idempotencyKey === undefined && o.guard.ready()) return stored(p, await add(p));
    return o.guard(() => storeOrReplay(p, idempotencyKey));
  }

  const stored = (p: PreparedJob, id: string): Submitted => ({
    id,
    type: p.name,
    queue: p.queue,
    status: initialStatus(p),
    replayed: false,
  });

  async function storeOrReplay(p: PreparedJob, idempotencyKey: string | undefined): Promise<Submitted> {
    const jobId = p.opts.jobId as string;
    if (idempotencyKey !== undefined) {
      // A replay: answer with the existing job (or its cancellation) and store nothing.
      const found = await locateJob(o.redis, o.queues.prefix, [p.queue], jobId);
      if (found) {
        const existing = await readJobStatus(o.queues.get(p.queue), o.redis, o.queues.prefix, jobId);
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
    return stored(p, await add(p));
  }

  async function submitMany(reqs: readonly SubmitRequest[]): Promise<Submitted[]> {
    const prepared = reqs.map((r, i) => prepare(r, r.idempotencyKey, `jobs[${i}]: `));
    const ids = await o.guard(() => addPrepared(o.ingestQueues, prepared));
    return prepared.map((p, i) => stored(p, ids[i] as string));
  }

  return { submit, submitMany };
}
