/**
 * Defect 2 from the outside: a frozen Redis (TCP up, no answers). Submissions in flight are bounded in
 * count and bytes; past the bound the API answers 503 at once, saying nothing was stored (true); a 503
 * for a submission that was sent says so and carries the job id, which resolves it once Redis is back.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { startRedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';
import { AUTH, testApp } from './app-fixture.js';

const json = { ...AUTH, 'content-type': 'application/json' };

describe('frozen Redis', () => {
  it('bounds submissions in flight and answers truthful 503s with the job id', async () => {
    const server = await startRedisServer();
    onTestFinished(() => {
      if (server.running) process.kill(server.pid as number, 'SIGCONT');
      return server.stop();
    });
    const app = await testApp({
      redisUrl: server.url,
      queue: 'jobs',
      requestTimeoutMs: 500,
      maxInflightJobs: 10,
      maxInflightBytes: 1_000_000,
    });
    const post = (key?: string) =>
      app.inject({
        method: 'POST',
        url: '/jobs',
        headers: key ? { ...json, 'idempotency-key': key } : json,
        payload: { type: 'work', data: { ms: 1, pad: 'x'.repeat(1000) } },
      });
    expect((await post()).statusCode).toBe(202);
    process.kill(server.pid as number, 'SIGSTOP');
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => post(i < 5 ? `k-${i}` : undefined)),
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    const bodies = answers.map((r) => ({ status: r.statusCode, error: r.json().error }));
    expect(bodies.every((b) => b.status === 503 && b.error.code === 'REDIS_UNAVAILABLE')).toBe(true);
    const notStored = bodies.filter((b) => b.error.stored === false);
    const unknown = bodies.filter((b) => b.error.stored === 'unknown');
    // Idempotent requests first read Redis: timed out, nothing was sent for them (not stored).
    expect(unknown.length).toBeGreaterThan(0);
    expect(unknown.length).toBeLessThanOrEqual(15);
    expect(notStored.length).toBeGreaterThanOrEqual(25);
    for (const b of notStored) expect(b.error.message).toMatch(/nothing was stored/);
    const named = unknown.filter((b) => typeof b.error.jobId === 'string');
    expect(named).toHaveLength(unknown.length);
    for (const b of named) expect(b.error.message).toContain(`GET /jobs/${b.error.jobId}`);
    process.kill(server.pid as number, 'SIGCONT');
    // The id resolves a maybe-sent job: Redis stored it when it woke up.
    const id = named[0]?.error.jobId as string;
    await waitFor('maybe-sent job resolved', async () => {
      const r = await app.inject({ method: 'GET', url: `/jobs/${id}`, headers: AUTH });
      return r.statusCode === 200;
    });
    // Service resumes: the bound was released when Redis answered.
    await waitFor('accepting again', async () => (await post()).statusCode === 202);
    await app.close();
  });
});
