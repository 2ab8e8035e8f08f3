/**
 * Applying a handlers module's schedules (applyDeclaredSchedules) against the test Redis: idempotent,
 * one log line per schedule added, changed or removed, and the removal rule: only schedules the module
 * made, never those made through the API (including ids taken over either way).
 */
import { describe, expect, it } from 'vitest';
import { createRegistry } from '../../src/jobs/registry.js';
import type { Logger } from '../../src/log.js';
import { closeRedis, createRedis } from '../../src/queue/connection.js';
import { createQueueDirectory } from '../../src/queue/queue-directory.js';
import { createQueueCache } from '../../src/queue/queues.js';
import { createRedisGuard } from '../../src/queue/redis-guard.js';
import { prepareSchedule, type ScheduleRequest } from '../../src/queue/schedule-spec.js';
import { keepSchedulesApplied } from '../../src/queue/schedule-sync.js';
import { applyDeclaredSchedules, readSchedule, upsertSchedule } from '../../src/queue/schedules.js';
import { fixtureJobs } from '../api/app-fixture.js';
import { useTestQueue } from '../helpers/context.js';
import { freePort, startRedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

function capture(): { log: Logger; events: string[] } {
  const events: string[] = [];
  const push = (o: { event: string }) => events.push(o.event);
  const log = { info: push, warn: push } as unknown as Logger;
  return { log, events };
}

describe('applyDeclaredSchedules', () => {
  it('adds, leaves unchanged, changes and removes only module schedules', async () => {
    const t = useTestQueue();
    const jobs = await fixtureJobs(t.queue);
    const queues = createQueueCache(t.redis, t.prefix);
    const p = (r: Omit<ScheduleRequest, 'type'>) => prepareSchedule(jobs, { type: 'work', ...r });
    const apply = async (declared: ReturnType<typeof p>[]) => {
      const c = capture();
      const r = await applyDeclaredSchedules({ queues, names: [t.queue], declared, log: c.log });
      return { ...r, events: c.events };
    };
    const a = p({ id: 'a', every: 60_000 });
    const b = p({ id: 'b', cron: '0 3 * * *', tz: 'Europe/Berlin' });
    expect((await apply([a, b])).events).toEqual(['schedule.added', 'schedule.added']);
    const again = await apply([a, b]);
    expect(again.events).toEqual([]);
    expect(again.unchanged).toEqual([`${t.queue}/a`, `${t.queue}/b`]);

    const b2 = p({ id: 'b', cron: '0 4 * * *', tz: 'Europe/Berlin' });
    expect((await apply([a, b2])).events).toEqual(['schedule.changed']);
    expect((await readSchedule(queues, t.queue, 'b'))?.cron).toBe('0 4 * * *');

    // A schedule made through the API is never removed by the module; one whose id the API took over
    // is the API's from then on.
    await upsertSchedule(queues, p({ id: 'by-api', every: 5000 }), 'api');
    await upsertSchedule(queues, p({ id: 'a', every: 30_000 }), 'api');
    expect((await readSchedule(queues, t.queue, 'a'))?.source).toBe('api');
    const dropped = await apply([]);
    expect(dropped.events).toEqual(['schedule.removed']);
    expect(dropped.removed).toEqual([`${t.queue}/b`]);
    expect((await t.bull.getJobSchedulers()).map((s) => s.key).sort()).toEqual(['a', 'by-api']);

    // An API schedule whose id the module declares becomes the module's (changed, not added).
    expect((await apply([a])).events).toEqual(['schedule.changed']);
    expect(await readSchedule(queues, t.queue, 'a')).toMatchObject({ source: 'module', every: 60_000 });
    await queues.close();
  });

  it('a declaration with the type’s job options: each run gets the type’s attempts and retention', async () => {
    const t = useTestQueue();
    const jobs = createRegistry((await fixtureJobs(t.queue)).all);
    const queues = createQueueCache(t.redis, t.prefix);
    await upsertSchedule(
      queues,
      prepareSchedule(jobs, { id: 'x', type: 'flaky', data: { succeedOn: 1 }, every: 60_000 }),
      'api',
    );
    const [job] = await t.bull.getJobs(['wait', 'delayed']);
    expect(job?.opts.attempts).toBe(5);
    expect(job?.name).toBe('flaky');
    await queues.close();
  });
});

describe('keepSchedulesApplied', () => {
  it('retries while Redis is not there and applies once it answers', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const redis = createRedis(url, { kind: 'fail-fast', commandTimeoutMs: 1000 });
    const guard = createRedisGuard([redis], 1000);
    const queues = createQueueCache(redis, 'bull');
    const directory = createQueueDirectory({ redis, prefix: 'bull', declared: ['sched'] });
    const jobs = await fixtureJobs('sched');
    const declared = [prepareSchedule(jobs, { id: 'later', type: 'work', every: 60_000 })];
    const c = capture();
    const sync = keepSchedulesApplied({ queues, directory, guard, declared, log: c.log, retryMs: 50 });
    await waitFor('a failed attempt', () => c.events.includes('schedules.apply-failed'), {
      timeoutMs: 15_000,
    });
    const server = await startRedisServer({ port });
    try {
      const r = await sync.done;
      expect(r.added).toEqual(['sched/later']);
      expect(c.events.filter((e) => e === 'schedule.added')).toHaveLength(1);
      expect((await readSchedule(queues, 'sched', 'later'))?.source).toBe('module');
    } finally {
      sync.close();
      await queues.close();
      await closeRedis(redis);
      await server.stop();
    }
  });
});
