/** Every client mistake gets a 4xx in the one error shape, never a 500. */
import { describe, expect, it } from 'vitest';
import { useTestQueue } from '../helpers/context.js';
import { AUTH, expectError, testApp } from './app-fixture.js';

const json = { ...AUTH, 'content-type': 'application/json' };

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
