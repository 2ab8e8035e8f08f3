// Baseline (b), the ceiling: plain in-process queue.add (or addBulk of BATCH) from CONCURRENCY loops,
// no HTTP, jobs stored with JOB_OPTIONS (kq's defaults). Runs for WARMUP_MS, then counts for DURATION_MS;
// prints {jobs, seconds, cpu} as JSON.
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

const env = process.env;
const connection = new Redis(env.REDIS_URL, { maxRetriesPerRequest: null });
const queue = new Queue('jobs', { connection, prefix: env.KQ_PREFIX });
const batch = Number(env.BATCH ?? 0);
const data = JSON.parse(env.DATA ?? '{}');
const opts = JSON.parse(env.JOB_OPTIONS ?? '{}');
const bulk = Array.from({ length: batch }, () => ({ name: 'noop', data, opts }));

let counting = false;
let jobs = 0;
let stop = false;
async function loop() {
  while (!stop) {
    if (batch > 0) await queue.addBulk(bulk);
    else await queue.add('noop', data, opts);
    if (counting) jobs += Math.max(batch, 1);
  }
}
const loops = Array.from({ length: Number(env.CONCURRENCY) }, loop);
await new Promise((r) => setTimeout(r, Number(env.WARMUP_MS ?? 500)));
counting = true;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await new Promise((r) => setTimeout(r, Number(env.DURATION_MS)));
counting = false;
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
stop = true;
await Promise.all(loops);
process.stdout.write(`${JSON.stringify({ jobs, seconds, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
await queue.close();
await connection.quit();
