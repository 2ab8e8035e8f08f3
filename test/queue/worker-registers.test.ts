/** A kq worker registers its queue when it starts, so lists (API, /metrics, adapter) show it at once. */
import { describe, expect, it } from 'vitest';
import { directoryKeys } from '../../src/queue/keys.js';
import { useTestQueue } from '../helpers/context.js';
import { spawnKq } from '../helpers/kq-process.js';
import { waitFor } from '../helpers/wait.js';

describe('queue directory and workers', () => {
  it('a starting worker registers its queue', async () => {
    const t = useTestQueue();
    expect(await t.redis.sismember(directoryKeys(t.prefix).queues, t.queue)).toBe(0);
    const w = spawnKq(['worker'], { REDIS_URL: t.redisUrl, QUEUE: t.queue, HEALTH_PORT: '0' });
    try {
      await waitFor(
        'queue registered',
        async () => (await t.redis.sismember(directoryKeys(t.prefix).queues, t.queue)) === 1,
        {
          timeoutMs: 20_000,
        },
      );
    } finally {
      w.kill('SIGTERM');
      await w.waitForExit(20_000);
      await t.redis.srem(directoryKeys(t.prefix).queues, t.queue);
    }
  });
});
