/**
 * The OpenTelemetry SDK as kq runs it (loaded only when tracing is on; load-tracing.ts): a tracer
 * provider with the configured sampler, W3C trace context propagation, an AsyncLocalStorage context
 * manager, and an OTLP/HTTP exporter (protobuf or JSON) behind a bounded batch queue.
 *
 * An unreachable or slow collector must never slow the API or the worker: spans are handed to the batch
 * queue and exported in the background; once `maxQueueSize` finished spans wait, further ones are
 * dropped at once, and so are the spans of a failed export. Both are counted in
 * `kq_trace_spans_dropped_total`.
 */
import { context, propagation, TraceFlags, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { type ExportResult, ExportResultCode, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type ReadableSpan,
  type Sampler,
  type Span,
  type SpanExporter,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../log.js';
import { createHttpSpans } from './http-spans.js';
import { createEnqueueSpans, createJobSpans } from './job-spans.js';
import type { Tracing, TracingConfig } from './load-tracing.js';

function sampler(c: TracingConfig): Sampler {
  const ratio = new TraceIdRatioBasedSampler(c.samplerRatio);
  switch (c.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/**
 * The batch processor with kq's own bound in front: `queued` mirrors the batch queue (a span enters at
 * `onEnd`, leaves when the exporter takes it), so a full queue drops here, where it can be counted.
 */
function boundedExport(
  exporter: SpanExporter,
  c: TracingConfig,
  dropped: (n: number) => void,
): SpanProcessor {
  let queued = 0;
  const counting: SpanExporter = {
    export(spans: ReadableSpan[], done: (r: ExportResult) => void) {
      queued -= spans.length;
      exporter.export(spans, (r) => {
        if (r.code !== ExportResultCode.SUCCESS) dropped(spans.length);
        done(r);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
  const batch = new BatchSpanProcessor({
    exporter: counting,
    maxQueueSize: c.maxQueueSize,
    maxExportBatchSize: Math.min(512, c.maxQueueSize),
    scheduledDelayMillis: c.scheduleDelayMs,
  });
  return {
    onStart: (span: Span, parent) => batch.onStart(span, parent),
    onEnd(span: ReadableSpan) {
      if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
      if (queued >= c.maxQueueSize) {
        dropped(1);
        return;
      }
      queued++;
      batch.onEnd(span);
    },
    forceFlush: () => batch.forceFlush(),
    shutdown: () => batch.shutdown(),
  };
}

/** @example const tracing = startTracing(tracingConfig(process.env, 'kq-api'), log); */
export function startTracing(c: TracingConfig, log?: Logger): Tracing {
  const droppedCounter = new Counter({
    name: 'kq_trace_spans_dropped_total',
    help: 'Finished spans not exported: the export queue was full (OTEL_BSP_MAX_QUEUE_SIZE) or the collector refused or did not answer.',
    registers: [],
  });
  let droppedWarned = 0;
  const dropped = (n: number) => {
    droppedCounter.inc(n);
    const now = Date.now();
    if (log && now - droppedWarned > 60_000) {
      droppedWarned = now;
      log.warn(
        { event: 'trace.spans-dropped', count: n },
        'spans dropped: the trace collector is unreachable or slow (counted in kq_trace_spans_dropped_total)',
      );
    }
  };
  // The exporters read the endpoint, headers and timeout from the standard OTEL_EXPORTER_OTLP_* variables.
  const exporter = c.protocol === 'http/json' ? new JsonExporter() : new ProtoExporter();
  const resource = defaultResource()
    .merge(resourceFromAttributes({ 'service.name': c.serviceName }))
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new TracerProvider({
    resource,
    sampler: sampler(c),
    spanProcessors: [boundedExport(exporter, c, dropped)],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  const tracer = provider.getTracer('kq');
  const jobSpans = createJobSpans();
  const enqueue = createEnqueueSpans(tracer);
  log?.info(
    { event: 'trace.enabled', service: c.serviceName, protocol: c.protocol, sampler: c.sampler },
    `exporting traces over OTLP (${c.protocol}) as ${c.serviceName}`,
  );
  return {
    bullmq: jobSpans.telemetry,
    wrapProcess: jobSpans.wrapProcess,
    instrumentHttp: (app) => createHttpSpans(tracer, app),
    enqueue,
    withParent: (carrier, fn) => context.with(propagation.extract(context.active(), carrier), fn),
    registerMetrics(registry: Registry) {
      registry.registerMetric(droppedCounter);
    },
    async shutdown(timeoutMs = 1000) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
        timer.unref();
      });
      const flushed = await Promise.race([
        provider.shutdown().then(
          () => true,
          () => false,
        ),
        late,
      ]);
      clearTimeout(timer);
      return flushed;
    },
  };
}
