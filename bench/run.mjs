/**
 * `npm run bench [-- --quick] [--only=processing,latency] [--runs=N]`: kq against plain BullMQ (and, for
 * HTTP, a minimal Fastify service) in the same run, on one private redis-server. Each scenario runs its
 * variants interleaved (A B, then B A, ...) so drift on a shared machine hits both alike; each figure is
 * the median over the runs, with min and max. Writes bench/results.json (a temp file for --quick) and
 * prints a Markdown table with the target next to each figure. Asserts nothing about speed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { Queue } from 'bullmq';
import { startRedisServer } from './redis-server.mjs';
import { formatTable, judge } from './report.mjs';
import { summarize } from './stats.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const verbose = args.includes('--verbose');
const only = args
  .find((a) => a.startsWith('--only='))
  ?.slice(7)
  .split(',');
const runsArg = args.find((a) => a.startsWith('--runs='))?.slice(7);
const runs = Number(runsArg ?? (quick ? 1 : 3));

/** Full runs kept in results.json besides the latest (`earlierFullRuns`), newest first. */
const EARLIER_FULL_RUNS_KEPT = 3;

const scenarioFiles = [
  'processing',
  'processing-side-by-side',
  'processing-manifests',
  'dispatch-latency',
  'cold-start',
  'exit-when-empty',
  'http-ingest',
  'http-batch',
  'http-latency',
  'keda-activation',
  'write-replicas',
  'cluster',
  'soak',
];
const here = import.meta.dirname;
const version = (pkg) =>
  JSON.parse(readFileSync(resolve(here, '..', 'node_modules', pkg, 'package.json'), 'utf8')).version;

async function main() {
  const startedAt = new Date();
  const redisServer = await startRedisServer();
  const redis = redisServer.client();
  const queues = [];
  let seq = 0;
  const ctx = {
    quick,
    verbose,
    redisUrl: redisServer.url,
    redis,
    prefix: 'bull',
    queueName: (scenario, variant) => `bench-${scenario}-${variant}-${++seq}`,
    queue(name) {
      const q = new Queue(name, { connection: redis, prefix: 'bull' });
      q.on('error', () => undefined);
      queues.push(q);
      return q;
    },
  };
  const results = {
    date: startedAt.toISOString(),
    mode: quick ? 'quick' : 'full',
    // The scenarios of an `--only` run (undefined: all of them).
    only,
    runs,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memoryGiB: Number((totalmem() / 2 ** 30).toFixed(1)),
      loadAverageAtStart: loadavg().map((x) => Number(x.toFixed(2))),
    },
    versions: {
      node: process.version,
      redis: (await redis.info('server')).match(/redis_version:(\S+)/)?.[1],
      bullmq: version('bullmq'),
      fastify: version('fastify'),
      autocannon: version('autocannon'),
      kq: JSON.parse(readFileSync(resolve(here, '..', 'package.json'), 'utf8')).version,
      commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: here }).toString().trim(),
    },
    scenarios: {},
    rows: [],
  };
  ctx.results = results;
  for (const file of scenarioFiles) {
    if (!existsSync(resolve(here, 'scenarios', `${file}.mjs`))) continue;
    const scenario = (await import(`./scenarios/${file}.mjs`)).default;
    if (only && !only.includes(scenario.id)) continue;
    // Long scenarios (the soak) run in full runs only.
    if (quick && scenario.skipQuick) continue;
    if (scenario.available && !(await scenario.available())) {
      console.error(`bench: skipping ${scenario.id}: ${scenario.unavailableReason}`);
      continue;
    }
    const t0 = Date.now();
    const perVariant = Object.fromEntries(scenario.variants.map((v) => [v, []]));
    // Cheap or noisy scenarios may ask for more runs in a full run (`fullRuns`); --runs overrides.
    const scenarioRuns = scenario.once ? 1 : quick || runsArg ? runs : Math.max(runs, scenario.fullRuns ?? 0);
    for (let r = 0; r < scenarioRuns; r++) {
      const order = r % 2 === 0 ? scenario.variants : [...scenario.variants].reverse();
      for (const variant of order) {
        const figures = await scenario.run(ctx, variant);
        if (verbose)
          console.error(`bench: ${scenario.id} run ${r + 1} ${variant}: ${JSON.stringify(figures)}`);
        perVariant[variant].push(figures);
        await redis.flushall();
        for (const q of queues.splice(0)) await q.close();
      }
    }
    const summaries = {};
    for (const [variant, list] of Object.entries(perVariant)) {
      summaries[variant] = {};
      for (const key of Object.keys(list[0] ?? {}))
        summaries[variant][key] = summarize(list.map((f) => f[key]));
    }
    results.scenarios[scenario.id] = {
      runs: scenarioRuns,
      seconds: Math.round((Date.now() - t0) / 1000),
      loadAverageAfter: loadavg()[0],
      figures: summaries,
    };
    results.rows.push(...scenario.rows(ctx).map((row) => judge(row, summaries)));
    console.error(`bench: ${scenario.id} done in ${Math.round((Date.now() - t0) / 1000)} s`);
  }
  results.machine.loadAverageAtEnd = loadavg().map((x) => Number(x.toFixed(2)));
  results.seconds = Math.round((Date.now() - startedAt.getTime()) / 1000);
  redis.disconnect();
  await redisServer.stop();
  // Quick runs (CI) prove the harness; only a full run replaces the committed results.
  const out = quick ? resolve(tmpdir(), 'kq-bench-results-quick.json') : resolve(here, 'results.json');
  // Other scripts (instructions, soak, waiters, spot checks) keep their figures under their own keys in the
  // same file: a full run replaces the scenario figures and keeps theirs.
  if (existsSync(out)) {
    const previous = JSON.parse(readFileSync(out, 'utf8'));
    for (const [key, value] of Object.entries(previous)) if (!(key in results)) results[key] = value;
    // The targets are judged over more than one full run: the run this one replaces is kept (rows only).
    if (!quick && previous.mode === 'full' && Array.isArray(previous.rows)) {
      const { date, mode, only: o, runs: r, machine, versions, rows, seconds } = previous;
      results.earlierFullRuns = [
        { date, mode, only: o, runs: r, machine, versions, rows, seconds },
        ...(previous.earlierFullRuns ?? []),
      ].slice(0, EARLIER_FULL_RUNS_KEPT);
    }
  }
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(formatTable(results));
  console.error(`bench: wrote ${out} (${results.seconds} s)`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`bench: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
