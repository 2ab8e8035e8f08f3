/**
 * What a worker Deployment's pods need to keep their own `controller.kubernetes.io/pod-deletion-cost`
 * (src/worker/pod-deletion-cost.ts): their name and namespace from the Downward API, a ServiceAccount
 * whose token is mounted, and a namespaced Role granting `patch` on `pods`, bound to it. Rendered for
 * every approach that scales a Deployment; `--no-pod-deletion-cost` leaves all of it out (the pods then
 * mount no token, as before).
 */
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { meta, type RenderContext, workerName } from './common.js';

/** `POD_NAME` and `POD_NAMESPACE` from the Downward API. */
export function podIdentityEnv(): IEnvVar[] {
  return [
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
  ];
}

/** The ServiceAccount, Role and RoleBinding of the worker Deployment; none with `--no-pod-deletion-cost`. */
export function podDeletionCostRbac(ctx: RenderContext) {
  if (!ctx.o.podDeletionCost) return [];
  const name = workerName(ctx);
  const m = meta(ctx, name, 'worker');
  return [
    new ServiceAccount({ metadata: m, automountServiceAccountToken: false }),
    new Role({
      metadata: m,
      // Merge-patching a pod needs `patch` only (no get); pod names are not known in advance, so no
      // resourceNames: the grant covers every pod of the namespace (docs/deploy.md).
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['patch'] }],
    }),
    new RoleBinding({
      metadata: m,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace: ctx.o.namespace }],
    }),
  ];
}

/** Gives the Deployment's pods the ServiceAccount, its token and their identity env. */
export function withPodDeletionCost(ctx: RenderContext, d: IDeployment): void {
  const spec = d.spec?.template.spec;
  if (!ctx.o.podDeletionCost || !spec) return;
  spec.serviceAccountName = workerName(ctx);
  spec.automountServiceAccountToken = true;
  for (const c of spec.containers) if (c.name === 'worker') c.env = [...(c.env ?? []), ...podIdentityEnv()];
}
