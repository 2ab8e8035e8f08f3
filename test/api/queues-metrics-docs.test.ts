/** GET /queues, /queues/:name, pause/resume, /metrics, /openapi.json, /docs, /ui (in-process). */
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { useTestQueue } from '../helpers/context.js';
import { AUTH, testApp } from './app-fixture.js';

const json = { ...AUTH, 'content-type': 'application/json' };

describe('queues', () => {
  it('counts per state and backlog = waiting + prioritized + active', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    await app.inject({
      method: 'POST',
      url: '/jobs/batch',
      headers: json,
      payload: {
        jobs: [
          { type: 'noop' },
          { type: 'noop' },
          { type: 'noop', priority: 1 },
          { type: 'noop', delay: 60_000 },
        ],
      },
    });
    const one = await app.inject({ method: 'GET', url: `/queues/${t.queue}`, headers: AUTH });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toEqual({
      queue: t.queue,
      waiting: 2,
      prioritized: 1,
      delayed: 1,
      active: 0,
      completed: 0,
      failed: 0,
      cancelled: 0,
      backlog: 3,
      paused: false,
      limits: {
        rateLimit: null,
        globalConcurrency: null,
        declared: { rateLimit: null, globalConcurrency: null },
      },
    });
    const all = (await app.inject({ method: 'GET', url: '/queues', headers: AUTH })).json();
    expect(all.queues).toEqual(
      expect.arrayContaining([expect.objectContaining({ queue: t.queue, backlog: 3 })]),
    );
    await app.close();
  });

  it('pauses and resumes a queue', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const paused = await app.inject({ method: 'POST', url: `/queues/${t.queue}/pause`, headers: AUTH });
    expect(paused.statusCode).toBe(200);
    expect(paused.json().paused).toBe(true);
    expect(await t.bull.isPaused()).toBe(true);
    const resumed = await app.inject({ method: 'POST', url: `/queues/${t.queue}/resume`, headers: AUTH });
    expect(resumed.json().paused).toBe(false);
    expect(await t.bull.isPaused()).toBe(false);
    await app.close();
  });
});

describe('/metrics', () => {
  it('reads queue gauges from Redis at scrape time and counts HTTP requests by route', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    await app.inject({ method: 'POST', url: '/jobs', headers: json, payload: { type: 'noop' } });
    await app.inject({ method: 'GET', url: '/jobs/nope', headers: AUTH });
    const scrape = async () => (await app.inject({ method: 'GET', url: '/metrics', headers: AUTH })).body;
    expect(await scrape()).toContain(`kq_queue_jobs{queue="${t.queue}",state="waiting"} 1`);
    // Stored behind the API's back: a scrape within the read cache's 1 s may reuse the last value; one
    // after it must see the job (the clock is moved on, not waited for).
    await t.bull.add('noop', {});
    expect(await scrape()).toContain(`kq_queue_jobs{queue="${t.queue}",state="waiting"} 1`);
    const realNow = Date.now.bind(Date);
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 1000);
    onTestFinished(() => {
      vi.restoreAllMocks();
    });
    const res = await app.inject({ method: 'GET', url: '/metrics', headers: AUTH });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toContain(`kq_queue_jobs{queue="${t.queue}",state="waiting"} 2`);
    expect(res.body).toContain(`kq_queue_jobs{queue="${t.queue}",state="delayed"} 0`);
    expect(res.body).toContain(`kq_queue_backlog{queue="${t.queue}"} 2`);
    expect(res.body).toContain('kq_redis_up 1');
    expect(res.body).toContain('kq_http_requests_total{method="POST",route="/jobs",status="202"} 1');
    expect(res.body).toContain('kq_http_requests_total{method="GET",route="/jobs/:id",status="404"} 1');
    expect(res.body).toMatch(
      /kq_http_request_duration_seconds_count\{method="POST",route="\/jobs",status="202"\} 1/,
    );
    await app.close();
  });
});

describe('OpenAPI, /docs and /ui', () => {
  it('/openapi.json is OpenAPI 3 with every route and each job type’s payload schema', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const res = await app.inject({ method: 'GET', url: '/openapi.json', headers: AUTH });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    const paths = Object.keys(doc.paths);
    for (const p of [
      '/jobs',
      '/jobs/batch',
      '/',
      '/jobs/{id}',
      '/queues',
      '/queues/{name}',
      '/queues/{name}/pause',
      '/queues/{name}/resume',
      '/metrics',
      '/healthz',
      '/readyz',
    ])
      expect(paths).toContain(p);
    expect(paths.some((p) => p.startsWith('/ui'))).toBe(false);
    expect(doc.components.schemas.Payload_sleep).toMatchObject({
      type: 'object',
      properties: { seconds: { type: 'number', minimum: 0, maximum: 3600, default: 5 } },
    });
    expect(doc.components.schemas.Payload_work.properties.ms.type).toBe('number');
    const variants = doc.paths['/jobs'].post.requestBody.content['application/json'].schema.oneOf;
    expect(variants.map((v: { title: string }) => v.title)).toEqual(
      expect.arrayContaining(['sleep', 'work', 'noop']),
    );
    expect(doc.components.securitySchemes.bearer.scheme).toBe('bearer');
    expect(doc.paths['/healthz'].get.security).toEqual([]);
    await app.close();
  });

  it('/docs and /ui are HTML with security headers', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    for (const url of ['/docs/', '/ui']) {
      const res = await app.inject({ method: 'GET', url, headers: AUTH });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toContain('text/html');
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['x-request-id']).toBeTruthy();
    }
    const queues = await app.inject({ method: 'GET', url: '/ui/api/queues', headers: AUTH });
    expect(queues.statusCode).toBe(200);
    await app.close();
  });

  it('echoes a caller’s x-request-id', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const res = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers['x-request-id']).toBe('abc-123');
    await app.close();
  });
});
