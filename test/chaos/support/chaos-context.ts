/**
 * What every chaos scenario starts with: a private, persistent `redis-server` (appendonly + appendfsync
 * always, noeviction) that the scenario may stop and restart, a unique queue, kq's own enqueue path with the
 * chaos job types, and the ledger on the run's shared Redis (which no scenario disturbs).
 */
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { loadRegistry } from '../../../src/jobs/registry.js';
import { type QueueCounts, readCounts } from '../../../src/queue/counts.js';
import { type EnqueueRequest, enqueueMany } from '../../../src/queue/enqueue.js';
import { createQueueCache, type QueueCache } from '../../../src/queue/queues.js';
import { uniqueName } from '../../helpers/context.js';
import { type RedisServer, startRedisServer } from '../../helpers/redis-server.js';
import { clearLedger } from './ledger.js';
import { CHAOS_HANDLERS } from './worker-pool.js';

export interface ChaosContext {
  server: RedisServer;
  /** Client of the scenario's Redis (waits through outages). */
  client: Redis;
  /** Client of the ledger Redis. */
  ledger: Redis;
  queue: string;
  prefix: string;
  queues: QueueCache;
  /** Env for `kq worker` / `kq api` processes of this scenario. */
  env: Record<string, string>;
  /** Enqueues through kq's `enqueueMany`, 1,000 per call; returns the ids in order. */
  enqueue(reqs: EnqueueRequest[]): Promise<string[]>;
  counts(): Promise<QueueCounts>;
  close(): Promise<void>;
}

/** @example const ctx = await startChaosContext('crash'); try { ... } finally { await ctx.close(); } */
export async function startChaosContext(stem: string, redisArgs: string[] = []): Promise<ChaosContext> {
  const server = await startRedisServer({ persistent: true, extraArgs: redisArgs });
  const client = server.client();
  client.on('error', () => undefined);
  const ledger = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  const queue = uniqueName(`chaos-${stem}`);
  const prefix = 'bull';
  const queues = createQueueCache(client, prefix);
  const jobs = await loadRegistry(CHAOS_HANDLERS);
  const env = {
    REDIS_URL: server.url,
    QUEUE: queue,
    KQ_PREFIX: prefix,
    HANDLERS: CHAOS_HANDLERS,
    KQ_CHAOS_LEDGER_URL: inject('redisUrl'),
  };
  return {
    server,
    client,
    ledger,
    queue,
    prefix,
    queues,
    env,
    async enqueue(reqs) {
      const ids: string[] = [];
      for (let i = 0; i < reqs.length; i += 1000) {
        const batch = reqs.slice(i, i + 1000).map((r) => ({ queue, ...r }));
        for (const j of await enqueueMany(queues, jobs, batch)) ids.push(j.id);
      }
      return ids;
    },
    counts: () => readCounts(client, prefix, queue),
    async close() {
      await queues.close();
      client.disconnect();
      await clearLedger(ledger, queue).catch(() => undefined);
      ledger.disconnect();
      await server.stop();
    },
  };
}
