/**
 * kq's Sentinel connections: a Sentinel that accepts but never answers does not hold the lookup; and kq's
 * connector keeps ioredis' behaviour where it was right: a connection the app closes while
 * it is still asking a Sentinel for the primary ends (no connection made behind the app's back), and a
 * `quit()` after a failover ends it too. The failover case itself is test/chaos/sentinel-stuck.test.ts.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { createRedis } from '../../src/queue/connection.js';
import { startSentinelSet } from '../helpers/redis-sentinel.js';
import { startSlowProxy } from '../helpers/slow-proxy.js';
import { waitFor } from '../helpers/wait.js';

describe('FailoverSafeSentinelConnector', () => {
  it('an app close during a lookup, or after a failover, still ends the connection', {
    timeout: 60_000,
  }, async () => {
    const set = await startSentinelSet({ replicas: 1 });
    onTestFinished(() => set.close());
    const proxy = await startSlowProxy(set.sentinelPorts[0] as number, 150);
    onTestFinished(() => proxy.close());
    const url = `redis+sentinel://127.0.0.1:${proxy.port}/${set.masterName}`;

    // A Sentinel that takes connections but does not answer, listed first, must not hold the lookup:
    // ioredis asks it without a timeout of its own, kq gives up on it after 2 s and asks the next.
    const mute = await startSlowProxy(set.sentinelPorts[0] as number, 60_000);
    onTestFinished(() => mute.close());
    const others = set.sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',');
    const past = createRedis(`redis+sentinel://127.0.0.1:${mute.port},${others}/${set.masterName}`, {
      kind: 'fail-fast',
    });
    const t0 = Date.now();
    await waitFor('ready past the mute Sentinel', () => past.status === 'ready', { timeoutMs: 10_000 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1500);
    past.disconnect();

    // Closed while the first lookup (about 1 s through the proxy) is in flight.
    const early = createRedis(url, { kind: 'fail-fast' });
    let readyEarly = false;
    early.on('ready', () => {
      readyEarly = true;
    });
    const before = proxy.accepted();
    await waitFor('the lookup under way', () => proxy.accepted() > before, { intervalMs: 10 });
    early.disconnect();
    // The lookup is over once the proxy has closed both sides of its connection (150 ms after ioredis
    // closed it): a connection made behind the app's back would be ready by then.
    await waitFor('the lookup over', () => proxy.open() === 0, { timeoutMs: 10_000, intervalMs: 10 });
    expect([early.status, readyEarly]).toEqual(['end', false]);

    // Closed after a failover that the connection followed.
    const late = createRedis(url, { kind: 'fail-fast' });
    await waitFor('ready', () => late.status === 'ready', { timeoutMs: 10_000 });
    const old = await set.primaryPort();
    process.kill(set.nodes.find((n) => n.port === old)?.pid as number, 'SIGKILL');
    await set.waitForNewPrimary(old);
    await waitFor('ready on the new primary', () => late.status === 'ready', { timeoutMs: 15_000 });
    expect(await late.set('k', 'v')).toBe('OK');
    await late.quit();
    await waitFor('ended after quit()', () => late.status === 'end', { timeoutMs: 10_000 });
  });
});
