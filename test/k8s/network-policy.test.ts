/**
 * The Redis NetworkPolicy admits exactly its clients: kq's API, workers and adapter, and, for the KEDA
 * approaches, the KEDA operator (its redis scaler connects itself) however KEDA was installed. The label
 * sets of the operator pod per install method are upstream facts (test/k8s/upstream/
 * keda-operator-pod-labels.json, with their sources); selectors are evaluated as the API server does
 * (matchLabels AND matchExpressions; a peer's namespaceSelector AND podSelector).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { INetworkPolicyPeer } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPeer';
import { describe, expect, it } from 'vitest';
import { type K8sObject, render } from './manifest-fixture.js';

type Labels = Record<string, string>;
type Selector = NonNullable<INetworkPolicyPeer['podSelector']>;

const upstream = JSON.parse(
  readFileSync(resolve(import.meta.dirname, 'upstream/keda-operator-pod-labels.json'), 'utf8'),
) as {
  installs: Record<string, { labels: Labels }>;
  otherKedaPods: Record<string, { labels: Labels }>;
};

function matches(selector: Selector | undefined, labels: Labels): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key] as string;
    const ok =
      e.operator === 'In'
        ? has && (e.values ?? []).includes(value)
        : e.operator === 'NotIn'
          ? !has || !(e.values ?? []).includes(value)
          : e.operator === 'Exists'
            ? has
            : !has;
    if (!ok) return false;
  }
  return true;
}

/** Whether a pod with `labels` in a namespace with `nsLabels` may connect (policy in namespace `policyNs`). */
function admits(policy: INetworkPolicy, policyNs: string, nsLabels: Labels, labels: Labels): boolean {
  return (policy.spec?.ingress ?? []).some((rule) =>
    (rule.from ?? []).some((peer) => {
      const nsOk = peer.namespaceSelector
        ? matches(peer.namespaceSelector, nsLabels)
        : nsLabels['kubernetes.io/metadata.name'] === policyNs;
      return nsOk && (peer.podSelector ? matches(peer.podSelector, labels) : true);
    }),
  );
}

const policyOf = (objects: K8sObject[]) => {
  const p = objects.find((o) => o.kind === 'NetworkPolicy');
  if (!p) throw new Error('no NetworkPolicy rendered');
  return p as unknown as INetworkPolicy;
};
const ns = (name: string) => ({ 'kubernetes.io/metadata.name': name });
const podLabels = (objects: K8sObject[], name: string) =>
  (
    (objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name)?.spec as { template: unknown })
      ?.template as { metadata: { labels: Labels } } | undefined
  )?.metadata.labels ?? {};

describe('the Redis NetworkPolicy', () => {
  for (const approach of ['keda-scaledobject', 'keda-scaledjob'] as const) {
    for (const [install, { labels }] of Object.entries(upstream.installs)) {
      it(`${approach}: admits the KEDA operator installed by ${install}`, () => {
        expect(admits(policyOf(render(approach)), 'kq', ns('keda'), labels)).toBe(true);
      });
    }
    it(`${approach}: a KEDA operator in another namespace, other KEDA pods and foreign pods stay out`, () => {
      const policy = policyOf(render(approach));
      const operator = Object.values(upstream.installs)[0]?.labels ?? {};
      expect(admits(policy, 'kq', ns('default'), operator)).toBe(false);
      for (const { labels } of Object.values(upstream.otherKedaPods))
        expect(admits(policy, 'kq', ns('keda'), labels)).toBe(false);
      expect(admits(policy, 'kq', ns('kq'), { app: 'something-else' })).toBe(false);
    });
    it(`${approach}: --keda-namespace moves the admitted namespace`, () => {
      const policy = policyOf(render(approach, ['--keda-namespace', 'autoscaling']));
      for (const { labels } of Object.values(upstream.installs))
        expect(admits(policy, 'kq', ns('autoscaling'), labels)).toBe(true);
    });
  }

  it("admits kq's own API and workers; without KEDA, not the KEDA operator", () => {
    const objects = render('deployment');
    const policy = policyOf(objects);
    for (const name of ['kq-api', 'kq-worker'])
      expect(admits(policy, 'kq', ns('kq'), podLabels(objects, name)), name).toBe(true);
    for (const { labels } of Object.values(upstream.installs))
      expect(admits(policy, 'kq', ns('keda'), labels)).toBe(false);
  });
});

describe('the Sentinel set’s NetworkPolicies (--redis-mode sentinel)', () => {
  const flags = ['--redis-mode', 'sentinel'];
  const policies = (objects: K8sObject[]) =>
    ['kq-redis', 'kq-redis-sentinel'].map((name) => {
      const p = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === name);
      if (!p) throw new Error(`no NetworkPolicy ${name}`);
      return p as unknown as INetworkPolicy;
    });
  const setPod = (name: string) => ({
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/component': 'redis',
    'app.kubernetes.io/part-of': 'kq',
  });

  for (const approach of ['keda-scaledobject', 'keda-scaledjob'] as const) {
    it(`${approach}: both admit the KEDA operator of every install method, and no other KEDA pod`, () => {
      for (const policy of policies(render(approach, flags))) {
        for (const { labels } of Object.values(upstream.installs))
          expect(admits(policy, 'kq', ns('keda'), labels)).toBe(true);
        for (const { labels } of Object.values(upstream.otherKedaPods))
          expect(admits(policy, 'kq', ns('keda'), labels)).toBe(false);
      }
    });
  }

  it("both admit kq's API and workers and the set's own pods; not KEDA without a KEDA approach", () => {
    const objects = render('deployment', flags);
    for (const policy of policies(objects)) {
      for (const name of ['kq-api', 'kq-worker'])
        expect(admits(policy, 'kq', ns('kq'), podLabels(objects, name)), name).toBe(true);
      for (const name of ['kq-redis', 'kq-redis-sentinel'])
        expect(admits(policy, 'kq', ns('kq'), setPod(name)), name).toBe(true);
      for (const { labels } of Object.values(upstream.installs))
        expect(admits(policy, 'kq', ns('keda'), labels)).toBe(false);
      expect(admits(policy, 'kq', ns('kq'), { app: 'something-else' })).toBe(false);
    }
  });
});
