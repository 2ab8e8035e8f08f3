/**
 * The ONE job-submission path of the API: every route that stores jobs calls `submit` or `submitMany`.
 * Fastify's JSON schema has already checked the envelope; here the type is resolved and `data` validated
 * with the type's zod schema (`prepareJob`), every job gets its id (a UUID, or the id derived from its
 * Idempotency-Key), replays are answered from the existing job, and the rest go to the layer's batching
 * producer (src/queue/producer.ts), which answers only after Redis acknowledged the write, bounds what is
 * in flight, and says truthfully whether a failed job may exist.
 *
 * Idempotency, item by item (a batch tells the truth for each item):
 * - the key's job exists (or was cancelled): `replayed: true` with its current status, nothing stored;
 * - two items of one batch with the same key on the same queue name one job: the first is stored, the
 *   others answer `replayed: true` with the first one's id.
 * Known race: two requests with one key at the same moment may both answer `replayed: false`; BullMQ
 * still stores one job (a second add with an existing id stores nothing).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { JobRegistry } from '../jobs/registry.js';
import { type EnqueueRequest, type PreparedJob, prepareJob } from '../queue/enqueue.js';
import { locateJob, readJobStatus } from '../queue/job-status.js';
import type { Producer } from '../queue/producer.js';
import type { QueueRegistry } from '../queue/queues.js';
import { classifyRedisError, notSent } from '../queue/redis-errors.js';
import type { RedisGuard } from '../queue/redis-guard.js';

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

/** The replay check only reads: whatever Redis did, it stored nothing for this request. */
const readOnly = (err: unknown): never => {
  if (classifyRedisError(err)) throw notSent('Redis did not answer the Idempotency-Key check');
  throw err;
};

export interface Submitter {
  /** `idempotencyKey` (the header) wins over `req.idempotencyKey`; `bytes`: the request's size. */
  submit(req: SubmitRequest, idempotencyKey?: string, bytes?: number): Promise<Submitted>;
  /** Validates every request first (nothing stored if one is invalid), then stores all in one go. */
  submitMany(reqs: readonly SubmitRequest[], bytes?: number): Promise<Submitted[]>;
}

/**
 * `queues` and `redis` read existing jobs for idempotent replays (bounded by `guard`); `producer` stores.
 * @example const s = createSubmitter({ queues, jobs, redis, guard, producer }); await s.submit({ type: 'sleep' })
 */
export function createSubmitter(o: {
  queues: QueueRegistry;
  jobs: JobRegistry;
  redis: Redis;
  guard: RedisGuard;
  producer: Producer;
}): Submitter {
  const prepare = (req: SubmitRequest, key: string | undefined, at?: string): PreparedJob => {
    const p = prepareJob(o.jobs, req, at);
    p.opts.jobId = key === undefined ? randomUUID() : idempotentJobId(p.queue, key);
    return p;
  };
  const initialStatus = (p: PreparedJob) => (p.opts.delay ? 'delayed' : 'waiting');
  const stored = (p: PreparedJob, id: string): Submitted => ({
    id,
    type: p.name,
    queue: p.queue,
    status: initialStatus(p),
    replayed: false,
  });

  /** The existing job for an idempotent id, as a replay; undefined when there is none. */
  async function existing(p: PreparedJob): Promise<Submitted | undefined> {
    const id = p.opts.jobId as string;
    if (!(await locateJob(o.redis, o.queues.prefix, [p.queue], id))) return undefined;
    const found = await readJobStatus(o.queues.get(p.queue), o.redis, o.queues.prefix, id);
    return found && { id, type: found.type, queue: p.queue, status: found.status, replayed: true };
  }

  async function submit(req: SubmitRequest, idempotencyKey = req.idempotencyKey, bytes = 0) {
    const p = prepare(req, idempotencyKey);
    if (idempotencyKey !== undefined) {
      const replay = await o.guard(() => existing(p)).catch(readOnly);
      if (replay) return replay;
    }
    return stored(p, await o.producer.add(p, bytes));
  }

  async function submitMany(reqs: readonly SubmitRequest[], bytes = 0): Promise<Submitted[]> {
    const prepared = reqs.map((r, i) => prepare(r, r.idempotencyKey, `jobs[${i}]: `));
    const answers: (Submitted | undefined)[] = new Array(prepared.length);
    // Items with a key: the first item per job id is checked against Redis, later ones point at it.
    const firstOf = new Map<string, number>();
    const keyed: number[] = [];
    prepared.forEach((p, i) => {
      if (reqs[i]?.idempotencyKey === undefined) return;
      const id = `${p.queue}\n${p.opts.jobId}`;
      if (!firstOf.has(id)) {
        firstOf.set(id, i);
        keyed.push(i);
      }
    });
    if (keyed.length) {
      const found = await o
        .guard(() => Promise.all(keyed.map((i) => existing(prepared[i] as PreparedJob))))
        .catch(readOnly);
      keyed.forEach((i, k) => {
        answers[i] = found[k];
      });
    }
    const toStore: number[] = [];
    prepared.forEach((p, i) => {
      const first = reqs[i]?.idempotencyKey === undefined ? i : firstOf.get(`${p.queue}\n${p.opts.jobId}`);
      if (first === i && !answers[i]) toStore.push(i);
    });
    const ids = toStore.length
      ? await o.producer.addMany(
          toStore.map((i) => prepared[i] as PreparedJob),
          bytes,
        )
      : [];
    toStore.forEach((i, k) => {
      answers[i] = stored(prepared[i] as PreparedJob, ids[k] as string);
    });
    return prepared.map((p, i) => {
      const own = answers[i];
      if (own) return own;
      // A later item with the same key as an earlier one: the same job, not a second one.
      const first = answers[firstOf.get(`${p.queue}\n${p.opts.jobId}`) as number] as Submitted;
      return { ...first, replayed: true };
    });
  }

  return { submit, submitMany };
}
