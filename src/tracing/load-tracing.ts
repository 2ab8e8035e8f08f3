/**
 * OpenTelemetry traces, off by default and free when off: this module imports nothing of OpenTelemetry.
 * Only when the standard OTLP endpoint environment is set (and `OTEL_SDK_DISABLED` is not `true`) does
 * `loadTracing` import `start-tracing.js`, which loads the SDK and the exporter. Everything else in kq
 * sees the `Tracing` interface below, or `undefined`.
 */
import type { Job, Telemetry } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import type { PreparedJob } from '../queue/enqueue.js';

export type Sampler =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio';
const SAMPLERS: readonly Sampler[] = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];

/** What `start-tracing.ts` needs, read and validated from the environment. */
export interface TracingConfig {
  /** `http/protobuf` (the OTLP default) or `http/json`. */
  protocol: 'http/protobuf' | 'http/json';
  serviceName: string;
  sampler: Sampler;
  /** For the `*traceidratio` samplers, 0..1. @default 1 */
  samplerRatio: number;
  /** Finished spans waiting for export at most; more are dropped and counted. @default 2048 */
  maxQueueSize: number;
  /** Milliseconds between two exports. @default 5000 */
  scheduleDelayMs: number;
}

export interface Tracing {
  /** BullMQ's `telemetry` option for the worker: records only its per-attempt `process` spans. */
  readonly bullmq: Telemetry;
  /** Wraps the worker's processor: the attempt span gets type, job id, attempt, wait time and outcome. */
  wrapProcess<T>(
    queue: string,
    process: (job: Job, token?: string) => Promise<T>,
  ): (job: Job, token?: string) => Promise<T>;
  /** The API's request spans (continuing an incoming `traceparent`), as Fastify hooks. */
  instrumentHttp(app: FastifyInstance): void;
  /**
   * Starts the enqueue span of one submit (under the request's span) and stamps each job with its
   * trace context, which BullMQ stores and its worker continues. Returns the span's end.
   */
  enqueue(jobs: readonly PreparedJob[]): (err?: unknown) => void;
  /**
   * Runs `fn` with the W3C context of `carrier` (`traceparent`, `tracestate`) as its active context, so
   * spans it starts continue the caller's trace; as is, when the carrier holds no valid context.
   */
  withParent<T>(carrier: { traceparent?: string; tracestate?: string }, fn: () => T): T;
  /** Adds `kq_trace_spans_dropped_total` to this registry. */
  registerMetrics(registry: Registry): void;
  /**
   * Exports what is queued, giving up after `timeoutMs` (an unreachable collector must not hold an
   * exit). Resolves false when it gave up: an export may still be pending then (and would keep the
   * process up until the exporter's own timeout). @default timeoutMs 1000
   */
  shutdown(timeoutMs?: number): Promise<boolean>;
}

const invalid = (name: string, value: string, rule: string) =>
  new ConfigError(`Invalid ${name}: ${JSON.stringify(value)} ${rule}.`, { option: name, value });

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw invalid(name, raw, 'must be a whole number of at least 1');
  return n;
}

/**
 * True when traces are wanted: an OTLP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, `OTEL_SDK_DISABLED` is not `true` and
 * `OTEL_TRACES_EXPORTER` is not `none`.
 */
export function tracingWanted(env: NodeJS.ProcessEnv): boolean {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return false;
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  return env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() !== 'none';
}

/** Reads the standard OpenTelemetry variables kq honours; throws ConfigError naming a bad one. */
export function tracingConfig(env: NodeJS.ProcessEnv, defaultServiceName: string): TracingConfig {
  const protocol = (
    env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ||
    env.OTEL_EXPORTER_OTLP_PROTOCOL ||
    'http/protobuf'
  )
    .trim()
    .toLowerCase();
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') {
    const name = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL
      ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
      : 'OTEL_EXPORTER_OTLP_PROTOCOL';
    throw invalid(
      name,
      protocol,
      'is not supported: use http/protobuf or http/json (kq exports OTLP over HTTP)',
    );
  }
  const sampler = (env.OTEL_TRACES_SAMPLER || 'parentbased_always_on').trim().toLowerCase() as Sampler;
  if (!SAMPLERS.includes(sampler))
    throw invalid('OTEL_TRACES_SAMPLER', sampler, `must be one of ${SAMPLERS.join(', ')}`);
  let samplerRatio = 1;
  const arg = env.OTEL_TRACES_SAMPLER_ARG;
  if (sampler.endsWith('traceidratio') && arg !== undefined && arg !== '') {
    samplerRatio = Number(arg);
    if (!Number.isFinite(samplerRatio) || samplerRatio < 0 || samplerRatio > 1)
      throw invalid(
        'OTEL_TRACES_SAMPLER_ARG',
        arg,
        'must be a number from 0 to 1 (the share of traces kept)',
      );
  }
  return {
    protocol,
    serviceName: env.OTEL_SERVICE_NAME?.trim() || defaultServiceName,
    sampler,
    samplerRatio,
    maxQueueSize: positiveInt(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 2048),
    scheduleDelayMs: positiveInt(env, 'OTEL_BSP_SCHEDULE_DELAY', 5000),
  };
}

/**
 * The process's tracing, or undefined when it is off (nothing of OpenTelemetry is loaded then).
 * @example const tracing = await loadTracing(process.env, 'kq-worker', log);
 */
export async function loadTracing(
  env: NodeJS.ProcessEnv,
  defaultServiceName: string,
  log?: Logger,
): Promise<Tracing | undefined> {
  if (!tracingWanted(env)) return undefined;
  const config = tracingConfig(env, defaultServiceName);
  const { startTracing } = await import('./start-tracing.js');
  current = startTracing(config, log);
  return current;
}

let current: Tracing | undefined;
let wanted: boolean | undefined;
let started: Promise<Tracing> | undefined;

/**
 * The tracing for jobs added outside `kq api` (`enqueue()`, `enqueueMany()`): this process's, when
 * `loadTracing` started one; otherwise, when `process.env` asks for traces (read once, at the first
 * call), one started here as service `kq-producer` and flushed once the process has nothing left to do
 * (`beforeExit`: a `process.exit()` skips it). Undefined, without a promise, when traces are off.
 */
export function producerTracing(): Tracing | Promise<Tracing> | undefined {
  if (current) return current;
  wanted ??= tracingWanted(process.env);
  if (!wanted) return undefined;
  started ??= import('./start-tracing.js').then(({ startTracing }) => {
    const tracing = startTracing(tracingConfig(process.env, 'kq-producer'));
    current ??= tracing;
    process.once('beforeExit', () => void tracing.shutdown());
    return tracing;
  });
  return started;
}
