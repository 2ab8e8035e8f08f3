/**
 * The built bundle (`npm run build`: dist/index.js and its chunks), as a user's `import 'kq'` loads it:
 * zod re-exported, and the parts loaded on first use (scripts/bundle.mjs, `lazy`) still work.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useTestQueue } from '../helpers/context.js';

const dist = pathToFileURL(resolve(import.meta.dirname, '../../dist/index.js')).href;
type Kq = typeof import('../../src/index.js');
const kq = () => import(dist) as Promise<Kq>;

describe('the bundle', () => {
  it('re-exports zod as `z`: schemas built with it validate and define jobs', async () => {
    const { defineJob, z } = await kq();
    const schema = z.object({ url: z.string().url() });
    expect(schema.safeParse({ url: 'https://example.com' }).success).toBe(true);
    expect(schema.safeParse({ url: 1 }).success).toBe(false);
    const def = defineJob({ name: 'fetch', schema, handler: () => null });
    expect(def.schema).toBe(schema);
  });

  it("loads zod's other locales on first use", async () => {
    const { z } = await kq();
    try {
      z.config(z.locales.de());
      expect(z.string().safeParse(1).error?.issues[0]?.message).toMatch(/Ungültige Eingabe/);
    } finally {
      z.config(z.locales.en());
    }
    expect(z.string().safeParse(1).error?.issues[0]?.message).toMatch(/Invalid input/);
  });

  it('loads cron-parser on first use: a bundled Queue still schedules cron jobs', async () => {
    const t = useTestQueue();
    const { createQueueCache } = await kq();
    const queues = createQueueCache(t.redis, t.prefix);
    try {
      const queue = queues.get(t.queue);
      await queue.upsertJobScheduler('every-5-min', { pattern: '*/5 * * * *' }, { name: 'noop' });
      const scheduler = await queue.getJobScheduler('every-5-min');
      expect(scheduler?.pattern).toBe('*/5 * * * *');
      const next = scheduler?.next ?? 0;
      expect(next).toBeGreaterThan(Date.now());
      expect(new Date(next).getUTCMinutes() % 5).toBe(0);
    } finally {
      await queues.close();
    }
  });
});
