/**
 * `npm run build && node bench/soak.mjs [--soak-jobs=N] [--soak-rate=R] [--soak-sample-ms=MS] [--verbose]`:
 * the soak scenario alone (scenarios/soak.mjs), kq then plain BullMQ on one private redis-server. It
 * replaces only the `soak` entry of bench/results.json (the other scenarios' figures stay) and draws
 * docs/soak.svg; `npm run bench` (full, not --quick) runs the same scenario with the others.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { Queue } from 'bullmq';
import { startRedisServer } from './redis-server.mjs';
import { judge } from './report.mjs';
import scenario, { soakOptions } from './scenarios/soak.mjs';
import { summarize } from './stats.mjs';

const here = import.meta.dirname;
const verbose = process.argv.includes('--verbose');

async function main() {
  const redisServer = await startRedisServer();
  const redis = redisServer.client();
  const queues = [];
  let seq = 0;
  const results = { soak: undefined };
  const ctx = {
    quick: false,
    verbose,
    redisUrl: redisServer.url,
    redis,
    prefix: 'bull',
    results,
    queueName: (s, v) => `bench-${s}-${v}-${++seq}`,
    queue(name) {
      const q = new Queue(name, { connection: redis, prefix: 'bull' });
      q.on('error', () => undefined);
      queues.push(q);
      return q;
    },
  };
  const startedAt = new Date();
  const load = [loadavg()[0]];
  const summaries = {};
  for (const variant of scenario.variants) {
    console.error(`bench: soak ${variant}: ${JSON.stringify(soakOptions())}`);
    const figures = await scenario.run(ctx, variant);
    console.error(`bench: soak ${variant}: ${JSON.stringify(figures)}`);
    summaries[variant] = Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, summarize([v])]));
    load.push(loadavg()[0]);
    await redis.flushall();
    for (const q of queues.splice(0)) await q.close();
  }
  redis.disconnect();
  await redisServer.stop();
  const rows = scenario.rows(ctx).map((row) => judge(row, summaries));
  const out = resolve(here, 'results.json');
  const all = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : {};
  all.soak = {
    date: startedAt.toISOString(),
    seconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
    loadAverage: load.map((x) => Number(x.toFixed(2))),
    ...results.soak,
    rows,
  };
  writeFileSync(out, `${JSON.stringify(all, null, 2)}\n`);
  for (const r of rows) console.log(JSON.stringify(r));
  console.error(`bench: soak written to ${out}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`bench: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
