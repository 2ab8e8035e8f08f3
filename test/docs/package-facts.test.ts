/**
 * Figures the docs quote about the package, checked against what produces them: `npm pack --dry-run`
 * (files and sizes, within 10 %: the docs round them, and a new module should not fail the suite), the
 * code's limits (queue names), the source folders the README lists, and the scenario numbers of
 * docs/reliability.md. Fast: npm packs nothing, it lists.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { QUEUE_NAME_RULE } from '../../src/config.js';
import { nodeTypesRange } from '../../src/init/scaffold.js';
import { MAX_MANIFEST_QUEUE_NAME, MAX_WORKER_NAME } from '../../src/k8s/handlers.js';

const root = resolve(import.meta.dirname, '../..');
const doc = (path: string) => readFileSync(join(root, path), 'utf8').replace(/\s*\n\s*/g, ' ');

/** `n` is within `fraction` of `actual`. */
function near(quoted: number, actual: number, fraction: number, what: string) {
  expect(
    Math.abs(quoted - actual) / actual,
    `${what}: the docs say ${quoted}, npm pack gives ${actual}; update docs/your-jobs.md`,
  ).toBeLessThanOrEqual(fraction);
}

describe('what the docs say about the package', () => {
  it('docs/your-jobs.md: files and sizes are those npm pack --dry-run reports (within 10 %)', () => {
    const [pack] = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--loglevel=error'], {
        cwd: root,
        encoding: 'utf8',
      }),
    ) as [{ entryCount: number; size: number; unpackedSize: number }];
    const m = /about (\d+) files, (\d+(?:\.\d+)?) kB packed, (\d+(?:\.\d+)?) MB unpacked/.exec(
      doc('docs/your-jobs.md'),
    );
    expect(
      m,
      'docs/your-jobs.md names the package size as "about N files, X kB packed, Y MB unpacked"',
    ).toBeTruthy();
    const [, files, packed, unpacked] = (m as RegExpExecArray).map(Number);
    near(files as number, pack.entryCount, 0.1, 'files');
    near(packed as number, pack.size / 1000, 0.1, 'kB packed');
    near(unpacked as number, pack.unpackedSize / 1e6, 0.1, 'MB unpacked');
  });

  it('the queue-name limits quoted are the code’s', () => {
    const jobs = doc('docs/your-jobs.md');
    expect(jobs).toContain(`a DNS-1123 label of at most ${MAX_WORKER_NAME} characters`);
    expect(jobs).toContain(
      `lower-case letters, digits and \`-\`, at most ${MAX_MANIFEST_QUEUE_NAME} characters.`,
    );
    expect(jobs).toContain(`(so a queue name of at most ${MAX_MANIFEST_QUEUE_NAME} such characters)`);
    // Every "queue names ... at most N characters" in deploy.md is the manifests' limit.
    const deploy = doc('docs/deploy.md');
    const quoted = [...deploy.matchAll(/Queue names must then be [^.]*?at most (\d+) characters/g)].map((x) =>
      Number(x[1]),
    );
    expect(quoted.length).toBeGreaterThan(0);
    for (const n of quoted) expect(n).toBe(MAX_MANIFEST_QUEUE_NAME);
    // The API's own rule (any queue, not only those manifests name): docs/api.md quotes its range.
    const max = /\{0,(\d+)\}/.exec(QUEUE_NAME_RULE.re.source)?.[1];
    expect(doc('docs/api.md')).toContain(`1-${Number(max) + 1} of \`A-Za-z0-9._-\``);
  });

  it('README’s source layout names every folder of src/', () => {
    const readme = doc('README.md');
    const dirs = readdirSync(join(root, 'src'), { withFileTypes: true }).filter((e) => e.isDirectory());
    for (const d of dirs)
      expect(readme, `README's source layout misses src/${d.name}`).toContain(`\`src/${d.name}\``);
  });

  it('docs/reliability.md numbers each scenario once', () => {
    const rows = readFileSync(join(root, 'docs/reliability.md'), 'utf8').split('\n');
    const start = rows.findIndex((r) => r.startsWith('| # | scenario |'));
    const ids: string[] = [];
    for (const r of rows.slice(start + 2)) {
      if (!r.startsWith('|')) break;
      ids.push(r.split('|')[1]?.trim() ?? '');
    }
    expect(ids.length).toBeGreaterThan(10);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });

  it('the scaffold’s Node types match the Node kq requires', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(nodeTypesRange(pkg.engines.node)).toBe(`^${/\d+/.exec(pkg.engines.node)?.[0]}`);
    expect(nodeTypesRange('>= 24.1')).toBe('^24');
    expect(nodeTypesRange(undefined)).toBeUndefined();
  });
});
