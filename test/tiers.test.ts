/**
 * Every test file runs in exactly one tier (fast, slow or image), as vitest itself resolves the projects of
 * vitest.config.ts; every entry of test/tiers.ts still names a test file; the image test stays out of `npm test`.
 */
import { readdirSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { expect, it } from 'vitest';
import { createVitest } from 'vitest/node';
import { IMAGE_TEST, SLOW_TESTS, slowGlobs } from './tiers.js';

const root = resolve(import.meta.dirname, '..');
const onDisk = (readdirSync(resolve(root, 'test'), { recursive: true }) as string[])
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => `test/${f.split('\\').join('/')}`)
  .sort();

it('puts every test file in exactly one of the fast, slow and image tiers', async () => {
  const vitest = await createVitest('test', {
    root,
    watch: false,
    config: resolve(root, 'vitest.config.ts'),
  });
  try {
    const specs = await vitest.globTestSpecifications();
    const tiers = new Map<string, string[]>();
    for (const s of specs) {
      const file = relative(root, s.moduleId).split('\\').join('/');
      tiers.set(file, [...(tiers.get(file) ?? []), s.project.name]);
    }
    const wrong = onDisk
      .filter((f) => tiers.get(f)?.length !== 1)
      .map((f) => `${f}: ${tiers.get(f) ?? 'none'}`);
    expect(wrong).toEqual([]);
    expect(tiers.get(IMAGE_TEST)).toEqual(['image']);
    expect(tiers.get('test/tiers.test.ts')).toEqual(['fast']);
    const slow = [...tiers].filter(([, t]) => t[0] === 'slow').map(([f]) => f);
    expect(slow.length).toBeGreaterThanOrEqual(SLOW_TESTS.length);
  } finally {
    await vitest.close();
  }
});

it('names, for every slow entry, at least one test file and a reason', () => {
  const globs = slowGlobs();
  for (const [i, e] of SLOW_TESTS.entries()) {
    const glob = globs[i] as string;
    const hits = e.path.endsWith('/')
      ? onDisk.filter((f) => f.startsWith(e.path))
      : onDisk.filter((f) => f === glob);
    expect(hits.length, `${e.path} matches no test file`).toBeGreaterThan(0);
    expect(e.reason.length, `${e.path} needs a reason`).toBeGreaterThan(10);
  }
});
