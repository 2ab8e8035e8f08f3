/**
 * `kq dev` on a real Sentinel set, passing REDIS_PASSWORD on to its children. Slow tier (test/tiers.ts):
 * the test sets a password on the set's primary, so the set is private, not shared.
 */
import { describe, it, onTestFinished } from 'vitest';
import { startSentinelSet } from '../helpers/redis-sentinel.js';
import { oneJob } from './dev-one-job.js';

describe('kq dev with a redis+sentinel:// REDIS_URL', () => {
  it('runs a job on a Sentinel set, passing REDIS_PASSWORD on', { timeout: 60_000 }, async () => {
    const set = await startSentinelSet({ replicas: 1 });
    onTestFinished(() => set.close());
    const primary = set.client(await set.primaryPort());
    await primary.config('SET', 'requirepass', 'dev-secret');
    primary.disconnect();
    await oneJob({ REDIS_URL: set.url, REDIS_PASSWORD: 'dev-secret' });
  });
});
