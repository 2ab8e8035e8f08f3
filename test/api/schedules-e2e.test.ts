/**
 * Schedules across real processes: two `kq api` processes apply the same handlers module at once and
 * a `kq worker` runs what it fires; each tick makes exactly one job, run once. Restarting the API with
 * the same, a changed, and an emptied module logs unchanged, changed and removed, and leaves a
 * schedule made through the API alone. Waits for jobs and log lines (bounded), never for kq's timers.
 */

import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTestQueue } from '../helpers/context.js';
import { type KqProcess, spawnKq } from '../helpers/kq-process.js';
import { waitFor } from '../helpers/wait.js';
import { TOKEN } from './app-fixture.js';

const MODULE = resolve(import.meta.dirname, '../fixtures/schedule-handlers.mjs');
const EVERY = 1000;

async function startApi(env: Record<string, string>): Promise<{ api: KqProcess; base: string }> {
  const api = spawnKq(['api'], { PORT: '0', HOST: '127.0.0.1', API_TOKENS: TOKEN, HANDLERS: MODULE, ...env });
  const line = await api.waitForLog('api.listening', (l) => l.event === 'api.listening', 20_000);
  await api.waitForLog('schedules.applied', (l) => l.event === 'schedules.applied', 20_000);
  return { api, base: `http://127.0.0.1:${line.port}` };
}

async function stop(p: KqProcess): Promise<void> {
  p.kill('SIGTERM');
  expect((await p.waitForExit(20_000)).code).toBe(0);
}

const events = (p: KqProcess, prefix: string) =>
  p.logs.filter((l) => l.event?.startsWith(prefix)).map((l) => l.event);

describe('schedules with real API and worker processes', () => {
  it('two APIs apply one module: each tick fires one job, run once by the worker', async () => {
    const t = useTestQueue();
    const env = {
      REDIS_URL: t.redisUrl,
      SCHEDULE_QUEUE: t.queue,
      SCHEDULE_EVERY_MS: String(EVERY),
      SHUTDOWN_DRAIN_MS: '0',
    };
    const [a, b] = await Promise.all([startApi(env), startApi(env)]);
    const worker = spawnKq(['worker'], { ...env, QUEUE: t.queue, HEALTH_PORT: '0', HANDLERS: MODULE });
    const ticks = await waitFor(
      'four scheduled runs',
      async () => {
        const runs = await t.redis.lrange(`kqtest:${t.queue}:ticks`, 0, -1);
        return runs.length >= 4 ? runs : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    await stop(worker);
    const runs = await t.redis.lrange(`kqtest:${t.queue}:ticks`, 0, -1);
    const ids = runs.map((r) => r.slice(0, r.lastIndexOf(':')));
    // Each job ran once, and every job is its tick's only one: ids are repeat:heartbeat:<tick ms>, the
    // ticks on one grid of EVERY ms. A tick the worker reached late may be skipped (BullMQ catches up to
    // the next slot), so gaps are whole multiples of EVERY; a second job in one tick would break that.
    expect(new Set(ids).size).toBe(ids.length);
    const ms = ids.map((id) => {
      expect(id).toMatch(/^repeat:heartbeat:\d+$/);
      return Number(id.split(':')[2]);
    });
    const sorted = [...ms].sort((x, y) => x - y);
    for (let i = 1; i < sorted.length; i++) {
      const gap = (sorted[i] as number) - (sorted[i - 1] as number);
      expect(gap).toBeGreaterThanOrEqual(EVERY);
      expect(gap % EVERY).toBe(0);
    }
    // BullMQ's own record agrees: no other job of this scheduler exists anywhere in the queue.
    const all = await t.bull.getJobs(['completed', 'failed', 'active', 'wait', 'delayed']);
    const byTick = new Map<number, number>();
    for (const j of all) {
      const tickMs = Number(String(j.id).split(':')[2]);
      byTick.set(tickMs, (byTick.get(tickMs) ?? 0) + 1);
    }
    expect([...byTick.values()].every((n) => n === 1)).toBe(true);
    expect(ticks.length).toBeGreaterThanOrEqual(4);
    expect(await t.bull.getJobSchedulersCount()).toBe(1);
    // Both APIs applied the module; at most one could find it missing or both raced to add it.
    const added = [...events(a.api, 'schedule.'), ...events(b.api, 'schedule.')];
    expect(added.every((e) => e === 'schedule.added')).toBe(true);
    expect(added.length).toBeGreaterThanOrEqual(1);
    const listed = await fetch(`${a.base}/schedules?queue=${t.queue}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(((await listed.json()) as { schedules: unknown[] }).schedules).toMatchObject([
      { id: 'heartbeat', every: EVERY, source: 'module', type: 'tick' },
    ]);
    await Promise.all([stop(a.api), stop(b.api)]);
  });

  it('restarts log unchanged, changed and removed; a schedule made through the API is kept', async () => {
    const t = useTestQueue();
    const env = { REDIS_URL: t.redisUrl, SCHEDULE_QUEUE: t.queue, SHUTDOWN_DRAIN_MS: '0' };
    const first = await startApi({ ...env, SCHEDULE_EVERY_MS: '60000' });
    expect(events(first.api, 'schedule.')).toEqual(['schedule.added']);
    const made = await fetch(`${first.base}/schedules`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'by-hand', type: 'tick', data: { version: 9 }, cron: '0 3 * * *' }),
    });
    expect(made.status).toBe(201);
    await stop(first.api);

    const same = await startApi({ ...env, SCHEDULE_EVERY_MS: '60000' });
    expect(events(same.api, 'schedule.')).toEqual([]);
    expect(same.api.logs.find((l) => l.event === 'schedules.applied')).toMatchObject({
      unchanged: 1,
      added: 0,
      changed: 0,
      removed: 0,
    });
    await stop(same.api);

    const changed = await startApi({ ...env, SCHEDULE_EVERY_MS: '60000', SCHEDULE_VERSION: '2' });
    expect(events(changed.api, 'schedule.')).toEqual(['schedule.changed']);
    expect((await t.bull.getJobScheduler('heartbeat'))?.template?.data).toEqual({ version: 2 });
    await stop(changed.api);

    const emptied = await startApi(env);
    expect(events(emptied.api, 'schedule.')).toEqual(['schedule.removed']);
    const left = (await t.bull.getJobSchedulers()).map((s) => s.key);
    expect(left).toEqual(['by-hand']);
    await stop(emptied.api);
  });

  it('an invalid schedule in the module stops kq api (exit 2) naming the export and the field', async () => {
    const t = useTestQueue();
    const api = spawnKq(['api'], {
      PORT: '0',
      HOST: '127.0.0.1',
      API_TOKENS: TOKEN,
      HANDLERS: MODULE,
      REDIS_URL: t.redisUrl,
      SCHEDULE_QUEUE: t.queue,
      SCHEDULE_EVERY_MS: '500',
    });
    expect((await api.waitForExit(20_000)).code).toBe(2);
    expect(api.output()).toContain('the schedule exported as `schedules[0]` is invalid');
    expect(api.output()).toContain('Invalid schedule field every: 500');
    expect(await t.bull.getJobSchedulersCount()).toBe(0);
  });
});
