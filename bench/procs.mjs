/**
 * Worker processes for the benchmarks: `kq worker` (the built CLI, bench/handlers.mjs, HEALTH_PORT=0) or
 * the plain BullMQ script (bench/baseline-worker.mjs), spawned the same way. Logs go to /dev/null (the
 * write cost stays in, as in a pod); handler stamps arrive on fd 3; RSS is read from /proc.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const here = import.meta.dirname;
// KQ_DIST: run another build of kq (e.g. one bundled with `node scripts/bundle.mjs --outdir=...`).
export const KQ_CLI = resolve(process.env.KQ_DIST ?? resolve(here, '../dist'), 'cli.js');
/** kq's library entry from the same build as KQ_CLI. */
export const kqLibrary = () => import(resolve(dirname(KQ_CLI), 'index.js'));
export const KQ_HANDLERS = resolve(here, 'handlers.mjs');

/**
 * The options kq stores with every job by default (retries, backoff, retention), as BullMQ job options:
 * the baselines store their jobs with the same ones, so Redis does the same work per job on both sides.
 */
export async function kqJobOptions() {
  const { timeoutMs: _, ...opts } = (await kqLibrary()).DEFAULT_JOB_OPTIONS;
  return opts;
}
export const BASELINE_WORKER = resolve(here, 'baseline-worker.mjs');

// USER_HZ: the unit of utime/stime in /proc/<pid>/stat; 100 on Linux for x86 and arm.
const CLOCK_TICKS = 100;

/** `now` on the wall clock with sub-millisecond resolution, comparable across processes. */
export const wallNow = () => performance.timeOrigin + performance.now();

/**
 * @param kind 'kq' | 'bullmq'
 * @param env REDIS_URL, QUEUE, KQ_PREFIX, CONCURRENCY, plus EXIT (kq) or EXIT_ON_DRAINED (bullmq)
 * @param options.launcher a command that runs node, e.g. `['valgrind', '--tool=callgrind']`
 * @param options.nodeArgs node flags for this worker, after BENCH_NODE_ARGS
 * @param options.keepStdout keep the worker's stdout (its log lines) for `stdout()` instead of dropping it
 */
export function spawnWorker(
  kind,
  env,
  { verbose = false, launcher = [], nodeArgs: extraNodeArgs = [], keepStdout = false } = {},
) {
  const script = kind === 'kq' ? [KQ_CLI, 'worker'] : [BASELINE_WORKER];
  const fullEnv = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    ...(kind === 'kq' ? { HEALTH_PORT: '0', HANDLERS: KQ_HANDLERS, KQ_DIST: dirname(KQ_CLI) } : {}),
    // BENCH_KQ_ENV='{"LOG_LEVEL":"warn"}': extra env for kq workers, for experiments.
    ...(kind === 'kq' && process.env.BENCH_KQ_ENV ? JSON.parse(process.env.BENCH_KQ_ENV) : {}),
    ...env,
  };
  // BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof": profile the workers.
  const nodeArgs = [...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []), ...extraNodeArgs];
  const [command, ...launcherArgs] = [...launcher, process.execPath];
  const proc = spawn(command, [...launcherArgs, ...nodeArgs, ...script], {
    env: fullEnv,
    stdio: ['ignore', verbose ? 'inherit' : keepStdout ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  const stamps = [];
  const waiters = [];
  let stderr = '';
  let stdout = '';
  let partial = '';
  proc.stdout?.on('data', (c) => {
    stdout += c.toString();
  });
  proc.stderr.on('data', (c) => {
    stderr += c.toString();
    if (verbose) process.stderr.write(c);
  });
  proc.stdio[3].on('data', (chunk) => {
    partial += chunk.toString();
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('BENCH ')) continue;
      stamps.push(JSON.parse(line.slice(6)));
      for (const w of waiters.splice(0)) w();
    }
  });
  let exitInfo;
  const exited = new Promise((res) =>
    proc.once('exit', (code, signal) => {
      exitInfo = { code, signal, at: wallNow() };
      for (const w of waiters.splice(0)) w();
      res(exitInfo);
    }),
  );
  return {
    proc,
    kind,
    stamps,
    exited,
    stderr: () => stderr,
    stdout: () => stdout,
    /** Resolves once `n` stamps arrived; rejects after `timeoutMs` or when the process exits first. */
    async waitForStamps(n, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (stamps.length < n) {
        if (exitInfo)
          throw new Error(
            `${kind} worker exited (${exitInfo.code ?? exitInfo.signal}) after ${stamps.length}/${n} jobs: ${stderr.slice(-1500)}`,
          );
        const left = deadline - Date.now();
        if (left <= 0)
          throw new Error(`${kind} worker: only ${stamps.length}/${n} jobs started within ${timeoutMs} ms`);
        await new Promise((r) => {
          const t = setTimeout(r, Math.min(left, 1000));
          waiters.push(() => {
            clearTimeout(t);
            r();
          });
        });
      }
    },
    /** Current and peak resident set size in MiB (VmRSS, VmHWM). */
    memory() {
      const status = readFileSync(`/proc/${proc.pid}/status`, 'utf8');
      const kb = (key) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN);
      return { rssMiB: kb('VmRSS') / 1024, peakMiB: kb('VmHWM') / 1024 };
    },
    /** CPU time (user + system) the process has used so far, in ms (from /proc, 10 ms ticks). */
    cpuMs() {
      const fields = readFileSync(`/proc/${proc.pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
    },
    async stop(timeoutMs = 10_000) {
      if (!exitInfo) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
        await exited;
        clearTimeout(t);
      }
      return exitInfo;
    },
  };
}

/** Waits until `count` workers are connected to the queue (BullMQ names worker connections). */
export async function waitForWorkers(queue, count = 1, timeoutMs = 20_000, worker) {
  const deadline = Date.now() + timeoutMs;
  while ((await queue.getWorkersCount()) < count) {
    if (worker?.proc.exitCode != null)
      throw new Error(`worker exited early: ${worker.stderr().slice(-1500)}`);
    if (Date.now() > deadline) throw new Error(`no worker connected within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
