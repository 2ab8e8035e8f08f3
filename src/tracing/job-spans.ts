/**
 * A job's spans, through BullMQ's own telemetry interface and its OpenTelemetry adapter (`bullmq-otel`):
 * - enqueue: one PRODUCER span per submit, under the request's span; every job of the submit carries
 *   its context in `opts.telemetry.metadata`, which BullMQ stores with the job (one context per job, so
 *   jobs of different requests batched into one `addBulk` keep their own traces);
 * - attempt: BullMQ's worker opens a CONSUMER `process <queue>` span per attempt, continuing that stored
 *   context; kq adds type, job id, attempt, wait time and the attempt's outcome (completed, retried,
 *   failed, cancelled, handed-back, delayed). A retried or handed-back job shows one span per attempt.
 * BullMQ's other worker operations (fetching, stalled checks) are not recorded: they would be a trace
 * every few seconds per idle worker, with nothing about any job.
 */
import {
  context,
  INVALID_SPAN_CONTEXT,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { DelayedError, type Job, type Telemetry, UnrecoverableError, WaitingError } from 'bullmq';
import { BullMQOTelSpan, BullMQOtel } from 'bullmq-otel';
import { CANCELLED_REASON } from '../queue/cancel-request.js';
import type { PreparedJob } from '../queue/enqueue.js';

export type AttemptOutcome = 'completed' | 'retried' | 'failed' | 'cancelled' | 'handed-back' | 'delayed';

/** What became of an attempt that threw `err`. */
export function outcomeOf(job: Job, err: unknown): AttemptOutcome {
  if (err instanceof WaitingError) return 'handed-back';
  if (err instanceof DelayedError) return 'delayed';
  if (err instanceof UnrecoverableError) return err.message === CANCELLED_REASON ? 'cancelled' : 'failed';
  return job.attemptsMade + 1 < (job.opts.attempts ?? 1) ? 'retried' : 'failed';
}

const adapter = () => new BullMQOtel({ tracerName: 'kq' });

/** @example const { telemetry, wrapProcess } = createJobSpans(); new Worker(q, wrapProcess(q, fn), { telemetry }) */
export function createJobSpans(): {
  telemetry: Telemetry;
  wrapProcess: <T>(
    queue: string,
    process: (job: Job, token?: string) => Promise<T>,
  ) => (job: Job, token?: string) => Promise<T>;
} {
  const otel = adapter();
  const unrecorded = new BullMQOTelSpan(trace.wrapSpanContext(INVALID_SPAN_CONTEXT));
  const telemetry: Telemetry = {
    contextManager: otel.contextManager,
    tracer: {
      startSpan: (name, options, ctx) =>
        name.startsWith('process ') ? otel.tracer.startSpan(name, options, ctx) : unrecorded,
    },
  };
  const wrapProcess =
    <T>(queue: string, process: (job: Job, token?: string) => Promise<T>) =>
    async (job: Job, token?: string): Promise<T> => {
      // BullMQ runs the processor inside its attempt span's context.
      const span = trace.getActiveSpan();
      if (!span?.isRecording()) return process(job, token);
      const due = job.timestamp + (job.opts.delay ?? 0);
      span.setAttributes({
        'messaging.system': 'bullmq',
        'messaging.operation.type': 'process',
        'messaging.destination.name': queue,
        'messaging.message.id': job.id,
        'kq.queue': queue,
        'kq.job.type': job.name,
        'kq.job.id': job.id,
        'kq.job.attempt': job.attemptsMade + 1,
        'kq.job.wait_ms': Math.max(0, (job.processedOn ?? Date.now()) - due),
      });
      try {
        const result = await process(job, token);
        span.setAttribute('kq.job.outcome', 'completed');
        return result;
      } catch (err) {
        const outcome = outcomeOf(job, err);
        span.setAttribute('kq.job.outcome', outcome);
        if (outcome === 'failed' || outcome === 'retried')
          span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
        throw err;
      }
    };
  return { telemetry, wrapProcess };
}

/** The enqueue span of one submit; see the module comment. */
export function createEnqueueSpans(
  tracer: Tracer,
): (jobs: readonly PreparedJob[]) => (err?: unknown) => void {
  const carrier = adapter().contextManager;
  return (jobs) => {
    const first = jobs[0];
    if (!first) return () => undefined;
    const parent = context.active();
    const span = tracer.startSpan(
      `enqueue ${first.queue}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'bullmq',
          'messaging.operation.type': 'send',
          'messaging.destination.name': first.queue,
          'messaging.batch.message_count': jobs.length,
          'kq.queue': first.queue,
          'kq.job.type': first.name,
          'kq.job.id': first.opts.jobId,
          'kq.job.count': jobs.length,
        },
      },
      parent,
    );
    const metadata = carrier.getMetadata(trace.setSpan(parent, span));
    for (const job of jobs) job.opts.telemetry = { metadata };
    return (err) => {
      if (err !== undefined) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
      }
      span.end();
    };
  };
}
