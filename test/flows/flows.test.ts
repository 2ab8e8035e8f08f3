/**
 * POST /flows across the seam: HTTP -> Redis (BullMQ FlowProducer) -> two real `kq worker` processes
 * (parent on queue "reports", children on queue "images") -> GET /jobs/:id. Also: invalid flows answer
 * 422 naming the node and store nothing; cancelling a parent cancels its waiting children.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { loadRegistry } from '../../src/jobs/registry.js';
import { enqueueFlow } from '../../src/queue/flows.js';
import { idempotentJobId } from '../../src/queue/job-ids.js';
import { readJobStatus } from '../../src/queue/job-status.js';
import { createQueueCache } from '../../src/queue/queues.js';
import { runJob } from '../../src/testing/run-job.js';
import { AUTH, expectError, testApp } from '../api/app-fixture.js';
import { spawnKq } from '../helpers/kq-process.js';
import { waitFor } from '../helpers/wait.js';

const HANDLERS = resolve(import.meta.dirname, '../fixtures/flow-handlers.mjs');
const json = { ...AUTH, 'content-type': 'application/json' };

interface Tree {
  id: string;
  type: string;
  queue: string;
  children?: Tree[];
}

/** A key prefix of its own (the fixture's queue names are fixed) and an API on it; keys removed afterwards. */
async function setup() {
  const prefix = `fl-${randomBytes(4).toString('hex')}`;
  const redisUrl = inject('redisUrl');
  const redis = new Redis(redisUrl);
  onTestFinished(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });
  const app = await testApp({ redisUrl, prefix, queue: 'unused', jobs: await loadRegistry(HANDLERS) });
  const post = (payload: unknown, headers: Record<string, string> = {}) =>
    app.inject({
      method: 'POST',
      url: '/flows',
      headers: { ...json, ...headers },
      payload: payload as object,
    });
  const get = async (id: string) =>
    (await app.inject({ method: 'GET', url: `/jobs/${encodeURIComponent(id)}`, headers: AUTH })).json();
  const worker = (queue: string) => {
    const w = spawnKq(
      ['worker'],
      { REDIS_URL: redisUrl, KQ_PREFIX: prefix, HANDLERS, QUEUE: queue, HEALTH_PORT: '0' },
      `${queue} worker`,
    );
    return w;
  };
  return { prefix, redis, app, post, get, worker };
}

const stateOf = <T extends { status: string }>(get: (id: string) => Promise<T>, id: string, want: string) =>
  waitFor(`${id} ${want}`, async () => {
    const s = await get(id);
    return s.status === want ? s : undefined;
  });

describe('POST /flows with real workers on two queues', () => {
  it('runs the parent last with its children’s results; failParentOnFailure fails it, ignoreDependencyOnFailure does not; cancel keeps completed children', async () => {
    const { post, get, worker, app } = await setup();
    const ok = await post({
      type: 'report',
      data: { title: 'ok' },
      children: [
        { type: 'resize', data: { width: 10 } },
        { type: 'resize', data: { width: 20 } },
      ],
    });
    expect(ok.statusCode).toBe(202);
    const okTree = ok.json() as Tree;
    expect(okTree).toMatchObject({ type: 'report', queue: 'reports' });
    expect(okTree.id).toMatch(/^reports\.[A-Za-z0-9_-]{16}$/);
    expect(ok.headers.location).toBe(`/jobs/${encodeURIComponent(okTree.id)}`);
    const [c1, c2] = okTree.children ?? [];
    for (const c of [c1, c2]) expect(c?.id).toMatch(/^images\.[A-Za-z0-9_-]{16}$/);

    const failing = (
      await post({
        type: 'report',
        data: { title: 'fails' },
        children: [
          { type: 'resize', data: { width: 1, fail: true } },
          { type: 'resize', data: { width: 2 } },
        ],
      })
    ).json() as Tree;
    const ignoring = (
      await post({
        type: 'report',
        data: { title: 'ignores' },
        children: [
          { type: 'resize', data: { width: 3, fail: true }, opts: { ignoreDependencyOnFailure: true } },
          { type: 'resize', data: { width: 4 } },
        ],
      })
    ).json() as Tree;
    const partial = (
      await post({
        type: 'report',
        data: { title: 'cancelled half way' },
        children: [
          { type: 'resize', data: { width: 5 } },
          { type: 'resize', data: { width: 6 }, opts: { delay: 3_600_000 } },
        ],
      })
    ).json() as Tree;

    const waitsForEver = (
      await post({
        type: 'report',
        data: { title: 'waits' },
        children: [{ type: 'resize', data: { width: 7, fail: true }, opts: { failParentOnFailure: false } }],
      })
    ).json() as Tree;
    const release = join(mkdtempSync(join(tmpdir(), 'kq-flows-')), 'release');
    onTestFinished(() => rmSync(dirname(release), { recursive: true, force: true }));
    const running = (
      await post({
        type: 'report',
        data: { title: 'cancelled while a child runs' },
        children: [
          { type: 'resize', data: { width: 8, hold: release } },
          { type: 'resize', data: { width: 9 }, opts: { delay: 3_600_000 } },
        ],
      })
    ).json() as Tree;

    // No worker yet: the parent waits for its two children, both waiting.
    const before = await get(okTree.id);
    expect(before.status).toBe('waiting');
    expect(before.children).toEqual({
      total: 2,
      waiting: 2,
      delayed: 0,
      active: 0,
      completed: 0,
      failed: 0,
      ignored: 0,
    });

    const images = worker('images');
    const reports = worker('reports');
    await images.waitForLog('started', (l) => l.event === 'worker.started');
    await reports.waitForLog('started', (l) => l.event === 'worker.started');

    const done = await stateOf(get, okTree.id, 'completed');
    const kids = await Promise.all([c1, c2].map((c) => get(c?.id as string)));
    expect(done.result.children).toEqual({
      [c1?.id as string]: { width: 20, finishedAt: kids[0].result.finishedAt },
      [c2?.id as string]: { width: 40, finishedAt: kids[1].result.finishedAt },
    });
    // The parent started after both children finished (one machine, one clock).
    for (const k of kids) expect(done.result.startedAt).toBeGreaterThanOrEqual(k.result.finishedAt);
    expect(done.children).toMatchObject({ total: 2, completed: 2, waiting: 0, failed: 0 });
    expect(kids[0].children).toBeUndefined();
    expect(kids.map((k) => k.parent)).toEqual([okTree.id, okTree.id]);
    expect(done.parent).toBeUndefined();

    const failed = await stateOf(get, failing.id, 'failed');
    const badChild = failing.children?.[0]?.id as string;
    expect(failed.error).toContain(badChild);
    expect((await get(badChild)).error).toBe('resize 1 failed on purpose');

    const ran = await stateOf(get, ignoring.id, 'completed');
    const [ignored, fine] = ignoring.children ?? [];
    expect(ran.result.failures).toEqual({ [ignored?.id as string]: 'resize 3 failed on purpose' });
    expect(Object.keys(ran.result.children)).toEqual([fine?.id]);
    expect(ran.children).toMatchObject({ total: 2, completed: 1, ignored: 1 });

    // One child done, one delayed: cancelling the parent cancels the delayed one, keeps the result.
    const [first, delayed] = partial.children ?? [];
    await stateOf(get, first?.id as string, 'completed');
    expect((await get(partial.id)).children).toMatchObject({ completed: 1, delayed: 1 });
    const del = await app.inject({ method: 'DELETE', url: `/jobs/${partial.id}`, headers: AUTH });
    expect(del.statusCode).toBe(200);
    expect(del.json().status).toBe('cancelled');
    expect((await get(partial.id)).status).toBe('cancelled');
    expect((await get(delayed?.id as string)).status).toBe('cancelled');
    expect((await get(first?.id as string)).result).toMatchObject({ width: 10 });

    // failParentOnFailure: false, no ignore: BullMQ's parent waits for ever, its child counted failed.
    const lone = waitsForEver.children?.[0]?.id as string;
    await stateOf(get, lone, 'failed');
    expect((await get(waitsForEver.id)).status).toBe('waiting');
    expect((await get(waitsForEver.id)).children).toMatchObject({ total: 1, failed: 1, waiting: 0 });

    // A running child is left to finish when its parent is cancelled; the delayed one is cancelled.
    const [held, later] = running.children ?? [];
    await stateOf(get, held?.id as string, 'active');
    const cancel = await app.inject({ method: 'DELETE', url: `/jobs/${running.id}`, headers: AUTH });
    expect(cancel.statusCode).toBe(200);
    expect((await get(later?.id as string)).status).toBe('cancelled');
    expect((await get(held?.id as string)).status).toBe('active');
    writeFileSync(release, '');
    expect((await stateOf(get, held?.id as string, 'completed')).result).toMatchObject({ width: 16 });
    expect((await get(running.id)).status).toBe('cancelled');

    images.kill();
    reports.kill();
    expect((await images.waitForExit()).code).toBe(0);
    expect((await reports.waitForExit()).code).toBe(0);
    await app.close();
  });
});

describe('POST /flows: bad input stores nothing', () => {
  it('422 names the node’s path (data, type, options, depth, size), with or without an Idempotency-Key', async () => {
    const { prefix, redis, post, app } = await setup();
    const nested = {
      type: 'report',
      data: { title: 'x' },
      children: [
        { type: 'resize', data: { width: 1 } },
        { type: 'report', data: { title: 'y' }, children: [{ type: 'resize', data: { width: -1 } }] },
      ],
    };
    const bad = expectError(await post(nested), 422, 'INVALID_PAYLOAD');
    expect(bad.message).toContain('children[1].children[0]');
    expect(bad.issues).toEqual([
      { path: 'children[1].children[0].data.width', message: expect.stringMatching(/>0|greater|positive/i) },
    ]);

    const unknown = expectError(
      await post({ type: 'report', data: { title: 'x' }, children: [{ type: 'nope' }] }),
      422,
      'UNKNOWN_JOB_TYPE',
    );
    expect(unknown.path).toBe('children[0]');

    const rootBad = expectError(await post({ type: 'report', data: {} }), 422, 'INVALID_PAYLOAD');
    expect((rootBad.issues as { path: string }[])[0]?.path).toBe('data.title');

    const rootOpt = expectError(
      await post({ type: 'report', data: { title: 'x' }, opts: { failParentOnFailure: true } }),
      422,
      'INVALID_FLOW',
    );
    expect(rootOpt.path).toBe('opts.failParentOnFailure');

    const both = expectError(
      await post({
        type: 'report',
        data: { title: 'x' },
        children: [
          {
            type: 'resize',
            data: { width: 1 },
            opts: { failParentOnFailure: true, ignoreDependencyOnFailure: true },
          },
        ],
      }),
      422,
      'INVALID_FLOW',
    );
    expect(both.path).toBe('children[0].opts.ignoreDependencyOnFailure');

    // Six levels below the parent: one too many.
    let deep: Record<string, unknown> = { type: 'resize', data: { width: 1 } };
    for (let i = 0; i < 6; i++) deep = { type: 'report', data: { title: `l${i}` }, children: [deep] };
    const tooDeep = expectError(await post(deep), 422, 'INVALID_FLOW');
    expect(tooDeep.path).toBe('children[0].children[0].children[0].children[0].children[0].children[0]');

    // 1 + 2 + 2 x 600 jobs: over the 1,000-job bound.
    const many = Array.from({ length: 600 }, (_, i) => ({ type: 'resize', data: { width: i + 1 } }));
    const tooMany = expectError(
      await post({
        type: 'report',
        data: { title: 'x' },
        children: [
          { type: 'report', data: { title: 'a' }, children: many },
          { type: 'report', data: { title: 'b' }, children: many },
        ],
      }),
      422,
      'INVALID_FLOW',
    );
    expect(tooMany.message).toContain('at most 1000 jobs');

    const idem = expectError(
      await post({ type: 'report', data: {}, children: [{ type: 'resize' }] }, { 'idempotency-key': 'k1' }),
      422,
      'INVALID_PAYLOAD',
    );
    expect(idem.message).toContain('data.title');

    const anonymous = await app.inject({
      method: 'POST',
      url: '/flows',
      headers: { 'content-type': 'application/json' },
      payload: { type: 'report', data: { title: 'x' } },
    });
    expectError(anonymous, 401, 'UNAUTHORIZED');

    expect(await redis.keys(`${prefix}:*`)).toEqual([]);
    // And a valid one does store (the check above can fail).
    expect((await post({ type: 'report', data: { title: 'x' } })).statusCode).toBe(202);
    expect((await redis.keys(`${prefix}:*`)).length).toBeGreaterThan(0);
    await app.close();
  });
});

describe('POST /flows with an Idempotency-Key', () => {
  it('the same request names the same jobs and stores nothing more; a different one is refused', async () => {
    const { prefix, redis, post, get, app } = await setup();
    const flow = {
      type: 'report',
      data: { title: 'once' },
      children: [
        { type: 'resize', data: { width: 1 } },
        { type: 'resize', data: { width: 2 } },
      ],
    };
    const first = await post(flow, { 'idempotency-key': 'order-7' });
    expect(first.statusCode).toBe(202);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const tree = first.json() as Tree;
    // The parent's id is POST /jobs's id for that key on its queue.
    expect(tree.id).toBe(idempotentJobId('reports', 'order-7'));
    expect(tree.children?.map((c) => c.id)).toEqual([
      idempotentJobId('images', 'order-7\nchildren[0].'),
      idempotentJobId('images', 'order-7\nchildren[1].'),
    ]);
    const keys = (await redis.keys(`${prefix}:*`)).sort();

    const again = await post(flow, { 'idempotency-key': 'order-7' });
    expect(again.statusCode).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(tree);
    expect((await redis.keys(`${prefix}:*`)).sort()).toEqual(keys);
    expect((await get(tree.id)).children).toMatchObject({ total: 2, waiting: 2 });

    const changed = { ...flow, children: [{ type: 'resize', data: { width: 3 } }] };
    const reused = expectError(
      await post(changed, { 'idempotency-key': 'order-7' }),
      422,
      'IDEMPOTENCY_KEY_REUSED',
    );
    expect(reused.id).toBe(tree.id);
    const delayed = {
      ...flow,
      children: [{ type: 'resize', data: { width: 1 }, opts: { delay: 1000 } }, flow.children[1]],
    };
    expectError(await post(delayed, { 'idempotency-key': 'order-7' }), 422, 'IDEMPOTENCY_KEY_REUSED');
    // A single job with the same key and queue is a different request too.
    const job = await app.inject({
      method: 'POST',
      url: '/jobs',
      headers: { ...json, 'idempotency-key': 'order-7' },
      payload: { type: 'report', data: { title: 'once' } },
    });
    expectError(job, 422, 'IDEMPOTENCY_KEY_REUSED');
    expect((await redis.keys(`${prefix}:*`)).sort()).toEqual(keys);
    // Cancelled before it ran: the same request answers the same (now cancelled) jobs, stores nothing.
    expect((await app.inject({ method: 'DELETE', url: `/jobs/${tree.id}`, headers: AUTH })).statusCode).toBe(
      200,
    );
    const afterCancel = await post(flow, { 'idempotency-key': 'order-7' });
    expect(afterCancel.headers['idempotent-replayed']).toBe('true');
    expect(afterCancel.json()).toEqual(tree);
    for (const id of [tree.id, ...(tree.children ?? []).map((c) => c.id)]) {
      expect((await get(id)).status).toBe('cancelled');
    }
    await app.close();
  });
});

describe('DELETE /jobs/:id of a flow parent', () => {
  it('cancels its waiting and delayed children, nested ones too, and leaves no job behind', async () => {
    const { prefix, redis, post, get, app } = await setup();
    const tree = (
      await post({
        type: 'report',
        data: { title: 'root' },
        children: [
          { type: 'resize', data: { width: 1 } },
          {
            type: 'report',
            data: { title: 'mid' },
            children: [
              { type: 'resize', data: { width: 2 } },
              { type: 'resize', data: { width: 3 }, opts: { delay: 3_600_000 } },
            ],
          },
        ],
      })
    ).json() as Tree;
    const ids: string[] = [];
    const walk = (n: Tree) => {
      ids.push(n.id);
      n.children?.forEach(walk);
    };
    walk(tree);
    expect(ids).toHaveLength(5);
    expect((await get(tree.id)).children).toMatchObject({ total: 2, waiting: 2 });
    // The dashboard (bull-board) draws the same tree from BullMQ's keys, across both queues.
    const board = await app.inject({
      method: 'GET',
      url: '/ui/api/queues?activeQueue=reports&status=waiting-children&page=1',
      headers: AUTH,
    });
    expect(board.statusCode).toBe(200);
    const listed = (board.json() as { queues: { name: string; jobs: { id: string }[] }[] }).queues;
    expect(
      listed
        .find((q) => q.name === 'reports')
        ?.jobs.map((j) => j.id)
        .sort(),
    ).toEqual([tree.children?.[1]?.id, tree.id].sort());
    const flow = await app.inject({
      method: 'GET',
      url: `/ui/api/queues/reports/${tree.id}/flow`,
      headers: AUTH,
    });
    expect(flow.statusCode).toBe(200);
    const shown = flow.json() as {
      isFlowNode: boolean;
      flowRoot: { id: string; children: { id: string }[] };
    };
    expect(shown.isFlowNode).toBe(true);
    expect(shown.flowRoot.id).toBe(tree.id);
    expect(shown.flowRoot.children.map((c) => c.id).sort()).toEqual(tree.children?.map((c) => c.id).sort());

    const del = await app.inject({ method: 'DELETE', url: `/jobs/${tree.id}`, headers: AUTH });
    expect(del.statusCode).toBe(200);
    for (const id of ids) expect((await get(id)).status, id).toBe('cancelled');
    // Nothing left for a worker: no job hash, nothing in wait, delayed or waiting-children.
    for (const q of ['images', 'reports']) {
      expect(await redis.llen(`${prefix}:${q}:wait`)).toBe(0);
      expect(await redis.zcard(`${prefix}:${q}:delayed`)).toBe(0);
      expect(await redis.zcard(`${prefix}:${q}:waiting-children`)).toBe(0);
    }
    for (const id of ids) {
      expect(await redis.exists(`${prefix}:${id.slice(0, id.lastIndexOf('.'))}:${id}`)).toBe(0);
    }
    // Idempotent: cancelling again says cancelled.
    expect((await app.inject({ method: 'DELETE', url: `/jobs/${tree.id}`, headers: AUTH })).statusCode).toBe(
      200,
    );
    await app.close();
  });
});

describe('OpenAPI', () => {
  it('documents POST /flows with its nested node schema and the parent’s child counts', async () => {
    const { app } = await setup();
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json', headers: AUTH })).json();
    const post = doc.paths['/flows'].post;
    expect(post.tags).toEqual(['flows']);
    expect(post.requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/FlowNode',
    });
    expect(post.responses['202'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/FlowTree',
    });
    expect(Object.keys(post.responses).sort()).toEqual(['202', '400', '401', '413', '415', '422', '503']);
    const node = doc.components.schemas.FlowNode;
    expect(node.properties.children.items).toEqual({ $ref: '#/components/schemas/FlowNode' });
    expect(Object.keys(node.properties.opts.properties)).toEqual(
      expect.arrayContaining(['failParentOnFailure', 'ignoreDependencyOnFailure']),
    );
    const status = doc.paths['/jobs/{id}'].get.responses['200'].content['application/json'].schema;
    expect(Object.keys(status.properties.children.properties).sort()).toEqual([
      'active',
      'completed',
      'delayed',
      'failed',
      'ignored',
      'total',
      'waiting',
    ]);
    await app.close();
  });
});

describe('the library: enqueueFlow and runJob', () => {
  it('enqueueFlow validates, registers both queues and stores the tree; runJob answers ctx.childResults()', async () => {
    const { prefix, redis, app } = await setup();
    await app.close();
    const jobs = await loadRegistry(HANDLERS);
    const queues = createQueueCache(redis, prefix);
    onTestFinished(() => queues.close());
    await expect(
      enqueueFlow(queues, jobs, {
        type: 'report',
        data: { title: 'x' },
        children: [{ type: 'resize', data: {} }],
      }),
    ).rejects.toMatchObject({ code: 'INVALID_PAYLOAD', details: { path: 'children[0]' } });
    expect(await redis.keys(`${prefix}:*`)).toEqual([]);
    const tree = await enqueueFlow(queues, jobs, {
      type: 'report',
      data: { title: 'lib' },
      children: [{ type: 'resize', data: { width: 5 } }],
    });
    expect((await redis.smembers(`${prefix}:kq:queues`)).sort()).toEqual(['images', 'reports']);
    const status = await readJobStatus(queues.get('reports'), redis, prefix, tree.id);
    expect(status).toMatchObject({ status: 'waiting', children: { total: 1, waiting: 1 } });

    const report = jobs.require('report');
    const child = tree.children?.[0]?.id as string;
    const run = await runJob(report, { title: 'lib' }, { childResults: { [child]: { width: 10 } } });
    expect(run.result).toMatchObject({ title: 'lib', children: { [child]: { width: 10 } }, failures: {} });
  });
});
