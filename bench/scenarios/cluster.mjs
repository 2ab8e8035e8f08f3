/**
 * One Redis vs a 3-shard Redis Cluster (kq's hash tag per queue), same work: 6 queues with a backlog of
 * no-op jobs each, one `kq worker` per queue (concurrency 50, EXIT=1). Figure: jobs per second from the
 * workers' spawn to the last exit (process start included, the same in both). On this 2-core machine
 * the workers, not Redis, are the bottleneck: the ratio shows what a Cluster costs here, not what it
 * gains on a machine with a core per shard.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { spawnRedisServer } from '../../dist/dev/redis-process.js';
import { kqLibrary, spawnWorker } from '../procs.mjs';

const QUEUES = 6;

/** Resolves once the node on `port` reports cluster_state:ok; throws after 20 s. */
async function clusterStateOk(port) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { stdout } = await promisify(execFile)('redis-cli', ['-p', String(port), 'cluster', 'info'], {
      timeout: 5_000,
    });
    if (/cluster_state:ok/.test(stdout)) return;
    if (Date.now() > deadline) throw new Error(`redis node ${port}: no cluster_state:ok after 20 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startCluster() {
  const nodes = [];
  try {
    for (let i = 0; i < 3; i++) {
      nodes.push(
        await spawnRedisServer({
          dirPrefix: 'kq-bench-cluster-',
          extraArgs: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'],
        }),
      );
    }
    const addrs = nodes.map((n) => `127.0.0.1:${n.port}`);
    await promisify(execFile)('redis-cli', ['--cluster', 'create', ...addrs, '--cluster-yes'], {
      timeout: 30_000,
    });
    // `--cluster create` returns once the slots are assigned; each node says cluster_state:ok only when
    // gossip has caught up. Before that, writes get CLUSTERDOWN and ioredis retries a MULTI whose first
    // script call went as EVAL, now as EVALSHA, on a node that never ran it: NOSCRIPT (seen in CI).
    for (const n of nodes) await clusterStateOk(n.port);
    return {
      url: `redis+cluster://${addrs.join(',')}`,
      stop: () => Promise.all(nodes.map((n) => n.remove())),
    };
  } catch (err) {
    await Promise.all(nodes.map((n) => n.remove()));
    throw err;
  }
}

async function run(ctx, variant) {
  const kq = await kqLibrary();
  const cluster = variant === 'kq' ? await startCluster() : undefined;
  const url = cluster?.url ?? ctx.redisUrl;
  const perQueue = ctx.quick ? 200 : 3000;
  const redis = kq.createRedis(url, { kind: 'blocking' });
  const queues = kq.createQueueCache(redis, ctx.prefix);
  const names = Array.from({ length: QUEUES }, () => ctx.queueName('cluster', variant));
  try {
    for (const q of names) {
      for (let i = 0; i < perQueue; i += 1000) {
        const n = Math.min(1000, perQueue - i);
        await queues.get(q).addBulk(Array.from({ length: n }, () => ({ name: 'noop', data: {} })));
      }
    }
    const t0 = Date.now();
    const workers = names.map((q) =>
      spawnWorker('kq', { REDIS_URL: url, QUEUE: q, KQ_PREFIX: ctx.prefix, CONCURRENCY: '50', EXIT: '1' }),
    );
    await Promise.all(workers.map((w) => w.exited));
    const ms = Date.now() - t0;
    let completed = 0;
    for (const q of names) completed += (await kq.readCounts(redis, ctx.prefix, q)).completed;
    return { jobsPerSec: (completed / ms) * 1000, lost: QUEUES * perQueue - completed };
  } finally {
    await queues.close();
    await kq.closeRedis(redis);
    await cluster?.stop();
  }
}

export default {
  id: 'cluster',
  variants: ['kq', 'single'],
  run,
  rows: () => [
    {
      scenario: `Cluster: ${QUEUES} queues, one kq worker each, 3 shards vs one Redis (jobs/s)`,
      figure: 'jobsPerSec',
      baseline: 'single',
      baselineName: 'the same on one Redis',
      target: '(report the ratio)',
    },
    {
      scenario: 'Cluster: jobs not completed (must be 0)',
      figure: 'lost',
      baseline: 'single',
      baselineName: 'one Redis',
      target: '0',
      met: (k) => k === 0,
    },
  ],
};
