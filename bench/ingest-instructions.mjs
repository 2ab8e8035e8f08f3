// Instructions per accepted `POST /jobs`, kq's API against route (a) (bench/baseline-api.mjs), counted by
// valgrind's callgrind: an instruction count does not move with the load of a shared machine, as CPU
// time does. The request is the ingest scenario's (bench/scenarios/http-ingest.mjs: auth header, the
// `order` type).
//   node bench/ingest-instructions.mjs [--requests=3000] [--warmup=3000] [--connections=100]
//     [--only=kq,fastify,kq-single,coalescing] [--out=/tmp/kq-callgrind-api] [--save] [--label=...]
// Needs `valgrind` on PATH and a built dist/ (`npm run build`). In one private redis-server, for each
// server in turn: the server under callgrind; once it listens, `--warmup` requests (autocannon, its own
// process, outside valgrind) so V8 has compiled the hot paths; the counters are zeroed, exactly
// `--requests` requests are sent, the counters are dumped (both through bench/cpu-reporting.mjs) and the
// server stopped. Prints instructions per accepted request and the
// ratio to route (a), plus Redis's own CPU time per stored job over the measured requests (INFO
// `used_cpu_*`; Redis is not under valgrind, so this one is a time and moves with the load).
// `--save` appends the figures to bench/results.json under `ingestInstructions.runs`. The dumps stay in
// --out for `callgrind_annotate`.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { autocannon, redisCpuMs, startApi } from './http.mjs';
import { startRedisServer } from './redis-server.mjs';
import { BODY, CONNECTIONS, KQ_SINGLE_ENV } from './scenarios/http-ingest.mjs';

const arg = (name, dflt) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const REQUESTS = Number(arg('requests', '3000'));
const WARMUP = Number(arg('warmup', '3000'));
const CONNS = Number(arg('connections', String(CONNECTIONS)));
const OUT = resolve(arg('out', '/tmp/kq-callgrind-api'));
const ONLY = arg('only', 'kq,fastify').split(',');
const SAVE = process.argv.includes('--save');
const PREFIX = 'kqapiinstr';

function totalInstructions(file) {
  const m = /^(?:totals|summary):\s+(\d+)/m.exec(readFileSync(file, 'utf8'));
  if (!m) throw new Error(`no totals line in ${file}`);
  return Number(m[1]);
}

async function measure(redisServer, redis, variant) {
  for (const f of readdirSync(OUT)) if (f.startsWith(`callgrind.${variant}.out`)) rmSync(resolve(OUT, f));
  const kind = variant === 'kq-single' ? 'kq' : variant;
  const ctx = { redisUrl: redisServer.url, prefix: PREFIX, verbose: false };
  const wrap = [
    'valgrind',
    '--tool=callgrind',
    `--callgrind-out-file=${resolve(OUT, `callgrind.${variant}.out`)}`,
    '--smc-check=all',
    // cpu-reporting.mjs calls these on 'zero' and 'dump' (callgrind_control cannot reach a server
    // blocked in epoll_wait here).
    '--zero-before=uv_os_getpriority',
    '--dump-before=uv_get_available_memory',
  ];
  const server = await startApi(kind, ctx, variant === 'kq-single' ? KQ_SINGLE_ENV : {}, {
    wrap,
    startMs: 900_000,
  });
  try {
    const url = `${server.url}/jobs`;
    // Under valgrind a request can outwait autocannon's timeout: a few errors (<= 1 %) are tolerated and
    // the count is divided by the requests answered 2xx; any non-2xx answer fails the run.
    const load = (amount) =>
      autocannon({ url, body: BODY, connections: CONNS, amount, timeoutS: 120 }).then((r) => {
        if (r.non2xx > 0 || r.errors > amount / 100)
          throw new Error(`${variant}: ${r['2xx']} of ${amount} answered 2xx (${r.errors} errors)`);
        return r['2xx'];
      });
    await load(WARMUP);
    await server.ask('zero');
    const cpu0 = await redisCpuMs(redis);
    const accepted = await load(REQUESTS);
    const redisMs = (await redisCpuMs(redis)) - cpu0;
    const dumps = () => readdirSync(OUT).filter((f) => f.startsWith(`callgrind.${variant}.out.`));
    const before = dumps().length;
    await server.ask('dump');
    // The dump asked for must be a new one: a trigger that fired only at start would leave the count
    // of the start-up in the last file.
    if (dumps().length !== before + 1) throw new Error(`${variant}: 'dump' wrote no new callgrind dump`);
    // The last dump is the one asked for (`.1`, `.2`, ...).
    const dump = dumps()
      .sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()))
      .pop();
    if (!dump) throw new Error(`${variant}: no callgrind dump in ${OUT}`);
    const instructions = totalInstructions(resolve(OUT, dump));
    return {
      accepted,
      perRequest: Math.round(instructions / accepted),
      redisCpuMsPer1000Jobs: Number(((redisMs / accepted) * 1000).toFixed(1)),
    };
  } finally {
    await server.stop();
    await redis.flushall();
  }
}

mkdirSync(OUT, { recursive: true });
const redisServer = await startRedisServer();
const redis = redisServer.client();
try {
  const figures = {};
  for (const variant of ONLY) figures[variant] = await measure(redisServer, redis, variant);
  const base = figures.fastify?.perRequest;
  const result = {
    requests: REQUESTS,
    warmupRequests: WARMUP,
    connections: CONNS,
    figures,
    ratios: base
      ? Object.fromEntries(
          Object.entries(figures).map(([v, f]) => [v, Number((f.perRequest / base).toFixed(3))]),
        )
      : undefined,
    node: process.version,
    cpu: cpus()[0]?.model,
    loadAverage: loadavg()[0],
    date: new Date().toISOString(),
  };
  console.log(JSON.stringify(result, null, 2));
  if (SAVE) {
    const file = resolve(import.meta.dirname, 'results.json');
    const all = JSON.parse(readFileSync(file, 'utf8'));
    all.ingestInstructions ??= {
      note: 'bench/ingest-instructions.mjs: callgrind instructions per accepted POST /jobs, kq vs route (a)',
      runs: [],
    };
    all.ingestInstructions.runs.push({ label: arg('label', ''), ...result });
    writeFileSync(file, `${JSON.stringify(all, null, 2)}\n`);
  }
} finally {
  redis.disconnect();
  await redisServer.stop();
}
process.exit(0);
