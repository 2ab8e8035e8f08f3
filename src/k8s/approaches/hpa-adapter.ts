/**
 * Approach 3d: kq's own external metrics server (`kq metrics-adapter`) behind the kube-apiserver
 * aggregator, and a plain HPA on `kq_queue_backlog` — no KEDA, no Prometheus. Only one server can own
 * `external.metrics.k8s.io` in a cluster, so this excludes KEDA and prometheus-adapter's external rules.
 *
 * TLS both ways: the aggregator verifies the adapter's serving cert (Secret `kq-metrics-adapter-tls`)
 * against the APIService `caBundle`; the adapter verifies the aggregator's front-proxy client cert against
 * the request-header CA (ConfigMap `kq-requestheader-ca`, copied from
 * kube-system/extension-apiserver-authentication). Both are created by the user (see the README).
 *
 * The adapter never calls the Kubernetes API (no TokenReview, no SubjectAccessReview: the aggregator
 * authenticated the caller, the adapter checks the front-proxy client cert and serves only read-only
 * numbers), so its pods mount no ServiceAccount token and get no RBAC; the one binding left lets the HPA
 * controller read external metrics. Its outage is cluster-wide (an unavailable APIService breaks API
 * discovery and namespace deletion), hence 2 replicas spread over nodes, a PodDisruptionBudget, a
 * readiness that does not depend on Redis (src/metrics/adapter/server.ts) and a preStop delay so the
 * aggregator stops sending to a terminating pod before it closes.
 */
import { readFileSync } from 'node:fs';
import { APIService } from 'kubernetes-models/apiregistration.k8s.io/v1/APIService';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Service } from 'kubernetes-models/v1/Service';
import { ConfigError } from '../../errors.js';
import {
  containerSecurityContext,
  httpProbe,
  labels,
  meta,
  PRESTOP_SECONDS,
  podSecurityContext,
  preStopSleep,
  type RenderContext,
  redisEnv,
  selector,
  workerNodeOptions,
} from '../common.js';
import { workerDeploymentObjects } from './deployment.js';
import { externalBacklogHpa } from './external-hpa.js';

export const ADAPTER_NAME = 'kq-metrics-adapter';
export const ADAPTER_TLS_SECRET = 'kq-metrics-adapter-tls';
export const REQUESTHEADER_CONFIGMAP = 'kq-requestheader-ca';
const SECURE_PORT = 6443;
const CERT_DIR = '/var/run/kq/serving-cert';
const CA_DIR = '/var/run/kq/requestheader';
const ADAPTER_MEMORY_LIMIT = '128Mi';
/** Heap sized from the container limit, as the API's: V8 sizes it from the node otherwise. */
export const ADAPTER_NODE_OPTIONS = workerNodeOptions(ADAPTER_MEMORY_LIMIT) ?? '';

function caBundle(path: string): string {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `Invalid --adapter-ca-bundle-file ${JSON.stringify(path)}: cannot read it (${(err as NodeJS.ErrnoException).code}); it must be a PEM CA certificate.`,
      { option: 'adapter-ca-bundle-file', value: path },
      { cause: err },
    );
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ConfigError(
      `Invalid --adapter-ca-bundle-file ${JSON.stringify(path)}: no PEM certificate in it (a CA certificate is public; never pass a key).`,
      { option: 'adapter-ca-bundle-file', value: path },
    );
  }
  return Buffer.from(pem).toString('base64');
}

function adapterDeployment(ctx: RenderContext): Deployment {
  const { o } = ctx;
  const m = meta(ctx, ADAPTER_NAME, 'metrics-adapter');
  return new Deployment({
    metadata: m,
    spec: {
      replicas: 2,
      selector: { matchLabels: selector(ADAPTER_NAME) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: m.labels },
        spec: {
          automountServiceAccountToken: false,
          // preStop, then up to 5 s for open requests (the adapter's close grace), then margin.
          terminationGracePeriodSeconds: PRESTOP_SECONDS + 5 + 15,
          securityContext: podSecurityContext(),
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: 'kubernetes.io/hostname',
              whenUnsatisfiable: 'ScheduleAnyway',
              labelSelector: { matchLabels: selector(ADAPTER_NAME) },
            },
          ],
          containers: [
            {
              name: 'metrics-adapter',
              image: o.image,
              imagePullPolicy: 'IfNotPresent',
              args: ['metrics-adapter'],
              env: [
                ...redisEnv(ctx),
                { name: 'KQ_PREFIX', value: o.prefix },
                { name: 'SECURE_PORT', value: String(SECURE_PORT) },
                { name: 'TLS_CERT_FILE', value: `${CERT_DIR}/tls.crt` },
                { name: 'TLS_PRIVATE_KEY_FILE', value: `${CERT_DIR}/tls.key` },
                { name: 'REQUESTHEADER_CLIENT_CA_FILE', value: `${CA_DIR}/requestheader-client-ca-file` },
                { name: 'REQUESTHEADER_ALLOWED_NAMES', value: o.requestheaderAllowedNames },
                { name: 'NODE_OPTIONS', value: ADAPTER_NODE_OPTIONS },
              ],
              ports: [{ name: 'https', containerPort: SECURE_PORT }],
              livenessProbe: httpProbe('/healthz', SECURE_PORT, 'HTTPS'),
              readinessProbe: httpProbe('/readyz', SECURE_PORT, 'HTTPS'),
              lifecycle: preStopSleep(),
              resources: {
                requests: { cpu: '50m', memory: '64Mi' },
                limits: { cpu: '500m', memory: ADAPTER_MEMORY_LIMIT },
              },
              securityContext: containerSecurityContext(),
              volumeMounts: [
                { name: 'serving-cert', mountPath: CERT_DIR, readOnly: true },
                { name: 'requestheader-ca', mountPath: CA_DIR, readOnly: true },
              ],
            },
          ],
          volumes: [
            { name: 'serving-cert', secret: { secretName: ADAPTER_TLS_SECRET } },
            { name: 'requestheader-ca', configMap: { name: REQUESTHEADER_CONFIGMAP } },
          ],
        },
      },
    },
  });
}

/** Only the HPA controller's right to read external metrics through the aggregator. */
function rbac() {
  const cluster = (name: string) => ({ name, labels: labels(ADAPTER_NAME, 'metrics-adapter') });
  return [
    new ClusterRole({
      metadata: cluster('kq-external-metrics-reader'),
      rules: [{ apiGroups: ['external.metrics.k8s.io'], resources: ['*'], verbs: ['get', 'list', 'watch'] }],
    }),
    new ClusterRoleBinding({
      metadata: cluster('kq-hpa-external-metrics'),
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: 'kq-external-metrics-reader',
      },
      subjects: [{ kind: 'ServiceAccount', name: 'horizontal-pod-autoscaler', namespace: 'kube-system' }],
    }),
  ];
}

export function hpaAdapterApproach(ctx: RenderContext) {
  const { o } = ctx;
  const tls = o.adapterInsecureSkipTlsVerify
    ? { insecureSkipTLSVerify: true }
    : o.adapterCaBundleFile
      ? { caBundle: caBundle(o.adapterCaBundleFile) }
      : {};
  return [
    ...workerDeploymentObjects(ctx),
    externalBacklogHpa(ctx),
    ...rbac(),
    adapterDeployment(ctx),
    new PodDisruptionBudget({
      metadata: meta(ctx, ADAPTER_NAME, 'metrics-adapter'),
      spec: { minAvailable: 1, selector: { matchLabels: selector(ADAPTER_NAME) } },
    }),
    new Service({
      metadata: meta(ctx, ADAPTER_NAME, 'metrics-adapter'),
      spec: { selector: selector(ADAPTER_NAME), ports: [{ name: 'https', port: 443, targetPort: 'https' }] },
    }),
    new APIService({
      metadata: { name: 'v1beta1.external.metrics.k8s.io', labels: labels(ADAPTER_NAME, 'metrics-adapter') },
      spec: {
        group: 'external.metrics.k8s.io',
        version: 'v1beta1',
        service: { name: ADAPTER_NAME, namespace: o.namespace, port: 443 },
        groupPriorityMinimum: 100,
        versionPriority: 100,
        // Without --adapter-ca-bundle-file the caBundle is patched in after apply (see the README); the
        // aggregator reports FailedDiscoveryCheck until then.
        ...tls,
      },
    }),
  ];
}
