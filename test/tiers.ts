/**
 * The test tiers. `npm test` runs the fast tier (every test file not listed here); `npm run test:slow` runs
 * the files below; `npm run test:all` runs both (`.ci/run` does). The image test has a tier of its own
 * (`npm run test:image`). An entry is a file, or a folder ending in `/` (every test file under it).
 * test/tiers.test.ts checks that every test file lands in exactly one tier.
 */
export interface SlowEntry {
  path: string;
  /** Why it is slow: packs or installs kq, kills Redis nodes, or takes more than ~15 s. */
  reason: string;
}

export const IMAGE_TEST = 'test/k8s/image-build.test.ts';

export const SLOW_TESTS: readonly SlowEntry[] = [
  {
    path: 'test/your-jobs/walkthrough.test.ts',
    reason: 'packs kq, installs it into a new app, runs the docs',
  },
  { path: 'test/k8s/production-install.test.ts', reason: 'npm pack + a production npm install of kq' },
  {
    path: 'test/your-jobs/install-git.test.ts',
    reason: 'installs kq from a git URL (runs its prepare build)',
  },
  { path: 'test/your-jobs/package-contents.test.ts', reason: 'npm pack, then reads the tarball' },
  { path: 'test/your-jobs/init.test.ts', reason: 'kq init into new folders, the packed-install path' },
  {
    path: 'test/chaos/',
    reason: 'fault scenarios: private redis-servers, Sentinel sets and Clusters killed',
  },
  { path: 'test/queue/sentinel.test.ts', reason: 'SIGKILLs and fails over a private Sentinel set' },
  { path: 'test/queue/sentinel-connector.test.ts', reason: 'SIGKILLs the primary of a private Sentinel set' },
  { path: 'test/k8s/redis-sentinel-failover.test.ts', reason: 'kills and restarts a private Sentinel set' },
  { path: 'test/dev/dev-sentinel-url.test.ts', reason: 'sets a password on a private Sentinel set' },
  { path: 'test/lab/compare-deployments.test.ts', reason: 'five lab runs with pod kills (> 15 s)' },
  { path: 'test/lab/compare-jobs.test.ts', reason: 'lab runs that start a Node process per pod (> 15 s)' },
  {
    path: 'test/lab/lab-installed.test.ts',
    reason: 'packs kq, installs it into a new app, runs kq lab there',
  },
  { path: 'test/lab/lab-docs.test.ts', reason: 'replays the burst table and kq lab tune (506 settings)' },
  { path: 'test/tracing/traces.test.ts', reason: 'API and worker processes with an OTLP receiver (~40 s)' },
  {
    path: 'test/tracing/trace-picture.test.ts',
    reason: 'a redis-server, an API and a worker for scripts/trace-picture.mjs',
  },
  {
    path: 'test/api/schedules-e2e.test.ts',
    reason: 'two kq api processes and a worker fire a schedule (15-20 s)',
  },
  {
    path: 'test/worker/queue-limits.test.ts',
    reason: 'seven worker processes and a private redis-server (~15 s)',
  },
  { path: 'test/queue/ioredis-internals.test.ts', reason: 'starts a private Sentinel set' },
  {
    path: 'test/worker/crash-recovery.test.ts',
    reason: 'SIGKILLs workers in every mode and waits out their locks (~28 s)',
  },
  {
    path: 'test/lab/lab-cli.test.ts',
    reason: 'real lab runs of a workload file with worker processes (~17 s)',
  },
  { path: 'test/api/retention-keys-20k.test.ts', reason: '20,000 jobs through the API and workers (> 40 s)' },
  {
    path: 'test/k8s/redis-sentinel-restart.test.ts',
    reason: 'stops and restarts every process of a private Sentinel set',
  },
];

/** `vitest` include globs of the slow tier. */
export const slowGlobs = (): string[] =>
  SLOW_TESTS.map((e) => (e.path.endsWith('/') ? `${e.path}**/*.test.ts` : e.path));
