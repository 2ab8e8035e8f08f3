import { describe, expect, it } from 'vitest';
import { useTestQueue } from '../helpers/context.js';
import { freePort } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';
import { cleanupRuns, runs, spawnWorker } from './helpers.js';
import { inProcessWorker } from './in-process.js';

describe('worker: exit when empty (EXIT=1)', () => {
  it('exits 0 at once on an empty queue', async () => {
    const t = useTestQueue();
    const w = spawnWorker(t, { EXIT: '1' });
    expect((await w.waitForExit(10_000)).code).toBe(0);
    expect(w.logs.some((l) => l.event === 'worker.stopping' && l.reason === 'queue is empty')).toBe(true);
  });

  it('drains the queue, then exits 0 soon after the last job finishes', async () => {
    const t = useTestQueue();
    await t.bull.addBulk(Array.from({ length: 5 }, () => ({ name: 'work', data: { ms: 100 } })));
    const w = spawnWorker(t, { EXIT: '1', CONCURRENCY: '2' });
    const { code } = await w.waitForExit(20_000);
    const exitedAt = Date.now();
    expect(code).toBe(0);
    const counts = await t.bull.getJobCounts('wait', 'active', 'completed');
    expect(counts).toEqual({ wait: 0, active: 0, completed: 5 });
    const completed = await t.bull.getJobs(['completed']);
    const lastFinished = Math.max(...completed.map((j) => j.finishedOn ?? 0));
    // Correctness bound only (the benchmark measures the real figure): it must not linger or hang.
    expect(exitedAt - lastFinished).toBeLessThan(3000);
    await cleanupRuns(t.redis, t.queue);
  });

  it('never exits with work left and never hangs: 3 exit-mode workers racing for the last jobs, 8 rounds', async () => {
    const t = useTestQueue();
    for (let round = 0; round < 8; round++) {
      const n = 1 + (round % 4);
      await t.bull.addBulk(
        Array.from({ length: n }, () => ({ name: 'work', data: { ms: round % 2 ? 0 : 20 } })),
      );
      const workers = [0, 1, 2].map((i) => spawnWorker(t, { EXIT: '1' }, `racer ${round}.${i}`));
      const exits = await Promise.all(workers.map((w) => w.waitForExit(20_000)));
      expect(exits.map((e) => e.code)).toEqual([0, 0, 0]);
      const counts = await t.bull.getJobCounts('wait', 'prioritized', 'active', 'delayed');
      expect(counts, `round ${round}`).toEqual({ wait: 0, prioritized: 0, active: 0, delayed: 0 });
    }
    expect((await runs(t.redis, t.queue, 'done')).length).toBe(1 + 2 + 3 + 4 + 1 + 2 + 3 + 4);
    await cleanupRuns(t.redis, t.queue);
  });

  it('does not wait for delayed jobs that are not due, but runs due ones', async () => {
    const t = useTestQueue();
    const later = await t.bull.add('work', { ms: 0 }, { delay: 60_000 });
    const due = await t.bull.add('work', { ms: 0 }, { delay: 1 });
    const w = spawnWorker(t, { EXIT: '1' });
    expect((await w.waitForExit(10_000)).code).toBe(0);
    expect(await t.bull.getJobState(due.id as string)).toBe('completed');
    expect(await t.bull.getJobState(later.id as string)).toBe('delayed');
    await cleanupRuns(t.redis, t.queue);
  });

  it('treats a paused queue as empty rather than waiting forever', async () => {
    const t = useTestQueue();
    await t.bull.add('work', { ms: 0 });
    await t.bull.pause();
    const w = spawnWorker(t, { EXIT: '1' });
    expect((await w.waitForExit(10_000)).code).toBe(0);
    expect(w.logs.some((l) => l.reason === 'queue is paused')).toBe(true);
    expect(await t.bull.getWaitingCount()).toBe(1);
  });

  it('exits 1 with a clear message when Redis is unreachable: down is never empty', async () => {
    const t = useTestQueue();
    // In this process, on a manual clock: the outage is measured in the worker's time, not waited for.
    const s = inProcessWorker(
      { ...t, redisUrl: `redis://127.0.0.1:${await freePort()}` },
      { EXIT: '1', REDIS_DOWN_TIMEOUT_MS: '1500', SHUTDOWN_TIMEOUT_MS: '2000' },
    );
    const w = await s.start();
    await waitFor('Redis seen unreachable', () => s.events().includes('redis.unavailable'));
    // However many checks failed, the clock has not moved: no exit yet.
    expect(s.events()).not.toContain('worker.redis-down');
    s.timers.advance(1500);
    const down = await waitFor('the exit for Redis down', () =>
      s.lines.find((l) => l.event === 'worker.redis-down'),
    );
    expect(down.downForMs).toBe(1500);
    expect(down.msg).toMatch(/Redis unreachable for 1500 ms .*never an empty queue/);
    // Its stop ends by the deadline whatever the close does.
    s.timers.advance(2000);
    expect(await w.done).toBe(1);
    await waitFor('the close to end', () => s.events().includes('worker.stopped'), { timeoutMs: 20_000 });
  });

  it('MAX_JOBS=1 runs exactly one job, even at concurrency 4, and exits 0', async () => {
    const t = useTestQueue();
    await t.bull.addBulk(Array.from({ length: 6 }, () => ({ name: 'work', data: { ms: 50 } })));
    const w = spawnWorker(t, { MAX_JOBS: '1', CONCURRENCY: '4' });
    expect((await w.waitForExit(15_000)).code).toBe(0);
    expect((await runs(t.redis, t.queue, 'done')).length).toBe(1);
    const counts = await t.bull.getJobCounts('wait', 'active', 'completed');
    expect(counts).toEqual({ wait: 5, active: 0, completed: 1 });
    await cleanupRuns(t.redis, t.queue);
  });
});
