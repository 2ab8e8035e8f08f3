/**
 * `kq lab` where kq is installed, not in its checkout: pack kq, install the tarball into an empty
 * application (as the walkthrough does, npm offline-first), run `kq lab run` from there and check every
 * job completed. Then remove a file the lab's workers load from that install: the run must stop at once
 * with the worker's own error, not play on and report every job lost. Slow tier (packs and installs kq).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_RUNTIME_FILES } from '../../src/lab/worker-env.js';

const root = resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'kq-lab-installed-'));
const app = join(work, 'app');
const offline = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];
const run = promisify(execFile);

/** `kq lab ...` through the app's bin link; resolves with the exit code and everything it wrote. */
async function labInApp(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(join(app, 'node_modules/.bin/kq'), ['lab', ...args], {
      cwd: app,
      env: { PATH: process.env.PATH ?? '', HOME: work },
      encoding: 'utf8',
      timeout: 240_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string; message: string };
    return {
      code: typeof e.code === 'number' ? e.code : -1,
      output: `${e.stdout ?? ''}${e.stderr ?? e.message}`,
    };
  }
}

beforeAll(async () => {
  mkdirSync(app);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'lab-app', private: true, type: 'module' }),
  );
  await run('npm', ['pack', '--silent', '--pack-destination', app], { cwd: root, timeout: 300_000 });
  await run('npm', ['install', `./kq-${pkg.version}.tgz`, ...offline], { cwd: app, timeout: 300_000 });
}, 600_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
}, 120_000);

describe('kq lab from an installed kq', () => {
  it('runs the smoke workload with every job completed', async () => {
    const dir = join(work, 'report');
    const r = await labInApp([
      'run',
      'deployment',
      '--engine',
      'real',
      '--workload',
      'smoke',
      '--report',
      dir,
    ]);
    expect(r.code, r.output).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    const a = report.approaches.deployment;
    expect(a.submitted, r.output).toBe(report.settings.jobs);
    expect(a.completed, r.output).toBe(a.submitted);
    expect(a.lost).toBe(0);
    expect(a.processesLeft).toBe(0);
  }, 300_000);

  it('stops with the worker’s error when a worker cannot start', async () => {
    rmSync(join(app, 'node_modules/kq', LAB_RUNTIME_FILES.handlers));
    const started = Date.now();
    const r = await labInApp(['run', 'deployment', '--engine', 'real', '--workload', 'smoke']);
    expect(r.code, r.output).toBe(1);
    expect(r.output).toMatch(/worker of pod \S+ exited 1 before it started/);
    expect(r.output).toContain('ERR_MODULE_NOT_FOUND');
    expect(r.output).not.toMatch(/completed \d+\/\d+/);
    console.log(`kq lab with a broken install stopped after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 300_000);
});
