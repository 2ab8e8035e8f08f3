/**
 * Job definitions: a name, the queue it runs on, a zod schema for its payload, a handler, and per-type
 * defaults (attempts, backoff, timeout, retention). Producers (CLI, API) validate with the schema before
 * storing; the worker validates again before running, so a stale producer cannot feed a handler garbage.
 */
import type { z } from 'zod';
import type { Logger } from '../log.js';

export const JOB_DEFINITION = Symbol.for('kq.jobDefinition');

/** How long finished jobs are kept: BullMQ's `KeepJobs` (`age` in seconds, at most `count` jobs). */
export type Retention = { age: number; count?: number } | { count: number };

export interface JobTypeOptions {
  /** Runs before the job is failed for good. @default 3 */
  attempts: number;
  /** Delay between attempts. @default { type: 'exponential', delay: 1000 } */
  backoff: { type: 'exponential' | 'fixed'; delay: number };
  /** Aborts the handler's signal and fails the attempt after this many ms; 0 = no limit. @default 0 */
  timeoutMs: number;
  /** @default { age: 3600, count: 10000 } */
  removeOnComplete: Retention;
  /** @default { age: 604800, count: 10000 } */
  removeOnFail: Retention;
}

export const DEFAULT_JOB_OPTIONS: JobTypeOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 1000 },
  timeoutMs: 0,
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
};

export interface JobContext<Data> {
  /** The payload, parsed by the type's schema. */
  data: Data;
  id: string;
  /** The job type's name. */
  type: string;
  queue: string;
  /** 1 for the first run, 2 for the first retry, ... */
  attempt: number;
  /** Aborted on timeout, cancel, or when a shutdown deadline hands the job back. Honour it. */
  signal: AbortSignal;
  /** A logger bound to this job (id, type, queue, worker). */
  log: Logger;
  /** Stores progress (a number 0-100 or a small object), visible in `GET /jobs/<id>`. */
  progress(value: number | Record<string, unknown>): Promise<void>;
  /** A flow parent (POST /flows): its completed children's results, keyed by child id; `{}` otherwise. */
  childResults(): Promise<Record<string, unknown>>;
  /** A flow parent: the errors of children that failed with `ignoreDependencyOnFailure`, keyed by child id. */
  childFailures(): Promise<Record<string, string>>;
  /**
   * Ends this attempt and puts the job back to run again after `delayMs`, without using an attempt: for
   * a downstream that answered 429. On a queue with a rate limit the whole queue waits `delayMs` on every
   * worker (BullMQ's limiter); otherwise only this job does. Throws: call it as `ctx.rateLimited(ms)`
   * and do not catch what it throws.
   */
  rateLimited(delayMs: number): never;
}

/** What `ctx.rateLimited(ms)` throws; kq's processor catches it. */
export class RateLimited extends Error {
  constructor(readonly delayMs: number) {
    super(`rate limited: retry in ${delayMs} ms`);
    this.name = 'RateLimited';
  }
}

/** The longest `ctx.rateLimited` delay: a day. */
const MAX_RATE_LIMITED_MS = 86_400_000;

/** `ctx.rateLimited(delayMs)`: checks the delay and throws `RateLimited`. */
export function throwRateLimited(delayMs: number): never {
  if (!Number.isInteger(delayMs) || delayMs < 1 || delayMs > MAX_RATE_LIMITED_MS) {
    throw new TypeError(
      `ctx.rateLimited(${JSON.stringify(delayMs)}): the delay must be a whole number of ms from 1 to ${MAX_RATE_LIMITED_MS}`,
    );
  }
  throw new RateLimited(delayMs);
}

/** `Name` is the literal type of `name` (`defineJob` keeps it), so a typed client can map names to schemas. */
export interface JobDefinition<
  S extends z.ZodType = z.ZodType,
  Result = unknown,
  Name extends string = string,
> {
  readonly [JOB_DEFINITION]: true;
  readonly name: Name;
  readonly queue: string;
  readonly schema: S;
  readonly handler: (ctx: JobContext<z.output<S>>) => Promise<Result> | Result;
  readonly options: JobTypeOptions;
  /** One line for docs and OpenAPI. */
  readonly description?: string;
}

export interface DefineJobInput<S extends z.ZodType, Result, Name extends string = string> {
  name: Name;
  /** @default 'jobs' */
  queue?: string;
  schema: S;
  handler: (ctx: JobContext<z.output<S>>) => Promise<Result> | Result;
  options?: Partial<JobTypeOptions>;
  description?: string;
}

const NAME_RE = /^[A-Za-z][A-Za-z0-9_.-]{0,99}$/;

/**
 * kq validates payloads with the schema and renders it into the OpenAPI document, both through zod 4's
 * API: anything else would fail on the first job, so it fails here, when the handlers module loads.
 */
function checkSchema(name: string, schema: unknown): void {
  const s = schema as { safeParse?: unknown; _zod?: unknown; _def?: unknown } | null;
  if (typeof s === 'object' && s !== null && typeof s.safeParse === 'function' && s._zod) return;
  const got =
    typeof s === 'object' && s !== null && s._def && typeof s.safeParse === 'function'
      ? 'a zod 3 schema'
      : s === undefined
        ? 'nothing'
        : `${typeof s === 'object' ? (s === null ? 'null' : `an object with keys ${Object.keys(s).join(', ') || '(none)'}`) : `a ${typeof s}`}`;
  throw new TypeError(
    `defineJob(${name}): schema must be a zod 4 schema, got ${got}. Build it with the z kq exports: import { defineJob, z } from 'kq'; schema: z.object({ ... }).`,
  );
}

/**
 * Declares a job type.
 * @example
 * export const resize = defineJob({
 *   name: 'resize',
 *   schema: z.object({ url: z.string().url() }),
 *   handler: async ({ data, signal }) => ({ ok: await resizeImage(data.url, signal) }),
 *   options: { attempts: 5, timeoutMs: 60_000 },
 * });
 */
export function defineJob<S extends z.ZodType, Result, const Name extends string = string>(
  input: DefineJobInput<S, Result, Name>,
): JobDefinition<S, Result, Name> {
  if (!NAME_RE.test(input.name)) {
    throw new TypeError(
      `defineJob: name ${JSON.stringify(input.name)} must be 1-100 letters, digits, ".", "_" or "-", starting with a letter`,
    );
  }
  checkSchema(input.name, input.schema);
  const options = { ...DEFAULT_JOB_OPTIONS, ...input.options };
  if (!Number.isInteger(options.attempts) || options.attempts < 1) {
    throw new TypeError(
      `defineJob(${input.name}): options.attempts (${options.attempts}) must be a whole number >= 1`,
    );
  }
  if (!(options.timeoutMs >= 0)) {
    throw new TypeError(`defineJob(${input.name}): options.timeoutMs (${options.timeoutMs}) must be >= 0`);
  }
  return {
    [JOB_DEFINITION]: true,
    name: input.name,
    queue: input.queue ?? 'jobs',
    schema: input.schema,
    handler: input.handler,
    options,
    description: input.description,
  };
}

export function isJobDefinition(value: unknown): value is JobDefinition {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[JOB_DEFINITION] === true
  );
}
