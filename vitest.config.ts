import { configDefaults, defineConfig } from 'vitest/config';
import { IMAGE_TEST, slowGlobs } from './test/tiers.js';

// Three tiers (test/tiers.ts): `fast` is `npm test`, `slow` adds packaging, chaos, killed HA sets and long
// lab runs (`npm run test:slow`, both in `npm run test:all`), `image` plays the Dockerfile (`npm run test:image`).
// Global setups sit in the projects, not here: the root's would run once more for the root project.
const ALL = ['test/**/*.test.ts'];
const globalSetup = ['test/helpers/global-setup.ts'];

export default defineConfig({
  test: {
    setupFiles: ['test/helpers/leak-guard.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    // The fast tier's files share a worker's module cache: kq, BullMQ, Fastify and the rest are imported
    // once per worker instead of once per file, which was most of the tier's CPU time. Setup files still
    // run per file, so the leak guard checks every test. A project cannot set this for itself (vitest
    // reads it from the root), so the slow tier runs on its own with `--isolate` (package.json).
    isolate: false,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'fast',
          include: ALL,
          exclude: [...configDefaults.exclude, IMAGE_TEST, ...slowGlobs()],
          // One Redis Cluster for the whole tier (sharedRedisCluster()); tests that kill nodes start their own.
          globalSetup: [...globalSetup, 'test/helpers/cluster-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'slow',
          include: slowGlobs(),
          exclude: [...configDefaults.exclude, IMAGE_TEST],
          globalSetup,
        },
      },
      { extends: true, test: { name: 'image', include: [IMAGE_TEST], globalSetup } },
    ],
  },
});
