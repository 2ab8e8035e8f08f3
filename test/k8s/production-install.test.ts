/**
 * What the Dockerfile's runtime stage does, checked without Docker: pack the project, install the
 * tarball with production dependencies only into an empty folder, and run its `kq` the way the image's
 * ENTRYPOINT does (`node <pkg>/dist/cli.js`, mode from the seed's env: WORKER=1, EXIT=1).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestQueue } from '../helpers/context.js';
import { trackProcess } from '../helpers/leak-guard.js';

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
    const dev = Object.keys(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies);
    // A dev dependency may only be there because a runtime dependency needs it (protobufjs, under
    // @grpc/grpc-js, depends on @types/node).
    const requiredAtRuntime = (name: string) =>
      Object.values(installed as Record<string, { dependencies?: Record<string, string> }>).some(
        (p) => p.dependencies?.[name] !== undefined,
      );
    for (const name of dev) {
      if (installed[`node_modules/${name}`]) expect(requiredAtRuntime(name), name).toBe(true);
    }
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
    const id = execFileSync(process.execPath, [cli, 'enqueue', 'noop', '{"n":1}', '--queue', t.queue], {
      env,
      encoding: 'utf8',
      timeout: 30_000,
    }).trim();
    expect(id).not.toBe('');
    const worker = trackProcess(
      'installed kq worker',
      spawn(process.execPath, [cli], {
        env: { ...env, WORKER: '1', EXIT: '1', HEALTH_PORT: '0' },
        stdio: 'ignore',
      }),
    );
    const code = await new Promise<number | null>((r, reject) => {
      const timer = setTimeout(() => reject(new Error('installed worker did not exit within 60 s')), 60_000);
      worker.once('exit', (c) => {
        clearTimeout(timer);
        r(c);
      });
    });
    expect(code).toBe(0);
    expect(await (await t.bull.getJob(id))?.getState()).toBe('completed');
  });
});
