/**
 * Adding jobs: resolve the type, validate the payload with its schema, merge per-type defaults with
 * per-call overrides, and store. Nothing is stored unless every payload of a call is valid.
 */
import type { JobsOptions } from 'bullmq';
import type { z } from 'zod';
import { ValidationError } from '../errors.js';
import type { JobDefinition } from '../jobs/define-job.js';
import type { JobRegistry } from '../jobs/registry.js';
import { producerTracing } from '../tracing/load-tracing.js';
import { newJobId } from './job-ids.js';
import { directoryKeys } from './keys.js';
import type { QueueCache } from './queues.js';

/** BullMQ's largest priority (2^21 - 1): it refuses larger ones when the job is added. */
export const MAX_PRIORITY = 2_097_151;

export interface EnqueueRequest {
  type: string;
  data?: unknown;
  /** Defaults to the type's queue. */
  queue?: string;
  /** Milliseconds before the job may run. */
  delay?: number;
  /** 1 (highest) to MAX_PRIORITY (2,097,151); unset = plain FIFO. */
  priority?: number;
  attempts?: number;
  /** Custom job id (e.g. derived from an idempotency key): a second add with the same id stores nothing. */
  jobId?: string;
}

export interface PreparedJob {
  queue: string;
  name: string;
  data: unknown;
  opts: JobsOptions;
}

export interface EnqueuedJob {
  id: string;
  type: string;
  queue: string;
}

export interface PayloadIssue {
  path: string;
  message: string;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.length
    ? path
        .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
        .join('')
        .slice(0)
    : '(root)';
}

/** Validates `data` against the type's schema; throws INVALID_PAYLOAD with the failing paths. */
export function validatePayload(def: JobDefinition, data: unknown, at = ''): unknown {
  const result = (def.schema as z.ZodType).safeParse(data);
  if (result.success) return result.data;
  const issues: PayloadIssue[] = result.error.issues.map((i) => ({
    path: `data${formatPath(i.path)}`.replace('data(root)', 'data'),
    message: i.message,
  }));
  throw new ValidationError(
    'INVALID_PAYLOAD',
    `${at}Payload for job type ${JSON.stringify(def.name)} is invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}.`,
    { type: def.name, issues },
  );
}

/** Turns a request into what BullMQ stores; throws ValidationError without storing anything. */
export function prepareJob(jobs: JobRegistry, req: EnqueueRequest, at = ''): PreparedJob {
  const def = jobs.require(req.type);
  // An omitted payload is an empty object, so `kq enqueue sleep` runs the schema's defaults.
  const data = validatePayload(def, req.data ?? {}, at);
  const o = def.options;
  const opts: JobsOptions = {
    attempts: req.attempts ?? o.attempts,
    backoff: o.backoff,
    removeOnComplete: o.removeOnComplete,
    removeOnFail: o.removeOnFail,
  };
  if (req.delay) opts.delay = req.delay;
  if (req.priority) opts.priority = req.priority;
  if (req.jobId) opts.jobId = req.jobId;
  return { queue: req.queue ?? def.queue, name: def.name, data, opts };
}

/**
 * Gives each job an id that names its queue (unless it has one; job-ids.ts) and registers its queue in
 * the queue directory, before the jobs: a library or CLI caller is trusted like the operator, so no
 * queue bound applies.
 */
function register(queues: QueueCache, prepared: readonly PreparedJob[]): Promise<unknown> {
  return queues.connection.sadd(
    directoryKeys(queues.prefix).queues,
    ...new Set(prepared.map((p) => p.queue)),
  );
}

/**
 * Registers the jobs' queues and runs `store`, inside an enqueue span when traces are on
 * (load-tracing.ts `producerTracing`): the span is a child of the caller's active span, and each job
 * carries its context to the worker's attempt spans, as with `POST /jobs`.
 */
async function registerAndStore<T>(
  queues: QueueCache,
  prepared: readonly PreparedJob[],
  store: () => Promise<T>,
): Promise<T> {
  for (const p of prepared) p.opts.jobId ??= newJobId(p.queue);
  const pending = producerTracing();
  const end = pending && (await pending).enqueue(prepared);
  try {
    await register(queues, prepared);
    const stored = await store();
    end?.();
    return stored;
  } catch (err) {
    end?.(err);
    throw err;
  }
}

/** @example const { id } = await enqueue(queues, jobs, { type: 'sleep', data: { seconds: 1 } }); */
export async function enqueue(
  queues: QueueCache,
  jobs: JobRegistry,
  req: EnqueueRequest,
): Promise<EnqueuedJob> {
  const p = prepareJob(jobs, req);
  const job = await registerAndStore(queues, [p], () => queues.get(p.queue).add(p.name, p.data, p.opts));
  return { id: job.id as string, type: p.name, queue: p.queue };
}

/**
 * Stores prepared jobs with one `addBulk` per queue (one pipeline each) and returns their ids in input
 * order. The common case, every job on one queue, makes no per-queue grouping.
 */
export async function addPrepared(queues: QueueCache, prepared: readonly PreparedJob[]): Promise<string[]> {
  const first = prepared[0];
  if (!first) return [];
  if (prepared.every((p) => p.queue === first.queue)) {
    const added = await queues.get(first.queue).addBulk(prepared as PreparedJob[]);
    return added.map((job) => job.id as string);
  }
  const byQueue = new Map<string, number[]>();
  prepared.forEach((p, i) => {
    const list = byQueue.get(p.queue) ?? [];
    list.push(i);
    byQueue.set(p.queue, list);
  });
  const ids: string[] = new Array(prepared.length);
  await Promise.all(
    [...byQueue.entries()].map(async ([queue, idx]) => {
      const added = await queues.get(queue).addBulk(idx.map((i) => prepared[i] as PreparedJob));
      added.forEach((job, k) => {
        ids[idx[k] as number] = job.id as string;
      });
    }),
  );
  return ids;
}

/** Validates every request first, then stores them with one `addBulk` per queue. */
export async function enqueueMany(
  queues: QueueCache,
  jobs: JobRegistry,
  reqs: readonly EnqueueRequest[],
): Promise<EnqueuedJob[]> {
  const prepared = reqs.map((r, i) => prepareJob(jobs, r, `jobs[${i}]: `));
  const ids = prepared.length
    ? await registerAndStore(queues, prepared, () => addPrepared(queues, prepared))
    : [];
  return prepared.map((p, i) => ({ id: ids[i] as string, type: p.name, queue: p.queue }));
}
