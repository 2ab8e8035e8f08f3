/**
 * What the Dockerfile's runtime stage does, checked without Docker: pack the project, install the
 * tarball with production dependencies only into an empty folder, and run its `kq` the way the image's
 * ENTRYPOINT does (`node <pkg>/dist/cli.js`, mode from the seed's env: WORKER=1, EXIT=1).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestQueue } from '../helpers/context.js';
import { devOnly } from '../helpers/dev-only.js';
import { oneJobThrough } from '../helpers/installed-cli.js';

const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'kq-pack-'));
const app = join(dir, 'app');
const cli = join(app, 'node_modules/kq/dist/cli.js');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the packed production install', () => {
  beforeAll(() => {
    const tarball = execFileSync(npm, ['pack', '--silent', '--pack-destination', dir], {
      cwd: root,
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .pop() as string;
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), '{"name":"kq-install-check","private":true}\n');
    execFileSync(
      npm,
      [
        'install',
        join(dir, tarball),
        '--omit=dev',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
      ],
      { cwd: app, encoding: 'utf8', timeout: 240_000 },
    );
  }, 300_000);

  it('holds no dev dependencies and no sources or tests', () => {
    const installed = JSON.parse(readFileSync(join(app, 'node_modules/.package-lock.json'), 'utf8')).packages;
    for (const name of devOnly()) expect(installed[`node_modules/${name}`], name).toBeUndefined();
    const files = execFileSync('find', ['node_modules/kq', '-maxdepth', '1'], { cwd: app, encoding: 'utf8' });
    expect(files).not.toMatch(/\/(src|test)\n/);
  });

  it('`kq --help` runs, through the bin link and the ENTRYPOINT path', () => {
    const bin = spawnSync(join(app, 'node_modules/.bin/kq'), ['--help'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(bin.status, bin.stderr).toBe(0);
    expect(bin.stdout).toMatch(/worker/);
    const direct = spawnSync(process.execPath, [cli, 'manifests', 'cronjob'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(direct.status, direct.stderr).toBe(0);
    expect(direct.stdout).toContain('kind: CronJob');
  });

  it('a seed-style worker (WORKER=1 EXIT=1) processes a job enqueued by the installed CLI, then exits 0', async () => {
    const t = useTestQueue();
    const env = { PATH: process.env.PATH ?? '', HOME: dir, REDIS_URL: t.redisUrl, QUEUE: t.queue };
    const { id, code, stderr } = await oneJobThrough({
      cliArgs: [cli],
      workerArgs: [],
      env,
      workerEnv: { WORKER: '1' },
      queue: t.queue,
      name: 'installed kq worker',
    });
    expect(id).not.toBe('');
    expect(code, stderr).toBe(0);
    expect(await (await t.bull.getJob(id))?.getState()).toBe('completed');
  });
});
