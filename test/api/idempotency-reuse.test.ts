/** An Idempotency-Key reused with a different request answers 422 and stores nothing (HTTP -> Redis). */
import { describe, expect, it, onTestFinished } from 'vitest';
import { REQUEST_HASH_OPTION } from '../../src/queue/job-ids.js';
import { useTestQueue } from '../helpers/context.js';
import { AUTH, expectError, testApp } from './app-fixture.js';

const json = { ...AUTH, 'content-type': 'application/json' };

/** Removes the keys of a second queue the test creates (useTestQueue cleans only its own). */
function cleanQueue(t: ReturnType<typeof useTestQueue>, queue: string) {
  onTestFinished(async () => {
    const keys = await t.redis.keys(`${t.prefix}:${queue}:*`);
    if (keys.length) await t.redis.del(...keys);
    await t.redis.srem(`${t.prefix}:kq:queues`, queue);
  });
}

describe('Idempotency-Key reuse', () => {
  it('POST /jobs: same key, same request replays; a different type, data or queue answers 422 naming it', async () => {
    const t = useTestQueue();
    const other = `${t.queue}.other`;
    cleanQueue(t, other);
    const app = await testApp(t);
    const send = (payload: Record<string, unknown>) =>
      app.inject({ method: 'POST', url: '/jobs', headers: { ...json, 'idempotency-key': 'k-1' }, payload });
    const first = await send({ type: 'work', data: { ms: 1, ignoreSignal: false } });
    expect(first.statusCode).toBe(202);
    // The same request, its keys in another order: the same payload, so a replay.
    const again = await send({ type: 'work', data: { ignoreSignal: false, ms: 1 } });
    expect(again.statusCode).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().id).toBe(first.json().id);

    const data = expectError(await send({ type: 'work', data: { ms: 2 } }), 422, 'IDEMPOTENCY_KEY_REUSED');
    expect(data).toMatchObject({ differs: 'data', id: first.json().id, idempotencyKey: 'k-1' });
    expect(data.message).toMatch(/different data.*Resend the original request.*new Idempotency-Key/);

    const type = expectError(await send({ type: 'noop' }), 422, 'IDEMPOTENCY_KEY_REUSED');
    expect(type).toMatchObject({ differs: 'type' });
    expect(type.message).toContain('type "work", this request has "noop"');

    // Another queue: its id would differ, but the key's job is found on the declared queue.
    const queue = expectError(
      await send({ type: 'work', data: { ms: 1 }, queue: other }),
      422,
      'IDEMPOTENCY_KEY_REUSED',
    );
    expect(queue).toMatchObject({ differs: 'queue' });
    expect(queue.message).toContain(`queue "${t.queue}", this request has "${other}"`);

    expect(await t.bull.getWaitingCount()).toBe(1);
    expect(await t.redis.keys(`${t.prefix}:${other}:*`)).toEqual([]);
    await app.close();
  });

  it('the hash rides on the job (no extra key) and a job cancelled before it ran still tells', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const headers = { ...json, 'idempotency-key': 'k-2' };
    const first = await app.inject({ method: 'POST', url: '/jobs', headers, payload: { type: 'work' } });
    const id = first.json().id as string;
    // Contract with BullMQ: it stores a job option it does not know as it is, in the job's hash.
    const raw = JSON.parse((await t.redis.hget(`${t.prefix}:${t.queue}:${id}`, 'opts')) ?? '{}');
    expect(raw[REQUEST_HASH_OPTION]).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const job = await t.bull.getJob(id);
    expect((job?.opts as Record<string, unknown> | undefined)?.[REQUEST_HASH_OPTION]).toBe(
      raw[REQUEST_HASH_OPTION],
    );
    const del = await app.inject({ method: 'DELETE', url: `/jobs/${id}`, headers: AUTH });
    expect(del.statusCode).toBe(200);
    expect(await t.bull.getJob(id)).toBeUndefined();
    const replay = await app.inject({ method: 'POST', url: '/jobs', headers, payload: { type: 'work' } });
    expect(replay.statusCode).toBe(202);
    expect(replay.json()).toMatchObject({ id, status: 'cancelled' });
    const changed = await app.inject({
      method: 'POST',
      url: '/jobs',
      headers,
      payload: { type: 'work', data: { ms: 9 } },
    });
    expect(expectError(changed, 422, 'IDEMPOTENCY_KEY_REUSED')).toMatchObject({ differs: 'data' });
    await app.close();
  });

  it('POST /jobs/batch: a reused key fails the whole batch, naming jobs[i], and stores nothing', async () => {
    const t = useTestQueue();
    const app = await testApp(t);
    const batch = (jobs: unknown[]) =>
      app.inject({ method: 'POST', url: '/jobs/batch', headers: json, payload: { jobs } });
    // Within one batch: the second item's data differs from the first with that key.
    const inBatch = await batch([
      { type: 'work' },
      { type: 'work', idempotencyKey: 'b-1', data: { ms: 1 } },
      { type: 'work', idempotencyKey: 'b-1', data: { ms: 2 } },
    ]);
    const e1 = expectError(inBatch, 422, 'IDEMPOTENCY_KEY_REUSED');
    expect(e1.message).toMatch(/^jobs\[2\]: .*by jobs\[1\] of this batch/);
    expect(await t.bull.getWaitingCount()).toBe(0);

    // Against a stored job: the same key with a different type fails the batch, nothing else is stored.
    const stored = await batch([{ type: 'work', idempotencyKey: 'b-2' }]);
    expect(stored.statusCode).toBe(202);
    const e2 = expectError(
      await batch([{ type: 'work' }, { type: 'noop', idempotencyKey: 'b-2' }]),
      422,
      'IDEMPOTENCY_KEY_REUSED',
    );
    expect(e2.message).toMatch(/^jobs\[1\]: /);
    expect(e2).toMatchObject({ differs: 'type', id: stored.json().ids[0] });
    expect(await t.bull.getWaitingCount()).toBe(1);

    // Same key and same request twice in a batch, and again later: one job, replayed.
    const same = { type: 'work', idempotencyKey: 'b-2' };
    const ok = await batch([same, same]);
    expect(ok.statusCode).toBe(202);
    expect(ok.json().ids).toEqual([stored.json().ids[0], stored.json().ids[0]]);
    expect(ok.json().jobs.map((j: { replayed: boolean }) => j.replayed)).toEqual([true, true]);
    expect(await t.bull.getWaitingCount()).toBe(1);
    await app.close();
  });
});
