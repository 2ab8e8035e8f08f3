// Two builds of kq against each other in instructions: build A (`--a`, default dist/) and build B (`--b`)
// take turns running one callgrind script for kq's side only, KQ_DIST naming the build, in the order
// A B B A A B B A ..., `--runs` counts each. Instruction counts do not move with the machine's load, but
// they do move a little from run to run (when V8 compiles, when GC falls in the window): the spread of
// A's runs (the A/A control) is what a difference between A and B must exceed to mean anything.
//   node bench/instructions-ab.mjs --b=<other build>/dist [--a=dist] [--script=ingest|worker] [--runs=5]
//     [--save --key=<results.json key> --label=<what B is> --note=<...>] [-- <the script's own options>]
// `ingest` runs bench/ingest-instructions.mjs (instructions per accepted POST /jobs), `worker` runs
// bench/instructions.mjs (instructions per job); options after `--` go to that script (e.g.
// `-- --requests=600 --warmup=800 --connections=20`). Prints every count, each side's median, min-max
// and spread ((max - min) / median), and B's median against A's; `--save` appends them to
// bench/results.json under `--key`.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { arg, finishRun } from './callgrind.mjs';
import { summarize } from './stats.mjs';

const here = import.meta.dirname;
const SCRIPTS = {
  ingest: {
    file: 'ingest-instructions.mjs',
    unit: "instructions per accepted POST /jobs, kq's API",
    figure: (r) => r.figures.kq.perRequest,
  },
  worker: {
    file: 'instructions.mjs',
    unit: "instructions per job, kq's worker",
    figure: (r) => r.kqInstructionsPerJob,
  },
};
const script = SCRIPTS[arg('script', 'ingest')];
if (!script) throw new Error(`--script=${arg('script', '')}: one of ${Object.keys(SCRIPTS).join(', ')}`);
const RUNS = Number(arg('runs', '5'));
if (!Number.isInteger(RUNS) || RUNS < 1)
  throw new Error(`--runs=${arg('runs', '')}: must be a whole number >= 1, e.g. --runs=5`);
const builds = { A: resolve(arg('a', resolve(here, '../dist'))), B: arg('b', '') && resolve(arg('b', '')) };
if (!builds.B) throw new Error('--b=<build>/dist is required: the build to count against --a');
const KEY = arg('key', '');
if (process.argv.includes('--save') && !KEY)
  throw new Error('--save needs --key=<results.json key>, e.g. --key=otelOffIngest');
const dash = process.argv.indexOf('--');
const passed = dash < 0 ? [] : process.argv.slice(dash + 1);

/** One count of `build` (kq's side only): the script's printed result. */
function count(build) {
  const out = mkdtempSync(join(tmpdir(), 'kq-callgrind-ab-'));
  const argv = [resolve(here, script.file), '--only=kq', `--out=${out}`, ...passed];
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, argv, {
      env: { ...process.env, KQ_DIST: build },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    p.stdout.on('data', (c) => {
      stdout += c;
    });
    p.on('error', rej);
    p.on('exit', (code) => {
      rmSync(out, { recursive: true, force: true });
      if (code !== 0) return rej(new Error(`${script.file} (KQ_DIST=${build}) exited ${code}`));
      try {
        res(JSON.parse(stdout));
      } catch (e) {
        rej(new Error(`${script.file} printed no JSON result (${e.message}): ${stdout.slice(0, 500)}`));
      }
    });
  });
}

// A B B A A B ...: each pair swaps who goes first, so a drift over the session falls on both sides alike.
const order = Array.from({ length: RUNS }, (_, i) => (i % 2 === 0 ? 'AB' : 'BA')).join('');
const counts = { A: [], B: [] };
for (const [i, side] of [...order].entries()) {
  const t0 = Date.now();
  const figure = script.figure(await count(builds[side]));
  counts[side].push(figure);
  const s = Math.round((Date.now() - t0) / 1000);
  console.error(`${i + 1}/${order.length} ${side}: ${figure.toLocaleString('en-US')} (${s} s)`);
}
const side = (name) => {
  const { median, min, max } = summarize(counts[name]);
  const spreadPercent = Number((((max - min) / median) * 100).toFixed(2));
  return { build: builds[name], median, min, max, spreadPercent, runs: counts[name] };
};
const a = side('A');
const b = side('B');
const result = {
  script: script.file,
  unit: script.unit,
  options: passed.join(' '),
  order,
  a,
  b,
  bVsAPercent: Number((((b.median - a.median) / a.median) * 100).toFixed(2)),
};
finishRun(KEY, arg('note', ''), result);
