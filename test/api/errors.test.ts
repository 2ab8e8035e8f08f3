/** Every client mistake gets a 4xx in the one error shape; Redis down gets 503 + Retry-After, never a 202. */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { useTestQueue } from '../helpers/context.js';
import { freePort, startRedisServer } from '../helpers/redis-server.js';
import { AUTH, TOKEN, testApp } from './app-fixture.js';

const json = { ...AUTH, 'content-type': 'application/json' };

function expectError(res: { statusCode: number; json(): unknown }, status: number, code: string) {
  expect(res.statusCode).toBe(status);
  const body = res.json() as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(10);
  return body.error as Record<string, unknown>;
}

describe('client mistakes', () => {
  it('400 for malformed JSON and for an empty JSON body', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    expectError(
      await app.inject({ method: 'POST', url: '/jobs', headers: json, payload: '{"type":' }),
      400,
      'MALFORMED_JSON',
    );
    expectError(
      await app.inject({ method: 'POST', url: '/jobs', headers: json, payload: '' }),
      400,
      'MALFORMED_JSON',
    );
    await app.close();
  });

  it('400 for an invalid envelope, naming the field', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const unknown = expectError(
      await app.inject({ method: 'POST', url: '/jobs', headers: json, payload: { type: 'work', dat: {} } }),
      400,
      'INVALID_REQUEST',
    );
    expect(unknown.issues).toEqual([{ path: 'body.dat', message: 'is not a known field' }]);
    const delay = expectError(
      await app.inject({ method: 'POST', url: '/jobs', headers: json, payload: { type: 'work', delay: -5 } }),
      400,
      'INVALID_REQUEST',
    );
    expect(String(delay.message)).toContain('body.delay');
    expectError(
      await app.inject({ method: 'POST', url: '/jobs', headers: json, payload: { data: {} } }),
      400,
      'INVALID_REQUEST',
    );
    expectError(
      await app.inject({
        method: 'POST',
        url: '/jobs',
        headers: json,
        payload: { type: 'work', queue: 'no spaces' },
      }),
      400,
      'INVALID_REQUEST',
    );
    expect(await t.bull.getWaitingCount()).toBe(0);
    await app.close();
  });

  it('415 for a body that is not JSON', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const res = await app.inject({
      method: 'POST',
      url: '/jobs',
      headers: { ...AUTH, 'content-type': 'text/xml' },
      payload: '<job/>',
    });
    expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    await app.close();
  });

  it('413 for a body over BODY_LIMIT', async () => {
    const t = useTestQueue();
    const app = await testApp({ ...t, bodyLimit: 2048 });
    const res = await app.inject({
      method: 'POST',
      url: '/jobs',
      headers: json,
      payload: { type: 'noop', data: 'x'.repeat(4096) },
    });
    expect(expectError(res, 413, 'BODY_TOO_LARGE').limitBytes).toBe(2048);
    expect(await t.bull.getWaitingCount()).toBe(0);
    await app.close();
  });

  it('422 for an unknown job type, listing the known ones', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const err = expectError(
      await app.inject({ method: 'POST', url: '/jobs', headers: json, payload: { type: 'resize' } }),
      422,
      'UNKNOWN_JOB_TYPE',
    );
    expect(err.knownTypes).toEqual(expect.arrayContaining(['work', 'sleep', 'noop']));
    await app.close();
  });

  it('422 for a payload that fails its schema, with the failing paths', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const err = expectError(
      await app.inject({
        method: 'POST',
        url: '/jobs',
        headers: json,
        payload: { type: 'sleep', data: { seconds: -1, x: 1 } },
      }),
      422,
      'INVALID_PAYLOAD',
    );
    const paths = (err.issues as { path: string }[]).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['data.seconds', 'data']));
    await app.close();
  });

  it('404 for unknown jobs, queues and routes', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    expectError(await app.inject({ method: 'GET', url: '/jobs/nope', headers: AUTH }), 404, 'JOB_NOT_FOUND');
    expectError(await app.inject({ method: 'GET', url: '/jobs/a:b', headers: AUTH }), 404, 'JOB_NOT_FOUND');
    // A queue's own keys are not jobs.
    await t.bull.add('work', {});
    expectError(
      await app.inject({ method: 'GET', url: `/jobs/meta?queue=${t.queue}`, headers: AUTH }),
      404,
      'JOB_NOT_FOUND',
    );
    expectError(
      await app.inject({ method: 'GET', url: `/jobs/wait?queue=${t.queue}`, headers: AUTH }),
      404,
      'JOB_NOT_FOUND',
    );
    expectError(
      await app.inject({ method: 'DELETE', url: '/jobs/nope', headers: AUTH }),
      404,
      'JOB_NOT_FOUND',
    );
    expectError(
      await app.inject({ method: 'GET', url: '/queues/no-such-queue', headers: AUTH }),
      404,
      'QUEUE_NOT_FOUND',
    );
    expectError(
      await app.inject({ method: 'POST', url: '/queues/no-such-queue/pause', headers: AUTH }),
      404,
      'QUEUE_NOT_FOUND',
    );
    expectError(await app.inject({ method: 'GET', url: '/nowhere', headers: AUTH }), 404, 'ROUTE_NOT_FOUND');
    await app.close();
  });

  it('never lets __proto__ or constructor.prototype reach a prototype', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const proto = await app.inject({
      method: 'POST',
      url: '/jobs',
      headers: json,
      payload: '{"type":"noop","data":{"__proto__":{"polluted":true}}}',
    });
    expectError(proto, 400, 'MALFORMED_JSON');
    const ctor = await app.inject({
      method: 'POST',
      url: '/jobs',
      headers: json,
      payload: '{"type":"noop","data":{"constructor":{"prototype":{"polluted":true}}}}',
    });
    expectError(ctor, 400, 'MALFORMED_JSON');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(await t.bull.getWaitingCount()).toBe(0);
    await app.close();
  });
});

describe('auth', () => {
  it('401 without or with a wrong token on every route but /healthz and /readyz', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    for (const [method, url] of [
      ['POST', '/jobs'],
      ['POST', '/jobs/batch'],
      ['POST', '/'],
      ['GET', '/jobs/1'],
      ['DELETE', '/jobs/1'],
      ['GET', '/queues'],
      ['GET', `/queues/${t.queue}`],
      ['POST', `/queues/${t.queue}/pause`],
      ['GET', '/metrics'],
      ['GET', '/openapi.json'],
      ['GET', '/docs'],
      ['GET', '/ui'],
      ['GET', '/nowhere'],
    ] as const) {
      const none = await app.inject({ method, url });
      expectError(none, 401, 'UNAUTHORIZED');
      expect(none.headers['www-authenticate']).toBe('Bearer realm="kq"');
      const wrong = await app.inject({ method, url, headers: { authorization: `Bearer ${TOKEN}x` } });
      expectError(wrong, 401, 'UNAUTHORIZED');
    }
    expect(await t.bull.getWaitingCount()).toBe(0);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    await app.close();
  });

  it('/ui?token= sets an HttpOnly SameSite=Strict cookie that opens /ui but not the API', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const bad = await app.inject({ method: 'GET', url: '/ui?token=wrong-token-000000000' });
    expectError(bad, 401, 'UNAUTHORIZED');
    const login = await app.inject({ method: 'GET', url: `/ui?token=${TOKEN}` });
    expect(login.statusCode).toBe(303);
    expect(login.headers.location).toBe('/ui');
    const cookie = String(login.headers['set-cookie']);
    expect(cookie).toMatch(/^kq_ui=[0-9a-f]{64}; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(cookie).not.toContain(TOKEN);
    const pair = cookie.split(';')[0] as string;
    const ui = await app.inject({ method: 'GET', url: '/ui', headers: { cookie: pair } });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toContain('text/html');
    const api = await app.inject({ method: 'GET', url: '/queues', headers: { cookie: pair } });
    expectError(api, 401, 'UNAUTHORIZED');
    await app.close();
  });

  it('never logs a token', async () => {
    const t = useTestQueue();
    let logged = '';
    const sink = new Writable({
      write(chunk, _enc, cb) {
        logged += chunk.toString();
        cb();
      },
    });
    const app = await testApp({ ...t, logger: pino({ level: 'debug' }, sink) });
    await app.inject({ method: 'GET', url: '/queues', headers: AUTH });
    await app.inject({ method: 'GET', url: `/ui?token=${TOKEN}` });
    await app.inject({
      method: 'GET',
      url: '/queues',
      headers: { authorization: 'Bearer wrong-token-000000000' },
    });
    await app.close();
    expect(logged).toContain('/ui?token=[redacted]');
    expect(logged).toContain('"reqId"');
    expect(logged).not.toContain(TOKEN);
    expect(logged).not.toContain('wrong-token');
  });
});

describe('Redis unavailable', () => {
  it('503 with Retry-After, fast, and nothing stored; /readyz 503; /healthz 200', async () => {
    const t = useTestQueue();
    const port = await freePort();
    const app = await testApp({ ...t, redisUrl: `redis://127.0.0.1:${port}`, requestTimeoutMs: 2000 });
    for (const req of [
      { method: 'POST', url: '/jobs', headers: json, payload: { type: 'work' } },
      { method: 'POST', url: '/jobs/batch', headers: json, payload: { jobs: [{ type: 'work' }] } },
      { method: 'POST', url: '/', headers: AUTH },
      { method: 'GET', url: '/jobs/1', headers: AUTH },
      { method: 'DELETE', url: '/jobs/1', headers: AUTH },
      { method: 'GET', url: '/queues', headers: AUTH },
      { method: 'POST', url: `/queues/${t.queue}/pause`, headers: AUTH },
    ] as const) {
      const started = Date.now();
      const res = await app.inject(req);
      expectError(res, 503, 'REDIS_UNAVAILABLE');
      expect(res.headers['retry-after']).toBe('1');
      // The bound is REQUEST_TIMEOUT_MS (2 s here), with margin for a loaded machine.
      expect(Date.now() - started).toBeLessThan(4000);
    }
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const metrics = await app.inject({ method: 'GET', url: '/metrics', headers: AUTH });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toContain('kq_redis_up 0');
    expect(metrics.body).not.toContain('kq_queue_backlog{');
    await app.close();
  });
});

describe('Redis hangs', () => {
  it('a request is cut off at REQUEST_TIMEOUT_MS with 503, never left hanging', async () => {
    const redis = await startRedisServer();
    const c = redis.client();
    try {
      const t = useTestQueue();
      const app = await testApp({ ...t, redisUrl: redis.url, requestTimeoutMs: 1000 });
      expect((await app.inject({ method: 'GET', url: '/queues', headers: AUTH })).statusCode).toBe(200);
      await c.client('PAUSE', 4000, 'ALL');
      const started = Date.now();
      const res = await app.inject({
        method: 'POST',
        url: '/jobs',
        headers: json,
        payload: { type: 'work' },
      });
      const took = Date.now() - started;
      expectError(res, 503, 'REDIS_UNAVAILABLE');
      expect(res.headers['retry-after']).toBe('1');
      expect(took).toBeGreaterThanOrEqual(900);
      expect(took).toBeLessThan(3500);
      await app.close();
    } finally {
      c.disconnect();
      await redis.stop();
    }
  });
});

describe('shutting down', () => {
  it('answers 503 SHUTTING_DOWN with Retry-After once close has begun (jobs and /readyz)', async () => {
    const t = useTestQueue();
    for (const [method, url] of [
      ['POST', '/jobs'],
      ['GET', '/readyz'],
    ] as const) {
      const app = await testApp(t);
      const closing = app.close();
      const payload = method === 'POST' ? { type: 'work' } : undefined;
      const res = await app.inject({ method, url, headers: json, payload });
      expectError(res, 503, 'SHUTTING_DOWN');
      expect(res.headers['retry-after']).toBe('1');
      expect(res.headers.connection).toBe('close');
      await closing;
    }
    expect(await t.bull.getWaitingCount()).toBe(0);
  });
});
