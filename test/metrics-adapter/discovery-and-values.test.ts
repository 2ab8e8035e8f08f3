/**
 * The external metrics API over real HTTPS with the aggregator's client certificate: discovery shapes,
 * values equal to BullMQ's own counts while a real Worker holds jobs, "0" for empty queues, selectors,
 * and Status errors. Every body is checked against the Kubernetes types in kube-schemas.ts.
 */

import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { directoryKeys } from '../../src/queue/keys.js';
import { registerQueue } from '../../src/queue/queue-directory.js';
import { uniqueName, useTestQueue } from '../helpers/context.js';
import { waitFor } from '../helpers/wait.js';
import { startAdapter } from './adapter-fixture.js';
import { asAggregator, testPki } from './certs.js';
import { get, metricPath } from './https-client.js';
import { APIGroup, APIGroupList, APIResourceList, ExternalMetricValueList, Status } from './kube-schemas.js';

const pki = testPki();
const hpa = asAggregator(pki);
const METRICS = ['kq_queue_backlog', 'kq_queue_waiting', 'kq_queue_active'];

async function values(port: number, metric: string, selector?: string) {
  const r = await get(port, metricPath(metric, selector), hpa);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return ExternalMetricValueList.parse(r.body);
}

describe('discovery', () => {
  it('serves APIGroupList, APIGroup and an APIResourceList naming the three metrics', async () => {
    const { port } = await startAdapter(inject('redisUrl'));
    const groups = await get(port, '/apis', hpa);
    expect(groups.status).toBe(200);
    expect(groups.contentType).toMatch(/^application\/json/);
    const list = APIGroupList.parse(groups.body);
    const group = list.groups.find((g) => g.name === 'external.metrics.k8s.io');
    expect(group?.versions).toContainEqual({
      groupVersion: 'external.metrics.k8s.io/v1beta1',
      version: 'v1beta1',
    });

    const g = await get(port, '/apis/external.metrics.k8s.io', hpa);
    expect(APIGroup.parse(g.body).preferredVersion?.version).toBe('v1beta1');

    const r = await get(port, '/apis/external.metrics.k8s.io/v1beta1', hpa);
    expect(r.status).toBe(200);
    const resources = APIResourceList.parse(r.body);
    expect(resources.groupVersion).toBe('external.metrics.k8s.io/v1beta1');
    expect(resources.resources.map((x) => x.name).sort()).toEqual([...METRICS].sort());
    for (const res of resources.resources) {
      expect(res).toMatchObject({ namespaced: true, kind: 'ExternalMetricValueList', verbs: ['get'] });
    }
  });
});

describe('metric values', () => {
  it('equal the queue’s real counts while a Worker holds jobs, and drop to 0 once they are done', async () => {
    const t = useTestQueue();
    const { port } = await startAdapter(t.redisUrl);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    await t.bull.add('work', { n: 1 });
    await t.bull.add('work', { n: 2 });
    await t.bull.add('work', { n: 3 });
    await t.bull.add('work', { n: 4 }, { priority: 5 });
    await t.bull.add('work', { n: 5 }, { delay: 3_600_000 });
    const connection = new Redis(t.redisUrl, { maxRetriesPerRequest: null });
    const worker = new Worker(t.queue, () => gate, { connection, prefix: t.prefix, concurrency: 2 });
    onTestFinished(async () => {
      release();
      await worker.close();
      connection.disconnect();
    });
    await waitFor('two active jobs', async () => (await t.bull.getActiveCount()) === 2);

    // BullMQ's own counting, not the adapter's: wait + prioritized + active.
    const c = await t.bull.getJobCounts('wait', 'prioritized', 'active', 'delayed');
    const expected = {
      kq_queue_backlog: (c.wait ?? 0) + (c.prioritized ?? 0) + (c.active ?? 0),
      kq_queue_waiting: (c.wait ?? 0) + (c.prioritized ?? 0),
      kq_queue_active: c.active ?? 0,
    };
    // The scenario itself: 4 runnable jobs, 2 held by the worker, the delayed one not counted.
    expect(expected).toEqual({ kq_queue_backlog: 4, kq_queue_waiting: 2, kq_queue_active: 2 });
    for (const metric of METRICS) {
      const list = await values(port, metric, `queue=${t.queue}`);
      expect(list.items).toHaveLength(1);
      expect(list.items[0]).toMatchObject({
        metricName: metric,
        metricLabels: { queue: t.queue },
        value: String(expected[metric as keyof typeof expected]),
      });
      const age = Date.now() - Date.parse(list.items[0]?.timestamp ?? '');
      expect(age).toBeLessThan(10_000);
    }

    release();
    await waitFor('4 completed jobs', async () => (await t.bull.getCompletedCount()) === 4);
    await waitFor(
      'backlog 0 from the adapter',
      async () => (await values(port, 'kq_queue_backlog', `queue=${t.queue}`)).items[0]?.value === '0',
      { timeoutMs: 5000 },
    );
  });

  it('answers one "0" item for an empty or never-used queue, on every metric', async () => {
    const { port } = await startAdapter(inject('redisUrl'));
    const name = uniqueName('never-used');
    for (const metric of METRICS) {
      const list = await values(port, metric, `queue=${name}`);
      expect(list.items).toEqual([
        expect.objectContaining({ metricName: metric, metricLabels: { queue: name }, value: '0' }),
      ]);
    }
  });

  it('without a queue selector lists every known queue; with none known still one "0" item', async () => {
    const redisUrl = inject('redisUrl');
    const prefix = uniqueName('pfx');
    const { port } = await startAdapter(redisUrl, { prefix });
    const empty = await values(port, 'kq_queue_backlog');
    expect(empty.items).toHaveLength(1);
    expect(empty.items[0]).toMatchObject({ value: '0', metricLabels: {} });

    const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const a = new Queue('alpha', { connection, prefix });
    const b = new Queue('beta', { connection, prefix });
    onTestFinished(async () => {
      await a.obliterate({ force: true });
      await b.obliterate({ force: true });
      await a.close();
      await b.close();
      connection.disconnect();
    });
    await a.addBulk([
      { name: 'x', data: {} },
      { name: 'x', data: {} },
    ]);
    await b.add('x', {});
    // Queues made outside kq are listed once registered (kq's workers and API register their own), never
    // found by scanning the keyspace.
    expect((await values(port, 'kq_queue_backlog')).items).toHaveLength(1);
    await registerQueue(connection, prefix, 'alpha');
    await registerQueue(connection, prefix, 'beta');
    onTestFinished(() =>
      connection.del(directoryKeys(prefix).queues).then(
        () => undefined,
        () => undefined,
      ),
    );
    const byQueue = async (selector?: string) =>
      Object.fromEntries(
        (await values(port, 'kq_queue_backlog', selector)).items.map((i) => [i.metricLabels.queue, i.value]),
      );
    await waitFor(
      'both queues listed',
      async () => {
        const all = await byQueue();
        return all.alpha === '2' && all.beta === '1' && Object.keys(all).length === 2;
      },
      { timeoutMs: 5000 },
    );
    expect(await byQueue('queue in (alpha, beta, gamma)')).toEqual({ alpha: '2', beta: '1', gamma: '0' });
    expect(await byQueue('queue notin (alpha)')).toEqual({ beta: '1' });
    expect(await byQueue('queue!=beta')).toEqual({ alpha: '2' });
    expect(await byQueue('queue==beta')).toEqual({ beta: '1' });
    expect(await byQueue('queue')).toEqual({ alpha: '2', beta: '1' });
    // Nothing selected: one placeholder "0", never an empty list.
    const none = await values(port, 'kq_queue_backlog', 'queue=alpha,queue=beta');
    expect(none.items.map((i) => i.value)).toEqual(['0']);
  });
});

describe('errors are Kubernetes Status objects', () => {
  it('404 for an unknown metric or path, 400 for a malformed selector or namespace, 405 for writes', async () => {
    const { port } = await startAdapter(inject('redisUrl'));
    const expectStatus = async (path: string, code: number, reason: string, mentions: string) => {
      const r = await get(port, path, hpa);
      expect(r.status, path).toBe(code);
      const s = Status.parse(r.body);
      expect(s).toMatchObject({ status: 'Failure', code, reason });
      expect(s.message).toContain(mentions);
    };
    await expectStatus(metricPath('kq_queue_size', 'queue=jobs'), 404, 'NotFound', 'kq_queue_size');
    await expectStatus('/apis/custom.metrics.k8s.io/v1beta1', 404, 'NotFound', 'custom.metrics');
    for (const bad of [
      'queue=',
      'queue in (a',
      'queue in ()',
      'env=prod',
      'queue>3',
      'queue=a,',
      'queue=a b',
      'queue=%%',
    ]) {
      await expectStatus(metricPath('kq_queue_backlog', bad), 400, 'BadRequest', 'labelSelector');
    }
    await expectStatus(
      metricPath('kq_queue_backlog', 'queue=a', 'Not_A_Namespace'),
      400,
      'BadRequest',
      'namespace',
    );
    const post = await get(port, metricPath('kq_queue_backlog', 'queue=a'), {
      ...hpa,
      method: 'POST',
    });
    expect(post.status).toBe(405);
    expect(Status.parse(post.body)).toMatchObject({ code: 405, reason: 'MethodNotAllowed' });
  });
});
