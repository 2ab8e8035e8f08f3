/**
 * A handlers module that cannot serve gets a clear error from `kq worker` and `kq api` (exit 2), naming
 * the module and the problem: it throws on import, exports nothing, exports two types with one name, its
 * schema is not zod 4, it imports a `kq` that is not installed next to it, it is TypeScript, it is missing.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadHandlers } from '../../src/jobs/load-handlers.js';
import { CLI } from '../helpers/kq-process.js';

const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'kq-handlers-'));
// An application with kq installed (a link to this checkout, whose exports point at dist/).
const app = join(dir, 'app');
mkdirSync(join(app, 'node_modules'), { recursive: true });
writeFileSync(join(app, 'package.json'), '{"name":"app","private":true,"type":"module"}\n');
symlinkSync(root, join(app, 'node_modules/kq'));
// A folder where kq is not installed.
const bare = join(dir, 'bare');
mkdirSync(bare);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function module(where: string, name: string, source: string): string {
  const file = join(where, name);
  writeFileSync(file, source);
  return file;
}

function kq(command: 'worker' | 'api', handlers: string, cwd = app) {
  const r = spawnSync(process.execPath, [CLI, command, '--handlers', handlers], {
    cwd,
    env: { PATH: process.env.PATH, HEALTH_PORT: '0', AUTH: 'none', PORT: '0', HOST: '127.0.0.1' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, err: r.stderr, out: r.stdout };
}

const job = (name: string, exportName = name) =>
  `export const ${exportName} = defineJob({ name: '${name}', schema: z.object({}), handler: () => null });\n`;
const kqImport = "import { defineJob, z } from 'kq';\n";

describe('bad handlers modules get a clear error naming the module and the problem', () => {
  it('throws on import', () => {
    const file = module(
      app,
      'throws.js',
      `${kqImport}${job('a')}throw new Error('DATABASE_URL is not set');\n`,
    );
    for (const command of ['worker', 'api'] as const) {
      const r = kq(command, './throws.js');
      expect(r.code, r.err).toBe(2);
      expect(r.err).toContain(
        `kq ${command}: HANDLERS (--handlers) "./throws.js": it threw while loading (at ${pathToFileURL(file).href}:3:`,
      );
      expect(r.err).toContain('Error: DATABASE_URL is not set');
      expect(r.err).toContain(file);
    }
  });

  it('exports nothing kq can run', () => {
    module(app, 'empty.js', 'export const answer = 42;\nexport default function run() {}\n');
    const r = kq('worker', 'empty.js');
    expect(r.code).toBe(2);
    expect(r.err).toContain('"empty.js": it exports no job definitions (its exports: answer, default)');
    expect(r.err).toContain('export const report = defineJob(');
  });

  it('exports two job types with one name', () => {
    module(app, 'twice.js', `${kqImport}${job('report')}${job('report', 'reportV2')}`);
    const r = kq('worker', './twice.js');
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      '"./twice.js": it exports two job types named "report" (exports `report` and `reportV2`)',
    );
    // The same definition exported twice (named and in a list) is one type, not two.
    module(app, 'same.js', `${kqImport}${job('report')}export const jobs = [report];\n`);
    return loadHandlers(join(app, 'same.js')).then((defs) =>
      expect(defs.map((d) => d.name)).toEqual(['report']),
    );
  });

  it('has a schema that is not zod 4', () => {
    const file = module(
      app,
      'not-zod.js',
      `${kqImport}export const a = defineJob({ name: 'a', schema: { parse: (x) => x }, handler: () => null });\n`,
    );
    const r = kq('worker', './not-zod.js');
    expect(r.code).toBe(2);
    expect(r.err).toContain(file);
    expect(r.err).toContain('defineJob(a): schema must be a zod 4 schema, got an object with keys parse');
    expect(r.err).toContain("import { defineJob, z } from 'kq'");
    // A zod 3 schema (what `import { z } from 'zod'` gives with zod 3 installed) has _def and no _zod.
    module(
      app,
      'zod3.js',
      `${kqImport}export const a = defineJob({ name: 'a', schema: { _def: {}, safeParse: () => ({}) }, handler: () => null });\n`,
    );
    expect(kq('worker', './zod3.js').err).toContain('schema must be a zod 4 schema, got a zod 3 schema');
  });

  it('imports kq where kq is not installed: the fix is to install it, not a path', () => {
    const file = module(bare, 'jobs.js', `${kqImport}${job('a')}`);
    writeFileSync(join(bare, 'package.json'), '{"type":"module"}\n');
    const r = kq('worker', './jobs.js', bare);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`it imports 'kq', which is not installed in the application that holds ${file}`);
    expect(r.err).toContain('npm install kq');
    module(bare, 'other.js', "import 'left-pad-not-installed';\n");
    expect(kq('worker', './other.js', bare).err).toContain("it imports the package 'left-pad-not-installed'");
  });

  it('is TypeScript, or missing: build first', () => {
    module(app, 'jobs.ts', `${kqImport}${job('a')}`);
    const ts = kq('worker', './jobs.ts');
    expect(ts.code).toBe(2);
    expect(ts.err).toContain('"./jobs.ts": it is a TypeScript file, which Node does not run. Build the');
    const missing = kq('worker', 'dist/jobs.js');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain(`"dist/jobs.js": there is no file at ${join(app, 'dist/jobs.js')}`);
    expect(missing.err).toContain('npm run build');
  });
});
