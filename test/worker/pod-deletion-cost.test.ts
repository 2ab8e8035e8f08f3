import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/log.js';
import { busyCost, createPodDeletionCost } from '../../src/worker/pod-deletion-cost.js';
import { useTestQueue } from '../helpers/context.js';
import { type FakeKubeApi, startFakeKubeApi } from '../helpers/fake-kube-api.js';
import { waitFor } from '../helpers/wait.js';
import { createCa, issueCert } from '../metrics-adapter/certs.js';
import { cleanupRuns, spawnWorker } from './helpers.js';

const POD = { POD_NAME: 'kq-worker-7d9f-abcde', POD_NAMESPACE: 'kq' };
const silent = createLogger({ component: 'test' }, 'silent');

let api: FakeKubeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
  vi.useRealTimers();
});

describe('worker: pod-deletion-cost, a real worker process against a fake API server', () => {
  it('idle (0) at start, up when a job starts, back to 0 when the last one ends', async () => {
    api = await startFakeKubeApi();
    const t = useTestQueue();
    const w = spawnWorker(t, { ...POD, KUBE_API_URL: api.url, POD_DELETION_COST_INTERVAL_MS: '0' });
    await waitFor('the idle PATCH at start', () => api?.patches.length === 1);
    const job = await t.bull.add('work', { ms: 1500 });
    const before = Date.now();
    await waitFor('the busy PATCH', () => api?.patches.length === 2);
    await waitFor('the idle PATCH after the job', () => api?.patches.length === 3, { timeoutMs: 15_000 });
    // The idle PATCH goes out when the handler ends; BullMQ stores the completion right after it.
    await waitFor(
      'the job completed',
      async () => (await t.bull.getJobState(job.id as string)) === 'completed',
    );
    const [start, busy, idle] = api.patches;
    for (const p of api.patches) {
      expect(p.method).toBe('PATCH');
      expect(p.path).toBe('/api/v1/namespaces/kq/pods/kq-worker-7d9f-abcde');
      expect(p.contentType).toBe('application/merge-patch+json');
    }
    expect(start?.cost).toBe(0);
    expect(idle?.cost).toBe(0);
    // The busy cost encodes when the pod turned busy (to the second): at most busyCost(before), and not
    // later than now.
    expect(busy?.cost).toBeGreaterThan(0);
    expect(busy?.cost).toBeLessThanOrEqual(busyCost(before - 1000));
    expect(busy?.cost).toBeGreaterThanOrEqual(busyCost(Date.now()));
    w.kill('SIGTERM');
    expect((await w.waitForExit()).code).toBe(0);
    await cleanupRuns(t.redis, t.queue);
  });

  it('a 403 turns it off, says so once, and the worker runs every job as before', async () => {
    api = await startFakeKubeApi();
    api.answer = 403;
    const t = useTestQueue();
    const w = spawnWorker(t, { ...POD, KUBE_API_URL: api.url, POD_DELETION_COST_INTERVAL_MS: '0' });
    const jobs = await t.bull.addBulk([1, 2, 3].map(() => ({ name: 'work', data: { ms: 20 } })));
    await waitFor('three jobs completed', async () => (await t.bull.getCompletedCount()) === 3, {
      timeoutMs: 15_000,
    });
    for (const j of jobs) expect(await t.bull.getJobState(j.id as string)).toBe('completed');
    const off = w.logs.filter((l) => l.event === 'pod-deletion-cost.off');
    expect(off).toHaveLength(1);
    expect(String(off[0]?.reason)).toMatch(/no permission.*HTTP 403/);
    // Only the first PATCH was tried: after a 403 the worker does not keep asking.
    expect(api.patches).toHaveLength(1);
    w.kill('SIGTERM');
    expect((await w.waitForExit()).code).toBe(0);
    await cleanupRuns(t.redis, t.queue);
  });

  it('an unreachable API server is logged once and never stops the worker; no cluster at all: off, once', async () => {
    api = await startFakeKubeApi();
    const deadUrl = api.url;
    await api.close();
    api = undefined;
    const t = useTestQueue();
    const unreachable = spawnWorker(t, { ...POD, KUBE_API_URL: deadUrl, POD_DELETION_COST_INTERVAL_MS: '0' });
    const local = spawnWorker(t, { POD_DELETION_COST_INTERVAL_MS: '0' }, 'local worker');
    await t.bull.addBulk([1, 2, 3, 4].map(() => ({ name: 'work', data: { ms: 300 } })));
    await waitFor('four jobs completed', async () => (await t.bull.getCompletedCount()) === 4, {
      timeoutMs: 15_000,
    });
    const events = (w: typeof local, e: string) => w.logs.filter((l) => l.event === e);
    expect(events(unreachable, 'pod-deletion-cost.unreachable')).toHaveLength(1);
    expect(events(unreachable, 'pod-deletion-cost.off')).toHaveLength(0);
    expect(events(local, 'pod-deletion-cost.off')).toHaveLength(1);
    expect(String(events(local, 'pod-deletion-cost.off')[0]?.reason)).toMatch(/not in a Kubernetes pod/);
    for (const w of [unreachable, local]) {
      w.kill('SIGTERM');
      expect((await w.waitForExit()).code).toBe(0);
    }
    await cleanupRuns(t.redis, t.queue);
  });
});

describe('pod-deletion-cost: rate limit and the in-cluster service account', () => {
  it('busy is sent at once; idle at most once per interval, and not at all when busy again by then', async () => {
    api = await startFakeKubeApi();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const cost = createPodDeletionCost({
      enabled: true,
      podName: 'p',
      podNamespace: 'kq',
      kubeApiUrl: api.url,
      intervalMs: 10_000,
      log: silent,
    });
    const costs = () => api?.patches.map((p) => (p.cost > 0 ? 'busy' : String(p.cost)));
    await vi.waitFor(() => expect(costs()).toEqual(['0']), { timeout: 5000 });
    // A job starts: sent at once, though the idle PATCH at start was just sent.
    cost.update(1);
    await vi.waitFor(() => expect(costs()).toEqual(['0', 'busy']), { timeout: 5000 });
    // Short jobs: idle, busy, idle inside the interval; a second job changes nothing.
    for (const n of [2, 0, 1, 0]) cost.update(n);
    await vi.advanceTimersByTimeAsync(9_000);
    expect(costs()).toEqual(['0', 'busy']);
    // At the interval's end the state then (idle) is sent, once.
    await vi.advanceTimersByTimeAsync(1_000);
    await vi.waitFor(() => expect(costs()).toEqual(['0', 'busy', '0']), { timeout: 5000 });
    // Busy again at once; an idle spell that ends inside the interval is never sent.
    cost.update(1);
    await vi.waitFor(() => expect(costs()).toEqual(['0', 'busy', '0', 'busy']), { timeout: 5000 });
    cost.update(0);
    await vi.advanceTimersByTimeAsync(5_000);
    cost.update(1);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(costs()).toEqual(['0', 'busy', '0', 'busy']);
    cost.close();
  });

  it('in a cluster: the service account token is sent as a bearer token, the namespace read from its file', async () => {
    api = await startFakeKubeApi();
    const dir = mkdtempSync(join(tmpdir(), 'kq-sa-'));
    try {
      writeFileSync(join(dir, 'token'), 'sa-token-123\n');
      writeFileSync(join(dir, 'namespace'), 'team-a');
      const cost = createPodDeletionCost({
        enabled: true,
        podName: 'p-1',
        podNamespace: '',
        kubeApiUrl: api.url,
        intervalMs: 0,
        log: silent,
        serviceAccountDir: dir,
      });
      await vi.waitFor(() => expect(api?.patches).toHaveLength(1), { timeout: 5000 });
      expect(api.patches[0]?.authorization).toBe('Bearer sa-token-123');
      expect(api.patches[0]?.path).toBe('/api/v1/namespaces/team-a/pods/p-1');
      cost.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('in a cluster over TLS: the API server is checked against the service account CA; another CA is refused', async () => {
    const ca = createCa('kube-ca');
    api = await startFakeKubeApi(issueCert(ca, 'kube-apiserver', 'server'));
    const port = new URL(api.url).port;
    const dir = mkdtempSync(join(tmpdir(), 'kq-sa-'));
    const otherDir = mkdtempSync(join(tmpdir(), 'kq-sa-'));
    try {
      writeFileSync(join(dir, 'token'), 'tok');
      writeFileSync(join(dir, 'ca.crt'), ca.cert);
      writeFileSync(join(otherDir, 'token'), 'tok');
      writeFileSync(join(otherDir, 'ca.crt'), createCa('someone-else').cert);
      const env = { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port };
      const common = {
        enabled: true,
        podName: 'p-2',
        podNamespace: 'kq',
        kubeApiUrl: '',
        intervalMs: 0,
        env,
      };
      const lines: string[] = [];
      const log = createLogger({ component: 'test' }, 'info', { write: (l: string) => lines.push(l) });
      const good = createPodDeletionCost({ ...common, log: silent, serviceAccountDir: dir });
      const bad = createPodDeletionCost({ ...common, log, serviceAccountDir: otherDir });
      await vi.waitFor(() => expect(api?.patches).toHaveLength(1), { timeout: 5000 });
      expect(api.patches[0]?.authorization).toBe('Bearer tok');
      await vi.waitFor(() => expect(lines.join('')).toContain('pod-deletion-cost.unreachable'), {
        timeout: 5000,
      });
      expect(api.patches).toHaveLength(1);
      good.close();
      bad.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(otherDir, { recursive: true, force: true });
    }
  });

  it('busy costs: positive int32, higher for a pod busy since earlier', () => {
    const a = busyCost(Date.parse('2026-12-06T10:00:00Z'));
    const b = busyCost(Date.parse('2026-12-06T10:00:05Z'));
    expect(a).toBeGreaterThan(b);
    expect(b).toBeGreaterThan(0);
    expect(a).toBeLessThanOrEqual(2 ** 31 - 1);
  });
});
