/**
 * kq's Sentinel connector keeps ioredis' behaviour where it was right: a connection the app closes while
 * it is still asking a Sentinel for the primary ends (no connection made behind the app's back), and a
 * `quit()` after a failover ends it too. The failover case itself is test/chaos/sentinel-stuck.test.ts.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { createRedis } from '../../src/queue/connection.js';
import { startSentinelSet } from '../helpers/redis-sentinel.js';
import { startSlowProxy } from '../helpers/slow-proxy.js';
import { sleep, waitFor } from '../helpers/wait.js';

describe('FailoverSafeSentinelConnector', () => {
  it('an app close during a lookup, or after a failover, still ends the connection', {
    timeout: 60_000,
  }, async () => {
    const set = await startSentinelSet({ replicas: 1 });
    onTestFinished(() => set.close());
    const proxy = await startSlowProxy(set.sentinelPorts[0] as number, 150);
    onTestFinished(() => proxy.close());
    const url = `redis+sentinel://127.0.0.1:${proxy.port}/${set.masterName}`;

    // Closed while the first lookup (about 1 s through the proxy) is in flight.
    const early = createRedis(url, { kind: 'fail-fast' });
    let readyEarly = false;
    early.on('ready', () => {
      readyEarly = true;
    });
    await sleep(300);
    early.disconnect();
    await sleep(2500);
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
    await sleep(1500);
    expect(late.status).toBe('end');
  });
});
