/**
 * What `npm pack` (and so `npm publish`, a tarball install and a git URL install) puts in the package:
 * everything `kq` needs to run and to scaffold, and nothing else (no sources, tests, source maps or the
 * per-module JavaScript tsc writes next to the bundle).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';
import { LAB_RUNTIME_FILES } from '../../src/lab/worker-env.js';

const root = resolve(import.meta.dirname, '../..');

function listFiles(dir: string, sub = ''): string[] {
  return readdirSync(join(dir, sub), { withFileTypes: true }).flatMap((e) => {
    const rel = sub ? `${sub}/${e.name}` : e.name;
    return e.isDirectory() ? listFiles(dir, rel) : [rel];
  });
}

it('npm pack --dry-run: everything the command needs, nothing else', () => {
  const [report] = JSON.parse(
    execFileSync('npm', ['pack', '--dry-run', '--json', '--loglevel=error'], { cwd: root, encoding: 'utf8' }),
  ) as [{ files: { path: string }[]; unpackedSize: number; size: number }];
  const files = report.files.map((f) => f.path).sort();
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  // Needed: the bin and the library entry, every chunk they import, their types, the scaffold's templates.
  const needed = [
    'package.json',
    'README.md',
    pkg.bin.kq,
    pkg.exports['.'].import.replace(/^\.\//, ''),
    pkg.exports['.'].types.replace(/^\.\//, ''),
    // `kq/client`: one file with no imports, for browsers and edge runtimes.
    pkg.exports['./client'].import.replace(/^\.\//, ''),
    ...readdirSync(join(root, 'dist/chunks'))
      .map((f) => `dist/chunks/${f}`)
      .filter((f) => f.endsWith('.js')),
    ...listFiles(join(root, 'templates')).map((f) => `templates/${f}`),
    // What `kq lab` loads into its worker processes (test/lab/lab-package.test.ts follows their imports).
    ...Object.values(LAB_RUNTIME_FILES),
  ];
  for (const f of needed) expect(files, `${f} is missing from the package`).toContain(f);
  // Nothing else: only type declarations besides what is listed above.
  const extra = files.filter((f) => !needed.includes(f) && !/^dist\/.*\.d\.ts$/.test(f));
  expect(extra).toEqual([]);
  for (const f of files) expect(f).not.toMatch(/^(src|test|bench|docs|deploy|scripts)\/|\.map$/);
  console.log(
    `npm pack: ${files.length} files, ${(report.size / 1024).toFixed(0)} KiB packed, ${(report.unpackedSize / 1024).toFixed(0)} KiB unpacked`,
  );
});
