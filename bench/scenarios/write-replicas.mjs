/**
 * The cost of WRITE_REPLICAS=1: `POST /jobs` against the bench Redis with one replica attached, the API
 * answering 202 once the primary has the job (0) or once the replica has it too (1, Redis WAIT after
 * each batch). Both variants run with the replica attached, so the difference is the WAIT alone.
 * 10 connections: a latency figure, not a saturation one.
 */
import { Redis } from 'ioredis';
import { spawnRedisServer } from '../../dist/dev/redis-process.js';
import { measure, startApi } from '../http.mjs';
import { BODY } from './http-ingest.mjs';

const CONNECTIONS = 10;

async function startReplica(ctx) {
  const port = Number(new URL(ctx.redisUrl).port);
  const replica = await spawnRedisServer({
    dirPrefix: 'kq-bench-replica-',
    extraArgs: ['--replicaof', '127.0.0.1', String(port)],
  });
  const c = new Redis(replica.port, '127.0.0.1', { maxRetriesPerRequest: null });
  try {
    for (let i = 0; !/master_link_status:up/.test(await c.info('replication')); i++) {
      if (i > 200) throw new Error('bench: the replica did not sync within 10 s');
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    c.disconnect();
  }
  return replica;
}

async function run(ctx, variant) {
  const replica = await startReplica(ctx);
  const server = await startApi('kq', ctx, { WRITE_REPLICAS: variant === 'kq' ? '1' : '0' });
  try {
    return await measure(server, {
      path: '/jobs',
      body: BODY,
      connections: CONNECTIONS,
      seconds: ctx.quick ? 1 : 6,
      warmupSeconds: ctx.quick ? 0 : 1,
    });
  } finally {
    await server.stop();
    await replica.remove();
  }
}

export default {
  id: 'write-replicas',
  variants: ['kq', 'primary-only'],
  run,
  rows: () => [
    {
      scenario: `WRITE_REPLICAS=1: POST /jobs, ${CONNECTIONS} connections, one replica (jobs/s)`,
      figure: 'jobsPerSec',
      baseline: 'primary-only',
      baselineName: 'WRITE_REPLICAS=0, same replica attached',
      target: '(report the cost)',
    },
    {
      scenario: 'WRITE_REPLICAS=1: POST /jobs p50 (ms)',
      figure: 'p50Ms',
      baseline: 'primary-only',
      baselineName: 'WRITE_REPLICAS=0',
      target: '(report the cost)',
    },
    {
      scenario: 'WRITE_REPLICAS=1: API CPU time per 1,000 jobs (ms)',
      figure: 'cpuMsPer1000Jobs',
      baseline: 'primary-only',
      baselineName: 'WRITE_REPLICAS=0',
      target: '(report the cost)',
    },
  ],
};
