#!/usr/bin/env node
// `npm run chaos`: runs every chaos scenario in its full version (KQ_CHAOS=full), then prints the summary
// table from the rows the scenarios appended (one JSON line each) to KQ_CHAOS_RESULTS. Exits non-zero when
// vitest failed or any scenario row says fail. Extra arguments go to vitest (e.g. a file filter).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const results = process.env.KQ_CHAOS_RESULTS || join(tmpdir(), `kq-chaos-${process.pid}.jsonl`);
rmSync(results, { force: true });
const started = Date.now();
const vitest = spawnSync('npx', ['vitest', 'run', 'test/chaos', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, KQ_CHAOS: process.env.KQ_CHAOS || 'full', KQ_CHAOS_RESULTS: results },
});
const rows = existsSync(results)
  ? readFileSync(results, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
  : [];
rows.sort((a, b) => a.scenario.localeCompare(b.scenario, 'en', { numeric: true }));

const ms = (v) => (v === null || v === undefined ? '-' : `${v} ms`);
const header = [
  'scenario',
  'jobs in',
  'completed',
  'lost',
  'duplicates',
  'worst recovery',
  'result',
  'took',
  'notes',
];
const table = rows.map((r) => [
  r.scenario,
  String(r.jobsIn),
  String(r.completed),
  String(r.lost),
  String(r.duplicates),
  ms(r.worstRecoveryMs),
  r.pass ? 'pass' : 'FAIL',
  r.durationMs ? `${(r.durationMs / 1000).toFixed(1)} s` : '-',
  r.notes ?? '',
]);
const line = (cells) => `| ${cells.join(' | ')} |`;
console.log(
  `\nkq chaos summary (${rows[0]?.mode ?? 'no'} mode, ${((Date.now() - started) / 1000).toFixed(0)} s in all)\n`,
);
console.log(line(header));
console.log(line(header.map(() => '---')));
for (const r of table) console.log(line(r));
if (rows.length === 0) console.log('(no scenario reported a row)');
rmSync(results, { force: true });
const failed = vitest.status !== 0 || rows.length === 0 || rows.some((r) => !r.pass);
process.exit(failed ? 1 : 0);
