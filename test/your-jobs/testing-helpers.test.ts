/**
 * The helpers kq exports for job authors, as they import them (the built bundle, `import ... from 'kq'`):
 * `runJob` runs a handler the way the worker does without Redis; `createTestWorker` runs it through the
 * real worker runtime against Redis.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';

type Kq = typeof import('../../src/index.js');
const kq = (await import(pathToFileURL(resolve(import.meta.dirname, '../../dist/index.js')).href)) as Kq;
const { defineJob, runJob, createTestWorker, z } = kq;

const report = defineJob({
  name: 'report',
  schema: z.object({ customerId: z.string(), pages: z.number().int().min(1).default(2) }),
  options: { attempts: 2, backoff: { type: 'fixed', delay: 10 } },
  async handler({ data, progress, log, signal, attempt, queue }) {
    for (let page = 1; page <= data.pages; page++) await progress(Math.round((page / data.pages) * 100));
    log.info({ event: 'report.done', customerId: data.customerId }, 'report rendered');
    if (data.customerId === 'broken') throw new Error('no rows for customer broken');
    return { url: `https://reports.example/${data.customerId}`, attempt, queue, aborted: signal.aborted };
  },
});

const stuck = defineJob({
  name: 'stuck',
  schema: z.object({}),
  options: { timeoutMs: 50 },
  // Ignores its signal, as a careless handler might: the run still settles at the timeout.
  handler: () => new Promise(() => {}),
});

describe('runJob: the worker’s way, without Redis', () => {
  it('validates the payload (defaults applied) and gives the handler progress, log and signal', async () => {
    const run = await runJob(report, { customerId: 'c1' });
    expect(run.result).toEqual({
      url: 'https://reports.example/c1',
      attempt: 1,
      queue: 'jobs',
      aborted: false,
    });
    expect(run.progress).toEqual([50, 100]);
    expect(run.logs).toMatchObject([
      { level: 'info', msg: 'report rendered', event: 'report.done', customerId: 'c1', type: 'report' },
    ]);
  });

  it('refuses an invalid payload with the message producers get', async () => {
    const err = await runJob(report, { customerId: 7 } as never).catch((e: Error) => e);
    expect(err).toBeInstanceOf(kq.ValidationError);
    expect((err as InstanceType<Kq['ValidationError']>).code).toBe('INVALID_PAYLOAD');
    expect((err as Error).message).toMatch(/Payload for job type "report" is invalid: data\.customerId: /);
  });

  it('rejects with the handler’s error', async () => {
    await expect(runJob(report, { customerId: 'broken' })).rejects.toThrow('no rows for customer broken');
  });

  it('aborts at the type’s timeoutMs without waiting for a handler that ignores its signal', async () => {
    const started = Date.now();
    await expect(runJob(stuck, {})).rejects.toThrow('Job type "stuck" timed out after 50 ms (its timeoutMs)');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('refuses what is not a job definition', async () => {
    await expect(runJob(undefined as never, {})).rejects.toThrow(
      'runJob: the first argument must be a job definition made by defineJob() (got undefined)',
    );
  });

  it('aborts when the caller’s signal fires, as a cancel does', async () => {
    const controller = new AbortController();
    const seen: boolean[] = [];
    const waits = defineJob({
      name: 'waits',
      schema: z.object({}),
      handler: ({ signal }) =>
        new Promise((_, reject) =>
          signal.addEventListener('abort', () => {
            seen.push(signal.aborted);
            reject(signal.reason);
          }),
        ),
    });
    const run = runJob(waits, {}, { signal: controller.signal, timeoutMs: 0 });
    controller.abort('user cancelled');
    await expect(run).rejects.toThrow(/aborted \(cancelled\): user cancelled/);
    expect(seen).toEqual([true]);
  });
});

describe('createTestWorker: through the real worker runtime', () => {
  it('runs jobs, reports failures for good, and deletes its keys on close', async () => {
    const redisUrl = inject('redisUrl');
    const worker = await createTestWorker({ jobs: [report], redisUrl });
    const redis = new Redis(redisUrl);
    try {
      expect(await worker.run('report', { customerId: 'c2', pages: 4 })).toEqual({
        url: 'https://reports.example/c2',
        attempt: 1,
        queue: 'jobs',
        aborted: false,
      });
      // Two attempts (the type's), then failed for good with the handler's message.
      await expect(worker.run('report', { customerId: 'broken' })).rejects.toThrow(
        /failed: no rows for customer broken/,
      );
      await expect(worker.run('report', { customerId: 1 })).rejects.toThrow(/is invalid: data\.customerId/);
      expect((await redis.keys(`${worker.prefix}:*`)).length).toBeGreaterThan(0);
    } finally {
      await worker.close();
    }
    expect(await redis.keys(`${worker.prefix}:*`)).toEqual([]);
    redis.disconnect();
  });

  it('starts a private redis-server when given no Redis', async () => {
    const saved = process.env.REDIS_URL;
    delete process.env.REDIS_URL;
    try {
      const worker = await createTestWorker({ jobs: report });
      try {
        expect(worker.redisUrl).not.toBe(inject('redisUrl'));
        expect(await worker.run('report', { customerId: 'c3', pages: 1 })).toMatchObject({
          url: 'https://reports.example/c3',
        });
      } finally {
        await worker.close();
      }
    } finally {
      if (saved !== undefined) process.env.REDIS_URL = saved;
    }
  });

  it('says what is wrong with its input, and what to do without Redis', async () => {
    await expect(createTestWorker({ jobs: [{ name: 'report' }] as never })).rejects.toThrow(
      'createTestWorker: jobs must be job definitions made by defineJob() (jobs[0] is not one)',
    );
    const saved = { url: process.env.REDIS_URL, path: process.env.PATH };
    delete process.env.REDIS_URL;
    process.env.PATH = '/nonexistent';
    try {
      await expect(createTestWorker({ jobs: report })).rejects.toThrow(
        /createTestWorker: no redisUrl and no REDIS_URL, and no private Redis either: could not start redis-server .*Set REDIS_URL/,
      );
    } finally {
      process.env.PATH = saved.path;
      if (saved.url !== undefined) process.env.REDIS_URL = saved.url;
    }
  });
});
