/**
 * What the callgrind benchmarks share (bench/instructions.mjs, cold-start-instructions.mjs,
 * ingest-instructions.mjs, instructions-ab.mjs): the valgrind command line, the instruction total of a dump,
 * the dump a zero -> dump window wrote, and saving a labelled run to bench/results.json under the
 * script's own key, next to the other scripts' figures.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import { promisify } from 'node:util';

const RESULTS = resolve(import.meta.dirname, 'results.json');
const execFileAsync = promisify(execFile);

/** `--name=value` from this process's argv, else `dflt`. */
export const arg = (name, dflt) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;

/**
 * The launcher that runs a process under callgrind, writing its counts to `outFile` (and `outFile.1`,
 * `.2`, ... for each dump asked for on the way); removes what an earlier count left at `outFile` first,
 * so the dumps found there afterwards are this count's. `--smc-check=all`: V8 runs code it has just written.
 * @example const [cmd, ...args] = callgrind('/tmp/x/callgrind.kq.out'); spawn(cmd, [...args, 'app.js'])
 */
export function callgrind(outFile, ...extra) {
  const name = basename(outFile);
  for (const f of readdirSync(dirname(outFile))) if (f.startsWith(name)) rmSync(resolve(dirname(outFile), f));
  return ['valgrind', '--tool=callgrind', `--callgrind-out-file=${outFile}`, '--smc-check=all', ...extra];
}

/** Zeroes (`'zero'`) or dumps (`'dump'`) the counters of process `pid`, which runs under callgrind. */
export const callgrindControl = (pid, what) =>
  execFileAsync('callgrind_control', [what === 'zero' ? '-z' : '-d', String(pid)]);

/** Total `Ir` (instructions executed) of a callgrind dump file. */
export function totalInstructions(file) {
  const m = /^(?:totals|summary):\s+(\d+)/m.exec(readFileSync(file, 'utf8'));
  if (!m) throw new Error(`no totals line in ${file}`);
  return Number(m[1]);
}

/**
 * The path of the last numbered dump of the count written to `outFile` (`outFile.1`, `.2`, ...): the
 * window between the last zero and the dump asked for. Throws when there is none.
 */
export function lastDump(outFile) {
  const name = `${basename(outFile)}.`;
  const file = readdirSync(dirname(outFile))
    .filter((f) => f.startsWith(name) && /^\d+$/.test(f.slice(name.length)))
    .sort((a, b) => Number(a.slice(name.length)) - Number(b.slice(name.length)))
    .pop();
  if (!file) throw new Error(`no callgrind dump ${name}<n> in ${dirname(outFile)}`);
  return resolve(dirname(outFile), file);
}

/** The fields every saved run ends with: Node, CPU model, load average and time of the count. */
export const machineFields = () => ({
  node: process.version,
  cpu: cpus()[0]?.model,
  loadAverage: loadavg()[0],
  date: new Date().toISOString(),
});

/**
 * Appends `{ label, ...result }` to `results.json[key].runs`; `note` (what wrote the runs and where the
 * docs quote them) is set when the key is new. The other keys of the file stay as they are.
 * @example saveRun('instructionsPerJob', { note: 'bench/instructions.mjs', label: 'main', result })
 */
export function saveRun(key, { note, label, result }) {
  const all = JSON.parse(readFileSync(RESULTS, 'utf8'));
  all[key] ??= { note, runs: [] };
  all[key].runs.push({ label, ...result });
  writeFileSync(RESULTS, `${JSON.stringify(all, null, 2)}\n`);
}

/**
 * Ends a script's run: prints `result` with the machine fields, and with `--save` appends it to
 * results.json under `key`, labelled by `--label`. Returns the printed result.
 * @example finishRun('coldStartInstructions', 'bench/cold-start-instructions.mjs', result)
 */
export function finishRun(key, note, result, save = process.argv.includes('--save')) {
  const full = { ...result, ...machineFields() };
  console.log(JSON.stringify(full, null, 2));
  if (save) saveRun(key, { note, label: arg('label', ''), result: full });
  return full;
}
