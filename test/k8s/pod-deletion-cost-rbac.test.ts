/**
 * Every approach that scales a Deployment renders what its workers need to patch their own
 * pod-deletion-cost (a ServiceAccount with a mounted token, a namespaced Role with `patch` on `pods`, a
 * RoleBinding, POD_NAME / POD_NAMESPACE from the Downward API), validated against the Kubernetes schemas;
 * `--no-pod-deletion-cost` leaves all of it out; Job approaches never get it.
 */
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { describe, expect, it } from 'vitest';
import { parseOptions } from '../../src/config.js';
import { APPROACH_NAMES, type ApproachName, renderObjects } from '../../src/k8s/render.js';
import { workerOptionSpecs } from '../../src/worker/options.js';
import {
  handlersOptions,
  type K8sObject,
  podSpecOf,
  render,
  TWO_QUEUE_HANDLERS,
} from './manifest-fixture.js';

const SCALES_A_DEPLOYMENT: ApproachName[] = [
  'deployment',
  'keda-scaledobject',
  'keda-external',
  'hpa-prometheus',
  'hpa-adapter',
];
const find = (objects: K8sObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);
const rbacOf = (objects: K8sObject[]) =>
  objects.filter(
    (o) =>
      o.metadata.name.startsWith('kq-worker') && ['ServiceAccount', 'Role', 'RoleBinding'].includes(o.kind),
  );

function expectWorkerRbac(objects: K8sObject[], name: string, namespace: string) {
  const sa = find(objects, 'ServiceAccount', name);
  const role = find(objects, 'Role', name);
  const binding = find(objects, 'RoleBinding', name);
  expect(sa && role && binding, `${name}: ServiceAccount, Role and RoleBinding`).toBeTruthy();
  new ServiceAccount(sa as never).validate();
  new Role(role as never).validate();
  new RoleBinding(binding as never).validate();
  // Exactly patch on pods, in the namespace: nothing cluster-wide, no get/list/watch, no other resource.
  expect(role?.rules).toEqual([{ apiGroups: [''], resources: ['pods'], verbs: ['patch'] }]);
  expect(role?.metadata.namespace).toBe(namespace);
  expect(binding?.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name });
  expect(binding?.subjects).toEqual([{ kind: 'ServiceAccount', name, namespace }]);
  // The RBAC comes before the Deployment in apply order.
  const at = (o: K8sObject | undefined) => objects.indexOf(o as K8sObject);
  expect(at(binding)).toBeLessThan(at(find(objects, 'Deployment', name)));

  const pod = podSpecOf(find(objects, 'Deployment', name) as K8sObject);
  expect(pod?.serviceAccountName).toBe(name);
  expect(pod?.automountServiceAccountToken).toBe(true);
  const worker = pod?.containers.find((c) => c.name === 'worker');
  const env = Object.fromEntries((worker?.env ?? []).map((e) => [e.name, e]));
  expect(env.POD_NAME?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
  expect(env.POD_NAMESPACE?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.namespace');
  // The worker reads them as options, and keeps the annotation by default.
  const values = parseOptions(workerOptionSpecs, [], {
    POD_NAME: 'kq-worker-abc',
    POD_NAMESPACE: namespace,
  }).values;
  expect(values.podDeletionCost).toBe(true);
  expect(values.podName).toBe('kq-worker-abc');
}

describe('pod-deletion-cost RBAC in the rendered approaches', () => {
  it.each(SCALES_A_DEPLOYMENT)(
    '%s: ServiceAccount, Role (patch pods), RoleBinding, Downward API env',
    (name) => {
      expectWorkerRbac(render(name), 'kq-worker', 'kq');
      expectWorkerRbac(render(name, ['--namespace', 'jobs-prod']), 'kq-worker', 'jobs-prod');
    },
  );

  it.each(SCALES_A_DEPLOYMENT)('%s --no-pod-deletion-cost: no RBAC, no token, no POD_NAME', (name) => {
    const objects = render(name, ['--no-pod-deletion-cost']);
    expect(rbacOf(objects)).toEqual([]);
    const pod = podSpecOf(find(objects, 'Deployment', 'kq-worker') as K8sObject);
    expect(pod?.automountServiceAccountToken).toBe(false);
    expect(pod?.serviceAccountName).toBeUndefined();
    expect(pod?.containers[0]?.env?.map((e) => e.name)).not.toContain('POD_NAME');
  });

  it('Job approaches (their pods are never scaled in by a ReplicaSet) get none of it', () => {
    const jobApproaches = APPROACH_NAMES.filter((n) => !SCALES_A_DEPLOYMENT.includes(n));
    expect(jobApproaches.sort()).toEqual(['cronjob', 'keda-external-job', 'keda-scaledjob']);
    for (const name of jobApproaches) expect(rbacOf(render(name)), name).toEqual([]);
  });

  it('one worker Deployment per queue: each has its own ServiceAccount, Role and RoleBinding', async () => {
    const o = await handlersOptions(['--handlers', TWO_QUEUE_HANDLERS]);
    const objects = renderObjects('keda-scaledobject', o).map((m) => m.toJSON() as K8sObject);
    for (const q of ['billing', 'emails']) expectWorkerRbac(objects, `kq-worker-${q}`, 'kq');
  });

  it('no rendered NetworkPolicy restricts egress, so the workers reach the API server', () => {
    for (const name of APPROACH_NAMES) {
      for (const flags of [[], ['--redis-mode', 'sentinel']]) {
        const policies = render(name, flags).filter((o) => o.kind === 'NetworkPolicy');
        for (const p of policies) {
          const spec = p.spec as { policyTypes?: string[]; egress?: unknown };
          expect(spec.policyTypes ?? ['Ingress'], `${name} ${p.metadata.name}`).not.toContain('Egress');
          expect(spec.egress, `${name} ${p.metadata.name}`).toBeUndefined();
        }
      }
    }
  });
});
