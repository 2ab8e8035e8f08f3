/**
 * Ingest in batches: kq's `POST /jobs/batch` with 100 jobs a request (10 connections) vs in-process
 * `queue.addBulk` of the same 100 jobs from 10 concurrent loops.
 */
import { inprocess, measure, startApi } from '../http.mjs';
import { BODY } from './http-ingest.mjs';

const BATCH = 100;
const CONNECTIONS = 10;

async function run(ctx, variant) {
  const seconds = ctx.quick ? 1 : 8;
  if (variant === 'inproc')
    return inprocess(ctx, { concurrency: CONNECTIONS, seconds, batch: BATCH, data: BODY.data });
  const server = await startApi(variant, ctx);
  try {
    const body = { jobs: Array.from({ length: BATCH }, () => BODY) };
    return await measure(server, {
      path: '/jobs/batch',
      body,
      jobsPerRequest: BATCH,
      connections: CONNECTIONS,
      seconds,
      warmupSeconds: ctx.quick ? 0 : 1,
    });
  } finally {
    await server.stop();
  }
}

export default {
  id: 'batch',
  variants: ['kq', 'inproc'],
  run,
  rows: () => [
    {
      scenario: `ingest: POST /jobs/batch, ${BATCH} jobs a request, ${CONNECTIONS} connections (jobs/s)`,
      figure: 'jobsPerSec',
      baseline: 'inproc',
      baselineName: `in-process addBulk of ${BATCH}, ${CONNECTIONS} concurrent`,
      target: '>= 0.8x',
      higherIsBetter: true,
      met: (k, b) => k >= 0.8 * b,
    },
  ],
};
