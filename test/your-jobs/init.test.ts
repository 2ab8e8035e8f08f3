/**
 * `kq init` as users run it (the built CLI): a new folder gets a package.json of its own, an existing one
 * is extended, and bad input (a CommonJS package, files in the way, a bad name) stops it with exit 2 and
 * a message, writing nothing. The scaffold's build, tests and image run in walkthrough.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { CLI } from '../helpers/kq-process.js';

const version = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../package.json'), 'utf8')).version;
const work = mkdtempSync(join(tmpdir(), 'kq-init-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function init(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'init', ...args], {
    cwd: work,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const readPkg = (dir: string) => JSON.parse(readFileSync(join(work, dir, 'package.json'), 'utf8'));

it('a new folder: its own package.json, named after it, depending on this kq version (and says how else)', () => {
  const r = init('My Jobs!');
  expect(r.code, r.err).toBe(0);
  const pkg = readPkg('My Jobs!');
  expect(pkg).toMatchObject({
    name: 'my-jobs',
    type: 'module',
    private: true,
    dependencies: { kq: `^${version}` },
  });
  expect(Object.keys(pkg.devDependencies).sort()).toEqual(['@types/node', 'typescript']);
  // Node's types and engines agree with the Node kq requires (engines ">=22": types "^22").
  const kqPkg = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../package.json'), 'utf8'));
  expect(pkg.engines).toEqual({ node: kqPkg.engines.node });
  expect(pkg.devDependencies['@types/node']).toBe(`^${/\d+/.exec(kqPkg.engines.node)?.[0]}`);
  expect(r.out).toContain(`package.json depends on kq ^${version}. Before kq is on a registry`);
  expect(r.out).toContain('cd My Jobs!');
  expect(readFileSync(join(work, 'My Jobs!/Dockerfile'), 'utf8')).toContain(`ARG KQ_IMAGE=kq:${version}`);
  expect(readFileSync(join(work, 'My Jobs!/README.md'), 'utf8')).toMatch(/^# my-jobs\n/);
  expect(existsSync(join(work, 'My Jobs!/.gitignore'))).toBe(true);
});

it('an existing package.json keeps its fields, scripts and kq dependency; --kq sets one when missing', () => {
  mkdirSync(join(work, 'existing'));
  writeFileSync(
    join(work, 'existing/package.json'),
    JSON.stringify({
      name: 'billing',
      version: '3.1.0',
      scripts: { test: 'vitest run' },
      dependencies: { pg: '^8.0.0' },
    }),
  );
  expect(init('existing', '--kq', 'git+https://example.com/kq.git#v0.1.0').code).toBe(0);
  const pkg = readPkg('existing');
  expect(pkg).toMatchObject({
    name: 'billing',
    version: '3.1.0',
    type: 'module',
    scripts: { test: 'vitest run', build: 'tsc -p tsconfig.build.json' },
    dependencies: { pg: '^8.0.0', kq: 'git+https://example.com/kq.git#v0.1.0' },
  });
});

it('refuses a CommonJS package, files in the way and a bad name, writing nothing', () => {
  mkdirSync(join(work, 'cjs'));
  writeFileSync(join(work, 'cjs/package.json'), '{"name":"old","type":"commonjs"}\n');
  const cjs = init('cjs');
  expect(cjs.code).toBe(2);
  expect(cjs.err).toContain('package.json has "type": "commonjs"');
  expect(existsSync(join(work, 'cjs/src'))).toBe(false);

  mkdirSync(join(work, 'busy/src'), { recursive: true });
  writeFileSync(join(work, 'busy/src/jobs.ts'), '// mine\n');
  writeFileSync(join(work, 'busy/Dockerfile'), 'FROM scratch\n');
  const busy = init('busy');
  expect(busy.code).toBe(2);
  expect(busy.err).toContain('busy already has Dockerfile, src/jobs.ts; nothing was written');
  expect(existsSync(join(work, 'busy/package.json'))).toBe(false);
  expect(readFileSync(join(work, 'busy/src/jobs.ts'), 'utf8')).toBe('// mine\n');

  const name = init('named', '--name', 'Bad Name');
  expect(name.code).toBe(2);
  expect(name.err).toMatch(/--name.*"Bad Name" must be an npm package name/);
  expect(existsSync(join(work, 'named'))).toBe(false);
});
