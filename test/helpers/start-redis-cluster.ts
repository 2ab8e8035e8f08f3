/**
 * A real Redis Cluster of `shards` primaries with `replicas` replicas each on free loopback ports, created with
 * `redis-cli --cluster create`; stopped by PID and its data dirs removed on close. No vitest import: the
 * fast tier's global setup (cluster-setup.ts) starts one with it.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { type RedisProcess, spawnRedisServer } from '../../src/dev/redis-process.js';
import { waitFor } from './wait.js';

export interface RedisCluster {
  /** `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,...` */
  url: string;
  nodes: RedisProcess[];
  /** Port of the primary that serves `key`'s slot. */
  nodeOf(key: string): Promise<number>;
  close(): Promise<void>;
}

/** @example const cluster = await startRedisCluster(); try { ... } finally { await cluster.close(); } */
export async function startRedisCluster(shards = 3, replicas = 0): Promise<RedisCluster> {
  const nodes: RedisProcess[] = [];
  const close = async () => {
    await Promise.all(nodes.map((n) => n.remove()));
  };
  try {
    for (let i = 0; i < shards * (1 + replicas); i++) {
      nodes.push(
        await spawnRedisServer({
          dirPrefix: 'kq-cluster-',
          extraArgs: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-node-timeout',
            '2000',
          ],
        }),
      );
    }
    const addrs = nodes.map((n) => `127.0.0.1:${n.port}`);
    await promisify(execFile)(
      'redis-cli',
      ['--cluster', 'create', ...addrs, '--cluster-replicas', String(replicas), '--cluster-yes'],
      {
        timeout: 30_000,
      },
    );
    for (const n of nodes) {
      const c = new Redis(n.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
      try {
        await waitFor(
          `cluster_state:ok on ${n.port}`,
          async () => {
            if (!/cluster_state:ok/.test(await c.cluster('INFO'))) return false;
            // A replica counts once it is in sync: a failover before that would find no candidate.
            const role = (await c.role()) as unknown[];
            return role[0] === 'master' || role[3] === 'connected';
          },
          {
            timeoutMs: 20_000,
            intervalMs: 100,
          },
        );
      } finally {
        c.disconnect();
      }
    }
    return {
      url: `redis+cluster://${addrs.join(',')}`,
      nodes,
      // Ask any node that answers: the one started first may be the one a test killed.
      nodeOf: (key) =>
        slotOwner(
          nodes.filter((x) => x.running).map((n) => n.port),
          key,
        ),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

export async function slotOwner(ports: number[], key: string): Promise<number> {
  for (const port of ports) {
    const c = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1, retryStrategy: () => null });
    c.on('error', () => undefined);
    try {
      const slot = await c.cluster('KEYSLOT', key);
      const ranges = (await c.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
      const range = ranges.find(([from, to]) => slot >= from && slot <= to);
      if (range) return range[2][1];
    } catch {
      // try the next node
    } finally {
      c.disconnect();
    }
  }
  throw new Error(`no live node knows the slot of ${key}`);
}
