// Cold start in instructions: spawn -> first handler start of kq's worker (`EXIT=1`, one waiting job, as
// the `cold-start` scenario) against the plain BullMQ worker script, counted by valgrind's callgrind, so
// the figure does not move with the load of a shared machine as wall time does.
//   node bench/cold-start-instructions.mjs [--rounds=3] [--out=<dir>] [--keep] [--save --label=<build>]
// Needs `valgrind` on PATH and a built dist/ (`npm run build`; KQ_DIST=<other build>/dist counts another
// build, as in bench/procs.mjs). In one private redis-server, each worker process runs under callgrind
// with bench/exit-at-stamp.mjs preloaded: it ends the process right after the handler's first stamp, so
// callgrind's count over the whole process (all threads) is spawn -> first handler, nothing after.
// kq's CLI turns on Node's compile cache (in os.tmpdir(): here a private TMPDIR, empty at the start).
// The first kq run fills it; it is counted and reported apart (`kqColdCache`), never in the medians. Then
// `--rounds` rounds run kq and the plain script interleaved (kq first in even rounds, second in odd
// ones). Every counted kq run must leave the cache unchanged (no entry written: every module was read
// from it), else the run is marked `cacheWritten` and the report says so. kq's Redis timers run on the
// wall clock while callgrind slows the process down: a kq run whose log has a warning or an error line (a
// command timed out, a reconnect) is listed in `warnedRuns` and counted again (twice at most): its count
// is not what a native start does. Prints medians and min-max in
// millions of instructions; `--save` appends them to bench/results.json under
// `coldStartInstructions.runs`, `--label=...` naming the build. `--keep` keeps the dumps in --out for
// `callgrind_annotate`.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Queue } from 'bullmq';
import { arg, callgrind, finishRun, totalInstructions } from './callgrind.mjs';
import { KQ_CLI, spawnWorker } from './procs.mjs';
import { startRedisServer } from './redis-server.mjs';

const ROUNDS = Number(arg('rounds', '3'));
// A private directory unless --out names one: a shared /tmp path can be cleaned under a running count.
const OUT = resolve(arg('out', '') || mkdtempSync(join(tmpdir(), 'kq-callgrind-cold-')));
const KEEP = process.argv.includes('--keep');
const PREFIX = 'kqcold';
const EXIT_AT_STAMP = resolve(import.meta.dirname, 'exit-at-stamp.mjs');
// Under callgrind a start runs many times slower than natively, and slower again on a loaded machine.
const RUN_TIMEOUT_MS = 600_000;

if (!Number.isInteger(ROUNDS) || ROUNDS < 1)
  throw new Error(`--rounds=${arg('rounds', '')}: must be a whole number >= 1, e.g. --rounds=3`);

/** Every file of the compile cache with its size and mtime: a run that writes an entry changes this. */
function cacheSnapshot(dir) {
  let files;
  try {
    files = readdirSync(dir, { recursive: true });
  } catch {
    return '';
  }
  return files
    .sort()
    .map((f) => {
      const s = statSync(join(dir, f));
      return `${f}:${s.size}:${s.mtimeMs}`;
    })
    .join('\n');
}

const redis = await startRedisServer();
const conn = redis.client();
const tmp = mkdtempSync(join(tmpdir(), 'kq-cold-tmp-'));
const cacheDir = join(tmp, 'node-compile-cache');
mkdirSync(OUT, { recursive: true });

let seq = 0;
/** One worker start under callgrind: instructions from spawn to the end of the first handler stamp. */
async function countStart(kind) {
  const name = `cold-${kind}-${seq++}`;
  const queue = new Queue(name, { connection: conn, prefix: PREFIX });
  await queue.add('stamp', { t: 0 });
  const outFile = join(OUT, `callgrind.cold.${name}.out`);
  const env = { REDIS_URL: redis.url, QUEUE: name, KQ_PREFIX: PREFIX, CONCURRENCY: '1', TMPDIR: tmp };
  // kq's Redis timers are wall-clock (REDIS_DOWN_TIMEOUT_MS, 1 s command timeouts) and callgrind slows the
  // process down many times: a start that waits too long on Redis is not a Redis outage here.
  if (kind === 'kq') Object.assign(env, { EXIT: '1', REDIS_DOWN_TIMEOUT_MS: '3600000' });
  const worker = spawnWorker(kind, env, {
    launcher: callgrind(outFile),
    nodeArgs: ['--import', EXIT_AT_STAMP],
    keepStdout: true,
  });
  // 'close' comes after 'exit' and after fd 3's last data, so the stamp is in by then.
  const closed = new Promise((r) => worker.proc.once('close', r));
  const killer = setTimeout(() => worker.proc.kill('SIGKILL'), RUN_TIMEOUT_MS);
  try {
    await closed;
    const exit = await worker.exited;
    if (exit.code !== 0 || worker.stamps.length !== 1)
      throw new Error(
        `${kind}: exit ${exit.code ?? exit.signal}, ${worker.stamps.length} stamps: ${worker.stdout().slice(-1500)}${worker.stderr().slice(-1500)}`,
      );
    // A warning or error line from kq (a timed-out command, a reconnect) means the start took a
    // path it does not take at native speed, and its extra instructions are in the count.
    const warnings = worker
      .stdout()
      .split('\n')
      .filter((l) => /"level":"(warn|error|fatal)"/.test(l));
    return { instructions: totalInstructions(outFile), warnings };
  } finally {
    clearTimeout(killer);
    if (!KEEP) rmSync(outFile, { force: true });
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
}

const summary = (runs) => {
  const sorted = [...runs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { runs, median, min: sorted[0], max: sorted.at(-1) };
};
const millions = (n) => Number((n / 1e6).toFixed(1));

try {
  const first = await countStart('kq');
  const kqColdCache = first.instructions;
  const warned = first.warnings.length > 0 ? [{ round: 'cold', kind: 'kq', kept: true }] : [];
  const cacheEntries = cacheSnapshot(cacheDir).split('\n').filter(Boolean).length;
  const kq = [];
  const bullmq = [];
  const cacheWritten = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? ['kq', 'bullmq'] : ['bullmq', 'kq'];
    for (const kind of order) {
      const before = cacheSnapshot(cacheDir);
      let { instructions: ir, warnings } = await countStart(kind);
      // Counted again (twice at most) when the slowed start hit one of kq's wall-clock Redis timeouts.
      for (let retry = 0; warnings.length > 0 && retry < 2; retry++) {
        warned.push({ round, kind, instructions: millions(ir), warning: warnings[0]?.slice(0, 300) });
        console.error(`round ${round} ${kind}: ${millions(ir)} M, logged a warning; counted again`);
        ({ instructions: ir, warnings } = await countStart(kind));
      }
      if (warnings.length > 0) warned.push({ round, kind, instructions: millions(ir), kept: true });
      if (kind === 'kq') {
        kq.push(ir);
        if (cacheSnapshot(cacheDir) !== before) cacheWritten.push(round);
      } else bullmq.push(ir);
      console.error(`round ${round} ${kind}: ${millions(ir)} M instructions`);
    }
  }
  const k = summary(kq);
  const b = summary(bullmq);
  const result = {
    unit: 'million instructions, spawn -> first handler start',
    rounds: ROUNDS,
    kq: { median: millions(k.median), min: millions(k.min), max: millions(k.max), runs: kq.map(millions) },
    bullmq: {
      median: millions(b.median),
      min: millions(b.min),
      max: millions(b.max),
      runs: bullmq.map(millions),
    },
    ratio: Number((k.median / b.median).toFixed(3)),
    // 'warm': the first kq run wrote the cache and no counted run wrote to it; 'none': the build does not
    // turn the cache on (nothing was written); 'partly': some counted runs still wrote entries.
    compileCache: cacheEntries === 0 ? 'none' : cacheWritten.length === 0 ? 'warm' : 'partly',
    compileCacheEntries: cacheEntries,
    ...(cacheWritten.length > 0 ? { cacheWrittenInRounds: cacheWritten } : {}),
    // Runs whose worker logged a warning or an error (see countStart), counted again; `kept`: still in.
    ...(warned.length > 0 ? { warnedRuns: warned } : {}),
    kqColdCache: millions(kqColdCache),
    kqBuild: KQ_CLI,
  };
  finishRun(
    'coldStartInstructions',
    'bench/cold-start-instructions.mjs (docs/performance.md, "Cold start")',
    result,
  );
} finally {
  conn.disconnect();
  await redis.stop();
  rmSync(tmp, { recursive: true, force: true });
  if (!KEEP && !arg('out', '')) rmSync(OUT, { recursive: true, force: true });
}
// The queues' connections would retry the stopped server.
process.exit(0);
