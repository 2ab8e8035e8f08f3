/**
 * Redis Clusters for tests: the run's shared one (`sharedRedisCluster`), a private one for tests that kill or
 * reconfigure nodes (`startRedisCluster`), and queue names placed on distinct shards.
 */
import { inject, onTestFinished } from 'vitest';
import { closeRedis, createRedis } from '../../src/queue/connection.js';
import { queueKeys } from '../../src/queue/keys.js';
import { createQueueCache } from '../../src/queue/queues.js';
import { uniqueName } from './context.js';
import { type RedisCluster, slotOwner, startRedisCluster } from './start-redis-cluster.js';

export { type RedisCluster, startRedisCluster };

/**
 * The run's shared 3-shard Cluster (test/helpers/cluster-setup.ts starts it once per run). Tests keep to
 * their own queue names (and their own key prefix where they act on every queue, as the dashboard's
 * pause-all does); they never stop or reconfigure its nodes: a test that does starts its own.
 * `nodes` is empty and `close()` does nothing.
 */
export function sharedRedisCluster(): RedisCluster {
  const ports = inject('redisClusterPorts');
  if (!ports)
    throw new Error(
      'no shared Cluster in this vitest project: add test/helpers/cluster-setup.ts to its globalSetup',
    );
  return {
    url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`,
    nodes: [],
    nodeOf: (key) => slotOwner(ports, key),
    close: async () => undefined,
  };
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
 * The run's shared 3-shard cluster, a fail-fast kq connection to it and kq's queue directory on it (prefix
 * `bull`), closed when the test finishes.
 */
export async function clusterWithQueues() {
  const cluster = sharedRedisCluster();
  const redis = createRedis(cluster.url, { kind: 'fail-fast', commandTimeoutMs: 5000 });
  onTestFinished(() => closeRedis(redis));
  const queues = createQueueCache(redis, 'bull');
  onTestFinished(() => queues.close());
  return { cluster, redis, queues };
}
