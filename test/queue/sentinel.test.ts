/**
 * kq's connections through real Sentinels: they find the primary, and after it is SIGKILLed (or a manual
 * SENTINEL FAILOVER) they write to the promoted replica without being recreated.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { closeRedis, createRedis } from '../../src/queue/connection.js';
import { startSentinelSet } from '../helpers/redis-sentinel.js';
import { waitFor } from '../helpers/wait.js';

describe('Sentinel connections', () => {
  it('follow a SIGKILLed primary and a manual failover to the promoted replica', {
    timeout: 90_000,
  }, async () => {
    const set = await startSentinelSet();
    onTestFinished(() => set.close());
    const blocking = createRedis(set.url, { kind: 'blocking' });
    const failFast = createRedis(set.url, { kind: 'fail-fast' });
    onTestFinished(() => Promise.all([closeRedis(blocking), closeRedis(failFast)]).then(() => undefined));
    // A fail-fast connection refuses commands until it is connected: wait for both.
    await Promise.all(
      [blocking, failFast].map((r) =>
        r.status === 'ready' ? undefined : new Promise((res) => r.once('ready', res)),
      ),
    );
    const first = await set.primaryPort();
    expect(first).toBe(set.nodes[0]?.port);
    await blocking.set('k', 'before');
    expect(await failFast.get('k')).toBe('before');

    const killed = set.nodes.find((n) => n.port === first);
    process.kill(killed?.pid as number, 'SIGKILL');
    const killedAt = Date.now();
    // The blocking connection waits through the failover; the fail-fast one fails until it is over.
    await blocking.set('k', 'after-kill');
    const second = await set.waitForNewPrimary(first);
    expect(second).not.toBe(first);
    await waitFor(
      'fail-fast reads again',
      async () => (await failFast.get('k').catch(() => undefined)) === 'after-kill',
      {
        timeoutMs: 15_000,
        intervalMs: 100,
      },
    );
    console.log(`sentinel: SIGKILL -> writes on the new primary after ${Date.now() - killedAt} ms`);
    const direct = set.client(second);
    onTestFinished(() => direct.disconnect());
    expect(await direct.get('k')).toBe('after-kill');

    const sentinel = set.client(set.sentinelPorts[0] as number);
    onTestFinished(() => sentinel.disconnect());
    await set.waitForHealthyReplicas(1);
    const failoverAt = Date.now();
    await sentinel.call('SENTINEL', 'failover', set.masterName);
    const third = await set.waitForNewPrimary(second);
    await blocking.set('k', 'after-failover');
    await waitFor(
      'fail-fast reads after the manual failover',
      async () => (await failFast.get('k').catch(() => undefined)) === 'after-failover',
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    console.log(`sentinel: SENTINEL FAILOVER -> writes on ${third} after ${Date.now() - failoverAt} ms`);
    // The demoted primary becomes a replica and answers READONLY: kq's connections moved off it.
    await waitFor('the old primary demoted', async () => ((await direct.role()) as string[])[0] === 'slave', {
      timeoutMs: 15_000,
      intervalMs: 100,
    });
    expect(await direct.set('k', 'x').catch((e: Error) => e.message)).toMatch(/READONLY/);
    await blocking.set('k', 'still-writable');
    expect(await failFast.get('k')).toBe('still-writable');
  });
});
