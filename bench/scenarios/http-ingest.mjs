/**
 * Ingest, one job per request: kq's `POST /jobs` vs (a) a minimal Fastify route awaiting one queue.add,
 * both under the same autocannon load (100 connections, same body, the same bearer token: kq runs with auth
 * on and validates the `order` type's schema; the baselines do neither), (b) in-process queue.add from
 * 100 concurrent loops, and (c) the floor of kq's design: (a) with kq's coalescing and nothing else. CPU time is the server process's own (process.cpuUsage), per 1,000 stored jobs.
 */
import { inprocess, measure, startApi } from '../http.mjs';

export const CONNECTIONS = 100;
/** A job type with a real schema (bench/handlers.mjs), so kq's validation is not free (`noop` is z.unknown()). */
export const BODY = { type: 'order', data: { customerId: 'c-1042', sku: 'SKU-001', quantity: 3 } };

async function run(ctx, variant) {
  const seconds = ctx.quick ? 1 : 8;
  if (variant === 'inproc') return inprocess(ctx, { concurrency: CONNECTIONS, seconds, data: BODY.data });
  const server = await startApi(variant, ctx);
  try {
    return await measure(server, {
      path: '/jobs',
      body: BODY,
      connections: CONNECTIONS,
      seconds,
      warmupSeconds: ctx.quick ? 0 : 1,
    });
  } finally {
    await server.stop();
  }
}

export default {
  id: 'ingest',
  variants: ['kq', 'fastify', 'coalescing', 'inproc'],
  run,
  rows: () => [
    {
      scenario: `ingest: POST /jobs, one job per request, ${CONNECTIONS} connections (jobs/s)`,
      figure: 'jobsPerSec',
      baseline: 'fastify',
      baselineName: '(a) Fastify route + queue.add',
      target: '>= 1.0x',
      met: (k, b) => k >= b,
    },
    {
      scenario: 'ingest: API CPU time per 1,000 accepted jobs (ms)',
      figure: 'cpuMsPer1000Jobs',
      baseline: 'fastify',
      baselineName: '(a) Fastify route + queue.add',
      target: '<= 1.0x',
      met: (k, b) => k <= b,
    },
    {
      scenario: `ingest: POST /jobs vs the ceiling (jobs/s)`,
      figure: 'jobsPerSec',
      baseline: 'inproc',
      baselineName: `(b) in-process queue.add, ${CONNECTIONS} concurrent`,
      target: '(report the fraction)',
    },
    {
      scenario: 'ingest: POST /jobs vs the floor of its design (jobs/s)',
      figure: 'jobsPerSec',
      baseline: 'coalescing',
      baselineName: '(c) Fastify route + coalesced addBulk, nothing else',
      target: '(reported)',
    },
    {
      scenario: 'ingest: API CPU time per 1,000 jobs vs the floor (ms)',
      figure: 'cpuMsPer1000Jobs',
      baseline: 'coalescing',
      baselineName: '(c) Fastify route + coalesced addBulk, nothing else',
      target: '(reported)',
    },
  ],
};
