/**
 * The CLI's errors as a new user meets them, through the built CLI: each names the value, the rule and the
 * fix, with the documented exit code (2: fix the command line; 1: fix the surroundings).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { spawnKq } from '../helpers/kq-process.js';
import { freePort } from '../helpers/redis-server.js';

async function run(args: string[], env: Record<string, string> = {}) {
  const p = spawnKq(args, env);
  const { code } = await p.waitForExit(30_000);
  return { code, out: p.output() };
}

async function takenPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  onTestFinished(() => new Promise<void>((r) => srv.close(() => r())));
  return (srv.address() as { port: number }).port;
}

describe('kq CLI errors', () => {
  it('kq enqueue with nothing at REDIS_URL names the URL (password hidden) and the fix, exit 1', async () => {
    const port = await freePort();
    const res = await run(['enqueue', 'sleep', '{"seconds":1}'], {
      REDIS_URL: `redis://:hunter2@127.0.0.1:${port}`,
    });
    expect(res.code).toBe(1);
    expect(res.out).toContain(`kq enqueue: cannot reach Redis at redis://:***@127.0.0.1:${port}`);
    expect(res.out).toContain('Nothing was stored.');
    expect(res.out).toContain(`redis-server --port ${port}`);
    expect(res.out).not.toContain('hunter2');
    expect(res.out).not.toContain("Stream isn't writeable");
  });

  it('kq status and kq queues list (reads) name the URL and say nothing about storing', async () => {
    const port = await freePort();
    for (const args of [['status'], ['queues', 'list']]) {
      const res = await run(args, { REDIS_URL: `redis://127.0.0.1:${port}` });
      expect(res.code).toBe(1);
      expect(res.out).toContain(`kq ${args.join(' ')}: cannot reach Redis at redis://127.0.0.1:${port}`);
      expect(res.out).not.toMatch(/stored/);
    }
  });

  it('REDIS_URL without a scheme is echoed as typed, with the rule and the fix', async () => {
    const res = await run(['status'], { REDIS_URL: '127.0.0.1:6411' });
    expect(res.code).toBe(2);
    expect(res.out).toContain('Invalid REDIS_URL (flag --redis-url): "127.0.0.1:6411" (no scheme');
    expect(res.out).toContain('e.g. redis://127.0.0.1:6411');
    expect(res.out).toContain('must be redis://[user:pass@]host:port');
    expect(res.out).not.toContain('[invalid url]');
  });

  it('kq enqueue of an unknown type without HANDLERS says to set HANDLERS, exit 2, before any Redis', async () => {
    const port = await freePort();
    // No Redis at the URL: the type is checked first, so the hint is what the user sees.
    const res = await run(['enqueue', 'report'], { REDIS_URL: `redis://127.0.0.1:${port}` });
    expect(res.code).toBe(2);
    expect(res.out).toContain('Unknown job type "report". Known types: sleep, noop.');
    expect(res.out).toContain('HANDLERS is not set');
    expect(res.out).toContain('set HANDLERS (--handlers)');
  });

  it('kq api on a busy port exits 2 with a --port hint and no Redis warning', async () => {
    const port = await takenPort();
    const res = await run(['api', '--no-auth', '--host', '127.0.0.1', '--port', String(port)], {
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
    });
    expect(res.code).toBe(2);
    expect(res.out).toContain(`kq api: PORT (--port) ${port}: 127.0.0.1:${port} is already in use`);
    expect(res.out).toContain('--port <n>');
    expect(res.out).not.toMatch(/Redis|Stream isn't writeable/);
  });
});

describe('npm start builds only when dist/ is stale (scripts/build-if-stale.mjs)', () => {
  const script = resolve(import.meta.dirname, '../../scripts/build-if-stale.mjs');
  const check = (cwd: string, ...args: string[]) =>
    spawnSync(process.execPath, [script, ...args], { cwd, encoding: 'utf8' });

  it('fresh after a build, stale when a source is newer or an output is missing; builds only then', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kq-stale-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'src/queue'), { recursive: true });
    mkdirSync(join(dir, 'dist'));
    // The "build" of this fake package writes both outputs, so running it is visible.
    const build =
      "require('fs').writeFileSync('dist/cli.js','built');require('fs').writeFileSync('dist/index.js','')";
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ scripts: { build: `node -e "${build}"` } }));
    writeFileSync(join(dir, 'src/queue/a.ts'), '');
    const t = Date.now() / 1000;
    for (const f of ['package.json', 'src/queue/a.ts']) utimesSync(join(dir, f), t - 100, t - 100);
    expect(check(dir, '--check').stdout).toBe('stale: dist/cli.js is missing\n');
    for (const f of ['dist/cli.js', 'dist/index.js']) {
      writeFileSync(join(dir, f), 'old');
      utimesSync(join(dir, f), t - 50, t - 50);
    }
    expect(check(dir, '--check').stdout).toBe('fresh\n');
    // Fresh: `npm start` starts without building.
    expect(check(dir).status).toBe(0);
    expect(spawnSync('cat', [join(dir, 'dist/cli.js')], { encoding: 'utf8' }).stdout).toBe('old');
    utimesSync(join(dir, 'src/queue/a.ts'), t, t);
    expect(check(dir, '--check').stdout).toBe('stale: src/queue/a.ts is newer than the build\n');
    const built = check(dir);
    expect(built.status).toBe(0);
    expect(built.stderr).toContain('building (src/queue/a.ts is newer than the build)');
    expect(spawnSync('cat', [join(dir, 'dist/cli.js')], { encoding: 'utf8' }).stdout).toBe('built');
    expect(check(dir, '--check').stdout).toBe('fresh\n');
  });
});
