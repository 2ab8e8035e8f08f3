/**
 * A real Sentinel setup on free loopback ports: one primary, `replicas` replicas and `sentinels`
 * `redis-server --sentinel` processes (quorum 2, down-after 1 s), for failover tests. Every process is
 * ours and is stopped by its PID; data dirs are removed on close (and on exit, if a test dies).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, type RedisProcess, spawnRedisServer } from '../../src/dev/redis-process.js';
import { waitFor } from './wait.js';

export interface SentinelSet {
  masterName: string;
  /** `redis+sentinel://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3/<master>` */
  url: string;
  /** Data nodes: index 0 started as the primary. */
  nodes: RedisProcess[];
  sentinelPorts: number[];
  /** Port of the primary the Sentinels name now. */
  primaryPort(): Promise<number>;
  /** A client of one data node (waits through outages); close it yourself. */
  client(port: number): Redis;
  /** Waits until every Sentinel names a primary other than `oldPort`, and it accepts writes. */
  waitForNewPrimary(oldPort: number, timeoutMs?: number): Promise<number>;
  /** Waits until every Sentinel sees `n` replicas of the current primary that are up and in sync. */
  waitForHealthyReplicas(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const sentinelClient = (port: number) =>
  new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1, retryStrategy: () => 200, lazyConnect: false });

async function ask<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T | undefined> {
  const r = sentinelClient(port);
  r.on('error', () => undefined);
  try {
    return await fn(r);
  } catch {
    return undefined;
  } finally {
    r.disconnect();
  }
}

/** @example const set = await startSentinelSet(); try { ... } finally { await set.close(); } */
export async function startSentinelSet(
  o: { replicas?: number; sentinels?: number } = {},
): Promise<SentinelSet> {
  const masterName = 'kq-primary';
  const nodes: RedisProcess[] = [];
  const sentinels: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'kq-sentinel-'));
  const killAll = () => {
    for (const p of sentinels) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    for (const n of nodes) if (n.running && n.pid) process.kill(n.pid, 'SIGKILL');
  };
  process.once('exit', killAll);
  const set: SentinelSet = {
    masterName,
    url: '',
    nodes,
    sentinelPorts: [],
    async primaryPort() {
      for (const port of set.sentinelPorts) {
        const addr = await ask(port, (r) => r.call('SENTINEL', 'get-master-addr-by-name', masterName));
        if (Array.isArray(addr)) return Number(addr[1]);
      }
      throw new Error('no Sentinel answered get-master-addr-by-name');
    },
    client: (port) => new Redis(port, '127.0.0.1', { maxRetriesPerRequest: null }),
    async waitForNewPrimary(oldPort, timeoutMs = 30_000) {
      return waitFor(
        'a new primary named by every Sentinel',
        async () => {
          const named = await Promise.all(
            set.sentinelPorts.map((p) =>
              ask(p, (r) => r.call('SENTINEL', 'get-master-addr-by-name', masterName)),
            ),
          );
          const ports = new Set(named.map((a) => (Array.isArray(a) ? Number(a[1]) : 0)));
          const [port] = [...ports];
          if (ports.size !== 1 || !port || port === oldPort) return undefined;
          const role = await ask(port, (r) => r.role());
          return Array.isArray(role) && role[0] === 'master' ? port : undefined;
        },
        { timeoutMs, intervalMs: 100 },
      );
    },
    async waitForHealthyReplicas(n, timeoutMs = 30_000) {
      await waitFor(
        `${n} healthy replica(s) seen by every Sentinel`,
        async () => {
          for (const port of set.sentinelPorts) {
            const list = (await ask(port, (r) => r.call('SENTINEL', 'replicas', masterName))) as
              | string[][]
              | undefined;
            const healthy = (list ?? []).filter((flat) => {
              const f = new Map<string, string>();
              for (let i = 0; i + 1 < flat.length; i += 2) f.set(flat[i] as string, flat[i + 1] as string);
              return f.get('flags') === 'slave' && f.get('master-link-status') === 'ok';
            });
            if (healthy.length < n) return false;
          }
          return true;
        },
        { timeoutMs, intervalMs: 250 },
      );
    },
    async close() {
      process.removeListener('exit', killAll);
      await Promise.all(
        sentinels.map(
          (p) =>
            new Promise<void>((resolve) => {
              if (p.exitCode !== null || p.signalCode !== null) return resolve();
              p.once('exit', () => resolve());
              p.kill('SIGKILL');
            }),
        ),
      );
      await Promise.all(nodes.map((n) => n.remove()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    const primary = await spawnRedisServer({ dirPrefix: 'kq-sentinel-data-' });
    nodes.push(primary);
    for (let i = 0; i < (o.replicas ?? 2); i++) {
      nodes.push(
        await spawnRedisServer({
          dirPrefix: 'kq-sentinel-data-',
          extraArgs: ['--replicaof', '127.0.0.1', String(primary.port)],
        }),
      );
    }
    for (const replica of nodes.slice(1)) {
      await waitFor(
        `replica ${replica.port} in sync`,
        async () =>
          /master_link_status:up/.test((await ask(replica.port, (r) => r.info('replication'))) ?? ''),
        { timeoutMs: 20_000, intervalMs: 100 },
      );
    }
    for (let i = 0; i < (o.sentinels ?? 3); i++) {
      const port = await freePort();
      const conf = join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${masterName} 127.0.0.1 ${primary.port} 2`,
          `sentinel down-after-milliseconds ${masterName} 1000`,
          `sentinel failover-timeout ${masterName} 10000`,
          `sentinel parallel-syncs ${masterName} 2`,
          '',
        ].join('\n'),
      );
      sentinels.push(spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' }));
      set.sentinelPorts.push(port);
    }
    set.url = `redis+sentinel://${set.sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',')}/${masterName}`;
    // Sentinels learn replicas from the primary's INFO and each other over hello messages: wait for both,
    // or a failover right after start-up would find no candidate.
    await waitFor(
      'Sentinels know every replica and each other',
      async () => {
        for (const port of set.sentinelPorts) {
          const seen = await ask(port, async (r) => ({
            replicas: ((await r.call('SENTINEL', 'replicas', masterName)) as unknown[]).length,
            peers: ((await r.call('SENTINEL', 'sentinels', masterName)) as unknown[]).length,
          }));
          if (!seen || seen.replicas < nodes.length - 1 || seen.peers < set.sentinelPorts.length - 1)
            return false;
        }
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    return set;
  } catch (err) {
    await set.close();
    throw err;
  }
}
