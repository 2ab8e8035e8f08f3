/**
 * `kq manifests` renders each queue's limits into its worker env: from `--rate-limit-max`,
 * `--rate-limit-duration-ms`, `--global-concurrency`, else from the handlers module's `defineQueue`;
 * the worker parses the rendered env back to the same values, and a bad combination is refused.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseOptions } from '../../src/config.js';
import { renderObjects } from '../../src/k8s/render.js';
import { workerOptionSpecs } from '../../src/worker/options.js';
import { firstContainer, handlersOptions, type K8sObject, render } from './manifest-fixture.js';

const kqIndex = pathToFileURL(resolve(import.meta.dirname, '../../dist/index.js')).href;
const dir = mkdtempSync(join(tmpdir(), 'kq-queue-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const HANDLERS = join(dir, 'jobs.mjs');
writeFileSync(
  HANDLERS,
  [
    `import { defineJob, defineQueue, z } from '${kqIndex}';`,
    "export const resize = defineJob({ name: 'resize', queue: 'images', schema: z.object({}), handler: () => null });",
    "export const mail = defineJob({ name: 'mail', queue: 'emails', schema: z.object({}), handler: () => null });",
    "export const images = defineQueue({ name: 'images', rateLimit: { max: 10, durationMs: 2000 }, globalConcurrency: 4 });",
    '',
  ].join('\n'),
);
const LIMIT_ENV = ['RATE_LIMIT_MAX', 'RATE_LIMIT_DURATION_MS', 'GLOBAL_CONCURRENCY'];

async function limitEnv(flags: string[]): Promise<Record<string, Record<string, string>>> {
  const o = await handlersOptions(['--handlers', HANDLERS, ...flags]);
  const objects = renderObjects('deployment', o).map((m) => m.toJSON() as K8sObject);
  const out: Record<string, Record<string, string>> = {};
  for (const obj of objects.filter(
    (x) => x.kind === 'Deployment' && x.metadata.name.startsWith('kq-worker'),
  )) {
    const env = firstContainer(obj).env ?? [];
    out[obj.metadata.name] = Object.fromEntries(
      env.filter((e) => LIMIT_ENV.includes(e.name)).map((e) => [e.name, e.value as string]),
    );
    // The worker reads back what was rendered.
    const values = parseOptions(
      workerOptionSpecs,
      [],
      Object.fromEntries(env.map((e) => [e.name, e.value ?? 'x'])),
    ).values;
    expect(values.rateLimitMax).toBe(Number(out[obj.metadata.name]?.RATE_LIMIT_MAX ?? 0));
  }
  return out;
}

describe('kq manifests: queue limits in the worker env', () => {
  it('renders the declaration of each queue, and nothing for a queue without limits', async () => {
    expect(await limitEnv([])).toEqual({
      'kq-worker-images': { RATE_LIMIT_MAX: '10', RATE_LIMIT_DURATION_MS: '2000', GLOBAL_CONCURRENCY: '4' },
      'kq-worker-emails': {},
    });
  });

  it('flags override the declaration part by part, for every queue', async () => {
    expect(await limitEnv(['--global-concurrency', '2', '--rate-limit-max', '3'])).toEqual({
      'kq-worker-images': { RATE_LIMIT_MAX: '3', RATE_LIMIT_DURATION_MS: '2000', GLOBAL_CONCURRENCY: '2' },
      'kq-worker-emails': { RATE_LIMIT_MAX: '3', RATE_LIMIT_DURATION_MS: '1000', GLOBAL_CONCURRENCY: '2' },
    });
  });

  it('without --handlers, flags alone; none by default (deploy/ unchanged)', () => {
    const env = (flags: string[]) =>
      (
        firstContainer(
          render('deployment', flags).find((o) => o.kind === 'Deployment' && o.metadata.name === 'kq-worker'),
        ).env ?? []
      )
        .filter((e) => LIMIT_ENV.includes(e.name))
        .map((e) => `${e.name}=${e.value}`);
    expect(env([])).toEqual([]);
    expect(env(['--rate-limit-max', '7', '--rate-limit-duration-ms', '60000'])).toEqual([
      'RATE_LIMIT_MAX=7',
      'RATE_LIMIT_DURATION_MS=60000',
    ]);
  });

  it('refuses a window with no rate limit to apply it to, and bad values', async () => {
    await expect(limitEnv(['--rate-limit-duration-ms', '500'])).rejects.toThrow(
      /RATE_LIMIT_DURATION_MS \(flag --rate-limit-duration-ms\): 500 is set, but there is no rate limit/,
    );
    await expect(limitEnv(['--global-concurrency', '1.5'])).rejects.toThrow(
      /Invalid --global-concurrency: "1.5" must be a whole number from 0 to 1000000/,
    );
  });
});
