/**
 * The lab's ReplicaSet deletes pods in Kubernetes' documented order (`ActivePodsWithRanks.Less`,
 * pkg/controller/controller_utils.go): unscheduled, then Pending, then not-Ready pods first whatever their
 * pod-deletion-cost; among Ready pods the lower cost first, then Ready for less time, more restarts,
 * newer, the times in log2 bands when the controller has a reference time.
 */
import type { IContainer } from 'kubernetes-models/v1/Container';
import { describe, expect, it, vi } from 'vitest';
import {
  createReplicaSet,
  deletionCost,
  deletionOrder,
  POD_DELETION_COST,
  type RankedPod,
  recordScaleIn,
} from '../../src/lab/controllers/replica-set.js';
import { startLabKubeApi } from '../../src/lab/kube-api.js';
import type { LabPod, PodRunner } from '../../src/lab/pod-runner.js';
import { renderForLab } from '../../src/lab/run-approach.js';
import { LAB_NAMESPACE, workerEnv } from '../../src/lab/worker-env.js';
import { createLogger } from '../../src/log.js';
import { createPodDeletionCost } from '../../src/worker/pod-deletion-cost.js';
import { manifestOptions } from '../k8s/manifest-fixture.js';

const S = 1000;
const ranked = (name: string, over: Partial<RankedPod> & { cost?: string } = {}): RankedPod => ({
  name,
  phase: 'Running',
  ready: true,
  readyAt: 10 * S,
  restarts: 0,
  createdAt: 5 * S,
  annotations: over.cost === undefined ? {} : { [POD_DELETION_COST]: over.cost },
  ...over,
});
const order = (pods: RankedPod[], now = 0) =>
  [...pods].sort((a, b) => deletionOrder(a, b, now)).map((p) => p.name);

describe('ReplicaSet deletion order (ActivePodsWithRanks.Less)', () => {
  it('unscheduled, then Pending, then not-Ready go first whatever their cost', () => {
    const pods = [
      ranked('ready-idle', { cost: '0' }),
      ranked('not-ready-busy', { ready: false, readyAt: undefined, cost: '2000000000' }),
      ranked('pending-busy', { phase: 'Pending', ready: false, readyAt: undefined, cost: '2000000000' }),
      ranked('unscheduled-busy', { scheduled: false, phase: 'Pending', ready: false, cost: '2000000000' }),
      ranked('unknown', { phase: 'Unknown', ready: false, cost: '5' }),
    ];
    expect(order(pods)).toEqual([
      'unscheduled-busy',
      'pending-busy',
      'unknown',
      'not-ready-busy',
      'ready-idle',
    ]);
  });

  it('among Ready pods the lower cost goes first, before ready time, restarts and age', () => {
    const busyNewest = ranked('busy-newest', {
      cost: '100',
      readyAt: 90 * S,
      createdAt: 80 * S,
      restarts: 3,
    });
    const idleOldest = ranked('idle-oldest', { cost: '0', readyAt: 1 * S, createdAt: 0 });
    const negative = ranked('negative', { cost: '-5', readyAt: 1 * S, createdAt: 0 });
    expect(order([busyNewest, idleOldest, negative])).toEqual(['negative', 'idle-oldest', 'busy-newest']);
  });

  it('the annotation as the controller reads it: absent or not an int32 is 0', () => {
    expect(deletionCost(ranked('a'))).toBe(0);
    expect(deletionCost(ranked('a', { cost: '12' }))).toBe(12);
    expect(deletionCost(ranked('a', { cost: '-3' }))).toBe(-3);
    for (const bad of ['1.5', 'x', '', '2147483648', '-2147483649'])
      expect(deletionCost(ranked('a', { cost: bad }))).toBe(0);
    // A bad value ties with idle pods: the other rules decide.
    expect(order([ranked('old', { readyAt: 1 * S }), ranked('bad', { cost: 'x', readyAt: 2 * S })])).toEqual([
      'bad',
      'old',
    ]);
  });

  it('equal cost: Ready for less time first, then more restarts, then newer', () => {
    const readyLater = ranked('ready-later', { readyAt: 20 * S });
    const restarted = ranked('restarted', { restarts: 2 });
    const newer = ranked('newer', { createdAt: 7 * S });
    const base = ranked('base');
    expect(order([base, newer, restarted, readyLater])).toEqual([
      'ready-later',
      'restarted',
      'newer',
      'base',
    ]);
  });

  it('a pod created at workload time 0 is an old pod, not one with no creation time', () => {
    const first = ranked('first', { createdAt: 0 });
    const later = ranked('later', { createdAt: 1 });
    expect(order([first, later])).toEqual(['later', 'first']);
    expect(order([first, later], 3600 * S)).toEqual(['first', 'later']); // same log2 band: by name
  });

  it('with a reference time, times in the same log2 band tie and the name (UID) decides', () => {
    const now = 1000 * S;
    // 100 s and 101 s before now: the same log2 band of nanoseconds; 10 s is a different band.
    const a = ranked('a', { readyAt: now - 101 * S });
    const b = ranked('b', { readyAt: now - 100 * S });
    const c = ranked('c', { readyAt: now - 10 * S });
    expect(order([c, b, a], now)).toEqual(['c', 'a', 'b']);
    // Without one (Now zero), the exact times: the later ready time first.
    expect(order([c, b, a])).toEqual(['c', 'b', 'a']);
  });
});

describe('the lab ReplicaSet on scale-in', () => {
  function stubRunner(pods: LabPod[], running: Record<string, number>): PodRunner {
    return {
      pods,
      create: () => {
        throw new Error('no pod should be created');
      },
      terminate(pod, reason) {
        pod.terminating = true;
        pod.reason = reason;
      },
      kill: () => false,
      liveProcesses: () => 0,
      active: () => pods,
      now: () => 3600 * S,
      runningJobs: (p) => running[p.name] ?? 0,
      close: async () => undefined,
    };
  }
  const labPod = (name: string, cost: number, readyAt: number): LabPod => ({
    ...(ranked(name, { cost: String(cost), readyAt }) as Omit<LabPod, 'owner'>),
    owner: 'kq-worker',
    labels: {},
    terminating: false,
    annotations: { [POD_DELETION_COST]: String(cost) },
    pids: [],
    handBacks: 0,
    containers: [],
    spec: { containers: [] },
    phase: 'Running',
  });

  it('deletes the idle pods first, even the oldest, and records what the chosen pods were running', () => {
    // The busy pods became Ready last: without the cost, they would go first.
    const pods = [
      labPod('idle-old', 0, 1 * S),
      labPod('busy-1', 1_900_000_000, 50 * S),
      labPod('busy-2', 1_900_000_100, 60 * S),
    ];
    const rs = createReplicaSet(
      stubRunner(pods, { 'busy-1': 1, 'busy-2': 2 }),
      { containers: [] },
      'kq-worker',
      3,
    );
    rs.replicas = 1;
    rs.reconcile();
    // busy-1 (lower cost: busy since later) goes with the idle pod; busy-2 (busy longest) stays.
    expect(
      pods
        .filter((p) => p.terminating)
        .map((p) => p.name)
        .sort(),
    ).toEqual(['busy-1', 'idle-old']);
    expect(pods.find((p) => p.name === 'busy-1')?.scaleIn).toEqual({ runningJobs: 1, idlePodStayed: false });
    expect(pods.find((p) => p.name === 'idle-old')?.scaleIn).toEqual({
      runningJobs: 0,
      idlePodStayed: false,
    });
  });

  it('a busy pod chosen while an idle one stays is counted (what the blind order did)', () => {
    const pods = [labPod('idle', 0, 1 * S), labPod('busy', 0, 50 * S)];
    const doomed = [pods[1] as LabPod];
    recordScaleIn(doomed, pods, (p) => (p.name === 'busy' ? 1 : 0));
    expect(pods[1]?.scaleIn).toEqual({ runningJobs: 1, idlePodStayed: true });
  });
});

describe('lab workers patch their played pods through the module they use in a cluster', () => {
  it('a Deployment pod gets POD_NAME, POD_NAMESPACE and the lab kube API; --no-pod-deletion-cost none', () => {
    const container = (flags: string[]) => {
      const d = renderForLab('keda-scaledobject', manifestOptions(flags), 'lab').find(
        (o) => o.kind === 'Deployment' && o.metadata?.name === 'kq-worker',
      ) as unknown as { spec: { template: { spec: { containers: IContainer[] } } } };
      return d.spec.template.spec.containers[0] as IContainer;
    };
    const o = {
      redisUrl: 'redis://127.0.0.1:1',
      speed: 10,
      ledgerFile: '/tmp/x',
      kubeApiUrl: 'http://127.0.0.1:9',
    };
    const env = workerEnv(container([]), { ...o, pod: { name: 'kq-worker-3', labels: {} } });
    expect(env).toMatchObject({
      POD_NAME: 'kq-worker-3',
      POD_NAMESPACE: LAB_NAMESPACE,
      KUBE_API_URL: o.kubeApiUrl,
    });
    // The interval is workload time, like every other *_MS setting.
    expect(env.POD_DELETION_COST_INTERVAL_MS).toBe('1000');
    const off = workerEnv(container(['--no-pod-deletion-cost']), {
      ...o,
      pod: { name: 'kq-worker-3', labels: {} },
    });
    expect(off.KUBE_API_URL).toBeUndefined();
    expect(off.POD_NAME).toBeUndefined();
  });

  it('the lab kube API stores the cost on the played pod; an unknown pod is a 404 that turns the worker side off', async () => {
    const pods = [
      { name: 'kq-worker-0', annotations: {} as Record<string, string>, endedAt: undefined },
    ] as LabPod[];
    const api = await startLabKubeApi(() => pods);
    const log = createLogger({ component: 'test' }, 'silent');
    const common = { enabled: true, podNamespace: LAB_NAMESPACE, kubeApiUrl: api.url, intervalMs: 0, log };
    const known = createPodDeletionCost({ ...common, podName: 'kq-worker-0' });
    const unknown = createPodDeletionCost({ ...common, podName: 'kq-worker-9' });
    try {
      await vi.waitFor(() => expect(pods[0]?.annotations?.[POD_DELETION_COST]).toBe('0'), { timeout: 5000 });
      known.update(1);
      await vi.waitFor(() => expect(deletionCost(pods[0] as LabPod)).toBeGreaterThan(0), { timeout: 5000 });
      known.update(0);
      await vi.waitFor(() => expect(deletionCost(pods[0] as LabPod)).toBe(0), { timeout: 5000 });
      await vi.waitFor(() => expect(unknown.active).toBe(false), { timeout: 5000 });
      expect(api.patches).toBe(3);
    } finally {
      known.close();
      unknown.close();
      await api.close();
    }
  });
});
