/**
 * The contract of src/queue/ioredis-internals.ts with the ioredis it was written against: the installed
 * version is the exact pin, the two private fields it reads and writes exist with the meaning it
 * assumes, and the race it fixes still happens with ioredis' own connector: a failover detector that
 * fires while a Sentinel lookup is in flight ends ioredis' connection for good, and not kq's. On a real
 * Sentinel (one primary, one Sentinel, reached through a slow proxy so the lookup takes a while).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Redis, SentinelConnector } from 'ioredis';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createRedis } from '../../src/queue/connection.js';
import { FailoverSafeSentinelConnector } from '../../src/queue/ioredis-internals.js';
import { startSentinelSet } from '../helpers/redis-sentinel.js';
import { startSlowProxy } from '../helpers/slow-proxy.js';
import { waitFor } from '../helpers/wait.js';

const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

/** The private state the connector relies on (see the file under test). */
interface Detector {
  isDisconnected: boolean;
  disconnect(): void;
}
interface ConnectorState {
  connecting: boolean;
  failoverDetector: Detector | null;
}
const connectorOf = (r: Redis) => (r as unknown as { connector: ConnectorState }).connector;
const streamOf = (r: Redis) => (r as unknown as { stream: { destroy(): void } }).stream;

/**
 * Drops the connection's socket, and while its reconnect asks the Sentinel for the primary, fires the
 * detector of the previous connection as a `+switch-master` message would. Returns the final status.
 */
async function detectorFiresMidLookup(r: Redis): Promise<string> {
  await waitFor('ready', () => r.status === 'ready', { timeoutMs: 15_000 });
  const connector = connectorOf(r);
  await waitFor('detector subscribed', () => connector.failoverDetector !== null, { timeoutMs: 10_000 });
  const detector = connector.failoverDetector as Detector;
  expect(detector.isDisconnected).toBe(false);
  // `connecting` stays true from connect() until a disconnect(): a lookup that finds it false gives up.
  expect(connector.connecting).toBe(true);
  streamOf(r).destroy();
  await waitFor('lookup in flight', () => r.status === 'connecting', { timeoutMs: 10_000, intervalMs: 5 });
  detector.disconnect();
  expect(detector.isDisconnected).toBe(true);
  await waitFor('settled', () => r.status === 'ready' || r.status === 'end', { timeoutMs: 15_000 });
  return r.status;
}

describe('ioredis internals contract', () => {
  it('the installed ioredis is the exact version package.json pins', () => {
    const pin = pkg.dependencies.ioredis as string;
    expect(pin).toMatch(/^\d+\.\d+\.\d+$/);
    expect(require('ioredis/package.json').version).toBe(pin);
  });

  it('a detector firing mid-lookup ends ioredis’ own Sentinel connection, not kq’s', {
    timeout: 90_000,
  }, async () => {
    const set = await startSentinelSet({ replicas: 0, sentinels: 1 });
    onTestFinished(() => set.close());
    const proxy = await startSlowProxy(set.sentinelPorts[0] as number, 300);
    onTestFinished(() => proxy.close());
    const sentinels = [{ host: '127.0.0.1', port: proxy.port }];

    const plain = new Redis({
      sentinels,
      name: set.masterName,
      failoverDetector: true,
      retryStrategy: () => 50,
      maxRetriesPerRequest: 1,
    });
    plain.on('error', () => undefined);
    onTestFinished(() => plain.disconnect());
    // ioredis' own connector, the one kq's extends.
    expect(connectorOf(plain).constructor).toBe(SentinelConnector);
    expect(await detectorFiresMidLookup(plain)).toBe('end');

    const kq = createRedis(`redis+sentinel://127.0.0.1:${proxy.port}/${set.masterName}`, {
      kind: 'fail-fast',
    });
    onTestFinished(() => kq.disconnect());
    expect(connectorOf(kq)).toBeInstanceOf(FailoverSafeSentinelConnector);
    expect(await detectorFiresMidLookup(kq)).toBe('ready');
    expect(await kq.set('ioredis-internals-contract', 'v', 'EX', 10)).toBe('OK');
    // A new detector for the new connection; the fired one is gone.
    await waitFor('new detector', () => connectorOf(kq).failoverDetector !== null, { timeoutMs: 10_000 });
    expect(connectorOf(kq).failoverDetector?.isDisconnected).toBe(false);
  });
});
