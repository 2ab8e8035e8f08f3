/** GET /metrics: Prometheus text format (see ../metrics.ts). */
import type { FastifyInstance } from 'fastify';
import type { ApiMetrics } from '../metrics.js';

export function metricsRoutes(app: FastifyInstance, metrics: ApiMetrics): void {
  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics: kq_queue_jobs{queue,state}, kq_queue_backlog{queue}, HTTP metrics',
        tags: ['health'],
        produces: ['text/plain'],
      },
    },
    async (_request, reply) =>
      reply
        .type(metrics.registry.contentType)
        .header('cache-control', 'no-store')
        .send(await metrics.registry.metrics()),
  );
}
