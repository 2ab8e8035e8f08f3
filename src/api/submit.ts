/**
 * The ONE job-submission path of the API: every route that stores jobs calls `submit` or `submitMany`.
 * Fastify's JSON schema has already checked the envelope; here the type is resolved and `data` validated
 * with the type's zod schema (`prepareJob`), every job gets its id (`<queue>.<random>`, or the id derived from
 * its Idempotency-Key; job-ids.ts), replays are answered from the existing job, and the rest go to the layer's batching
 * producer (src/queue/producer.ts), which answers only after Redis acknowledged the write, bounds what is
 * in flight, and says truthfully whether a failed job may exist.
 *
 * Idempotency, item by item (a batch tells the truth for each item):
 * - the key's job exists (or was cancelled) and was created by the same type, queue and data (its
 *   `kqRequestHash` option, job-ids.ts): `replayed: true` with its current status, nothing stored;
 * - it exists with a different type, queue or data: 422 IDEMPOTENCY_KEY_REUSED naming what differs
 *   (for a batch: the whole batch, naming `jobs[i]`), nothing stored. Another queue is found among the
 *   declared queues (a fixed list, probed together with the request's own queue);
 * - two items of one batch with the same key name one job: the first is stored, the others answer
 *   `replayed: true` with the first one's id, or fail the batch when their requests differ.
 * Known race: two requests with one key at the same moment may both answer `replayed: false`; BullMQ
 * still stores one job (a second add with an existing id stores nothing).
 */
import type { Redis } from 'ioredis';
import { ValidationError } from '../errors.js';
import type { JobRegistry } from '../jobs/registry.js';
import { type EnqueueRequest, type PreparedJob, prepareJob } from '../queue/enqueue.js';
import { idempotentJobId, newJobId, REQUEST_HASH_OPTION, requestHash } from '../queue/job-ids.js';
import { locateJob, readJobStatus } from '../queue/job-status.js';
import type { Producer } from '../queue/producer.js';
import type { QueueCache } from '../queue/queues.js';
import { classifyRedisError, notSent } from '../queue/redis-errors.js';
import type { RedisGuard } from '../queue/redis-guard.js';
import type { Tracing } from '../tracing/load-tracing.js';

export { idempotentJobId };

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

/** The replay check only reads: whatever Redis did, it stored nothing for this request. */
const readOnly = (err: unknown): never => {
  if (classifyRedisError(err)) throw notSent('Redis did not answer the Idempotency-Key check');
  throw err;
};

/** An idempotent request as it was first made: what a later one with the same key must match. */
interface Original {
  id: string;
  type: string;
  queue: string;
  /** Undefined for a job stored without one (by an older kq): it cannot be told apart, so it replays. */
  hash: string | undefined;
}

/** 422 when `p` (sent with `key`) differs from the request that created `first`; names what differs. */
function checkSame(p: PreparedJob, key: string, first: Original, at: string, firstAt = ''): void {
  const hash = p.opts[REQUEST_HASH_OPTION as keyof PreparedJob['opts']] as string;
  let differs: 'type' | 'queue' | 'data' | undefined;
  let detail = '';
  if (first.type !== p.name) {
    differs = 'type';
    detail = `type ${JSON.stringify(first.type)}, this request has ${JSON.stringify(p.name)}`;
  } else if (first.queue !== p.queue) {
    differs = 'queue';
    detail = `queue ${JSON.stringify(first.queue)}, this request has ${JSON.stringify(p.queue)}`;
  } else if (first.hash !== undefined && first.hash !== hash) {
    differs = 'data';
    detail = 'different data';
  }
  if (!differs) return;
  throw new ValidationError(
    'IDEMPOTENCY_KEY_REUSED',
    `${at}Idempotency-Key ${JSON.stringify(key)} was already used ${firstAt || `for job ${first.id}`} with ${detail}. Resend the original request to get that job, or use a new Idempotency-Key for a different job.`,
    { idempotencyKey: key, id: first.id, differs },
  );
}

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
  queues: QueueCache;
  jobs: JobRegistry;
  redis: Redis;
  guard: RedisGuard;
  producer: Producer;
  /** Traces each store as an enqueue span under the request's span. @default undefined (off) */
  tracing?: Tracing;
}): Submitter {
  const declared = o.jobs.queues();
  const prepare = (req: SubmitRequest, key: string | undefined, at?: string): PreparedJob => {
    const p = prepareJob(o.jobs, req, at);
    if (key === undefined) p.opts.jobId = newJobId(p.queue);
    else {
      p.opts.jobId = idempotentJobId(p.queue, key);
      (p.opts as Record<string, unknown>)[REQUEST_HASH_OPTION] = requestHash(p.name, p.queue, p.data);
    }
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

  /**
   * The existing job for `key`, as a replay; undefined when there is none. Looks on the request's queue
   * and the declared ones at once (one round trip); throws IDEMPOTENCY_KEY_REUSED on a different request.
   */
  async function existing(p: PreparedJob, key: string, at = ''): Promise<Submitted | undefined> {
    const candidates = [p.queue, ...declared.filter((q) => q !== p.queue)];
    const found = await Promise.all(
      candidates.map((q) => locateJob(o.redis, o.queues.prefix, [q], idempotentJobId(q, key))),
    );
    const queue = found.find((q) => q !== undefined);
    if (queue === undefined) return undefined;
    const id = idempotentJobId(queue, key);
    const bull = o.queues.get(queue);
    const [job, status] = await Promise.all([
      bull.getJob(id),
      readJobStatus(bull, o.redis, o.queues.prefix, id),
    ]);
    if (!status) return undefined;
    const jobOpts = job?.opts as Record<string, unknown> | undefined;
    // A job cancelled before it ran left a tombstone with its type and data: its hash is recomputed.
    const hash = jobOpts
      ? (jobOpts[REQUEST_HASH_OPTION] as string | undefined)
      : requestHash(status.type, queue, status.data);
    checkSame(p, key, { id, type: status.type, queue, hash }, at);
    return { id, type: status.type, queue, status: status.status, replayed: true };
  }

  async function submit(req: SubmitRequest, idempotencyKey = req.idempotencyKey, bytes = 0) {
    const p = prepare(req, idempotencyKey);
    if (idempotencyKey !== undefined) {
      const replay = await o.guard(() => existing(p, idempotencyKey)).catch(readOnly);
      if (replay) return replay;
    }
    if (!o.tracing) return stored(p, await o.producer.add(p, bytes));
    const end = o.tracing.enqueue([p]);
    try {
      const id = await o.producer.add(p, bytes);
      end();
      return stored(p, id);
    } catch (err) {
      end(err);
      throw err;
    }
  }

  async function submitMany(reqs: readonly SubmitRequest[], bytes = 0): Promise<Submitted[]> {
    const prepared = reqs.map((r, i) => prepare(r, r.idempotencyKey, `jobs[${i}]: `));
    const answers: (Submitted | undefined)[] = new Array(prepared.length);
    // Items with a key: the first item per key is checked against Redis, later ones against it.
    const firstOf = new Map<string, number>();
    const keyed: number[] = [];
    prepared.forEach((p, i) => {
      const key = reqs[i]?.idempotencyKey;
      if (key === undefined) return;
      const first = firstOf.get(key);
      if (first === undefined) {
        firstOf.set(key, i);
        keyed.push(i);
        return;
      }
      const f = prepared[first] as PreparedJob;
      const original = {
        id: f.opts.jobId as string,
        type: f.name,
        queue: f.queue,
        hash: f.opts[REQUEST_HASH_OPTION as keyof PreparedJob['opts']] as string,
      };
      checkSame(p, key, original, `jobs[${i}]: `, `by jobs[${first}] of this batch`);
    });
    if (keyed.length) {
      const found = await o
        .guard(() =>
          Promise.all(
            keyed.map((i) =>
              existing(prepared[i] as PreparedJob, reqs[i]?.idempotencyKey as string, `jobs[${i}]: `),
            ),
          ),
        )
        .catch(readOnly);
      keyed.forEach((i, k) => {
        answers[i] = found[k];
      });
    }
    const toStore: number[] = [];
    prepared.forEach((_, i) => {
      const key = reqs[i]?.idempotencyKey;
      const first = key === undefined ? i : firstOf.get(key);
      if (first === i && !answers[i]) toStore.push(i);
    });
    const batch = toStore.map((i) => prepared[i] as PreparedJob);
    const end = o.tracing?.enqueue(batch);
    const ids = toStore.length
      ? await o.producer.addMany(batch, bytes).catch((err: unknown) => {
          end?.(err);
          throw err;
        })
      : [];
    end?.();
    toStore.forEach((i, k) => {
      answers[i] = stored(prepared[i] as PreparedJob, ids[k] as string);
    });
    return prepared.map((_, i) => {
      const own = answers[i];
      if (own) return own;
      // A later item with the same key as an earlier one: the same job, not a second one.
      const first = answers[firstOf.get(reqs[i]?.idempotencyKey as string) as number] as Submitted;
      return { ...first, replayed: true };
    });
  }

  return { submit, submitMany };
}
