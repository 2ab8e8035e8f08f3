/**
 * Schedules through the in-process API on the test Redis: upsert (201 then 200), read, list, delete in
 * BullMQ's key layout; every 422 case names its field and stores nothing; cron with a time zone gives
 * the next run computed here independently (Intl), without waiting for real time.
 */
import { describe, expect, it } from 'vitest';
import { useTestQueue } from '../helpers/context.js';
import { AUTH, expectError, testApp } from './app-fixture.js';

const post = (app: Awaited<ReturnType<typeof testApp>>, body: unknown, token = AUTH) =>
  app.inject({ method: 'POST', url: '/schedules', headers: token, payload: body as object });

/** The first instant after `from` (a multiple of 15 min) whose wall clock in `tz` reads hh:mm. */
function nextWallClock(hh: number, mm: number, tz: string, from: number): number {
  const f = new Intl.DateTimeFormat('en-GB', {
    timeZone: tz,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  const step = 15 * 60_000;
  for (let t = Math.floor(from / step) * step + step; t < from + 3 * 86_400_000; t += step) {
    if (f.format(t) === `${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}`) return t;
  }
  throw new Error('no such wall-clock time in three days');
}

describe('schedules API', () => {
  it('creates (201), replaces (200), reads, lists and deletes a schedule in BullMQ layout', async () => {
    const t = useTestQueue();
    const app = await testApp({ redisUrl: t.redisUrl, queue: t.queue });
    const before = Date.now();
    const created = await post(app, { id: 'hb', type: 'work', data: { ms: 1 }, every: 60_000 });
    expect(created.statusCode).toBe(201);
    const c = created.json();
    expect(c).toMatchObject({
      id: 'hb',
      queue: t.queue,
      type: 'work',
      data: { ms: 1, ignoreSignal: false },
      every: 60_000,
      cron: null,
      source: 'api',
    });
    const next = Date.parse(c.nextRunAt);
    expect(next).toBeGreaterThan(before - 1);
    expect(next).toBeLessThanOrEqual(Date.now() + 60_000);
    expect(created.headers.location).toBe(`/schedules/hb?queue=${t.queue}`);
    // BullMQ's layout: the repeat ZSET scored by the next run, one pending job for it (an `every`
    // schedule's first run is due at once, so it waits rather than being delayed).
    expect(Number(await t.redis.zscore(`bull:${t.queue}:repeat`, 'hb'))).toBe(next);
    expect(await t.bull.getJobSchedulersCount()).toBe(1);
    const pending = () => t.bull.getJobs(['wait', 'delayed']);
    expect((await pending()).map((j) => j.id)).toEqual([`repeat:hb:${next}`]);

    const replaced = await post(app, { id: 'hb', type: 'work', data: { ms: 2 }, cron: '*/5 * * * *' });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json()).toMatchObject({ id: 'hb', every: null, cron: '*/5 * * * *', data: { ms: 2 } });
    expect(await t.bull.getJobSchedulersCount()).toBe(1);
    expect((await pending()).map((j) => j.id)).toEqual([
      `repeat:hb:${Date.parse(replaced.json().nextRunAt)}`,
    ]);

    const one = await app.inject({ url: '/schedules/hb', headers: AUTH });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ id: 'hb', queue: t.queue, cron: '*/5 * * * *' });
    const list = await app.inject({ url: `/schedules?queue=${t.queue}`, headers: AUTH });
    expect(list.json().schedules.map((s: { id: string }) => s.id)).toEqual(['hb']);
    const all = await app.inject({ url: '/schedules', headers: AUTH });
    expect(
      all.json().schedules.some((s: { id: string; queue: string }) => s.id === 'hb' && s.queue === t.queue),
    ).toBe(true);

    const del = await app.inject({ method: 'DELETE', url: '/schedules/hb', headers: AUTH });
    expect(del.statusCode).toBe(200);
    expect(del.json()).toMatchObject({ id: 'hb', queue: t.queue });
    expect(await t.bull.getJobSchedulersCount()).toBe(0);
    expect(await pending()).toEqual([]);
    expectError(await app.inject({ url: '/schedules/hb', headers: AUTH }), 404, 'SCHEDULE_NOT_FOUND');
    expectError(
      await app.inject({ method: 'DELETE', url: '/schedules/hb', headers: AUTH }),
      404,
      'SCHEDULE_NOT_FOUND',
    );
    expectError(
      await post(app, { id: 'x', type: 'work', every: 1000 }, {} as typeof AUTH),
      401,
      'UNAUTHORIZED',
    );
    await app.close();
  });

  it.each([
    ['bad cron', { cron: '61 * * * *' }, 'INVALID_SCHEDULE', 'cron'],
    ['cron that is not one', { cron: 'every day' }, 'INVALID_SCHEDULE', 'cron'],
    ['unknown time zone', { cron: '0 3 * * *', tz: 'Mars/Olympus' }, 'INVALID_SCHEDULE', 'tz'],
    ['both cron and every', { cron: '0 3 * * *', every: 5000 }, 'INVALID_SCHEDULE', 'every'],
    ['neither cron nor every', {}, 'INVALID_SCHEDULE', 'cron'],
    ['every under a second', { every: 999 }, 'INVALID_SCHEDULE', 'every'],
    ['tz with every', { every: 5000, tz: 'UTC' }, 'INVALID_SCHEDULE', 'tz'],
    ['unknown type', { every: 5000, type: 'nope' }, 'UNKNOWN_JOB_TYPE', 'type'],
    ['data failing the schema', { every: 5000, data: { ms: 'slow' } }, 'INVALID_PAYLOAD', 'data'],
    [
      'endAt before startAt',
      { every: 5000, startAt: '2031-01-02T00:00:00Z', endAt: '2031-01-01T00:00:00Z' },
      'INVALID_SCHEDULE',
      'endAt',
    ],
    ['endAt in the past', { every: 5000, endAt: '2001-01-01T00:00:00Z' }, 'INVALID_SCHEDULE', 'endAt'],
    ['startAt not a date', { every: 5000, startAt: 'tomorrow' }, 'INVALID_SCHEDULE', 'startAt'],
    ['limit 0', { every: 5000, limit: 0 }, 'INVALID_SCHEDULE', 'limit'],
    ['id with a colon', { every: 5000, id: 'a:b' }, 'INVALID_SCHEDULE', 'id'],
  ])('422 for %s, naming the field; nothing stored', async (_name, fields, code, field) => {
    const t = useTestQueue();
    const app = await testApp({ redisUrl: t.redisUrl, queue: t.queue });
    const res = await post(app, { id: 's1', type: 'work', ...fields });
    const e = expectError(res, 422, code);
    expect(e.field).toBe(field);
    expect(e.message).toContain(field);
    if (code === 'INVALID_PAYLOAD') expect(JSON.stringify(e.issues)).toContain('data.ms');
    expect(await t.bull.getJobSchedulersCount()).toBe(0);
    expect((await t.redis.keys(`bull:${t.queue}:*`)).filter((k) => !k.endsWith(':meta'))).toEqual([]);
    await app.close();
  });

  it('a cron with a time zone runs at that zone’s wall-clock time (next run computed, not waited for)', async () => {
    const t = useTestQueue();
    const app = await testApp({ redisUrl: t.redisUrl, queue: t.queue });
    for (const tz of ['Asia/Kathmandu', 'Europe/Berlin', 'America/New_York']) {
      const now = Date.now();
      const res = await post(app, {
        id: `daily-${tz.replace('/', '-')}`,
        type: 'work',
        cron: '0 3 * * *',
        tz,
      });
      expect(res.statusCode).toBe(201);
      const got = Date.parse(res.json().nextRunAt);
      expect(res.json().tz).toBe(tz);
      expect(new Date(got).toISOString()).toBe(new Date(nextWallClock(3, 0, tz, now)).toISOString());
    }
    // Kathmandu is UTC+5:45: 03:00 there is 21:15 UTC, which no whole-hour zone produces.
    const ktm = (await app.inject({ url: '/schedules/daily-Asia-Kathmandu', headers: AUTH })).json();
    expect(new Date(ktm.nextRunAt).getUTCMinutes()).toBe(15);
    const utc = (await post(app, { id: 'daily-utc', type: 'work', cron: '0 3 * * *' })).json();
    expect(new Date(utc.nextRunAt).getUTCHours()).toBe(3);
    await app.close();
  });

  it('an id on two queues: 409 naming both unless ?queue= says which', async () => {
    const a = useTestQueue();
    const b = useTestQueue();
    const app = await testApp({ redisUrl: a.redisUrl, queue: a.queue });
    expect((await post(app, { id: 'twin', type: 'work', every: 5000 })).statusCode).toBe(201);
    expect((await post(app, { id: 'twin', type: 'work', every: 7000, queue: b.queue })).statusCode).toBe(201);
    const e = expectError(
      await app.inject({ url: '/schedules/twin', headers: AUTH }),
      409,
      'SCHEDULE_AMBIGUOUS',
    );
    expect(e.queues).toEqual(expect.arrayContaining([a.queue, b.queue]));
    expect(e.message).toContain(b.queue);
    expectError(
      await app.inject({ method: 'DELETE', url: '/schedules/twin', headers: AUTH }),
      409,
      'SCHEDULE_AMBIGUOUS',
    );
    const del = await app.inject({
      method: 'DELETE',
      url: `/schedules/twin?queue=${b.queue}`,
      headers: AUTH,
    });
    expect(del.json()).toMatchObject({ queue: b.queue, every: 7000 });
    expect((await app.inject({ url: '/schedules/twin', headers: AUTH })).json()).toMatchObject({
      queue: a.queue,
    });
    await app.close();
  });

  it('the dashboard lists the schedule (bull-board job schedulers page) and refuses to remove it read-only', async () => {
    const t = useTestQueue();
    const app = await testApp({ redisUrl: t.redisUrl, queue: t.queue });
    expect(
      (await post(app, { id: 'board', type: 'work', cron: '0 3 * * *', tz: 'Europe/Berlin' })).statusCode,
    ).toBe(201);
    const res = await app.inject({ url: '/ui/api/job-schedulers', headers: AUTH });
    expect(res.statusCode).toBe(200);
    const mine = res.json().schedulers.filter((s: { queueName: string }) => s.queueName === t.queue);
    expect(mine).toMatchObject([{ id: 'board', name: 'work', pattern: '0 3 * * *', tz: 'Europe/Berlin' }]);
    const remove = await app.inject({
      method: 'PUT',
      url: `/ui/api/queues/${t.queue}/job-schedulers/board/remove`,
      headers: AUTH,
    });
    expect(remove.statusCode).toBe(403);
    expect(await t.bull.getJobSchedulersCount()).toBe(1);
    await app.close();
  });

  it('OpenAPI describes the schedule routes', async () => {
    const t = useTestQueue();
    const app = await testApp({ redisUrl: t.redisUrl, queue: t.queue });
    const doc = (await app.inject({ url: '/openapi.json', headers: AUTH })).json();
    expect(Object.keys(doc.paths['/schedules'])).toEqual(expect.arrayContaining(['get', 'post']));
    expect(Object.keys(doc.paths['/schedules/{id}'])).toEqual(expect.arrayContaining(['get', 'delete']));
    expect(Object.keys(doc.paths['/schedules'].post.responses)).toEqual(
      expect.arrayContaining(['200', '201', '422']),
    );
    await app.close();
  });
});
