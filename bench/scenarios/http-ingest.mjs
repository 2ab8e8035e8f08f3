/**
 * Ingest, one job per request: kq's `POST /jobs` vs (a) a minimal Fastify route awaiting one queue.add,
 * both under the same autocannon load (100 connections, same body, the same bearer token: kq runs with auth
 * on and validates the `order` type's schema; the baselines do neither), (b) in-process queue.add from
 * 100 concurrent loops, and (c) the floor of kq's design: (a) with kq's coalescing and nothing else.
 * `kq-single` is kq with coalescing off (INGEST_COALESCING=off), and `fastify-aa` route (a) again: the A/A
 * control, what two runs of one server differ by on this machine. CPU time is the server process's own
 * (process.cpuUsage), and Redis's own (INFO `used_cpu_*` deltas over the run), per 1,000 stored jobs.
 */
import { inprocess, measure, startApi } from '../http.mjs';

export const CONNECTIONS = 100;
/** A job type with a real schema (bench/handlers.mjs), so kq's validation is not free (`noop` is z.unknown()). */
export const BODY = { type: 'order', data: { customerId: 'c-1042', sku: 'SKU-001', quantity: 3 } };
/** kq's API with coalescing off. */
export const KQ_SINGLE_ENV = { INGEST_COALESCING: 'off' };

const SERVERS = {
  kq: ['kq', {}],
  'kq-single': ['kq', KQ_SINGLE_ENV],
  fastify: ['fastify', {}],
  'fastify-aa': ['fastify', {}],
  coalescing: ['coalescing', {}],
};

async function run(ctx, variant) {
  const seconds = ctx.quick ? 1 : 8;
  if (variant === 'inproc') return inprocess(ctx, { concurrency: CONNECTIONS, seconds, data: BODY.data });
  const [kind, env] = SERVERS[variant];
  const server = await startApi(kind, ctx, env);
  try {
    return await measure(server, {
      path: '/jobs',
      body: BODY,
      connections: CONNECTIONS,
      seconds,
      warmupSeconds: ctx.quick ? 0 : 1,
      redis: ctx.redis,
    });
  } finally {
    await server.stop();
  }
}

const A = '(a) Fastify route + queue.add';
const C = '(c) Fastify route + coalesced addBulk, nothing else';

export default {
  id: 'ingest',
  variants: ['kq', 'fastify', 'kq-single', 'fastify-aa', 'coalescing', 'inproc'],
  run,
  rows: () => [
    {
      scenario: `ingest: POST /jobs, one job per request, ${CONNECTIONS} connections (jobs/s)`,
      figure: 'jobsPerSec',
      baseline: 'fastify',
      baselineName: A,
      target: '>= 0.9x',
      met: (k, b) => k >= 0.9 * b,
    },
    {
      scenario: 'ingest: API CPU time per 1,000 accepted jobs (ms)',
      figure: 'cpuMsPer1000Jobs',
      baseline: 'fastify',
      baselineName: A,
      target: '<= 1.2x',
      met: (k, b) => k <= 1.2 * b,
    },
    {
      scenario: 'ingest: Redis CPU time per 1,000 stored jobs (ms)',
      figure: 'redisCpuMsPer1000Jobs',
      baseline: 'fastify',
      baselineName: A,
      target: '<= 1.05x',
      met: (k, b) => k <= 1.05 * b,
    },
    ...['jobsPerSec', 'cpuMsPer1000Jobs', 'redisCpuMsPer1000Jobs'].map((figure) => ({
      scenario: `ingest, A/A control: route (a) against itself (${figure})`,
      figure,
      variant: 'fastify-aa',
      baseline: 'fastify',
      baselineName: A,
      target: '(reported: the noise)',
    })),
    ...['jobsPerSec', 'cpuMsPer1000Jobs', 'redisCpuMsPer1000Jobs'].map((figure) => ({
      scenario: `ingest: kq with coalescing off (INGEST_COALESCING=off) (${figure})`,
      figure,
      variant: 'kq-single',
      baseline: 'fastify',
      baselineName: A,
      target: '(reported)',
    })),
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
      baselineName: C,
      target: '(reported)',
    },
    {
      scenario: 'ingest: API CPU time per 1,000 jobs vs the floor (ms)',
      figure: 'cpuMsPer1000Jobs',
      baseline: 'coalescing',
      baselineName: C,
      target: '(reported)',
    },
    {
      scenario: 'ingest: Redis CPU time per 1,000 jobs vs the floor (ms)',
      figure: 'redisCpuMsPer1000Jobs',
      baseline: 'coalescing',
      baselineName: C,
      target: '(reported)',
    },
  ],
};
