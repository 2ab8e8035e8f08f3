/**
 * The worker's option defaults that docs/worker.md and the README quote are the ones the code uses
 * (MAX_STALLED_COUNT moved from 1 to 3 once: the docs must move with it).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, it } from 'vitest';
import { workerOptionSpecs } from '../../src/worker/options.js';

const read = (file: string) => readFileSync(resolve(import.meta.dirname, '../..', file), 'utf8');

/** The table cells of the row whose first cell starts with `env`. */
function row(doc: string, env: string): string[] | undefined {
  const line = doc.split('\n').find((l) => l.startsWith(`| \`${env}\``));
  return line?.split('|').map((c) => c.trim());
}

it('docs/worker.md and the README give every numeric worker option its real default', () => {
  const worker = read('docs/worker.md');
  const readme = read('README.md');
  const numeric = Object.values(workerOptionSpecs).filter((s) => typeof s.default === 'number');
  expect(numeric.map((s) => s.env[0])).toContain('MAX_STALLED_COUNT');
  for (const spec of numeric) {
    const env = spec.env[0] as string;
    const want = `\`${spec.default}\``;
    const w = row(worker, env);
    expect(w, `docs/worker.md has a row for ${env}`).toBeDefined();
    expect(w?.[2], `docs/worker.md: ${env}'s flag`).toBe(`\`--${spec.flag}\``);
    expect(w?.[3]?.startsWith(want), `docs/worker.md: ${env} defaults to ${want}, not ${w?.[3]}`).toBe(true);
    const r = row(readme, env);
    if (r) expect(r[2]?.startsWith(want), `README: ${env} defaults to ${want}, not ${r[2]}`).toBe(true);
  }
});
