/**
 * `runJob`: a job definition's handler run the way kq's worker runs it, without Redis, for job authors'
 * unit tests. The payload goes through the type's schema (defaults applied; an invalid one is the same
 * `ValidationError` producers get), the handler gets the worker's context (`signal` aborted at the type's
 * `timeoutMs` or by the caller's signal, `progress`, `log`), and, like the worker, `runJob` settles as
 * soon as the signal fires, without waiting for a handler that ignores it.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { z } from 'zod';
import {
  isJobDefinition,
  type JobContext,
  type JobDefinition,
  throwRateLimited,
} from '../jobs/define-job.js';
import { validatePayload } from '../queue/enqueue.js';

export interface RunJobOptions {
  /** @default 'test-job-<n>' */
  id?: string;
  /** @default the definition's queue */
  queue?: string;
  /** 1 for the first run, 2 for the first retry, ... @default 1 */
  attempt?: number;
  /** Aborting it aborts the handler's signal, as a cancel request does in the worker. */
  signal?: AbortSignal;
  /** Aborts the handler's signal after this many ms; 0 = none. @default the definition's timeoutMs */
  timeoutMs?: number;
  /** What `ctx.childResults()` answers, as for a flow parent. @default {} */
  childResults?: Record<string, unknown>;
  /** What `ctx.childFailures()` answers. @default {} */
  childFailures?: Record<string, string>;
}

/** One line the handler logged through `ctx.log`: pino's fields, `level` as its name. */
export interface LoggedLine {
  level: string;
  msg?: string;
  [field: string]: unknown;
}

export interface JobRun<Result> {
  result: Result;
  /** Every value passed to `ctx.progress`, in order. */
  progress: (number | Record<string, unknown>)[];
  logs: LoggedLine[];
}

let runs = 0;

/**
 * Runs `definition`'s handler on `data` as the worker would; rejects with the handler's error, a
 * `ValidationError` for an invalid payload, or an `Error` saying the job timed out or was aborted.
 * @example
 * const { result, progress } = await runJob(report, { customerId: 'c1', month: '2026-11' });
 */
export async function runJob<S extends z.ZodType, Result>(
  definition: JobDefinition<S, Result>,
  data: z.input<S>,
  options: RunJobOptions = {},
): Promise<JobRun<Awaited<Result>>> {
  if (!isJobDefinition(definition)) {
    throw new TypeError(
      `runJob: the first argument must be a job definition made by defineJob() (got ${definition === null ? 'null' : typeof definition}).`,
    );
  }
  const def = definition as unknown as JobDefinition;
  const parsed = validatePayload(def, data ?? {});
  const progress: JobRun<Result>['progress'] = [];
  const logs: LoggedLine[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line) as LoggedLine);
      done();
    },
  });
  const id = options.id ?? `test-job-${++runs}`;
  const attempt = options.attempt ?? 1;
  const log = pino(
    {
      level: 'trace',
      base: { jobId: id, type: def.name, attempt },
      formatters: { level: (l) => ({ level: l }) },
    },
    sink,
  );
  const controller = new AbortController();
  const timeoutMs = options.timeoutMs ?? def.options.timeoutMs;
  const timer =
    timeoutMs > 0
      ? setTimeout(
          () =>
            controller.abort(
              new Error(
                `Job type ${JSON.stringify(def.name)} timed out after ${timeoutMs} ms (its timeoutMs)`,
              ),
            ),
          timeoutMs,
        )
      : undefined;
  const onAbort = () =>
    controller.abort(new Error(`Job ${id} was aborted (cancelled): ${String(options.signal?.reason)}`));
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const ctx: JobContext<unknown> = {
    data: parsed,
    id,
    type: def.name,
    queue: options.queue ?? def.queue,
    attempt,
    signal: controller.signal,
    log,
    progress: async (value) => {
      // Stored as JSON by the worker: what a test reads back is what `GET /jobs/<id>` would show.
      progress.push(JSON.parse(JSON.stringify(value)));
    },
    // Rejects the run with `RateLimited` (its `delayMs`), where the worker would put the job back.
    rateLimited: throwRateLimited,
    childResults: async () => ({ ...options.childResults }),
    childFailures: async () => ({ ...options.childFailures }),
  };
  try {
    if (controller.signal.aborted) throw controller.signal.reason;
    const aborted = new Promise<never>((_, reject) =>
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true }),
    );
    // Called at once, as the worker does: a handler sees a signal aborted later, not before it ran.
    let work: Promise<unknown>;
    try {
      work = Promise.resolve(def.handler(ctx));
    } catch (err) {
      work = Promise.reject(err);
    }
    // A handler that loses the race may reject later: that must not become an unhandled rejection.
    work.catch(() => undefined);
    aborted.catch(() => undefined);
    const result = (await Promise.race([work, aborted])) as Awaited<Result>;
    // The worker stores the return value as JSON; a value that does not survive that would surprise later.
    return { result: result === undefined ? result : JSON.parse(JSON.stringify(result)), progress, logs };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}
