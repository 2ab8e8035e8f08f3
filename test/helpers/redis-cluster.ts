/**
 * A real Redis Cluster of `shards` primaries with `replicas` replicas each on free loopback ports, created with
 * `redis-cli --cluster create`; stopped by PID and its data dirs removed on close.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { onTestFinished } from 'vitest';
import { type RedisProcess, spawnRedisServer } from '../../src/dev/redis-process.js';
import { closeRedis, createRedis } from '../../src/queue/connection.js';
import { queueKeys } from '../../src/queue/keys.js';
import { createQueueRegistry } from '../../src/queue/queues.js';
import { uniqueName } from './context.js';
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
      async nodeOf(key) {
        // Ask any node that answers: the one started first may be the one a test killed.
        for (const n of nodes.filter((x) => x.running)) {
          const c = new Redis(n.port, '127.0.0.1', { maxRetriesPerRequest: 1, retryStrategy: () => null });
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
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * `count` new queue names (`<stem>-<random>`), each on a different shard of `cluster`. A bounded search:
 * hash tags spread names evenly, so 60 tries find three shards with near certainty.
 * @example const [a, b, c] = await queuesOnDistinctShards(cluster, 3, 'ks');
 */
export async function queuesOnDistinctShards(
  cluster: RedisCluster,
  count: number,
  stem: string,
  prefix = 'bull',
): Promise<string[]> {
  const byShard = new Map<number, string>();
  for (let i = 0; i < 60 && byShard.size < count; i++) {
    const q = uniqueName(stem);
    const port = await cluster.nodeOf(queueKeys(prefix, q, true).wait);
    if (!byShard.has(port)) byShard.set(port, q);
  }
  if (byShard.size < count) throw new Error(`found queues on ${byShard.size} shards, wanted ${count}`);
  return [...byShard.values()];
}

/**
 * A 3-shard cluster, a fail-fast kq connection to it and kq's queue registry on it (prefix `bull`), all
 * closed when the test finishes.
 */
export async function clusterWithQueues() {
  const cluster = await startRedisCluster(3);
  onTestFinished(() => cluster.close());
  const redis = createRedis(cluster.url, { kind: 'fail-fast', commandTimeoutMs: 5000 });
  onTestFinished(() => closeRedis(redis));
  const queues = createQueueRegistry(redis, 'bull');
  onTestFinished(() => queues.close());
  return { cluster, redis, queues };
}
