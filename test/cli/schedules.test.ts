/**
 * `kq schedules list|set|delete` through the built CLI on the test Redis: what it stores is what the
 * API shows (BullMQ's schedulers), its errors name the option, the value and the rule, and the exit
 * codes are the documented ones (0 done, 2 invalid option, 3 not found, 4 ambiguous).
 */
import { describe, expect, it } from 'vitest';
import { useTestQueue } from '../helpers/context.js';
import { spawnKq } from '../helpers/kq-process.js';

const HANDLERS = new URL('../fixtures/schedule-handlers.mjs', import.meta.url).pathname;

async function kq(args: string[], env: Record<string, string>) {
  const p = spawnKq(['schedules', ...args], { HANDLERS, ...env });
  const { code } = await p.waitForExit(30_000);
  return { code, out: p.output() };
}

describe('kq schedules', () => {
  it('set, list, replace and delete; exit codes 0, 3 and 4', async () => {
    const t = useTestQueue();
    const other = useTestQueue();
    const env = { REDIS_URL: t.redisUrl, SCHEDULE_QUEUE: t.queue };
    const set = await kq(
      [
        'set',
        'nightly',
        '--type',
        'tick',
        '--data',
        '{"version":3}',
        '--cron',
        '0 3 * * *',
        '--tz',
        'Asia/Kathmandu',
      ],
      env,
    );
    expect(set.code).toBe(0);
    expect(set.out).toMatch(
      new RegExp(
        `^created ${t.queue}/nightly  tick  cron "0 3 \\* \\* \\*" tz Asia/Kathmandu  next \\d{4}-\\d\\d-\\d\\dT21:15:00.000Z`,
      ),
    );
    const s = await t.bull.getJobScheduler('nightly');
    expect(s).toMatchObject({
      pattern: '0 3 * * *',
      tz: 'Asia/Kathmandu',
      name: 'tick',
      template: { data: { version: 3 } },
    });

    const again = await kq(
      ['set', 'nightly', '--type', 'tick', '--data', '{"version":4}', '--every', '60000'],
      env,
    );
    expect(again.code).toBe(0);
    expect(again.out).toContain(`replaced ${t.queue}/nightly  tick  every 60000ms`);
    expect((await t.bull.getJobScheduler('nightly'))?.every).toBe(60_000);

    const list = await kq(['list', '--queue', t.queue], env);
    expect(list.code).toBe(0);
    expect(list.out.trim().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^${t.queue}/nightly  tick  every 60000ms  next \\S+  runs 1  api$`)),
    ]);

    await kq(
      [
        'set',
        'nightly',
        '--type',
        'tick',
        '--data',
        '{"version":1}',
        '--every',
        '5000',
        '--queue',
        other.queue,
      ],
      env,
    );
    const ambiguous = await kq(['delete', 'nightly'], env);
    expect(ambiguous.code).toBe(4);
    expect(ambiguous.out).toContain(t.queue);
    expect(ambiguous.out).toContain(other.queue);
    const del = await kq(['delete', 'nightly', '--queue', other.queue], env);
    expect(del.code).toBe(0);
    expect(del.out.trim()).toBe(`deleted ${other.queue}/nightly`);
    expect(await other.bull.getJobSchedulersCount()).toBe(0);
    expect((await kq(['delete', 'nightly', '--queue', t.queue], env)).code).toBe(0);
    const gone = await kq(['delete', 'nightly', '--queue', t.queue], env);
    expect(gone.code).toBe(3);
    expect(gone.out).toContain('was not found');
  });

  it.each([
    [['--cron', 'not a cron'], '--cron', 'not a cron'],
    [['--cron', '0 3 * * *', '--tz', 'Nowhere/City'], '--tz', 'Nowhere/City'],
    [['--every', '500'], '--every', '500'],
    [['--cron', '0 3 * * *', '--every', '5000'], '--every', 'exactly one of cron and every'],
    [['--every', '5000', '--data', '{"version":"x"}'], '--data', 'data.version'],
    [
      ['--every', '5000', '--start-at', '2031-02-01T00:00:00Z', '--end-at', '2031-01-01T00:00:00Z'],
      '--end-at',
      '2031-01-01',
    ],
  ])('exit 2 naming the option for %j; nothing stored', async (args, option, value) => {
    const t = useTestQueue();
    const res = await kq(['set', 'bad', '--type', 'tick', '--data', '{"version":1}', ...args], {
      REDIS_URL: t.redisUrl,
      SCHEDULE_QUEUE: t.queue,
    });
    expect(res.code).toBe(2);
    expect(res.out).toContain(`Invalid ${option}`);
    expect(res.out).toContain(value);
    expect(await t.bull.getJobSchedulersCount()).toBe(0);
  });

  it('an unknown --type without HANDLERS says only the demo jobs are known (exit 2)', async () => {
    const t = useTestQueue();
    const res = await kq(['set', 'x', '--type', 'report', '--every', '5000'], {
      REDIS_URL: t.redisUrl,
      HANDLERS: '',
    });
    expect(res.code).toBe(2);
    expect(res.out).toContain('Invalid --type');
    expect(res.out).toContain('"report"');
    expect(res.out).toContain('HANDLERS is not set');
  });
});
