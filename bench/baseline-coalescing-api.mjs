// Baseline (c), the floor of kq's design: the Fastify route of baseline (a), but concurrent requests'
// jobs go to Redis together (one addBulk per event-loop turn, as kq's API coalesces them), each request
// answered after its job is stored. Nothing else: no validation, ids, auth, logs or metrics. It shows how
// much of kq's cost is the HTTP + BullMQ add path itself. Env as baseline-api.mjs.
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import Fastify from 'fastify';
import { Redis } from 'ioredis';

const connection = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: null });
const queue = new Queue('jobs', { connection, prefix: process.env.KQ_PREFIX });
const opts = JSON.parse(process.env.JOB_OPTIONS ?? '{}');
const app = Fastify();

let pending = [];
function flush() {
  const batch = pending;
  pending = [];
  queue
    .addBulk(batch.map((j) => ({ name: j.name, data: j.data, opts: { ...opts, jobId: randomUUID() } })))
    .then(
      (jobs) => {
        for (let i = 0; i < batch.length; i++) batch[i].resolve(jobs[i].id);
      },
      (err) => {
        for (const j of batch) j.reject(err);
      },
    );
}
const add = (name, data) =>
  new Promise((resolve, reject) => {
    if (pending.push({ name, data, resolve, reject }) === 1) setImmediate(flush);
  });

app.post('/jobs', async (request, reply) => {
  const id = await add(request.body.type, request.body.data);
  return reply.code(202).send({ id });
});

await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.on('SIGTERM', async () => {
  await app.close();
  await queue.close();
  await connection.quit();
  process.exit(0);
});
