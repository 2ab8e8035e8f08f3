// Instructions per accepted `POST /jobs`, kq's API against route (a) (bench/baseline-api.mjs), counted by
// valgrind's callgrind: an instruction count does not move with the load of a shared machine, as CPU
// time does. The request is the ingest scenario's (bench/scenarios/http-ingest.mjs: auth header, the
// `order` type).
//   node bench/ingest-instructions.mjs [--requests=3000] [--warmup=3000] [--connections=100]
//     [--only=kq,fastify,kq-single,coalescing] [--out=/tmp/kq-callgrind-api] [--save] [--label=...]
// Needs `valgrind` on PATH and a built dist/ (`npm run build`; KQ_DIST=<other build>/dist counts another
// build, as in bench/procs.mjs, and the run records it as `kqBuild`). In one private redis-server, for each
// server in turn: the server under callgrind; once it listens, `--warmup` requests (autocannon, its own
// process, outside valgrind) so V8 has compiled the hot paths; the counters are zeroed, exactly
// `--requests` requests are sent, the counters are dumped (both through bench/cpu-reporting.mjs) and the
// server stopped. Prints instructions per accepted request and the
// ratio to route (a), plus Redis's own CPU time per stored job over the measured requests (INFO
// `used_cpu_*`; Redis is not under valgrind, so this one is a time and moves with the load).
// `--save` appends the figures to bench/results.json under `ingestInstructions.runs`. The dumps stay in
// --out for `callgrind_annotate`.
import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { arg, callgrind, finishRun, lastDump, totalInstructions } from './callgrind.mjs';
import { autocannon, redisCpuMs, startApi } from './http.mjs';
import { KQ_CLI } from './procs.mjs';
import { startRedisServer } from './redis-server.mjs';
import { BODY, CONNECTIONS, KQ_SINGLE_ENV } from './scenarios/http-ingest.mjs';

const REQUESTS = Number(arg('requests', '3000'));
const WARMUP = Number(arg('warmup', '3000'));
const CONNS = Number(arg('connections', String(CONNECTIONS)));
const OUT = resolve(arg('out', '/tmp/kq-callgrind-api'));
const ONLY = arg('only', 'kq,fastify').split(',');
const PREFIX = 'kqapiinstr';

async function measure(redisServer, redis, variant) {
  const kind = variant === 'kq-single' ? 'kq' : variant;
  const ctx = { redisUrl: redisServer.url, prefix: PREFIX, verbose: false };
  // cpu-reporting.mjs calls uv_os_getpriority on 'zero' and 'dump' (callgrind_control cannot reach a
  // server blocked in epoll_wait here).
  const outFile = resolve(OUT, `callgrind.${variant}.out`);
  const wrap = callgrind(outFile, '--dump-before=uv_os_getpriority');
  // Under valgrind one Redis round trip can outlast kq's default 5 s deadline (a 503, not a figure).
  const env = kind === 'kq' ? { REQUEST_TIMEOUT_MS: '600000' } : {};
  const server = await startApi(kind, ctx, variant === 'kq-single' ? { ...env, ...KQ_SINGLE_ENV } : env, {
    wrap,
    startMs: 900_000,
  });
  try {
    const url = `${server.url}/jobs`;
    // Under valgrind a request can outwait autocannon's timeout: a few errors (<= 1 %) are tolerated and
    // the count is divided by the requests answered 2xx; any non-2xx answer fails the run.
    const load = (amount) =>
      autocannon({ url, body: BODY, connections: CONNS, amount, timeoutS: 900 }).then((r) => {
        if (r.non2xx > 0 || r.errors > amount / 100)
          throw new Error(`${variant}: ${r['2xx']} of ${amount} answered 2xx (${r.errors} errors)`);
        return r['2xx'];
      });
    await load(WARMUP);
    await server.ask('zero');
    const cpu0 = await redisCpuMs(redis);
    const accepted = await load(REQUESTS);
    const redisMs = (await redisCpuMs(redis)) - cpu0;
    await server.ask('dump');
    // The last dump (`.1`, `.2`, ...) is the window from 'zero' to 'dump'; check it was that one.
    const dump = lastDump(outFile);
    if (!/Trigger: --dump-before=uv_os_getpriority/.test(readFileSync(dump, 'utf8')))
      throw new Error(`${variant}: ${dump} is not the dump asked for`);
    const instructions = totalInstructions(dump);
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
    kqBuild: KQ_CLI,
  };
  finishRun(
    'ingestInstructions',
    'bench/ingest-instructions.mjs: callgrind instructions per accepted POST /jobs, kq vs route (a) (docs/performance.md, "Ingest")',
    result,
  );
} finally {
  redis.disconnect();
  await redisServer.stop();
}
process.exit(0);
