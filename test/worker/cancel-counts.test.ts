/**
 * Cancelled jobs are counted apart from failed ones in kq's own counts (`GET /queues/:name`, the API's
 * `/metrics`), whether they were cancelled while a real `kq worker` ran them or before they ran.
 */
import { describe, expect, it } from 'vitest';
import { AUTH, testApp } from '../api/app-fixture.js';
import { useTestQueue } from '../helpers/context.js';
import { waitFor } from '../helpers/wait.js';
import { cleanupRuns, runs, spawnWorker } from './helpers.js';

describe('counts: cancelled apart from failed', () => {
  it('GET /queues/:name and /metrics count cancelled (running and waiting) apart from failed', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const json = { ...AUTH, 'content-type': 'application/json' };
    const post = async (payload: object) =>
      (await app.inject({ method: 'POST', url: '/jobs', headers: json, payload })).json().id as string;
    const running = await post({ type: 'work', data: { ms: 60_000 } });
    const later = await post({ type: 'work', delay: 3_600_000 });
    const failing = await post({ type: 'flaky', data: { succeedOn: 99 }, attempts: 1 });
    const w = spawnWorker(t);
    try {
      await waitFor('running', async () =>
        (await runs(t.redis, t.queue, 'started')).some((r) => r.startsWith(`${running}:`)),
      );
      for (const id of [running, later]) {
        const res = await app.inject({ method: 'DELETE', url: `/jobs/${id}`, headers: AUTH });
        expect(res.statusCode, res.body).toBeLessThan(300);
      }
      const counts = await waitFor('settled', async () => {
        const c = (await app.inject({ method: 'GET', url: `/queues/${t.queue}`, headers: AUTH })).json();
        return c.failed + c.cancelled === 3 ? c : undefined;
      });
      expect(counts).toMatchObject({ failed: 1, cancelled: 2, active: 0, delayed: 0 });
      expect(
        (await app.inject({ method: 'GET', url: `/jobs/${failing}`, headers: AUTH })).json().status,
      ).toBe('failed');
      const metrics = (await app.inject({ method: 'GET', url: '/metrics', headers: AUTH })).body;
      expect(metrics).toContain(`kq_queue_jobs{queue="${t.queue}",state="failed"} 1`);
      expect(metrics).toContain(`kq_queue_jobs{queue="${t.queue}",state="cancelled"} 2`);
    } finally {
      w.kill('SIGTERM');
      await w.waitForExit();
      await app.close();
      await cleanupRuns(t.redis, t.queue);
    }
  });
});
