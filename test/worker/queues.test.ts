/**
 * The second queue: a worker serves one queue. Without QUEUE it takes the only queue of its handlers, or
 * refuses to start (exit 2) when their types span several, instead of serving one while the others' jobs
 * wait forever.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { spawnKq } from '../helpers/kq-process.js';
import { waitFor } from '../helpers/wait.js';

const fixture = (name: string) => resolve(import.meta.dirname, `../fixtures/${name}`);
const JOBS_AND_IMAGES = fixture('jobs-and-images-handlers.mjs');
const IMAGES = fixture('images-handlers.mjs');

/** A key prefix of its own (the queue names `jobs` and `images` are fixed), removed afterwards. */
function usePrefix(): { prefix: string; redisUrl: string } {
  const prefix = `qs-${randomBytes(4).toString('hex')}`;
  const redisUrl = inject('redisUrl');
  onTestFinished(async () => {
    const c = new Redis(redisUrl);
    const keys = await c.keys(`${prefix}:*`);
    if (keys.length) await c.del(...keys);
    c.disconnect();
  });
  return { prefix, redisUrl };
}

describe('kq worker without QUEUE', () => {
  it('refuses to start (exit 2) when its handlers span two queues, naming them and QUEUE', async () => {
    const { prefix, redisUrl } = usePrefix();
    const w = spawnKq(['worker'], {
      REDIS_URL: redisUrl,
      KQ_PREFIX: prefix,
      HANDLERS: JOBS_AND_IMAGES,
      HEALTH_PORT: '0',
    });
    expect((await w.waitForExit()).code).toBe(2);
    expect(w.output()).toContain(
      `HANDLERS ${JSON.stringify(JOBS_AND_IMAGES)} has job types on 2 queues: queue "jobs" (email), queue "images" (thumbnail). A worker serves one queue: set QUEUE (--queue) to one of "jobs", "images"`,
    );
  });

  it('serves the only queue of its handlers; with QUEUE set, that queue', async () => {
    const { prefix, redisUrl } = usePrefix();
    const env = { REDIS_URL: redisUrl, KQ_PREFIX: prefix, HEALTH_PORT: '0' };
    const images = spawnKq(['worker'], { ...env, HANDLERS: IMAGES }, 'images worker');
    const started = await images.waitForLog('started', (l) => l.event === 'worker.started');
    expect(started.queue).toBe('images');
    const c = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const q = new Queue('images', { connection: c, prefix });
    try {
      const job = await q.add('thumbnail', { width: 32 });
      await waitFor('thumbnail done', async () => (await q.getJobState(job.id as string)) === 'completed');
      expect((await q.getJob(job.id as string))?.returnvalue).toEqual({
        queue: 'images',
        width: 32,
        pid: images.proc.pid,
      });
      images.kill();
      expect((await images.waitForExit()).code).toBe(0);
      // Two queues, but QUEUE picks one: that is a complete configuration.
      const jobsOnly = spawnKq(
        ['worker'],
        { ...env, HANDLERS: JOBS_AND_IMAGES, QUEUE: 'jobs' },
        'jobs worker',
      );
      expect((await jobsOnly.waitForLog('started', (l) => l.event === 'worker.started')).queue).toBe('jobs');
      jobsOnly.kill();
      expect((await jobsOnly.waitForExit()).code).toBe(0);
    } finally {
      await q.close();
      c.disconnect();
    }
  });
});
