/**
 * Vitest global setup of the fast tier: one 3-shard Redis Cluster for the whole run (it takes a few
 * seconds to create; six files each made their own). Tests reach it with `sharedRedisCluster()`.
 */
import type { TestProject } from 'vitest/node';
import { type RedisCluster, startRedisCluster } from './start-redis-cluster.js';

let cluster: RedisCluster | undefined;

export async function setup(project: TestProject): Promise<void> {
  cluster = await startRedisCluster(3);
  project.provide(
    'redisClusterPorts',
    cluster.nodes.map((n) => n.port),
  );
}

export async function teardown(): Promise<void> {
  await cluster?.close();
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisClusterPorts: number[];
  }
}
