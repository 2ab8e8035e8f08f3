/** The scaler's own Prometheus metrics, served on `/metrics` of the health port. */
import { Counter, Gauge, Registry } from 'prom-client';

export interface ScalerMetrics {
  registry: Registry;
  /** By RPC method and gRPC status name (`OK`, `UNAVAILABLE`, ...). */
  requests: Counter<'method' | 'code'>;
  /** `StreamIsActive` messages sent, by result. */
  pushes: Counter<'result'>;
  openStreams: Gauge;
  redisErrors: Counter;
}

/** @example const m = createScalerMetrics(() => watcher.watchedQueues()); */
export function createScalerMetrics(watchedQueues: () => number): ScalerMetrics {
  const registry = new Registry();
  const registers = [registry];
  new Gauge({
    name: 'kq_keda_scaler_watched_queues',
    help: 'Queues followed for StreamIsActive (event stream, due timers, safety poll)',
    registers,
    collect() {
      this.set(watchedQueues());
    },
  });
  return {
    registry,
    requests: new Counter({
      name: 'kq_keda_scaler_requests_total',
      help: 'gRPC requests by method and status code',
      labelNames: ['method', 'code'],
      registers,
    }),
    pushes: new Counter({
      name: 'kq_keda_scaler_pushes_total',
      help: 'IsActive results pushed on StreamIsActive streams',
      labelNames: ['result'],
      registers,
    }),
    openStreams: new Gauge({
      name: 'kq_keda_scaler_open_streams',
      help: 'Open StreamIsActive streams',
      registers,
    }),
    redisErrors: new Counter({
      name: 'kq_keda_scaler_redis_errors_total',
      help: 'Backlog reads that failed because Redis did not answer',
      registers,
    }),
  };
}
