/**
 * Ingest, one job per request: kq's `POST /jobs` vs (a) a minimal Fastify route awaiting one queue.add,
 * both under the same autocannon load (100 connections, same body), (b) in-process queue.add from
 * 100 concurrent loops, and (c) the floor of kq's design: (a) with kq's coalescing and nothing else. CPU time is the server process's own (process.cpuUsage), per 1,000 stored jobs.
 */
import { inprocess, measure, startApi } from '../http.mjs';

export const CONNECTIONS = 100;
export const BODY = { type: 'noop', data: { n: 1 } };

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
      target: '>= 1.2x',
      met: (k, b) => k >= 1.2 * b,
    },
    {
      scenario: 'ingest: API CPU time per 1,000 jobs (ms)',
      figure: 'cpuMsPer1000Jobs',
      baseline: 'fastify',
      baselineName: '(a) Fastify route + queue.add',
      target: '<= 0.8x',
      met: (k, b) => k <= 0.8 * b,
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
