/**
 * The `ExternalScaler` handlers. Every request carries the trigger's metadata; each is parsed, the queue
 * read, and the answer built from one `RunnableBacklog`. Errors map to gRPC statuses in one place
 * (`toStatus`): bad metadata -> INVALID_ARGUMENT, a queue that does not exist -> NOT_FOUND, Redis not
 * answering -> UNAVAILABLE. KEDA keeps the replica count on an error, so an outage never scales workers
 * to zero on a made-up 0.
 */
import {
  type handleServerStreamingCall,
  type handleUnaryCall,
  type ServerErrorResponse,
  type ServerWritableStream,
  status,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { Redis } from 'ioredis';
import { KqError, NotFoundError, ValidationError } from '../errors.js';
import type { Logger } from '../log.js';
import { isCluster, queueKeys } from '../queue/keys.js';
import { type RunnableBacklog, readRunnableBacklog } from '../queue/runnable-backlog.js';
import type { GetMetricsRequest, MetricSpec, MetricValue, ScaledObjectRef } from './contract.js';
import { metricName, parseTriggerMetadata, type TriggerSpec } from './metadata.js';
import type { QueueWatcher } from './queue-watcher.js';
import type { ScalerMetrics } from './scaler-metrics.js';

export interface ScalerServiceOptions {
  redis: Redis;
  watcher: QueueWatcher;
  metrics: ScalerMetrics;
  log: Logger;
}

export interface ScalerService {
  handlers: UntypedServiceImplementation;
  /** Ends every open StreamIsActive (server shutdown); KEDA reconnects to another replica. */
  endStreams(): void;
}

const CODE_NAMES = Object.fromEntries(Object.entries(status).map(([k, v]) => [v, k])) as Record<
  number,
  string
>;

function toStatus(err: unknown): ServerErrorResponse {
  const e = err as Error;
  if (err instanceof KqError) {
    const code =
      err instanceof NotFoundError
        ? status.NOT_FOUND
        : err.code === 'INVALID_METADATA'
          ? status.INVALID_ARGUMENT
          : status.INTERNAL;
    return Object.assign(new Error(e.message), { code, details: e.message });
  }
  const details = `Redis did not answer (${e.message}): no backlog to report; KEDA keeps the current replica count`;
  return Object.assign(new Error(details), { code: status.UNAVAILABLE, details });
}

function unknownQueue(spec: TriggerSpec, cluster: boolean): NotFoundError {
  return new NotFoundError(
    'QUEUE_NOT_FOUND',
    `queue ${JSON.stringify(spec.queue)} does not exist under prefix ${JSON.stringify(spec.prefix)} (no ${queueKeys(spec.prefix, spec.queue, cluster).meta} in Redis): check the trigger's queue and prefix metadata`,
  );
}

function metricValue(spec: TriggerSpec, b: RunnableBacklog): number {
  return spec.metric === 'backlog' ? b.runnableAndRunning : Math.round(b.oldestWaitingSeconds * 1000) / 1000;
}

/** @example server.addService(externalScalerService().service, createScalerService(o).handlers) */
export function createScalerService(o: ScalerServiceOptions): ScalerService {
  const streams = new Set<ServerWritableStream<ScaledObjectRef, unknown>>();
  let lastRedisLog = 0;

  function failed(method: string, err: unknown): ServerErrorResponse {
    const s = toStatus(err);
    o.metrics.requests.inc({ method, code: CODE_NAMES[s.code ?? status.UNKNOWN] ?? 'UNKNOWN' });
    if (s.code === status.UNAVAILABLE) {
      o.metrics.redisErrors.inc();
      if (Date.now() - lastRedisLog > 5000) {
        lastRedisLog = Date.now();
        o.log.warn({ event: 'keda-scaler.redis-unavailable', method, err: s.details }, s.details);
      }
    } else o.log.info({ event: 'keda-scaler.bad-request', method, code: s.code }, s.details);
    return s;
  }

  const ok = (method: string) => o.metrics.requests.inc({ method, code: 'OK' });

  async function read(spec: TriggerSpec): Promise<RunnableBacklog> {
    const b = await readRunnableBacklog(o.redis, spec.prefix, spec.queue);
    if (!b.known) throw unknownQueue(spec, isCluster(o.redis));
    return b;
  }

  const IsActive: handleUnaryCall<ScaledObjectRef, { result: boolean }> = (call, callback) => {
    (async () => {
      const b = await read(parseTriggerMetadata(call.request.scalerMetadata));
      return { result: b.runnableAndRunning > 0 };
    })().then(
      (res) => {
        ok('IsActive');
        callback(null, res);
      },
      (err) => callback(failed('IsActive', err)),
    );
  };

  const GetMetricSpec: handleUnaryCall<ScaledObjectRef, { metricSpecs: MetricSpec[] }> = (call, callback) => {
    let spec: TriggerSpec;
    try {
      spec = parseTriggerMetadata(call.request.scalerMetadata);
    } catch (err) {
      callback(failed('GetMetricSpec', err));
      return;
    }
    ok('GetMetricSpec');
    const t = spec.targetPerWorker;
    callback(null, {
      metricSpecs: [
        { metricName: metricName(spec), targetSize: Math.max(1, Math.round(t)), targetSizeFloat: t },
      ],
    });
  };

  const GetMetrics: handleUnaryCall<GetMetricsRequest, { metricValues: MetricValue[] }> = (
    call,
    callback,
  ) => {
    (async () => {
      const spec = parseTriggerMetadata(call.request.scaledObjectRef?.scalerMetadata);
      const name = metricName(spec);
      if (call.request.metricName && call.request.metricName !== name) {
        throw new ValidationError(
          'INVALID_METADATA',
          `metricName ${JSON.stringify(call.request.metricName)} is not served for this trigger: its metric is ${JSON.stringify(name)} (from GetMetricSpec)`,
        );
      }
      const value = metricValue(spec, await read(spec));
      return {
        metricValues: [{ metricName: name, metricValue: Math.round(value), metricValueFloat: value }],
      };
    })().then(
      (res) => {
        ok('GetMetrics');
        callback(null, res);
      },
      (err) => callback(failed('GetMetrics', err)),
    );
  };

  const StreamIsActive: handleServerStreamingCall<ScaledObjectRef, { result: boolean }> = (call) => {
    let spec: TriggerSpec;
    try {
      spec = parseTriggerMetadata(call.request.scalerMetadata);
    } catch (err) {
      call.emit('error', failed('StreamIsActive', err));
      return;
    }
    ok('StreamIsActive');
    streams.add(call);
    o.metrics.openStreams.inc();
    let last: boolean | undefined;
    // Nothing is pushed for a queue that does not exist yet (IsActive answers NOT_FOUND), nor when a
    // read fails: only real readings, and only changes.
    const unwatch = o.watcher.watch(spec.prefix, spec.queue, (b) => {
      const active = b.known && b.runnableAndRunning > 0;
      if (!b.known || active === last) return;
      last = active;
      o.metrics.pushes.inc({ result: String(active) });
      call.write({ result: active });
    });
    let done = false;
    const end = () => {
      if (done) return;
      done = true;
      unwatch();
      streams.delete(call);
      o.metrics.openStreams.dec();
    };
    call.on('cancelled', end);
    call.on('close', end);
    call.on('finish', end);
  };

  const StreamMetricSpec: handleServerStreamingCall<ScaledObjectRef, unknown> = (call) => {
    o.metrics.requests.inc({ method: 'StreamMetricSpec', code: 'UNIMPLEMENTED' });
    call.emit('error', {
      code: status.UNIMPLEMENTED,
      details: 'kq targets do not change at run time: KEDA falls back to GetMetricSpec',
    });
  };

  return {
    handlers: { IsActive, StreamIsActive, GetMetricSpec, GetMetrics, StreamMetricSpec },
    endStreams() {
      for (const call of [...streams]) call.end();
    },
  };
}
