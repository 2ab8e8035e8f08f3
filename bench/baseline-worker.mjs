// The baseline: the obvious plain BullMQ worker script, run as its own process like `kq worker`.
// Env: REDIS_URL, QUEUE, KQ_PREFIX, CONCURRENCY, EXIT_ON_DRAINED=1 (exit on the `drained` event, the
// usual hand-rolled exit-when-empty). Job `stamp` writes its start time to fd 3, as bench/handlers.mjs does.
import { writeSync } from 'node:fs';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

const connection = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: null });
const worker = new Worker(
  process.env.QUEUE,
  async (job) => {
    if (job.name === 'stamp') {
      const now = performance.timeOrigin + performance.now();
      writeSync(3, `BENCH ${JSON.stringify({ sent: job.data.t, started: now })}\n`);
    }
    return null;
  },
  { connection, prefix: process.env.KQ_PREFIX, concurrency: Number(process.env.CONCURRENCY ?? 1) },
);
worker.on('error', (err) => console.error(err.message));
worker.on('ready', () => console.log('ready'));
if (process.env.EXIT_ON_DRAINED === '1') {
  worker.on('drained', async () => {
    await worker.close();
    await connection.quit();
    process.exit(0);
  });
}
process.on('SIGTERM', async () => {
  await worker.close();
  await connection.quit();
  process.exit(0);
});
