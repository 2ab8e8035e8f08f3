// Baseline (a), "the obvious service": a minimal Fastify route that awaits one queue.add per request.
// Env: PORT, REDIS_URL, KQ_PREFIX, JOB_OPTIONS (kq's default job options: the same job is stored). Same
// request body as kq's POST /jobs: {"type": ..., "data": ...}. AUTO_PIPELINING=1 (experiments only, see
// docs/performance.md, "Why the hot paths look as they do"): ioredis' enableAutoPipelining on the connection.
import { Queue } from 'bullmq';
import Fastify from 'fastify';
import { Redis } from 'ioredis';

const connection = new Redis(process.env.REDIS_URL, {
  maxRetriesPerRequest: null,
  enableAutoPipelining: process.env.AUTO_PIPELINING === '1',
});
const queue = new Queue('jobs', { connection, prefix: process.env.KQ_PREFIX });
const opts = JSON.parse(process.env.JOB_OPTIONS ?? '{}');
const app = Fastify();

app.post('/jobs', async (request, reply) => {
  const job = await queue.add(request.body.type, request.body.data, opts);
  return reply.code(202).send({ id: job.id });
});

await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.on('SIGTERM', async () => {
  await app.close();
  await queue.close();
  await connection.quit();
  process.exit(0);
});
