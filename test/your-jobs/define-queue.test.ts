/**
 * `defineQueue` declarations: validated when the module loads, found by the loader next to the job
 * types, refused when they name no queue of the module's job types or repeat one, and combined with the
 * worker's flags (flags win, part by part).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJob } from '../../src/jobs/define-job.js';
import { defineQueue } from '../../src/jobs/define-queue.js';
import { loadHandlerModule } from '../../src/jobs/load-handlers.js';
import { resolveQueueLimits } from '../../src/jobs/queue-limits.js';
import { loadRegistry } from '../../src/jobs/registry.js';
import { runJob } from '../../src/testing/run-job.js';
import { CLI } from '../helpers/kq-process.js';

const dist = resolve(import.meta.dirname, '../../dist/index.js');
const dir = mkdtempSync(join(tmpdir(), 'kq-queues-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function module(name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    `import { defineJob, defineQueue, z } from ${JSON.stringify(dist)};\nexport const a = defineJob({ name: 'a', queue: 'images', schema: z.object({}), handler: () => null });\n${body}`,
  );
  return file;
}

describe('defineQueue', () => {
  it('keeps what it is given and refuses values out of range, naming the option, value and rule', () => {
    expect(
      defineQueue({ name: 'images', rateLimit: { max: 2, durationMs: 1000 }, globalConcurrency: 3 }),
    ).toMatchObject({ name: 'images', rateLimit: { max: 2, durationMs: 1000 }, globalConcurrency: 3 });
    expect(() => defineQueue({ name: 'images', globalConcurrency: 0 })).toThrow(
      'defineQueue(images): globalConcurrency (0) must be a whole number from 1 to 1000000',
    );
    expect(() => defineQueue({ name: 'images', rateLimit: { max: 2, durationMs: 1.5 } })).toThrow(
      'defineQueue(images): rateLimit.durationMs (1.5) must be a whole number from 1 to 86400000',
    );
    expect(() => defineQueue({ name: 'images', rateLimit: { max: -1, durationMs: 10 } })).toThrow(
      /rateLimit\.max \(-1\)/,
    );
    expect(() => defineQueue({ name: 'bad name' })).toThrow(/defineQueue: name "bad name" must be/);
    expect(() => defineQueue({ name: 'images', concurrency: 2 } as never)).toThrow(
      /unknown option "concurrency"; known: rateLimit, globalConcurrency/,
    );
  });

  it('is loaded with the job types and reaches the registry', async () => {
    const file = module(
      'ok.mjs',
      "export const images = defineQueue({ name: 'images', globalConcurrency: 2 });\n",
    );
    const { definitions, queues } = await loadHandlerModule(file);
    expect(definitions.map((d) => d.name)).toEqual(['a']);
    expect(queues.map((q) => q.name)).toEqual(['images']);
    const registry = await loadRegistry(file);
    expect(registry.limits('images')).toEqual({ rateLimit: undefined, globalConcurrency: 2 });
    expect(registry.limits('other')).toEqual({});
  });

  it('refuses a declaration for a queue no job type runs on, and a queue declared twice', async () => {
    await expect(
      loadHandlerModule(
        module('typo.mjs', "export const q = defineQueue({ name: 'imagse', globalConcurrency: 2 });\n"),
      ),
    ).rejects.toThrow(
      /declares queue "imagse" \(export `q`\), on which none of its job types runs \(their queues: images\)/,
    );
    await expect(
      loadHandlerModule(
        module(
          'twice.mjs',
          "export const q1 = defineQueue({ name: 'images' });\nexport const q2 = defineQueue({ name: 'images' });\n",
        ),
      ),
    ).rejects.toThrow(/declares queue "images" twice \(exports `q1` and `q2`\)/);
  });
});

describe('a bad declaration stops every command that loads the module (exit 2)', () => {
  const file = module('bad.mjs', "export const q = defineQueue({ name: 'imagse' });\n");
  const commands: [string, string[]][] = [
    ['worker', ['worker', '--handlers', file]],
    ['api', ['api', '--handlers', file]],
    ['manifests', ['manifests', 'deployment', '--handlers', file]],
  ];
  for (const [name, argv] of commands) {
    it(`kq ${name}`, () => {
      const r = spawnSync(process.execPath, [CLI, ...argv], {
        env: { PATH: process.env.PATH, HEALTH_PORT: '0', AUTH: 'none', PORT: '0', HOST: '127.0.0.1' },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/declares queue "imagse" \(export `q`\), on which none of its job types runs/);
    });
  }
});

describe('resolveQueueLimits: flags override the declaration part by part', () => {
  const none = { rateLimitMax: 0, rateLimitDurationMs: 0, globalConcurrency: 0 };
  const declared = { rateLimit: { max: 5, durationMs: 2000 }, globalConcurrency: 4 };
  it('takes the declaration, a flag over it, or the default window', () => {
    expect(resolveQueueLimits(none, {})).toEqual({});
    expect(resolveQueueLimits(none, declared)).toEqual(declared);
    expect(resolveQueueLimits({ ...none, rateLimitMax: 9 }, declared)).toEqual({
      rateLimit: { max: 9, durationMs: 2000 },
      globalConcurrency: 4,
    });
    expect(resolveQueueLimits({ ...none, rateLimitDurationMs: 500, globalConcurrency: 1 }, declared)).toEqual(
      {
        rateLimit: { max: 5, durationMs: 500 },
        globalConcurrency: 1,
      },
    );
    expect(resolveQueueLimits({ ...none, rateLimitMax: 2 }, {})).toEqual({
      rateLimit: { max: 2, durationMs: 1000 },
    });
  });
  it('refuses a window with no limit to apply it to', () => {
    expect(() => resolveQueueLimits({ ...none, rateLimitDurationMs: 500 }, { globalConcurrency: 2 })).toThrow(
      /RATE_LIMIT_DURATION_MS \(flag --rate-limit-duration-ms\): 500 is set, but there is no rate limit/,
    );
  });
});

describe('ctx.rateLimited in runJob', () => {
  const job = defineJob({
    name: 'calls-api',
    schema: z.object({ retryAfterMs: z.number() }),
    handler: (ctx) => ctx.rateLimited(ctx.data.retryAfterMs),
  });
  it('rejects with RateLimited and its delay; a bad delay is a TypeError', async () => {
    await expect(runJob(job, { retryAfterMs: 3000 })).rejects.toMatchObject({
      name: 'RateLimited',
      delayMs: 3000,
    });
    await expect(runJob(job, { retryAfterMs: 0 })).rejects.toThrow(
      'ctx.rateLimited(0): the delay must be a whole number of ms from 1 to 86400000',
    );
  });
});
