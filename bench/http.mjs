/**
 * HTTP scenario plumbing: the API servers (kq's `dist/cli.js api`, the Fastify baseline), each in its own
 * process under cpu-reporting.mjs; the load generator (autocannon's CLI, its own process, the same for
 * every HTTP figure); and the in-process ceiling (inproc-add.mjs).
 */
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { KQ_CLI, KQ_HANDLERS, kqJobOptions } from './procs.mjs';
import { freePort } from './redis-server.mjs';

const here = import.meta.dirname;
const AUTOCANNON = resolve(here, '../node_modules/.bin/autocannon');
/** kq's API runs with auth on; every variant gets the same header, so the load is the same. */
export const BENCH_TOKEN = 'bench-token-0123456789abcdef';

/**
 * @param kind 'kq' | 'fastify' (baseline (a)) | 'coalescing' (baseline (c))
 * @param wrap a command the server runs under (`['valgrind', '--tool=callgrind', ...]`), with a longer
 *   `startMs` to listen in
 */
export async function startApi(kind, ctx, extraEnv = {}, { wrap = [], startMs = 20_000 } = {}) {
  const port = await freePort();
  const script =
    kind === 'kq'
      ? [KQ_CLI, 'api']
      : [resolve(here, kind === 'coalescing' ? 'baseline-coalescing-api.mjs' : 'baseline-api.mjs')];
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const argv = [process.execPath, ...nodeArgs, resolve(here, 'cpu-reporting.mjs'), ...script];
  const proc = spawn(wrap[0] ?? argv[0], [...wrap.slice(1), ...argv.slice(wrap.length ? 0 : 1)], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      PORT: String(port),
      HOST: '127.0.0.1',
      REDIS_URL: ctx.redisUrl,
      KQ_PREFIX: ctx.prefix,
      ...(kind === 'kq' ? { API_TOKENS: BENCH_TOKEN } : { AUTH: 'none' }),
      HANDLERS: KQ_HANDLERS,
      KQ_DIST: dirname(KQ_CLI),
      JOB_OPTIONS: JSON.stringify(await kqJobOptions()),
      ...(kind === 'kq' && process.env.BENCH_KQ_ENV ? JSON.parse(process.env.BENCH_KQ_ENV) : {}),
      ...extraEnv,
    },
    stdio: ['ignore', ctx.verbose ? 'inherit' : 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  proc.stderr.on('data', (c) => {
    stderr += c.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + startMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${kind} API exited at start: ${stderr.slice(-1500)}`);
    try {
      await fetch(`${url}/healthz`);
      break;
    } catch {
      if (Date.now() > deadline)
        throw new Error(`${kind} API did not listen within ${startMs / 1000} s: ${stderr.slice(-1500)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    pid: proc.pid,
    /** Sends `m` to cpu-reporting.mjs and resolves with its answer. */
    ask: (m) =>
      new Promise((res) => {
        proc.once('message', res);
        proc.send(m);
      }),
    /** CPU time (user + system) the server process has used so far, in ms. */
    cpuMs: () =>
      new Promise((res) => {
        proc.once('message', (m) => res((m.cpu.user + m.cpu.system) / 1000));
        proc.send('cpu');
      }),
    async stop() {
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Runs `command` to its end and resolves with its stdout parsed as JSON; rejects with its stderr's tail. */
function runForJson(name, command, args, options = {}) {
  return new Promise((res, rej) => {
    const p = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (c) => {
      out += c.toString();
    });
    p.stderr.on('data', (c) => {
      err += c.toString();
    });
    p.on('error', rej);
    p.on('exit', (code) => {
      if (code !== 0) return rej(new Error(`${name} exited ${code}: ${err.slice(-1000)}`));
      try {
        res(JSON.parse(out));
      } catch (e) {
        rej(new Error(`${name} output not JSON (${e.message}): ${out.slice(0, 500)}`));
      }
    });
  });
}

/** Runs autocannon (POST JSON) and returns its result: requests, latency percentiles, status counts. */
export function autocannon({ url, body, connections, seconds, rate, amount, timeoutS }) {
  const args = ['--json', '-c', String(connections), '-m', 'POST'];
  // `amount`: exactly that many requests, then stop (instruction counts); else for `seconds`.
  args.push(...(amount ? ['-a', String(amount)] : ['-d', String(seconds)]));
  if (timeoutS) args.push('-t', String(timeoutS));
  args.push('-H', 'content-type=application/json', '-H', `authorization=Bearer ${BENCH_TOKEN}`);
  args.push('-b', JSON.stringify(body));
  if (rate) args.push('-R', String(rate));
  args.push(url);
  return runForJson('autocannon', AUTOCANNON, args);
}

/** Redis's own CPU time so far (INFO `used_cpu_sys` + `used_cpu_user`, all its threads), in ms. */
export async function redisCpuMs(redis) {
  const info = await redis.info('cpu');
  const field = (name) => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
  return (field('used_cpu_sys') + field('used_cpu_user')) * 1000;
}

/**
 * Load with a warm-up, then the measured run; adds the server's CPU time per 1,000 stored jobs and, with
 * `redis` (a client of the bench's redis-server), Redis's own CPU time per 1,000 stored jobs over the run.
 */
export async function measure(
  server,
  { path, body, jobsPerRequest = 1, connections, seconds, rate, warmupSeconds = 1, redis },
) {
  const url = `${server.url}${path}`;
  if (warmupSeconds > 0) await autocannon({ url, body, connections, seconds: warmupSeconds, rate });
  const [cpu0, redisCpu0] = await Promise.all([server.cpuMs(), redis ? redisCpuMs(redis) : 0]);
  const r = await autocannon({ url, body, connections, seconds, rate });
  const [cpu1, redisCpu1] = await Promise.all([server.cpuMs(), redis ? redisCpuMs(redis) : 0]);
  const cpu = cpu1 - cpu0;
  const ok = r['2xx'];
  if (r.non2xx > 0 || r.errors > 0) {
    throw new Error(
      `${url}: ${r.non2xx} non-2xx answers and ${r.errors} errors under load (of ${r.requests.total})`,
    );
  }
  const jobs = ok * jobsPerRequest;
  return {
    jobsPerSec: jobs / r.duration,
    cpuMsPer1000Jobs: (cpu / jobs) * 1000,
    ...(redis ? { redisCpuMsPer1000Jobs: ((redisCpu1 - redisCpu0) / jobs) * 1000 } : {}),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
  };
}

/** The in-process ceiling: `queue.add` (or `addBulk` of `batch`) from `concurrency` loops. */
export async function inprocess(ctx, { concurrency, seconds, batch = 0, data }) {
  const r = await runForJson('inproc-add', process.execPath, [resolve(here, 'inproc-add.mjs')], {
    env: {
      PATH: process.env.PATH ?? '',
      REDIS_URL: ctx.redisUrl,
      KQ_PREFIX: ctx.prefix,
      CONCURRENCY: String(concurrency),
      DURATION_MS: String(seconds * 1000),
      WARMUP_MS: '1000',
      BATCH: String(batch),
      DATA: JSON.stringify(data),
      JOB_OPTIONS: JSON.stringify(await kqJobOptions()),
    },
  });
  return { jobsPerSec: r.jobs / r.seconds, cpuMsPer1000Jobs: (r.cpuMs / r.jobs) * 1000 };
}
