/**
 * Soak: jobs at a steady rate with default job options, through `kq api` (`POST /jobs/batch`) and two
 * `kq worker`s, against the same jobs through plain BullMQ (in-process `addBulk`, two baseline worker
 * scripts). Every few seconds it samples Redis `used_memory`, `DBSIZE` and each process's RSS; the series
 * go to results.json (`soak`) and, once both variants ran, a chart to docs/soak.svg. Not in `--quick`;
 * one run per variant. Flags: `--soak-jobs=N` (default 1,000,000), `--soak-rate=<jobs/s>` (default 1000),
 * `--soak-sample-ms=<ms>` (default 5000). Standalone: `node bench/soak.mjs --soak-jobs=50000`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BENCH_TOKEN, startApi } from '../http.mjs';
import { kqJobOptions, spawnWorker, waitForWorkers } from '../procs.mjs';
import { soakChart } from '../soak-chart.mjs';
import { BODY } from './http-ingest.mjs';

const flag = (name, def) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.slice(name.length + 3)) : def;
};

export const soakOptions = () => ({
  jobs: flag('soak-jobs', 1_000_000),
  rate: flag('soak-rate', 1000),
  sampleMs: flag('soak-sample-ms', 5000),
  /** Jobs per worker process at once (both variants). */
  concurrency: flag('soak-concurrency', 10),
});

const TICK_MS = 100;
const WORKERS = 2;
const rssMiB = (pid) => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
  } catch {
    return null;
  }
};

const field = (info, name) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1]);
const round1 = (x) => (x === null || !Number.isFinite(x) ? null : Math.round(x * 10) / 10);
const round2 = (x) => (x === null || !Number.isFinite(x) ? null : Math.round(x * 100) / 100);

/** Least-squares slope of y over x. */
function slope(points) {
  const n = points.length;
  if (n < 2) return null;
  const mx = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? null : num / den;
}

const median = (xs) => {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};

/** Change of `pick(sample)` over the last half of the sending phase, by a least-squares fit, in MiB. */
function lastHalfGrowth(samples, pick) {
  const sending = samples.filter((s) => s.phase === 'sending');
  const end = sending.at(-1)?.t ?? 0;
  const half = sending.filter((s) => s.t >= end / 2).map((s) => [s.t, pick(s)]);
  const points = half.filter((p) => Number.isFinite(p[1]));
  const k = slope(points);
  return k === null ? null : k * (end / 2);
}

/** One soak of `variant` ('kq' | 'bullmq'); returns its figures and its series of samples. */
export async function soakRun(ctx, variant, o = soakOptions()) {
  // Names of one length: every key and job id holds the name, so a longer one would cost its side memory.
  const queueName = variant === 'kq' ? 'soak-kq' : 'soak-bq';
  const queue = ctx.queue(queueName);
  const env = {
    REDIS_URL: ctx.redisUrl,
    QUEUE: queueName,
    KQ_PREFIX: ctx.prefix,
    CONCURRENCY: String(o.concurrency),
  };
  const workers = Array.from({ length: WORKERS }, () => spawnWorker(variant, env, { verbose: ctx.verbose }));
  const api = variant === 'kq' ? await startApi('kq', ctx) : undefined;
  const jobOptions = await kqJobOptions();
  // The type's queue would be `jobs`; the soak's workers listen on its own queue.
  const item = { ...BODY, queue: queueName };
  const samples = [];
  let sent = 0;
  let phase = 'sending';
  const t0 = Date.now();
  const sample = async () => {
    const [memory, keys, c] = await Promise.all([
      ctx.redis.info('memory'),
      ctx.redis.dbsize(),
      queue.getJobCounts('wait', 'active', 'prioritized', 'delayed'),
    ]);
    samples.push({
      t: (Date.now() - t0) / 1000,
      phase,
      sent,
      backlog: c.wait + c.active + c.prioritized + c.delayed,
      usedMemoryMiB: round2(field(memory, 'used_memory') / 2 ** 20),
      // Client query and output buffers: the number of connections and the size of their pipelines, not
      // jobs (kq's API and the in-process producer differ in both).
      clientBuffersMiB: round2(field(memory, 'mem_clients_normal') / 2 ** 20),
      datasetMiB: round2(field(memory, 'used_memory_dataset') / 2 ** 20),
      keys,
      apiRssMiB: api ? round1(rssMiB(api.pid)) : null,
      workerRssMiB: workers.map((w) => round1(rssMiB(w.proc.pid))),
    });
  };
  let sampling = Promise.resolve();
  const timer = setInterval(() => {
    sampling = sampling.then(sample, () => undefined);
  }, o.sampleMs);
  try {
    await waitForWorkers(queue, WORKERS, 30_000, workers[0]);
    await sample();
    const send =
      variant === 'kq'
        ? async (n) => {
            const res = await fetch(`${api.url}/jobs/batch`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_TOKEN}` },
              body: JSON.stringify({ jobs: Array.from({ length: n }, () => item) }),
            });
            if (res.status !== 202)
              throw new Error(`soak: POST /jobs/batch answered ${res.status}: ${await res.text()}`);
            await res.arrayBuffer();
          }
        : (n) =>
            queue.addBulk(
              Array.from({ length: n }, () => ({ name: BODY.type, data: BODY.data, opts: jobOptions })),
            );
    const start = Date.now();
    while (sent < o.jobs) {
      const due = Math.min(o.jobs, Math.floor((o.rate * (Date.now() - start)) / 1000));
      while (sent < due) {
        const n = Math.min(1000, due - sent);
        await send(n);
        sent += n;
      }
      await new Promise((r) => setTimeout(r, TICK_MS));
    }
    const sendSeconds = (Date.now() - start) / 1000;
    phase = 'draining';
    const drainDeadline = Date.now() + 600_000;
    for (;;) {
      const c = await queue.getJobCounts('wait', 'active', 'prioritized', 'delayed');
      if (c.wait + c.active + c.prioritized + c.delayed === 0) break;
      if (Date.now() > drainDeadline) throw new Error(`soak ${variant}: backlog not drained in 600 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
    clearInterval(timer);
    await sampling;
    phase = 'drained';
    await sample();
    const counts = await queue.getJobCounts('completed', 'failed');
    // Keys that are not the queue's job hashes, by name with the queue's and jobs' ids taken out.
    const keyShapes = {};
    for (const key of await ctx.redis.keys('*')) {
      const shape = key
        .replace(`:${queueName}:`, ':<queue>:')
        .replace(/:<queue>:(\d+|[\w.-]+\.[\w-]{16})$/, ':<queue>:<job>');
      keyShapes[shape] = (keyShapes[shape] ?? 0) + 1;
    }
    const end = samples.at(-1);
    const sending = samples.filter((s) => s.phase === 'sending');
    // Samples where the workers kept up (at most a second of jobs not yet done): a backlog that a loaded
    // machine builds on one side only would otherwise count as memory.
    const lastHalf = sending.filter((s) => s.t >= (sending.at(-1)?.t ?? 0) / 2 && s.backlog <= o.rate);
    const figures = {
      jobs: o.jobs,
      sendSeconds,
      jobsPerSec: o.jobs / sendSeconds,
      completedKept: counts.completed,
      failed: counts.failed,
      redisMemoryMiBEnd: end.usedMemoryMiB,
      keysEnd: end.keys,
      redisMemoryMiBPlateau: median(lastHalf.map((s) => s.usedMemoryMiB)),
      redisMemoryLessClientsMiBPlateau: round2(
        median(lastHalf.map((s) => s.usedMemoryMiB - s.clientBuffersMiB)),
      ),
      redisMemoryLessClientsMiBEnd: round2(end.usedMemoryMiB - end.clientBuffersMiB),
      redisDatasetMiBEnd: end.datasetMiB,
      keysPlateau: median(lastHalf.map((s) => s.keys)),
      plateauSamples: lastHalf.length,
      maxBacklog: Math.max(...samples.map((s) => s.backlog)),
      apiRssMiBEnd: end.apiRssMiB,
      apiRssGrowthMiBLastHalf: api ? round1(lastHalfGrowth(samples, (s) => s.apiRssMiB)) : null,
      workerRssMiBEnd: Math.max(...end.workerRssMiB.filter(Number.isFinite)),
      workerRssGrowthMiBLastHalf: round1(
        Math.max(...workers.map((_, i) => lastHalfGrowth(samples, (s) => s.workerRssMiB[i]) ?? Number.NaN)),
      ),
    };
    return { figures, series: samples, keyShapes };
  } finally {
    clearInterval(timer);
    await sampling.catch(() => undefined);
    await api?.stop();
    await Promise.all(workers.map((w) => w.stop()));
  }
}

/** Keeps the series on the results and, once both variants have one, draws docs/soak.svg. */
function record(ctx, variant, run, o) {
  ctx.results.soak ??= { options: o, series: {} };
  ctx.results.soak.series[variant] = run.series;
  ctx.results.soak.keyShapes ??= {};
  ctx.results.soak.keyShapes[variant] = run.keyShapes;
  ctx.results.soak.figures ??= {};
  ctx.results.soak.figures[variant] = run.figures;
  const { kq, bullmq } = ctx.results.soak.series;
  if (kq && bullmq) {
    const out = resolve(import.meta.dirname, '../../docs/soak.svg');
    writeFileSync(out, soakChart({ kq, bullmq, jobs: o.jobs, rate: o.rate }));
    console.error(`bench: soak chart written to ${out}`);
  }
}

export default {
  id: 'soak',
  variants: ['kq', 'bullmq'],
  skipQuick: true,
  once: true,
  async run(ctx, variant) {
    const o = soakOptions();
    const run = await soakRun(ctx, variant, o);
    record(ctx, variant, run, o);
    return run.figures;
  },
  rows: () => [
    {
      scenario: 'soak: Redis used_memory while jobs flow, last half, workers keeping up (MiB)',
      figure: 'redisMemoryMiBPlateau',
      target: '<= 1.05x',
      met: (k, b) => k <= 1.05 * b,
    },
    {
      scenario: 'soak: Redis keys (DBSIZE) while jobs flow, last half, workers keeping up',
      figure: 'keysPlateau',
      target: '<= 1.05x',
      met: (k, b) => k <= 1.05 * b,
    },
    {
      scenario: 'soak: Redis used_memory less client buffers while jobs flow, as above (MiB)',
      figure: 'redisMemoryLessClientsMiBPlateau',
      target: '<= 1.05x',
      met: (k, b) => k <= 1.05 * b,
    },
    {
      scenario: 'soak: Redis used_memory less client buffers after the backlog drained (MiB)',
      figure: 'redisMemoryLessClientsMiBEnd',
      target: '<= 1.05x',
      met: (k, b) => k <= 1.05 * b,
    },
    {
      scenario: 'soak: worker RSS growth over the last half (MiB, fitted)',
      figure: 'workerRssGrowthMiBLastHalf',
      target: 'flat (< 5 MiB)',
      met: (k) => k < 5,
    },
  ],
};

export { record as recordSoak };
