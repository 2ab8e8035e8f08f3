/**
 * What keeps the serving pods (API, metrics adapter, Redis) up through rollouts, drains and load: a
 * preStop delay before SIGTERM inside a grace period that also covers the drain; the adapter without a
 * ServiceAccount token or RBAC it never uses, but with a PDB and a spread; Redis' memory limit far enough
 * above maxmemory for an AOF rewrite.
 */
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { describe, expect, it } from 'vitest';
import { API_DRAIN_SECONDS } from '../../src/k8s/api.js';
import { APPROACH_NAMES } from '../../src/k8s/render.js';
import { type K8sObject, render } from './manifest-fixture.js';

const find = (objects: K8sObject[], kind: string, name: string) => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
};
const podOf = (o: K8sObject) => {
  const spec = (o as unknown as IDeployment).spec?.template.spec;
  if (!spec) throw new Error(`no pod spec in ${o.kind} ${o.metadata.name}`);
  return spec;
};

describe('serving pods keep serving until their endpoints are gone, then drain within the grace period', () => {
  for (const name of APPROACH_NAMES) {
    it(`${name}: the API`, () => {
      const pod = podOf(find(render(name), 'Deployment', 'kq-api'));
      const preStop = pod.containers[0]?.lifecycle?.preStop?.sleep?.seconds ?? 0;
      expect(preStop).toBeGreaterThanOrEqual(5);
      // kubelet counts preStop inside the grace period: preStop + the API's bounded drain must fit.
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(preStop + API_DRAIN_SECONDS);
    });
  }

  it('hpa-adapter: the adapter', () => {
    const pod = podOf(find(render('hpa-adapter'), 'Deployment', 'kq-metrics-adapter'));
    const preStop = pod.containers[0]?.lifecycle?.preStop?.sleep?.seconds ?? 0;
    expect(preStop).toBeGreaterThanOrEqual(5);
    // The adapter's close() waits up to 5 s for open requests.
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(preStop + 5);
  });
});

describe('the metrics adapter: no API credentials, and it survives a node drain', () => {
  const objects = render('hpa-adapter');
  it('mounts no ServiceAccount token and binds no role it never uses (it makes no TokenReview)', () => {
    const pod = podOf(find(objects, 'Deployment', 'kq-metrics-adapter'));
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBeUndefined();
    // The only ServiceAccount and RoleBinding are the workers' own (pod-deletion-cost).
    const adapterRbac = objects.filter(
      (o) => (o.kind === 'ServiceAccount' || o.kind === 'RoleBinding') && o.metadata.name !== 'kq-worker',
    );
    expect(adapterRbac).toEqual([]);
    const bindings = objects.filter((o) => o.kind === 'ClusterRoleBinding');
    // The only binding left lets the HPA controller read external metrics.
    expect(bindings.map((b) => (b.roleRef as { name: string }).name)).toEqual(['kq-external-metrics-reader']);
    expect(JSON.stringify(objects)).not.toMatch(/auth-delegator|extension-apiserver-authentication-reader/);
  });

  it('2 replicas, spread over nodes, with a PodDisruptionBudget keeping one', () => {
    const deployment = find(objects, 'Deployment', 'kq-metrics-adapter') as unknown as IDeployment;
    expect(deployment.spec?.replicas).toBe(2);
    const spread = deployment.spec?.template.spec?.topologySpreadConstraints?.[0];
    expect(spread?.topologyKey).toBe('kubernetes.io/hostname');
    expect(spread?.labelSelector?.matchLabels).toEqual(deployment.spec?.selector.matchLabels);
    const pdb = find(objects, 'PodDisruptionBudget', 'kq-metrics-adapter');
    expect(pdb.spec).toEqual({ minAvailable: 1, selector: deployment.spec?.selector });
  });
});

describe('Redis memory', () => {
  for (const mb of ['200', '64', '1000']) {
    it(`the limit is at least 1.5x maxmemory ${mb}mb (AOF rewrite copy-on-write and fragmentation)`, () => {
      const sts = find(
        render('deployment', ['--redis-maxmemory-mb', mb]),
        'StatefulSet',
        'kq-redis',
      ) as unknown as IStatefulSet;
      const container = sts.spec?.template.spec?.containers[0];
      const script = container?.command?.join(' ') ?? '';
      const maxmemory = Number(/--maxmemory (\d+)mb/.exec(script)?.[1]);
      expect(maxmemory).toBe(Number(mb));
      const limit = String(container?.resources?.limits?.memory);
      expect(limit).toMatch(/^\d+Mi$/);
      // Mi vs mb: Redis' "mb" is MiB too (1024 * 1024).
      expect(Number.parseInt(limit, 10)).toBeGreaterThanOrEqual(1.5 * maxmemory);
    });
  }
});
