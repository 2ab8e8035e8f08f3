/**
 * With no address configured, kq's servers listen on every address: `::` (IPv6, and IPv4 dual-stack) where
 * the machine has IPv6, so a pod of an IPv6-only cluster is reachable, and `0.0.0.0` otherwise. Checked on
 * loopback in both families: the workers' and the scaler's health server in-process, `kq api` as a process.
 */
import { networkInterfaces } from 'node:os';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { anyAddress } from '../../src/listen-address.js';
import { startHealthServer } from '../../src/worker/health-server.js';
import { TOKEN } from '../api/app-fixture.js';
import { useTestQueue } from '../helpers/context.js';
import { spawnKq } from '../helpers/kq-process.js';

const hasIpv6 = Object.values(networkInterfaces()).some((l) => l?.some((i) => i.family === 'IPv6'));
const status = async (url: string) => (await fetch(url, { signal: AbortSignal.timeout(5000) })).status;

describe('listening on every address', () => {
  it('is :: where the machine has IPv6, 0.0.0.0 where it has none', () => {
    expect(anyAddress()).toBe(hasIpv6 ? '::' : '0.0.0.0');
  });

  it.skipIf(!hasIpv6)('the health server answers on 127.0.0.1 and on ::1', async () => {
    const health = await startHealthServer({
      port: 0,
      isReady: async () => ({ ready: true }),
      metrics: new Registry(),
    });
    try {
      expect(await status(`http://127.0.0.1:${health.port}/healthz`)).toBe(200);
      expect(await status(`http://[::1]:${health.port}/healthz`)).toBe(200);
    } finally {
      await health.close();
    }
  });

  it.skipIf(!hasIpv6)('kq api without HOST answers on 127.0.0.1 and on ::1', async () => {
    const t = useTestQueue();
    const api = spawnKq(['api'], {
      PORT: '0',
      API_TOKENS: TOKEN,
      REDIS_URL: t.redisUrl,
      KQ_PREFIX: t.prefix,
    });
    try {
      const line = await api.waitForLog('api.listening', (l) => l.event === 'api.listening', 20_000);
      expect(line.host).toBe('::');
      expect(await status(`http://127.0.0.1:${line.port}/healthz`)).toBe(200);
      expect(await status(`http://[::1]:${line.port}/healthz`)).toBe(200);
    } finally {
      api.kill('SIGTERM');
      await api.waitForExit(15_000);
    }
  });
});
