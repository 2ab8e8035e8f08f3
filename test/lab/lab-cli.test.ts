/**
 * `kq lab` at the command line: bad input stops it with exit 2 and a message naming the option, the
 * value and the rule; a workload given as a JSON file is played end to end.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { spawnKq } from '../helpers/kq-process.js';
import { startRedisServer } from '../helpers/redis-server.js';

async function lab(args: string[]) {
  const p = spawnKq(['lab', ...args], {});
  const { code } = await p.waitForExit(60_000);
  return { code, output: p.output() };
}

/** `kq lab run deployment` on the real engine at speed 50, its report in `dir`. */
function realRun(workload: string, dir: string, extra: string[] = []) {
  return lab([
    'run',
    'deployment',
    '--engine',
    'real',
    '--workload',
    workload,
    '--speed',
    '50',
    ...extra,
    '--report',
    dir,
  ]);
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kq-lab-cli-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('kq lab: refusals', () => {
  it('explains itself with --help and without a mode', async () => {
    const help = await lab(['--help']);
    expect(help.code).toBe(0);
    expect(help.output).toContain('kq lab compare [approaches...]');
    expect(help.output).toContain('smoke');
    expect(help.output).toContain('--kill-rate');
    expect((await lab([])).code).toBe(2);
  });
  it('names what is wrong', async () => {
    const cases: [string[], RegExp][] = [
      [['compare', 'kubernetes'], /Unknown approach "kubernetes": must be one of deployment, cronjob/],
      [['run', 'deployment', 'cronjob'], /takes exactly one approach/],
      [['walk'], /Unknown `kq lab` mode "walk"/],
      [['run', 'deployment', '--speed', 'fast'], /Invalid --speed: "fast" must be a number from 0 to 10000/],
      [['run', 'deployment', '--kill-rate', '-1'], /Invalid --kill-rate/],
      [
        ['run', 'deployment', '--workload', '/nonexistent/w.json'],
        /Invalid --workload "\/nonexistent\/w.json": not a preset \(smoke, steady/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await lab(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.output, args.join(' ')).toMatch(message);
    }
  });
  it('refuses a workload file that breaks the format, saying which field', async () => {
    const dir = tempDir();
    const file = join(dir, 'w.json');
    writeFileSync(file, JSON.stringify({ durationSeconds: 60, jobSeconds: { dist: 'fixed', value: 1 } }));
    const r = await lab(['run', 'deployment', '--workload', file]);
    expect(r.code).toBe(2);
    expect(r.output).toMatch(/needs "arrivals"/);
    writeFileSync(file, '{"durationSeconds": 60,');
    expect((await lab(['run', 'deployment', '--workload', file])).output).toMatch(/not valid JSON/);
  });
});

describe('kq lab: a workload file', () => {
  it('is played against a real worker Deployment and reported', async () => {
    const dir = tempDir();
    const file = join(dir, 'w.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'three',
        durationSeconds: 10,
        arrivals: [{ at: 0, count: 2 }],
        rates: [{ from: 0, to: 10, perMinute: 6 }],
        jobSeconds: { dist: 'uniform', min: 1, max: 3 },
        seed: 4,
      }),
    );
    const r = await realRun(file, dir);
    expect(r.code, r.output).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(report.workload.name).toBe('three');
    const a = report.approaches.deployment;
    expect(a.submitted).toBe(report.settings.jobs);
    expect(a.submitted).toBeGreaterThanOrEqual(2);
    expect(a.completed).toBe(a.submitted);
    expect(a.lost).toBe(0);
    expect(a.processesLeft).toBe(0);
    expect(r.output).toMatch(/\| deployment \| \d+ \| \d+ \|/); // the table on stdout
  });
});

describe('kq lab: a Redis it is pointed at', () => {
  it('is left without lab queues: none in the queue directory, no keys of them', async () => {
    const server = await startRedisServer();
    onTestFinished(() => server.remove());
    const redis = server.client();
    onTestFinished(async () => {
      await redis.quit();
    });
    const dir = tempDir();
    const file = join(dir, 'w.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'two',
        durationSeconds: 5,
        arrivals: [{ at: 0, count: 2 }],
        jobSeconds: { dist: 'fixed', value: 1 },
      }),
    );
    const r = await realRun(file, dir, ['--redis-url', server.url]);
    expect(r.code, r.output).toBe(0);
    // The run happened on this Redis (its jobs completed), so its workers did register their queue.
    expect(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')).approaches.deployment.completed).toBe(
      2,
    );
    const registries = await redis.keys('*:kq:queues');
    const registered = (await Promise.all(registries.map((k) => redis.smembers(k)))).flat();
    expect(registered.filter((q) => q.startsWith('lab-'))).toEqual([]);
    expect((await redis.keys('*')).filter((k) => k.includes('lab-'))).toEqual([]);
  });
});

describe('kq lab: a run the machine cannot play at its speed', () => {
  it('is marked unreliable, with the reason, in report.json, report.html and the table', async () => {
    const dir = tempDir();
    const file = join(dir, 'w.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'fast',
        durationSeconds: 60,
        arrivals: [{ at: 30, count: 2 }],
        jobSeconds: { dist: 'fixed', value: 5 },
      }),
    );
    // At 5000x every wall millisecond a worker takes to start is 5 workload seconds: far past the tolerance.
    const r = await lab([
      'run',
      'deployment',
      '--engine',
      'real',
      '--workload',
      file,
      '--speed',
      '5000',
      '--report',
      dir,
    ]);
    expect(r.code, r.output).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(report.engine).toBe('real');
    expect(report.reliable).toBe(false);
    const a = report.approaches.deployment;
    expect(a.reliability.reliable).toBe(false);
    expect(a.reliability.reasons.join('\n')).toMatch(/later than asked .* at speed 5000/);
    expect(Object.keys(a.reliability.unreliableFigures)).toContain('waitP95Ms');
    expect(a.podSecondsPer1000Jobs).toBeUndefined(); // 2 jobs cannot carry a per-1,000 figure
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('<div id="unreliable" class="banner">');
    expect(html).toMatch(/class="unreliable" title="[^"]*later than asked/);
    expect(r.output).toMatch(/deployment: unreliable: .*later than asked/);
  });
});
