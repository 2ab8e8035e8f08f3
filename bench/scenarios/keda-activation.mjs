/**
 * KEDA activation: a job is added to an idle queue -> `kq keda-scaler` pushes `true` on StreamIsActive
 * (what wakes KEDA's scale-from-zero). Measured over many trials, with 100 queues watched by the same
 * scaler process (one StreamIsActive each, as 100 ScaledObjects would hold), through a gRPC client built
 * from KEDA's own externalscaler.proto. Each trial: add one job, wait for `true`, remove the job, wait
 * for `false`, pause a random 0-50 ms (so trials are not phase-locked with any timer).
 *
 * Baseline: KEDA's `redis` trigger reads the list on its polling interval, so a job arriving at a random
 * moment waits U(0, pollingInterval) for it: median P/2, p99 0.99 P. Computed, not measured (no KEDA
 * here), for the default 30 s and a tight 5 s. The scaler's CPU (idle with 100 queues watched, then
 * while ~1,000 jobs/s are added across them) and RSS come from /proc.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { KQ_CLI } from '../procs.mjs';
import { percentile } from '../stats.mjs';

const PROTO = resolve(import.meta.dirname, '../../../shared/specs/keda/externalscaler.proto');
const QUEUES = 100;

function startScaler(redisUrl) {
  const proc = spawn(process.execPath, [KQ_CLI, 'keda-scaler'], {
    env: { PATH: process.env.PATH ?? '', REDIS_URL: redisUrl, SCALER_PORT: '0', HEALTH_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listening = new Promise((resolveListen, reject) => {
    proc.stdout.on('data', (c) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.includes('"keda-scaler.listening"'));
      if (line) resolveListen(JSON.parse(line));
    });
    proc.stderr.on('data', (c) => {
      out += c.toString();
    });
    proc.once('exit', (code) => reject(new Error(`kq keda-scaler exited ${code}: ${out.slice(-1000)}`)));
  });
  const cpuMs = () => {
    const f = readFileSync(`/proc/${proc.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  };
  const rssMiB = () =>
    Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))?.[1]) / 1024;
  const stop = () =>
    new Promise((r) => {
      if (proc.exitCode !== null) return r();
      proc.once('exit', r);
      proc.kill('SIGTERM');
    });
  return { listening, cpuMs, rssMiB, stop };
}

function openStream(client, queue) {
  const stream = client.StreamIsActive({ name: queue, namespace: 'bench', scalerMetadata: { queue } });
  const s = { results: [], waiter: undefined };
  stream.on('data', (m) => {
    s.results.push({ result: m.result, at: performance.now() });
    s.waiter?.();
  });
  stream.on('error', () => undefined);
  s.cancel = () => stream.cancel();
  /** Resolves with the arrival time of the first `value` pushed after index `from`. */
  s.next = (value, from, timeoutMs = 10_000) =>
    new Promise((res, rej) => {
      const deadline = setTimeout(
        () => rej(new Error(`no ${value} pushed within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const check = () => {
        const hit = s.results.slice(from).find((r) => r.result === value);
        if (!hit) return;
        clearTimeout(deadline);
        s.waiter = undefined;
        res(hit.at);
      };
      s.waiter = check;
      check();
    });
  return s;
}

async function runKq(ctx) {
  const trials = ctx.quick ? 20 : 300;
  const scaler = startScaler(ctx.redisUrl);
  const { port } = await scaler.listening;
  const pkg = grpc.loadPackageDefinition(loadSync(PROTO, { keepCase: true, defaults: true }));
  const client = new pkg.externalscaler.ExternalScaler(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  );
  const names = Array.from({ length: QUEUES }, (_, i) => ctx.queueName('keda', `q${i}`));
  const queues = names.map((n) => ctx.queue(n));
  await Promise.all(queues.map((q) => q.waitUntilReady()));
  const streams = names.map((n) => openStream(client, n));
  await Promise.all(streams.map((s) => s.next(false, 0)));

  // Idle: 100 queues watched, nothing happening (event-stream reads, due timers, the 5 s safety poll).
  const idleMs = ctx.quick ? 2000 : 15_000;
  const cpu0 = scaler.cpuMs();
  await new Promise((r) => setTimeout(r, idleMs));
  const idleCpuPercent = ((scaler.cpuMs() - cpu0) / idleMs) * 100;

  const latencies = [];
  const q = queues[0];
  const s = streams[0];
  for (let i = 0; i < trials; i++) {
    const from = s.results.length;
    const t0 = performance.now();
    const job = await q.add('noop', {});
    latencies.push((await s.next(true, from)) - t0);
    const from2 = s.results.length;
    await job.remove();
    await s.next(false, from2);
    await new Promise((r) => setTimeout(r, Math.random() * 50));
  }
  // Busy: 1,000 jobs/s spread over the 100 queues (each add is an event the scaler reads on).
  const busyMs = ctx.quick ? 1000 : 5000;
  const cpu1 = scaler.cpuMs();
  const busyStart = Date.now();
  let added = 0;
  while (Date.now() - busyStart < busyMs) {
    const tick = Date.now();
    await Promise.all(Array.from({ length: 10 }, () => queues[added++ % QUEUES].add('noop', {})));
    await new Promise((r) => setTimeout(r, Math.max(0, 10 - (Date.now() - tick))));
  }
  const busyCpuPercent = ((scaler.cpuMs() - cpu1) / (Date.now() - busyStart)) * 100;
  const busyJobsPerSecond = (added / (Date.now() - busyStart)) * 1000;
  const rssMiB = scaler.rssMiB();
  for (const st of streams) st.cancel();
  client.close();
  await scaler.stop();
  await Promise.all(queues.map((qq) => qq.obliterate({ force: true }).catch(() => undefined)));
  latencies.sort((a, b) => a - b);
  return {
    activationMedianMs: percentile(latencies, 50),
    activationP99Ms: percentile(latencies, 99),
    idleCpuPercent,
    busyCpuPercent,
    busyJobsPerSecond,
    rssMiB,
  };
}

/** KEDA redis trigger: delay U(0, P) for a job arriving at a random moment of the polling cycle. */
const computed = (pollingSeconds) => ({
  activationMedianMs: (pollingSeconds * 1000) / 2,
  activationP99Ms: pollingSeconds * 1000 * 0.99,
  idleCpuPercent: Number.NaN,
  busyCpuPercent: Number.NaN,
  busyJobsPerSecond: Number.NaN,
  rssMiB: Number.NaN,
});

async function run(ctx, variant) {
  if (variant === 'kq') return runKq(ctx);
  return computed(variant === 'keda-redis-30s' ? 30 : 5);
}

const activation = (stat, baseline, seconds, target, met) => ({
  scenario: `KEDA activation, job added to idle queue -> StreamIsActive true, ${stat} (ms)`,
  figure: stat === 'median' ? 'activationMedianMs' : 'activationP99Ms',
  baseline,
  baselineName: `redis trigger, pollingInterval ${seconds} s (computed)`,
  target,
  ...(met ? { met } : {}),
});

export default {
  id: 'keda-activation',
  available: async () => existsSync(PROTO),
  unavailableReason: `KEDA's externalscaler.proto is not at ${PROTO} (shared/specs beside the clone)`,
  variants: ['kq', 'keda-redis-30s', 'keda-redis-5s'],
  run,
  rows: () => [
    activation('median', 'keda-redis-30s', 30, '-'),
    activation('p99', 'keda-redis-30s', 30, '<= 100 ms', (k) => k <= 100),
    activation('p99', 'keda-redis-5s', 5, '<= 100 ms', (k) => k <= 100),
    {
      scenario: `keda-scaler CPU, idle, ${QUEUES} queues watched (% of one core)`,
      figure: 'idleCpuPercent',
      target: '-',
    },
    {
      scenario: `keda-scaler CPU, ~1,000 jobs/s added over ${QUEUES} queues (% of one core)`,
      figure: 'busyCpuPercent',
      target: '-',
    },
    { scenario: 'jobs/s actually added in that window', figure: 'busyJobsPerSecond', target: '-' },
    {
      scenario: `keda-scaler RSS, ${QUEUES} queues watched (MiB)`,
      figure: 'rssMiB',
      target: '<= 128 MiB',
      met: (k) => k <= 128,
    },
  ],
};
