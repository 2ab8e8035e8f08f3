/**
 * `kq lab record`: a queue's retained history becomes a workload file the lab plays; a queue that does
 * not exist, or holds no finished job, exits 2 saying so; thin history is flagged.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkWorkload, generateJobs } from '../../src/lab/workload.js';
import { spawnKq } from '../helpers/kq-process.js';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

let server: RedisServer;
const dir = mkdtempSync(join(tmpdir(), 'kq-lab-record-'));
const prefix = 'rec';

async function kq(args: string[]) {
  const p = spawnKq(args, {});
  const { code } = await p.waitForExit(60_000);
  return { code, output: p.output() };
}

beforeAll(async () => {
  server = await startRedisServer();
  const connection = { host: '127.0.0.1', port: server.port, maxRetriesPerRequest: null };
  const queue = new Queue('orders', { connection, prefix });
  // 12 jobs: 4 fail their first attempt (retried once), 2 always fail, 3 are delayed.
  await queue.addBulk(
    Array.from({ length: 12 }, (_, i) => ({
      name: 'work',
      data: { i, ms: 20 + i, failOnce: i % 3 === 0, failAlways: i === 5 || i === 7 },
      opts: { attempts: 2, backoff: { type: 'fixed', delay: 10 }, ...(i >= 9 ? { delay: 50 } : {}) },
    })),
  );
  const worker = new Worker(
    'orders',
    async (job) => {
      await new Promise((r) => setTimeout(r, job.data.ms));
      if (job.data.failAlways || (job.data.failOnce && job.attemptsMade === 0)) throw new Error('no');
    },
    { connection, prefix, concurrency: 4 },
  );
  await waitFor(
    'the 12 jobs to finish',
    async () => (await queue.getCompletedCount()) + (await queue.getFailedCount()) === 12 || undefined,
    { timeoutMs: 30_000, intervalMs: 50 },
  );
  await worker.close();
  // A queue with jobs but none finished.
  const idle = new Queue('idle', { connection, prefix });
  await idle.add('work', {});
  await Promise.all([queue.close(), idle.close()]);
}, 60_000);

afterAll(async () => {
  await server?.remove();
  rmSync(dir, { recursive: true, force: true });
});

describe('kq lab record', () => {
  it('writes a workload file from the finished jobs, which the lab plays', async () => {
    const out = join(dir, 'orders.json');
    const r = await kq([
      'lab',
      'record',
      '--redis-url',
      server.url,
      '--queue',
      'orders',
      '--prefix',
      prefix,
      '--out',
      out,
    ]);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(
      /warning: only 12 finished jobs over \d+ s are retained: the workload may not be representative/,
    );
    const w = checkWorkload(JSON.parse(readFileSync(out, 'utf8')), 'orders');
    expect(w.recorded).toMatchObject({ queue: 'orders', jobs: 12 });
    expect(w.arrivals?.reduce((n, a) => n + a.count, 0)).toBe(12);
    expect(w.jobSeconds.dist).toBe('empirical');
    // Run times as seen: at least the handler's sleep, well under a second.
    for (const v of w.jobSeconds.values ?? []) expect(v).toBeGreaterThanOrEqual(0.02);
    expect(w.failAlwaysFraction).toBe(round2(2 / 12));
    expect(w.failOnceFraction).toBe(round2(4 / 12));
    expect(w.delayed?.fraction).toBe(round2(3 / 12));
    expect(w.attempts).toBe(2);
    expect(generateJobs(w)).toHaveLength(12);
    const played = await kq(['lab', 'run', 'deployment', '--engine', 'model', '--workload', out]);
    expect(played.code, played.output).toBe(0);
    expect(played.output).toMatch(/deployment: completed \d+\/12/);
  });

  it('exits 2 for a queue that does not exist, or holds no finished job', async () => {
    const none = await kq([
      'lab',
      'record',
      '--redis-url',
      server.url,
      '--queue',
      'nosuch',
      '--prefix',
      prefix,
    ]);
    expect(none.code).toBe(2);
    expect(none.output).toMatch(/Queue "nosuch" does not exist with prefix "rec"/);
    const idle = await kq([
      'lab',
      'record',
      '--redis-url',
      server.url,
      '--queue',
      'idle',
      '--prefix',
      prefix,
    ]);
    expect(idle.code).toBe(2);
    expect(idle.output).toMatch(/Queue "idle" holds no finished jobs since .*: nothing to record/);
    const noQueue = await kq(['lab', 'record', '--redis-url', server.url]);
    expect(noQueue.code).toBe(2);
    expect(noQueue.output).toMatch(/needs --queue/);
    const since = await kq([
      'lab',
      'record',
      '--redis-url',
      server.url,
      '--queue',
      'orders',
      '--since',
      'yesterday',
    ]);
    expect(since.code).toBe(2);
    expect(since.output).toMatch(/Invalid --since "yesterday": must be a duration like 90m/);
  });
});

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
