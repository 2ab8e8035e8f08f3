/**
 * `kq keda-scaler` on a real 3-shard Redis Cluster, with queues on different shards: StreamIsActive
 * pushes `true` for a job on each shard, and GetMetrics counts each queue right. The scaler follows
 * several queues' event streams; on a Cluster one XREAD over keys in several slots fails (CROSSSLOT),
 * and the keys must carry the queue's hash tag (`bull:{q}:events`).
 */
import { describe, expect, it } from 'vitest';
import { clusterWithQueues, queuesOnDistinctShards } from '../helpers/redis-cluster.js';
import { scalerClient, startScaler } from './scaler-fixture.js';

describe('keda-scaler on a Redis Cluster', () => {
  it('pushes activity and counts jobs of queues on different shards', { timeout: 60_000 }, async () => {
    const { cluster, queues } = await clusterWithQueues();
    const names = await queuesOnDistinctShards(cluster, 3, 'ks');
    // Each queue exists (its meta key) before the scaler reads it; no job yet.
    for (const q of names) await queues.get(q).waitUntilReady();
    for (const q of names)
      await queues
        .get(q)
        .add('w', {})
        .then((j) => j.remove());

    const scaler = await startScaler(cluster.url, { pollMs: 60_000 });
    const c = scalerClient(`127.0.0.1:${scaler.port}`);
    const streams = names.map((q) => c.stream({ queue: q }));
    try {
      for (const s of streams) await s.next(false);
      // A job on each shard in turn: that queue's stream (and no later one) goes true, pushed by the
      // events stream, not by the 60 s poll.
      for (const [i, q] of names.entries()) {
        const from = streams.map((s) => s.results.length);
        await queues.get(q).add('w', {});
        await (streams[i] as (typeof streams)[number]).next(true, from[i], 5000);
        streams.forEach((s, j) => {
          if (j > i) expect(s.results.slice(from[j]).some((r) => r.result)).toBe(false);
        });
        expect(streams.map((s) => s.error)).toEqual([undefined, undefined, undefined]);
      }
      await queues.get(names[1] as string).add('w', {});
      const counts = await Promise.all(names.map((q) => c.getMetrics({ queue: q })));
      expect(counts.map((m) => m[0]?.metricValue)).toEqual([1, 2, 1]);
    } finally {
      for (const s of streams) s.cancel();
      c.close();
      await scaler.close();
    }
  });
});
