/**
 * `kq/client`: a typed HTTP client of the kq API for applications, browsers and edge runtimes. It uses
 * only `fetch`, `AbortSignal`, `TextDecoder` and `crypto.randomUUID` (no Node APIs) and imports kq's
 * modules for their types only, so it loads without Redis, BullMQ or zod.
 *
 * Typing: `createClient<typeof jobs>()` where `jobs` is the application's handlers module (its
 * `defineJob` exports): `enqueue(name, data)` accepts only the names it defines and only data that the
 * type's zod schema accepts (its input type). Retries: a 503 with `Retry-After` is retried (up to
 * `retries` times); `enqueue` sends one `Idempotency-Key` for all its attempts (its own, or a random one),
 * so a retried submission never stores the job twice.
 */
import type { z } from 'zod';
import type { ErrorCode } from '../errors.js';
import type { JobDefinition } from '../jobs/define-job.js';
import type { FlowNode, FlowNodeOptions } from '../queue/flows.js';
import type { JobStatus, JobStatusName } from '../queue/job-status.js';
import type { ScheduleInfo } from '../queue/schedules.js';

// biome-ignore lint/suspicious/noExplicitAny: any definition, whatever its schema and result
type AnyJob = JobDefinition<any, any, string>;
type JobsOf<M> = Extract<M[keyof M], AnyJob>;
/** The job type names the handlers module `M` defines. */
export type JobName<M> = JobsOf<M>['name'];
// An untyped client (names are plain strings) accepts any type and payload.
type JobNamed<M, N> = string extends JobName<M> ? AnyJob : Extract<JobsOf<M>, { name: N }>;
/** What `enqueue` accepts as `data` for type `N`: the schema's input. */
export type JobInput<M, N extends JobName<M>> = z.input<JobNamed<M, N>['schema']>;
/** What a completed job of type `N` returns. */
export type JobResult<M, N extends JobName<M>> =
  JobNamed<M, N> extends JobDefinition<z.ZodType, infer R, string> ? Awaited<R> : unknown;

/** A job as `GET /jobs/:id` answers it. */
export type ClientJob = JobStatus;

export interface ClientOptions {
  /** The API's base URL, e.g. `https://kq.example.com`. */
  url: string;
  /** A bearer token (API_TOKENS); none under `kq dev`. */
  token?: string;
  /** Times a 503 (or a network error, for reads and idempotent writes) is retried. @default 3 */
  retries?: number;
  /** Longest pause before a retry, whatever `Retry-After` says. @default 10000 */
  maxRetryDelayMs?: number;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /**
   * The pause before a retry: resolves after `ms`, rejects with `signal.reason` when the call is aborted.
   * A test passes its own to see each pause's length without waiting it out.
   * @default a `setTimeout` of `ms`
   */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface EnqueueOptions {
  /** Default: the type's queue. */
  queue?: string;
  /** Milliseconds before it may run. */
  delay?: number;
  /** 1 = highest. */
  priority?: number;
  attempts?: number;
  /** The same key returns the same job (per queue). @default a random key, shared by this call's retries */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

/** What `schedules.set` sends (`POST /schedules`): `data` checked against the schema of `type`. */
export type ScheduleInput<M> = {
  [N in JobName<M>]: {
    /** Unique per queue: setting it again replaces the schedule. */
    id: string;
    type: N;
    data: JobInput<M, N>;
    /** Default: the type's queue. */
    queue?: string;
    /** ISO 8601 or epoch ms. */
    startAt?: string | number;
    endAt?: string | number;
    /** Runs at most. */
    limit?: number;
  } & (
    | { /** Cron expression (5 fields, or 6 with seconds first). */ cron: string; tz?: string; every?: never }
    | { /** Milliseconds between runs, at least 1000. */ every: number; cron?: never; tz?: never }
  );
}[JobName<M>];

/** A schedule as the API answers it, with `nextRunAt`, `iterations` and `source`. */
export type ClientSchedule = ScheduleInfo;

/** One node of `flow()` (`POST /flows`): `data` checked against the schema of `type`; children nest. */
export type FlowInput<M> = {
  [N in JobName<M>]: {
    type: N;
    data: JobInput<M, N>;
    /** Default: the type's queue. */
    queue?: string;
    /** `failParentOnFailure` / `ignoreDependencyOnFailure`: on a child only. */
    opts?: FlowNodeOptions;
    children?: FlowInput<M>[];
  };
}[JobName<M>];

/** What `flow()` resolves to: every job's id, in the request's shape. */
export type FlowTree = FlowNode;

/** An event of `watch()`: `state`, `progress`, then one of `completed`, `failed`, `cancelled` (the last). */
export type WatchEvent =
  | { event: 'state'; id: string; data: { id: string; status: JobStatusName } & Partial<ClientJob> }
  | { event: 'progress'; id: string; data: { id: string; progress: ClientJob['progress'] } }
  | { event: 'completed' | 'failed' | 'cancelled'; id: string; data: ClientJob };

/** An error answer of the API (`code` as documented in docs/api.md), or a network failure (`NETWORK`). */
export class KqClientError extends Error {
  readonly status: number;
  readonly code: ErrorCode | 'NETWORK';
  readonly details: Record<string, unknown>;
  constructor(
    status: number,
    code: ErrorCode | 'NETWORK',
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'KqClientError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export interface KqClient<M> {
  /** Stores a job; resolves to its id. */
  enqueue<N extends JobName<M>>(type: N, data: JobInput<M, N>, options?: EnqueueOptions): Promise<string>;
  get(id: string, options?: { signal?: AbortSignal }): Promise<ClientJob>;
  /** The job once it completed, failed or was cancelled, or its state when `timeoutMs` is up. @default timeoutMs 60000 */
  wait(id: string, options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<ClientJob>;
  /** The job's events until its end (reconnecting with Last-Event-ID when a stream ends early). */
  watch(id: string, options?: { signal?: AbortSignal }): AsyncIterable<WatchEvent>;
  cancel(id: string, options?: { signal?: AbortSignal }): Promise<{ id: string; status: JobStatusName }>;
  /**
   * Stores a parent job that runs after its children (which may nest); resolves to every job's id. One
   * Idempotency-Key (yours, or a random one) for all attempts, so a retry never stores the flow twice.
   */
  flow(flow: FlowInput<M>, options?: { idempotencyKey?: string; signal?: AbortSignal }): Promise<FlowTree>;
  /** Recurring jobs (`/schedules`). `queue` is needed only where an id repeats across queues. */
  schedules: {
    /** Every schedule (of one queue, with `queue`), with its next run. */
    list(options?: { queue?: string; signal?: AbortSignal }): Promise<ClientSchedule[]>;
    get(id: string, options?: { queue?: string; signal?: AbortSignal }): Promise<ClientSchedule>;
    /** Creates or replaces the schedule of that id; `created` is false when it replaced one. */
    set(
      schedule: ScheduleInput<M>,
      options?: { signal?: AbortSignal },
    ): Promise<ClientSchedule & { created: boolean }>;
    /** Deletes it and its pending run; resolves to the schedule as it was. */
    delete(id: string, options?: { queue?: string; signal?: AbortSignal }): Promise<ClientSchedule>;
  };
}

const FINISHED = new Set(['completed', 'failed', 'cancelled']);
const timerSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });

/**
 * @example
 * import type * as jobs from './jobs.js';
 * const kq = createClient<typeof jobs>({ url: 'http://127.0.0.1:8080', token: process.env.KQ_TOKEN });
 * const id = await kq.enqueue('report', { month: '2026-11' });
 * const done = await kq.wait(id, { timeoutMs: 30_000 });
 */
export function createClient<M = Record<string, AnyJob>>(o: ClientOptions): KqClient<M> {
  const base = o.url.replace(/\/+$/, '');
  const doFetch = o.fetch ?? globalThis.fetch.bind(globalThis);
  const retries = o.retries ?? 3;
  const maxDelay = o.maxRetryDelayMs ?? 10_000;
  const sleep = o.sleep ?? timerSleep;
  const auth: Record<string, string> = o.token ? { authorization: `Bearer ${o.token}` } : {};

  /** One request with kq's retry rule; the answer of a 2xx, else a KqClientError. */
  async function call(
    method: string,
    path: string,
    init: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await doFetch(`${base}${path}`, {
          method,
          headers: {
            ...auth,
            ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
            ...init.headers,
          },
          ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
          ...(init.signal ? { signal: init.signal } : {}),
        });
      } catch (err) {
        if (init.signal?.aborted || attempt >= retries) {
          throw new KqClientError(0, 'NETWORK', `${method} ${path}: ${(err as Error).message}`);
        }
        await sleep(Math.min(maxDelay, 250 * 2 ** attempt), init.signal);
        continue;
      }
      if (res.ok) return res;
      const retryAfter = Number(res.headers.get('retry-after'));
      if (
        res.status === 503 &&
        attempt < retries &&
        Number.isFinite(retryAfter) &&
        res.headers.has('retry-after')
      ) {
        await res.body?.cancel().catch(() => undefined);
        await sleep(Math.min(maxDelay, retryAfter * 1000), init.signal);
        continue;
      }
      const body = (await res.json().catch(() => ({}))) as {
        error?: { code?: ErrorCode; message?: string } & Record<string, unknown>;
      };
      const { code, message, ...details } = body.error ?? {};
      throw new KqClientError(
        res.status,
        code ?? 'INTERNAL',
        message ?? `${method} ${path}: HTTP ${res.status}`,
        details,
      );
    }
  }
  const path = (id: string) => `/jobs/${encodeURIComponent(id)}`;
  const schedulePath = (id: string, queue?: string) =>
    `/schedules/${encodeURIComponent(id)}${queue === undefined ? '' : `?queue=${encodeURIComponent(queue)}`}`;
  const only = (signal?: AbortSignal) => (signal ? { signal } : {});

  return {
    async enqueue(type, data, options = {}) {
      const { queue, delay, priority, attempts, signal } = options;
      const key = options.idempotencyKey ?? globalThis.crypto.randomUUID();
      const res = await call('POST', '/jobs', {
        body: { type, data, queue, delay, priority, attempts },
        headers: { 'idempotency-key': key },
        ...(signal ? { signal } : {}),
      });
      return ((await res.json()) as { id: string }).id;
    },
    async get(id, options = {}) {
      return (await call('GET', path(id), options)).json() as Promise<ClientJob>;
    },
    async wait(id, options = {}) {
      const deadline = Date.now() + (options.timeoutMs ?? 60_000);
      for (;;) {
        const left = Math.max(0.001, (deadline - Date.now()) / 1000);
        const secs = Math.min(60, Math.ceil(left * 1000) / 1000);
        const job = (await (await call('GET', `${path(id)}?wait=${secs}`, options)).json()) as ClientJob;
        if (FINISHED.has(job.status) || Date.now() >= deadline) return job;
      }
    },
    watch(id, options = {}) {
      return { [Symbol.asyncIterator]: () => watchEvents(id, options.signal) };
    },
    async cancel(id, options = {}) {
      return (await call('DELETE', path(id), options)).json() as Promise<{
        id: string;
        status: JobStatusName;
      }>;
    },
    async flow(flow, options = {}) {
      const key = options.idempotencyKey ?? globalThis.crypto.randomUUID();
      const res = await call('POST', '/flows', {
        body: flow,
        headers: { 'idempotency-key': key },
        ...only(options.signal),
      });
      return (await res.json()) as FlowTree;
    },
    schedules: {
      async list(options = {}) {
        const q = options.queue === undefined ? '' : `?queue=${encodeURIComponent(options.queue)}`;
        const res = await call('GET', `/schedules${q}`, only(options.signal));
        return ((await res.json()) as { schedules: ClientSchedule[] }).schedules;
      },
      async get(id, options = {}) {
        const res = await call('GET', schedulePath(id, options.queue), only(options.signal));
        return (await res.json()) as ClientSchedule;
      },
      // An upsert by id: a retried request leaves one schedule, so no Idempotency-Key is needed.
      async set(schedule, options = {}) {
        const res = await call('POST', '/schedules', { body: schedule, ...only(options.signal) });
        return { ...((await res.json()) as ClientSchedule), created: res.status === 201 };
      },
      async delete(id, options = {}) {
        const res = await call('DELETE', schedulePath(id, options.queue), only(options.signal));
        return (await res.json()) as ClientSchedule;
      },
    },
  };

  async function* watchEvents(id: string, signal?: AbortSignal): AsyncGenerator<WatchEvent> {
    let lastId: string | undefined;
    for (let reconnects = 0; reconnects <= retries; reconnects++) {
      const res = await call('GET', `${path(id)}/events`, {
        headers: { accept: 'text/event-stream', ...(lastId ? { 'last-event-id': lastId } : {}) },
        ...(signal ? { signal } : {}),
      });
      if (!res.body) return;
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buf = '';
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          buf += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
          let cut = buf.indexOf('\n\n');
          while (cut >= 0) {
            const e = parseEvent(buf.slice(0, cut));
            buf = buf.slice(cut + 2);
            if (e) {
              lastId = e.id;
              yield e;
              if (FINISHED.has(e.event)) return;
            }
            cut = buf.indexOf('\n\n');
          }
        }
      } finally {
        reader.releaseLock();
        await res.body.cancel().catch(() => undefined);
      }
      // Ended without a terminal event (the API shut down): resume where it stopped.
    }
  }
}

function parseEvent(block: string): WatchEvent | undefined {
  let id = '';
  let event = '';
  let data = '';
  for (const line of block.split('\n')) {
    if (line.startsWith('id:')) id = line.slice(3).trim();
    else if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data += line.slice(5).trim();
  }
  if (!event || !data) return undefined;
  return { id, event, data: JSON.parse(data) } as WatchEvent;
}
