/**
 * `kq lab compare` of the approaches that scale a worker Deployment (keda-external included), on the
 * smoke workload with pod kills, at speed 200 (their tails are long: KEDA's 300 s cooldown, the HPA's 600 s scale-down window).
 */
import { describe, expect, it } from 'vitest';
import { expectCommonInvariants, expectNothingLost, labCompare } from './lab-run.js';

const APPROACHES = ['deployment', 'keda-scaledobject', 'keda-external', 'hpa-prometheus', 'hpa-adapter'];

describe('kq lab compare: Deployment approaches (smoke, pod kills)', () => {
  it('completes every job with every approach, leaves no worker, and each controller behaves as rendered', async () => {
    const { report } = await labCompare([
      ...APPROACHES,
      ...['--workload', 'smoke', '--speed', '200', '--kill-rate', '3', '--max-replicas', '3'],
    ]);
    expect(Object.keys(report.approaches)).toEqual(APPROACHES);
    for (const name of APPROACHES) {
      const a = report.approaches[name];
      if (!a) throw new Error(`no ${name} in the report`);
      expectCommonInvariants(name, a, report.settings.jobs);
      expectNothingLost(name, a);
      // Workers keep their pods' pod-deletion-cost through the lab's kube API (the in-cluster code path);
      // a pod stopped before its worker started has none.
      expect(a.podsWithDeletionCost, name).toBeGreaterThan(0);
      expect(a.podsWithDeletionCost, name).toBeLessThanOrEqual(a.podsStarted);
      expect(a.idleWhenInterrupted, name).toBeLessThanOrEqual(a.interruptedByScaleIn);
    }
    const dep = report.approaches.deployment;
    // Two replicas, never replaced: a killed container restarts in its pod.
    expect(dep?.podsStarted).toBe(2);
    expect(dep?.containerRestarts).toBeGreaterThan(0);
    expect(dep?.podsAtEnd).toBe(2);

    // KEDA at minReplicaCount 0: down to zero once the cooldown has passed, and no pod left.
    for (const name of ['keda-scaledobject', 'keda-external']) {
      const so = report.approaches[name];
      expect(so?.controller.scaledToZero, name).toBeGreaterThanOrEqual(1);
      expect(so?.podsAtEnd, name).toBe(0);
      expect(so?.series.pods.at(-1), name).toBe(0);
      expect(so?.controller.maxReplicasSeen, name).toBeLessThanOrEqual(3);
    }

    for (const name of ['hpa-prometheus', 'hpa-adapter']) {
      const h = report.approaches[name];
      // The HPA never goes below minReplicas 1 nor above --max-replicas.
      expect(Math.min(...(h?.series.pods ?? [])), name).toBeGreaterThanOrEqual(1);
      expect(h?.controller.maxReplicasSeen, name).toBeLessThanOrEqual(3);
    }
  }, 180_000);

  it('a node-drain SIGTERM wave: drained pods get their grace period, the ReplicaSet replaces them', async () => {
    const { report } = await labCompare([
      ...['deployment', '--workload', 'smoke', '--speed', '100', '--drain-every', '15', '--drain-pods', '1'],
    ]);
    const a = report.approaches.deployment;
    if (!a) throw new Error('no deployment in the report');
    const drains = a.faults.filter((f) => f.kind === 'drain').length;
    expect(drains).toBeGreaterThan(0);
    expect(a.podsStarted).toBe(2 + drains);
    expect(a.podsAtEnd).toBe(2);
    expect(a.exits['0']).toBe(drains); // SIGTERM: the worker finished or handed back its job, exit 0
    expectNothingLost('deployment', a);
    expect(a.processesLeft).toBe(0);
  }, 120_000);

  it('a rolling restart: maxSurge 1, maxUnavailable 0, every old pod replaced once a new one is Ready', async () => {
    const { report } = await labCompare([
      ...['deployment', '--workload', 'smoke', '--speed', '100', '--rollout-at', '10'],
    ]);
    const a = report.approaches.deployment;
    if (!a) throw new Error('no deployment in the report');
    expect(a.faults.filter((f) => f.kind === 'rollout')).toHaveLength(1);
    expect(a.controller.rolledOut).toBe(2);
    expect(a.podsStarted).toBe(4);
    expect(a.podsAtEnd).toBe(2);
    expect(a.exits['0']).toBe(2); // the old pods drained on SIGTERM
    // Never fewer Ready pods than replicas while rolling (maxUnavailable 0).
    expect(Math.min(...a.series.readyPods)).toBeGreaterThanOrEqual(2);
    expectNothingLost('deployment', a);
  }, 120_000);
});
