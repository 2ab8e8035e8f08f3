/**
 * Defect 5 from the outside: the /ui cookie cannot change queues through bull-board's own API; the
 * dashboard is read-only unless UI_WRITE is on, and then a write needs the bearer token; the cookie
 * expires; ?token= never redirects off-site.
 */
import { describe, expect, it } from 'vitest';
import { useTestQueue } from '../helpers/context.js';
import { AUTH, expectError, TOKEN, testApp } from './app-fixture.js';

async function login(app: Awaited<ReturnType<typeof testApp>>): Promise<string> {
  const res = await app.inject({ method: 'GET', url: `/ui?token=${TOKEN}` });
  return String(res.headers['set-cookie']).split(';')[0] as string;
}

describe('dashboard writes', () => {
  it('read-only by default: the cookie (and even the token) cannot empty a queue or add a job', async () => {
    const t = useTestQueue();
    await t.bull.add('work', { ms: 1 });
    const app = await testApp(t);
    const cookie = await login(app);
    // Make the dashboard list the queue, then try its write endpoints.
    expect((await app.inject({ method: 'GET', url: '/ui/api/queues', headers: { cookie } })).statusCode).toBe(
      200,
    );
    const empty = await app.inject({
      method: 'PUT',
      url: `/ui/api/queues/${t.queue}/empty`,
      headers: { cookie },
    });
    expectError(empty, 403, 'FORBIDDEN');
    const add = await app.inject({
      method: 'POST',
      url: `/ui/api/queues/${t.queue}/add`,
      headers: { ...AUTH, 'content-type': 'application/json' },
      payload: { name: 'work', data: {}, options: { attempts: 1_000_000, jobId: 'a:b:c' } },
    });
    expectError(add, 403, 'FORBIDDEN');
    expect(await t.bull.getWaitingCount()).toBe(1);
    await app.close();
  });

  it('with UI_WRITE on, writes need the bearer token; the cookie only reads; adding stays refused', async () => {
    const t = useTestQueue();
    await t.bull.add('work', { ms: 1 });
    const app = await testApp({ ...t, uiWrite: true });
    const cookie = await login(app);
    await app.inject({ method: 'GET', url: '/ui/api/queues', headers: { cookie } });
    const byCookie = await app.inject({
      method: 'PUT',
      url: `/ui/api/queues/${t.queue}/empty`,
      headers: { cookie },
    });
    expectError(byCookie, 403, 'FORBIDDEN');
    expect(await t.bull.getWaitingCount()).toBe(1);
    const add = await app.inject({ method: 'POST', url: `/ui/api/queues/${t.queue}/add`, headers: AUTH });
    expectError(add, 403, 'FORBIDDEN');
    const byToken = await app.inject({
      method: 'PUT',
      url: `/ui/api/queues/${t.queue}/empty`,
      headers: AUTH,
    });
    expect(byToken.statusCode).toBeLessThan(300);
    expect(await t.bull.getWaitingCount()).toBe(0);
    await app.close();
  });

  it('the cookie has a lifetime the server checks, and ?token= never redirects off-site', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const res = await app.inject({ method: 'GET', url: `/ui/../..//evil.example?token=${TOKEN}` });
    if (res.statusCode === 303) expect(res.headers.location).toBe('/ui');
    else expect(res.statusCode).toBeGreaterThanOrEqual(400);
    const evil = await app.inject({ method: 'GET', url: `/ui/..%2F..%2F%2Fevil.example?token=${TOKEN}` });
    expect(String(evil.headers.location ?? '/ui')).toMatch(/^\/(ui|docs)/);
    const cookie = await login(app);
    const expires = Number(/=(\d+)\./.exec(cookie)?.[1]);
    expect(expires - Date.now() / 1000).toBeGreaterThan(8 * 3600 - 60);
    // An expired cookie with a MAC that would have been valid is refused.
    const stale = cookie.replace(/=\d+\./, `=${Math.floor(Date.now() / 1000) - 1}.`);
    expectError(
      await app.inject({ method: 'GET', url: '/ui', headers: { cookie: stale } }),
      401,
      'UNAUTHORIZED',
    );
    await app.close();
  });
});
