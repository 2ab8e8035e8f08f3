/**
 * docs/your-jobs.md, done from an empty temporary folder as a new user would: pack kq, install the
 * tarball, `npx kq init`, install, run the scaffold's own tests, build, start `kq api` and `kq worker`
 * with the built handlers, submit the scaffold's job over HTTP and read its result, render the manifests
 * for the app's image, then play the scaffold's Dockerfile stage by stage without Docker and run a worker
 * from the image it assembles. One pack and one install serve every step; npm runs offline-first.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { trackProcess } from '../helpers/leak-guard.js';
import { type PlayedImage, playDockerfile } from '../helpers/play-dockerfile.js';
import { freePort } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

const root = resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const tarball = `kq-${pkg.version}.tgz`;
const work = mkdtempSync(join(tmpdir(), 'kq-walkthrough-'));
const app = join(work, 'my-jobs');
const npmCache = execFileSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).trim();
const offline = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];
const redisUrl = inject('redisUrl');
const prefix = `walk${process.pid}`;
const timings: [string, number][] = [];
const execFileAsync = promisify(execFile);

/**
 * Runs one walkthrough command in the app folder, timed; its output is in the error when it fails.
 * Asynchronous: a synchronous minute-long npm install would block vitest's worker past its RPC timeout.
 */
async function step(
  what: string,
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
  cwd = app,
): Promise<string> {
  const started = Date.now();
  try {
    const { stdout } = await execFileAsync(cmd, args, {
      cwd,
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 300_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${what} (${cmd} ${args.join(' ')}) failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`,
    );
  } finally {
    timings.push([what, Date.now() - started]);
  }
}

/** A long-running `kq` of the app, through the bin link `npx kq` runs (so SIGTERM reaches node itself). */
function startKq(
  args: string[],
  env: Record<string, string>,
  cwd = app,
  cmd = join(app, 'node_modules/.bin/kq'),
) {
  const proc: ChildProcess = trackProcess(
    `kq ${args.join(' ')}`,
    spawn(cmd, args, {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: work, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, exited, output: () => out };
}

async function exitOf(p: ReturnType<typeof startKq>, timeoutMs = 60_000): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`did not exit in ${timeoutMs} ms:\n${p.output().slice(-3000)}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([p.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

afterAll(async () => {
  const redis = new Redis(redisUrl);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  const total = timings.reduce((s, [, ms]) => s + ms, 0);
  console.log(
    `walkthrough: ${(total / 1000).toFixed(1)} s in commands (${timings.map(([w, ms]) => `${w} ${(ms / 1000).toFixed(1)} s`).join(', ')})`,
  );
  // Thousands of small files (two node_modules, a git repository): slow on a busy disk.
  await rm(work, { recursive: true, force: true });
}, 180_000);

describe('from an empty folder to a worker running the scaffold’s job', () => {
  beforeAll(async () => {
    mkdirSync(app);
    // Until kq is on a registry: its tarball inside the app, so the Docker build context has it too.
    await step('npm pack', 'npm', ['pack', '--silent', '--pack-destination', app], {}, root);
    await step('npm install ./kq.tgz', 'npm', ['install', `./${tarball}`, ...offline]);
    const init = await step('npx kq init', 'npx', ['--no-install', 'kq', 'init', '.']);
    expect(init).toContain('Created 11 files');
    await step('npm install', 'npm', ['install', ...offline]);
  }, 600_000);

  it('kq init wrote the application, depending on kq as it was installed', async () => {
    const written = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'));
    expect(written.dependencies).toEqual({ kq: `file:${tarball}` });
    expect(written.type).toBe('module');
    for (const f of [
      'src/jobs.ts',
      'src/client-example.ts',
      'test/jobs.test.ts',
      'test/jobs.worker.test.ts',
      'Dockerfile',
      '.dockerignore',
      '.gitignore',
      'README.md',
    ])
      expect(existsSync(join(app, f)), f).toBe(true);
    // A second init refuses to overwrite anything.
    await expect(step('npx kq init (again)', 'npx', ['--no-install', 'kq', 'init', '.'])).rejects.toThrow(
      /already has Dockerfile, README.md, .dockerignore, .gitignore, src\/client-example.ts, src\/jobs.ts/,
    );
  });

  it('npm test: the scaffold’s unit tests and its run through a real worker pass', async () => {
    const out = await step('npm test', 'npm', ['test'], { REDIS_URL: redisUrl });
    // node --test's closing lines: TAP (`# pass 5`) on Node 20, the spec reporter (`ℹ pass 5`) from Node 23.
    expect(out).toMatch(/[#ℹ] pass 5\n[#ℹ] fail 0/);
    expect(out).toMatch(/[#ℹ] skipped 0/);
  });

  it('kq api and kq worker run the built handlers: a job submitted over HTTP returns its result', async () => {
    await step('npm run build', 'npm', ['run', 'build']);
    expect(existsSync(join(app, 'dist/jobs.js'))).toBe(true);
    const port = await freePort();
    const token = 'walkthrough-token-0123456789abcdef';
    const env = { HANDLERS: 'dist/jobs.js', REDIS_URL: redisUrl, KQ_PREFIX: prefix };
    const api = startKq(['api'], { ...env, API_TOKENS: token, PORT: String(port), HOST: '127.0.0.1' });
    const worker = startKq(['worker'], { ...env, HEALTH_PORT: '0' });
    try {
      const base = `http://127.0.0.1:${port}`;
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      await waitFor('the API to answer', async () => (await fetch(`${base}/readyz`)).ok, {
        timeoutMs: 30_000,
        intervalMs: 100,
      });
      // The API validates with the application's schema: a bad month is refused (422) before it is stored.
      const bad = await fetch(`${base}/jobs`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ type: 'report', data: { customerId: 'acme', month: 'November' } }),
      });
      expect(bad.status).toBe(422);
      expect(await bad.text()).toContain('must be YYYY-MM');
      const posted = await fetch(`${base}/jobs`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ type: 'report', data: { customerId: 'acme', month: '2026-11' } }),
      });
      expect(posted.status).toBe(202);
      const { id } = (await posted.json()) as { id: string };
      const done = await waitFor(
        `job ${id} to complete\n${worker.output().slice(-2000)}`,
        async () => {
          const body = (await (await fetch(`${base}/jobs/${id}`, { headers })).json()) as {
            status: string;
            result?: unknown;
            progress?: unknown;
          };
          // GET /jobs/:id reads the job, then its state, in two round trips: a job that completes in
          // between shows "completed" with a null result once (src/queue/job-status.ts, readJobStatus).
          return body.status === 'completed' && body.result !== null ? body : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      expect(done.result).toMatchObject({ customerId: 'acme', month: '2026-11', days: 30 });
      expect(done.progress).toBe(100);
      // The scaffold's client example: kq/client, as installed, enqueues a report and waits for it.
      const example = JSON.parse(
        await step('node dist/client-example.js', 'node', ['dist/client-example.js'], {
          KQ_URL: base,
          KQ_TOKEN: token,
        }),
      ) as { id: string; status: string; result: unknown };
      expect(example.id).not.toBe(id);
      expect(example).toMatchObject({ status: 'completed', result: done.result });
    } finally {
      api.proc.kill('SIGTERM');
      worker.proc.kill('SIGTERM');
      expect(await exitOf(api)).toBe(0);
      expect(await exitOf(worker)).toBe(0);
    }
  });

  it('kq manifests for the app’s image is deploy/your-jobs', async () => {
    const yaml = await step('npx kq manifests', 'npx', [
      '--no-install',
      'kq',
      'manifests',
      'deployment',
      '--image',
      'registry.example.com/my-jobs:0.1.0',
      '--handlers',
      'dist/jobs.js',
    ]);
    expect(yaml).toBe(readFileSync(join(root, 'deploy/your-jobs/kq.yaml'), 'utf8'));
  });

  describe('the scaffold’s Dockerfile, played without Docker', () => {
    let image: PlayedImage;
    beforeAll(async () => {
      // The player's build context is what git knows, as for a fresh clone of the app.
      await step('git init', 'git', ['init', '-q']);
      const started = Date.now();
      image = await playDockerfile({
        context: app,
        caches: { '/root/.npm': npmCache },
        env: { npm_config_prefer_offline: 'true', npm_config_loglevel: 'error' },
      });
      timings.push(['play Dockerfile', Date.now() - started]);
      // FROM ${KQ_IMAGE}: the player cannot fetch a base image. kq's image is its package with its
      // production dependencies in /app (test/k8s/image-build.test.ts plays kq's own Dockerfile), so the
      // same package and dependencies, as installed from the tarball above, stand in for it.
      const kqImage = join(image.root, 'app');
      const installed = join(app, 'node_modules');
      for (const f of ['package.json', 'dist'])
        cpSync(join(installed, 'kq', f), join(kqImage, f), { recursive: true });
      // Its dependencies are linked, not copied: Node resolves them (and theirs) at their real path.
      mkdirSync(join(kqImage, 'node_modules'));
      for (const dep of readdirSync(installed)) {
        if (['kq', 'typescript', '@types', '.bin', '.package-lock.json'].includes(dep)) continue;
        symlinkSync(join(installed, dep), join(kqImage, 'node_modules', dep));
      }
    }, 600_000);
    afterAll(() => image?.close());

    it('assembles kq’s image plus the compiled handlers, linked to the base image’s kq, non-root', () => {
      expect(readdirSync(image.workdir).sort()).toEqual(['dist', 'node_modules', 'package.json']);
      expect(image.workdir).toBe(join(image.root, 'app/handlers'));
      expect(readdirSync(join(image.workdir, 'node_modules'))).toEqual(['kq']);
      expect(lstatSync(join(image.workdir, 'node_modules/kq')).isSymbolicLink()).toBe(true);
      expect(readlinkSync(join(image.workdir, 'node_modules/kq'))).toBe('../..');
      expect(readdirSync(join(image.workdir, 'dist'))).toContain('jobs.js');
      expect(image.env).toMatchObject({ NODE_ENV: 'production', HANDLERS: 'dist/jobs.js' });
      expect(image.user).toBe('10001:10001');
      expect(image.entrypoint).toEqual(['node', '/app/dist/cli.js']);
    });

    it('a worker started by the ENTRYPOINT runs a report job enqueued with the image’s CLI, then exits 0', async () => {
      const cli = join(image.root, 'app/dist/cli.js');
      const env = { ...image.env, REDIS_URL: redisUrl, KQ_PREFIX: prefix, QUEUE: 'jobs' };
      const id = (
        await step(
          'enqueue in the image',
          process.execPath,
          [cli, 'enqueue', 'report', '{"customerId":"initech","month":"2024-02"}'],
          env,
          image.workdir,
        )
      ).trim();
      expect(id).not.toBe('');
      // As the ENTRYPOINT runs it: node /app/dist/cli.js worker, in the image's WORKDIR with its ENV.
      const worker = startKq(
        [cli, 'worker'],
        { ...env, EXIT: '1', HEALTH_PORT: '0' },
        image.workdir,
        process.execPath,
      );
      expect(await exitOf(worker), worker.output().slice(-3000)).toBe(0);
      const connection = new Redis(redisUrl);
      const queue = new Queue('jobs', { connection, prefix });
      try {
        const job = await queue.getJob(id);
        expect(await job?.getState()).toBe('completed');
        expect(job?.returnvalue).toMatchObject({ customerId: 'initech', month: '2024-02', days: 29 });
      } finally {
        await queue.close();
        connection.disconnect();
      }
    });
  });
});
