// Instructions per job, kq's worker against the plain BullMQ worker script, counted by valgrind's callgrind:
// an instruction count does not move with the load of a shared machine, as CPU time does.
//   node bench/instructions.mjs [--jobs=2000] [--warmup=2000] [--out=/tmp/kq-callgrind] [--only=kq|bullmq] [--save]
// Needs `valgrind` on PATH and a built dist/ (`npm run build`; KQ_DIST picks another build, as in
// bench/procs.mjs). In one private redis-server, for each worker (kq, then bullmq) it makes a paused queue of
// `--warmup` no-op jobs (kq's default job options, concurrency 50) and the worker under callgrind; once
// the worker is connected it runs the warm-up jobs (V8 compiles the hot paths, its compiler threads
// counted too), pauses the queue, adds `--jobs` jobs, zeroes the counters (`callgrind_control -z`),
// resumes, waits until nothing is waiting or active, dumps the counters (`callgrind_control -d`) and stops
// the worker. So the count covers steady processing only: no start-up, warm-up or shutdown. Prints
// instructions per job for both and their ratio; `--save` appends them to bench/results.json under
// `instructionsPerJob.runs`, with `--label=...` naming the build. The dumps stay in --out for
// `callgrind_annotate` (native frames: V8 builtins and runtime, libuv, libc; JIT-compiled JavaScript
// shows as unnamed addresses).
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Queue } from 'bullmq';
import { arg, callgrind, callgrindControl, finishRun, lastDump, totalInstructions } from './callgrind.mjs';
import { BASELINE_WORKER, KQ_CLI, KQ_HANDLERS, kqJobOptions, waitForWorkers } from './procs.mjs';
import { startRedisServer } from './redis-server.mjs';

const JOBS = Number(arg('jobs', '2000'));
const WARMUP = Number(arg('warmup', '2000'));
const OUT = resolve(arg('out', '/tmp/kq-callgrind'));
const SAVE = process.argv.includes('--save');
const CONCURRENCY = 50;
const PREFIX = 'kqinstr';

async function measure(redis, conn, kind) {
  const queueName = `instr-${kind}`;
  const queue = new Queue(queueName, { connection: redis.client(), prefix: PREFIX });
  await queue.obliterate({ force: true });
  await queue.pause();
  const opts = await kqJobOptions();
  const fill = async (n) => {
    for (let done = 0; done < n; done += 1000) {
      const size = Math.min(1000, n - done);
      await queue.addBulk(Array.from({ length: size }, () => ({ name: 'noop', data: {}, opts })));
    }
  };
  const drain = async () => {
    for (;;) {
      const [w, a] = await Promise.all([
        conn.llen(`${PREFIX}:${queueName}:wait`),
        conn.llen(`${PREFIX}:${queueName}:active`),
      ]);
      if (w + a === 0) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await fill(WARMUP);
  const script = kind === 'kq' ? [KQ_CLI, 'worker'] : [BASELINE_WORKER];
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    ...(kind === 'kq' ? { HEALTH_PORT: '0', HANDLERS: KQ_HANDLERS, KQ_DIST: dirname(KQ_CLI) } : {}),
    // BENCH_KQ_ENV='{"LOG_LEVEL":"warn"}': extra env for kq's worker, for experiments (as bench/procs.mjs).
    ...(kind === 'kq' && process.env.BENCH_KQ_ENV ? JSON.parse(process.env.BENCH_KQ_ENV) : {}),
    REDIS_URL: redis.url,
    QUEUE: queueName,
    KQ_PREFIX: PREFIX,
    CONCURRENCY: String(CONCURRENCY),
  };
  const outFile = resolve(OUT, `callgrind.${kind}.out`);
  const [valgrind, ...valgrindArgs] = callgrind(outFile);
  const proc = spawn(valgrind, [...valgrindArgs, process.execPath, ...script], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (c) => {
    stderr += c;
  });
  const exited = new Promise((r) => proc.once('exit', r));
  try {
    await waitForWorkers(queue, 1, 300_000, {
      proc,
      stderr: () => stderr,
    });
    // Warm-up: V8 compiles the hot paths (its compiler threads count too) before the measured jobs.
    await queue.resume();
    await drain();
    await queue.pause();
    await fill(JOBS);
    await callgrindControl(proc.pid, 'zero');
    await queue.resume();
    await drain();
    await callgrindControl(proc.pid, 'dump');
    const failed = await queue.getFailedCount();
    if (failed > 0) throw new Error(`${kind}: ${failed} jobs failed`);
    const dump = lastDump(outFile);
    const instructions = totalInstructions(dump);
    return { jobs: JOBS, instructions, perJob: instructions / JOBS, dump };
  } finally {
    proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 60_000);
    await exited;
    clearTimeout(t);
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
}

mkdirSync(OUT, { recursive: true });
const redis = await startRedisServer();
const conn = redis.client();
try {
  // --only=kq: kq's worker alone (experiments; the ratio then needs an earlier BullMQ figure).
  const only = arg('only', '');
  const kq = only === 'bullmq' ? undefined : await measure(redis, conn, 'kq');
  const bullmq = only === 'kq' ? undefined : await measure(redis, conn, 'bullmq');
  const result = {
    jobs: JOBS,
    warmupJobs: WARMUP,
    concurrency: CONCURRENCY,
    kqInstructionsPerJob: kq && Math.round(kq.perJob),
    bullmqInstructionsPerJob: bullmq && Math.round(bullmq.perJob),
    ratio: kq && bullmq ? Number((kq.perJob / bullmq.perJob).toFixed(3)) : undefined,
  };
  finishRun(
    'instructionsPerJob',
    'bench/instructions.mjs (docs/performance.md, "Worker: instructions per job (callgrind)")',
    result,
    SAVE && kq && bullmq,
  );
} finally {
  conn.disconnect();
  await redis.stop();
}
// The queues' connections would retry the stopped server.
process.exit(0);
