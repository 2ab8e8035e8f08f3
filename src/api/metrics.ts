/**
 * The API's Prometheus registry. Queue gauges are read from Redis when scraped, for the queues of
 * the queue directory (never a keyspace scan), as one snapshot shared by the gauges and cached for at most 1 s, so every API replica reports the same, current numbers; when Redis
 * does not answer, the queue series are left out (never stale values) and `kq_redis_up` is 0.
 * HTTP metrics are labelled by route template, never by raw URL, to keep cardinality bounded.
 */

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { countAndObserve } from '../metrics/count-and-observe.js';
import { COUNT_STATES, type QueueCounts } from '../queue/counts.js';
import type { QueueReads } from '../queue/queue-reads.js';

export interface ApiMetrics {
  registry: Registry;
  /** Counts one answered request (route template, method, status) and its duration. */
  observe(request: FastifyRequest, reply: FastifyReply): void;
  close(): void;
}

/** @example const m = createApiMetrics({ redis, reads }); await m.registry.metrics() */
export function createApiMetrics(o: { redis: Redis; reads: QueueReads }): ApiMetrics {
  const registry = new Registry();
  // One snapshot per scrape (the layer caches it for 1 s); undefined when Redis did not answer.
  const snapshot = (): Promise<Map<string, QueueCounts> | undefined> =>
    o.redis.status === 'ready' ? o.reads.all().catch(() => undefined) : Promise.resolve(undefined);

  new Gauge({
    name: 'kq_redis_up',
    help: '1 when Redis answered this scrape; the queue series are absent when it did not.',
    registers: [registry],
    async collect() {
      this.set((await snapshot()) ? 1 : 0);
    },
  });
  new Gauge({
    name: 'kq_queue_jobs',
    help: 'Jobs per queue and state, read from Redis at scrape time.',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [queue, c] of (await snapshot()) ?? [])
        for (const state of COUNT_STATES) this.set({ queue, state }, c[state]);
    },
  });
  new Gauge({
    name: 'kq_queue_backlog',
    help: 'waiting + prioritized + active per queue: what autoscalers should scale on.',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [queue, c] of (await snapshot()) ?? []) this.set({ queue }, c.backlog);
    },
  });
  new Gauge({
    name: 'kq_queue_paused',
    help: '1 while the queue is paused.',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [queue, c] of (await snapshot()) ?? []) this.set({ queue }, c.paused ? 1 : 0);
    },
  });

  new Gauge({
    name: 'kq_queue_oldest_waiting_age_seconds',
    help: 'Age of the oldest job in the wait list per queue (from enqueue, or from when a delayed job was due); 0 when none waits.',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      this.reset();
      if (o.redis.status !== 'ready') return;
      const ages = await o.reads.oldestWaiting().catch(() => undefined);
      for (const [queue, age] of ages ?? []) this.set({ queue }, age);
    },
  });

  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({
    name: 'kq_http_requests_total',
    help: 'HTTP requests by method, route template and status.',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'kq_http_request_duration_seconds',
    help: 'HTTP request duration by method, route template and status.',
    labelNames,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  // Called from app.ts's one onResponse hook. One recorder per (method, route, status), a bounded set:
  // the labelled children are made once per key, not per request (count-and-observe.ts).
  const children = new Map<string, (seconds: number) => void>();
  const observe = (request: FastifyRequest, reply: FastifyReply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const key = `${request.method} ${reply.statusCode} ${route}`;
    let record = children.get(key);
    if (!record) {
      const labels = { method: request.method, route, status: String(reply.statusCode) };
      record = countAndObserve(requests, duration, labels, labels);
      children.set(key, record);
    }
    record(reply.elapsedTime / 1000);
  };
  return { registry, observe, close: () => registry.clear() };
}
