/** Small pieces of the lab: podFailurePolicy, the ReplicaSet's deletion order, rollout counts, metrics. */
import { describe, expect, it } from 'vitest';
import { podFailureAction } from '../../src/lab/controllers/job.js';
import { deletionOrder, rollingCount } from '../../src/lab/controllers/replica-set.js';
import { percentile } from '../../src/lab/measure.js';
import type { LabPod } from '../../src/lab/pod-runner.js';
import { sampledMetric } from '../../src/lab/queue-metrics.js';

const pod = (over: Partial<LabPod>): LabPod => ({
  name: 'p',
  owner: 'rs',
  labels: {},
  createdAt: 0,
  phase: 'Running',
  ready: true,
  readyAt: 0,
  terminating: false,
  restarts: 0,
  pids: [],
  handBacks: 0,
  containers: [],
  spec: { containers: [] },
  ...over,
});

describe('podFailurePolicy', () => {
  const rules = [
    { action: 'Ignore' as const, onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
    { action: 'FailJob' as const, onExitCodes: { operator: 'In' as const, values: [2] } },
  ];
  it('first matching rule wins; no rule counts against backoffLimit', () => {
    expect(podFailureAction(rules, 137, true)).toBe('Ignore'); // drained: a disruption
    expect(podFailureAction(rules, 2, false)).toBe('FailJob'); // a config error: no retry helps
    expect(podFailureAction(rules, 1, false)).toBe('Count');
    expect(podFailureAction([], 137, true)).toBe('Count');
    expect(
      podFailureAction(
        [{ action: 'Ignore', onExitCodes: { operator: 'NotIn', values: [0, 1] } }],
        137,
        false,
      ),
    ).toBe('Ignore');
  });
});

describe('ReplicaSet scale-in order', () => {
  it('Pending first, then not Ready, then Ready for less time, more restarts, newest', () => {
    const pending = pod({ name: 'pending', phase: 'Pending', ready: false, readyAt: undefined });
    const notReady = pod({ name: 'not-ready', ready: false, readyAt: undefined });
    const young = pod({ name: 'young', readyAt: 50_000, createdAt: 40_000 });
    const old = pod({ name: 'old', readyAt: 10_000 });
    const sorted = [old, young, notReady, pending].sort(deletionOrder).map((p) => p.name);
    expect(sorted).toEqual(['pending', 'not-ready', 'young', 'old']);
    const flaky = pod({ name: 'flaky', restarts: 3 });
    const steady = pod({ name: 'steady' });
    expect([steady, flaky].sort(deletionOrder).map((p) => p.name)).toEqual(['flaky', 'steady']);
  });
  it('rollout counts: surge rounds up, unavailable down, defaults 25 %', () => {
    expect(rollingCount(1, 10, true)).toBe(1);
    expect(rollingCount('25%', 10, true)).toBe(3);
    expect(rollingCount('25%', 10, false)).toBe(2);
    expect(rollingCount(undefined, 2, true)).toBe(1);
    expect(rollingCount(undefined, 2, false)).toBe(0);
  });
});

describe('measurements', () => {
  it('percentiles by rank', () => {
    expect(percentile([], 95)).toBe(0);
    expect(percentile([5], 99)).toBe(5);
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 95)).toBe(95);
    expect(percentile(hundred, 99)).toBe(99);
  });
  it('a scraped metric holds the value of its last scrape', async () => {
    let value = 1;
    const m = sampledMetric(30_000, async () => value);
    expect(await m.read(0)).toBe(1);
    value = 7;
    expect(await m.read(29_999)).toBe(1);
    expect(await m.read(30_000)).toBe(7);
    const live = sampledMetric(0, async () => value);
    value = 9;
    expect(await live.read(5)).toBe(9);
  });
});
