/**
 * `kq lab` from an installed kq: every file the lab spawns or loads into its worker processes (the pod
 * gate, the lab's handlers module, the CLI) ships in the package, and so does every file those import
 * by relative path, followed transitively. A file missing here makes every lab worker die at start.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize, resolve } from 'node:path';
import { expect, it } from 'vitest';
import { LAB_RUNTIME_FILES } from '../../src/lab/worker-env.js';

const root = resolve(import.meta.dirname, '../..');

/** Relative module specifiers of an ES module: static imports, re-exports and `import('...')` literals. */
function relativeImports(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const found = [
    ...text.matchAll(/\b(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g),
    ...text.matchAll(/\bimport\s*["'](\.{1,2}\/[^"']+)["']/g),
  ].map((m) => m[1] as string);
  return [...new Set(found)].map((spec) => normalize(join(dirname(file), spec)));
}

it('npm pack ships every file the lab loads into a worker, and everything those import', () => {
  const [report] = JSON.parse(
    execFileSync('npm', ['pack', '--dry-run', '--json', '--loglevel=error'], { cwd: root, encoding: 'utf8' }),
  ) as [{ files: { path: string }[] }];
  const packed = new Set(report.files.map((f) => f.path));
  const seen = new Set<string>();
  const queue: string[] = Object.values(LAB_RUNTIME_FILES);
  while (queue.length) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    expect(packed.has(file), `${file} is loaded by kq lab but not in the package`).toBe(true);
    queue.push(...relativeImports(file));
  }
  // The walk reached the bundle (the handlers module imports kq's library entry), not just the roots.
  expect([...seen]).toContain('dist/index.js');
  expect(seen.size).toBeGreaterThan(Object.keys(LAB_RUNTIME_FILES).length + 2);
});
