/**
 * `npm run build && node bench/waiters.mjs [--waiters=2000] [--hold-ms=10000]`: many concurrent
 * `GET /jobs/:id?wait=60` on ONE `kq api` process (a private redis-server), then a `kq worker` completes
 * their jobs. Reports the API's RSS growth and CPU while the waiters arrive, while they are held, and while
 * they are answered, and Redis' connected clients before and during the hold (the waiters share one
 * reader per queue). Replaces only the `waiters` entry of bench/results.json. Not part of --quick.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { BENCH_TOKEN } from './http.mjs';
import { KQ_CLI, KQ_HANDLERS } from './procs.mjs';
import { freePort, startRedisServer } from './redis-server.mjs';

const here = import.meta.dirname;
const arg = (name, def) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? def);
const WAITERS = arg('waiters', 2000);
const HOLD_MS = arg('hold-ms', 10_000);
const QUEUE = 'waiters';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** RSS (bytes) and CPU (ms, user + system) of a process, from /proc. */
function usage(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rss, cpuMs: ticks * 10 };
}

const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });

function call(port, method, path, body) {
  return new Promise((resolveCall, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: {
          authorization: `Bearer ${BENCH_TOKEN}`,
          ...(payload
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
            : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolveCall({ status: res.statusCode, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

function spawnKq(args, env) {
  return spawn(process.execPath, [KQ_CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function main() {
  const load = [loadavg()[0]];
  const redisServer = await startRedisServer();
  const redis = redisServer.client();
  const port = await freePort();
  const api = spawnKq(['api'], {
    PORT: String(port),
    HOST: '127.0.0.1',
    REDIS_URL: redisServer.url,
    API_TOKENS: BENCH_TOKEN,
    HANDLERS: KQ_HANDLERS,
    MAX_CONNECTIONS: String(WAITERS + 100),
  });
  for (let i = 0; ; i++) {
    try {
      await call(port, 'GET', '/healthz');
      break;
    } catch (err) {
      if (i > 400) throw err;
      await sleep(50);
    }
  }
  const ids = [];
  for (let i = 0; i < WAITERS; i += 1000) {
    const jobs = Array.from({ length: Math.min(1000, WAITERS - i) }, () => ({
      type: 'noop',
      queue: QUEUE,
      data: {},
    }));
    const res = await call(port, 'POST', '/jobs/batch', { jobs });
    if (res.status !== 202) throw new Error(`batch: ${res.status} ${JSON.stringify(res.body)}`);
    ids.push(...res.body.ids);
  }
  // Warm the route (JIT, one reader) with one short wait, so the figures are the waiters' own.
  await call(port, 'GET', `/jobs/${ids[0]}?wait=0.1`);
  await sleep(1000);
  const clients = async () => Number(/connected_clients:(\d+)/.exec(await redis.info('clients'))?.[1]);
  const idle = { ...usage(api.pid), redisClients: await clients() };

  const answers = ids.map((id) => call(port, 'GET', `/jobs/${id}?wait=60`));
  // Arrival: every request sent and taken in (a bench, not a test: a settle time is fine here).
  await sleep(3000);
  const held = { ...usage(api.pid), redisClients: await clients() };
  await sleep(HOLD_MS);
  const afterHold = usage(api.pid);

  const worker = spawnKq(['worker'], {
    REDIS_URL: redisServer.url,
    QUEUE,
    HANDLERS: KQ_HANDLERS,
    HEALTH_PORT: '0',
    CONCURRENCY: '50',
  });
  const workStart = Date.now();
  const results = await Promise.all(answers);
  const answeredMs = Date.now() - workStart;
  const done = usage(api.pid);
  const completed = results.filter((r) => r.status === 200 && r.body.status === 'completed').length;
  load.push(loadavg()[0]);

  worker.kill('SIGTERM');
  api.kill('SIGTERM');
  await Promise.all([new Promise((r) => worker.once('exit', r)), new Promise((r) => api.once('exit', r))]);
  agent.destroy();
  redis.disconnect();
  await redisServer.stop();

  const mib = (b) => Number((b / 1048576).toFixed(1));
  const figures = {
    waiters: WAITERS,
    completed,
    rssIdleMiB: mib(idle.rss),
    rssHeldMiB: mib(held.rss),
    rssGrowthMiB: mib(held.rss - idle.rss),
    rssGrowthBytesPerWaiter: Math.round((held.rss - idle.rss) / WAITERS),
    cpuMsArrival: held.cpuMs - idle.cpuMs,
    cpuMsPerSecondHeld: Number(((afterHold.cpuMs - held.cpuMs) / (HOLD_MS / 1000)).toFixed(1)),
    cpuMsAnswering: done.cpuMs - afterHold.cpuMs,
    answeredAllMs: answeredMs,
    redisClientsIdle: idle.redisClients,
    redisClientsHeld: held.redisClients,
  };
  const out = resolve(here, 'results.json');
  const all = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : {};
  all.waiters = {
    date: new Date().toISOString(),
    loadAverage: load.map((x) => Number(x.toFixed(2))),
    holdMs: HOLD_MS,
    figures,
  };
  writeFileSync(out, `${JSON.stringify(all, null, 2)}\n`);
  console.log(JSON.stringify(all.waiters));
  if (completed !== WAITERS) throw new Error(`${WAITERS - completed} waiters did not answer completed`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
