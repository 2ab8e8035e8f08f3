/**
 * kq installs from a git URL, as a team would use it before it is on a registry: npm clones the
 * repository, installs its dev dependencies and runs `prepare` (the build), then installs what `npm pack`
 * would. Tested with a local `git+file://` URL of a bare clone of this repository at HEAD (no network);
 * the tarball way is covered by walkthrough.test.ts, and a registry install is that same tarball.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';

const execFileAsync = promisify(execFile);

const root = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'kq-git-install-'));
afterAll(() => rm(work, { recursive: true, force: true }), 120_000);

it('npm install git+file://<clone>#<commit> gives a working `npx kq`', async () => {
  const started = Date.now();
  const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  execFileSync('git', ['clone', '--quiet', '--bare', root, join(work, 'kq.git')]);
  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), '{"name":"app","private":true}\n');
  // Asynchronous: a synchronous minute-long install would block vitest's worker past its RPC timeout.
  await execFileAsync(
    'npm',
    [
      'install',
      `git+file://${join(work, 'kq.git')}#${head}`,
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
    ],
    { cwd: app, encoding: 'utf8', timeout: 300_000, maxBuffer: 64 * 1024 * 1024 },
  );
  const installed = join(app, 'node_modules/kq');
  // What `files` lists, built by `prepare` in npm's clone: no sources, no tests.
  expect(readdirSync(installed).sort()).toEqual(['README.md', 'dist', 'package.json', 'templates']);
  expect(existsSync(join(installed, 'dist/cli.js'))).toBe(true);
  const help = spawnSync('npx', ['--no-install', 'kq', '--help'], {
    cwd: app,
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(help.status, help.stderr).toBe(0);
  expect(help.stdout).toMatch(/init\s+Scaffold a TypeScript application/);
  console.log(`git URL install: ${((Date.now() - started) / 1000).toFixed(1)} s`);
}, 360_000);
