/**
 * API latency under load: `POST /jobs` at half of kq's peak rate (the ingest scenario's median in this
 * run, or a short measurement when run alone), kq vs the Fastify baseline (a) at the same rate.
 */
import { measure, startApi } from '../http.mjs';
import { BODY, CONNECTIONS } from './http-ingest.mjs';

let rate;

async function peakRate(ctx) {
  const fromIngest = ctx.results?.scenarios?.ingest?.figures?.kq?.jobsPerSec?.median;
  if (fromIngest) return fromIngest;
  const server = await startApi('kq', ctx);
  try {
    return (await measure(server, { path: '/jobs', body: BODY, connections: CONNECTIONS, seconds: 2 }))
      .jobsPerSec;
  } finally {
    await server.stop();
  }
}

async function run(ctx, variant) {
  rate ??= Math.round((await peakRate(ctx)) / 2);
  const server = await startApi(variant, ctx);
  try {
    const r = await measure(server, {
      path: '/jobs',
      body: BODY,
      connections: CONNECTIONS,
      seconds: ctx.quick ? 1 : 8,
      rate,
      warmupSeconds: ctx.quick ? 0 : 1,
    });
    return { ...r, rate };
  } finally {
    await server.stop();
  }
}

export default {
  id: 'api-latency',
  variants: ['kq', 'fastify'],
  run,
  rows: () => [
    {
      scenario: `API latency: POST /jobs p99 at 50 % of kq's peak (${rate} req/s) (ms)`,
      figure: 'p99Ms',
      baseline: 'fastify',
      baselineName: '(a) Fastify route + queue.add, same rate',
      target: '<= 1.0x',
      met: (k, b) => k <= b,
    },
  ],
};
