/**
 * `kq keda-scaler` in the cluster, shared by the `keda-external` and `keda-external-job` approaches: its
 * Deployment (2 replicas, TLS with client certificates), Service, PodDisruptionBudget, NetworkPolicy, the
 * TriggerAuthentication that hands KEDA its client certificate, and the trigger itself.
 *
 * TLS wiring (both Secrets created by the user, see deploy/keda-external/README.md):
 * - `kq-keda-scaler-tls` (tls.crt, tls.key, ca.crt), mounted into the scaler: its serving pair for
 *   `kq-keda-scaler.<namespace>.svc`, and the CA that signs KEDA's client certificate;
 * - `kq-keda-scaler-client-tls` (tls.crt, tls.key, ca.crt), read by KEDA through the TriggerAuthentication:
 *   its client pair, and the CA that signs the scaler's certificate.
 * KEDA no longer reads Redis itself: only the scaler does, so the Redis NetworkPolicy keeps KEDA out.
 */
import type { IScaleTriggers } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaleTriggers';
import { TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Service } from 'kubernetes-models/v1/Service';
import {
  containerSecurityContext,
  HEALTH_PORT,
  httpProbe,
  meta,
  podSecurityContext,
  type RenderContext,
  redisEnv,
  selector,
  workerNodeOptions,
} from '../common.js';
import { KEDA_OPERATOR_POD_LABELS } from '../redis.js';

export const SCALER_NAME = 'kq-keda-scaler';
export const SCALER_TLS_SECRET = 'kq-keda-scaler-tls';
export const SCALER_CLIENT_TLS_SECRET = 'kq-keda-scaler-client-tls';
export const SCALER_PORT = 9090;
const TLS_DIR = '/var/run/kq/tls';
const SCALER_MEMORY_LIMIT = '128Mi';
/** Heap sized from the container limit, as the API's: V8 sizes it from the node otherwise. */
export const SCALER_NODE_OPTIONS = workerNodeOptions(SCALER_MEMORY_LIMIT) ?? '';

function scalerDeployment(ctx: RenderContext): Deployment {
  const m = meta(ctx, SCALER_NAME, 'keda-scaler');
  return new Deployment({
    metadata: m,
    spec: {
      replicas: 2,
      selector: { matchLabels: selector(SCALER_NAME) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: m.labels },
        spec: {
          automountServiceAccountToken: false,
          securityContext: podSecurityContext(),
          containers: [
            {
              name: 'keda-scaler',
              image: ctx.o.image,
              imagePullPolicy: 'IfNotPresent',
              args: ['keda-scaler'],
              env: [
                ...redisEnv(ctx),
                { name: 'SCALER_PORT', value: String(SCALER_PORT) },
                { name: 'HEALTH_PORT', value: String(HEALTH_PORT) },
                { name: 'TLS_CERT_FILE', value: `${TLS_DIR}/tls.crt` },
                { name: 'TLS_PRIVATE_KEY_FILE', value: `${TLS_DIR}/tls.key` },
                { name: 'CLIENT_CA_FILE', value: `${TLS_DIR}/ca.crt` },
                { name: 'NODE_OPTIONS', value: SCALER_NODE_OPTIONS },
              ],
              ports: [
                { name: 'grpc', containerPort: SCALER_PORT },
                { name: 'health', containerPort: HEALTH_PORT },
              ],
              livenessProbe: httpProbe('/healthz', HEALTH_PORT),
              readinessProbe: httpProbe('/readyz', HEALTH_PORT),
              resources: {
                requests: { cpu: '50m', memory: '64Mi' },
                limits: { cpu: '500m', memory: SCALER_MEMORY_LIMIT },
              },
              securityContext: containerSecurityContext(),
              volumeMounts: [{ name: 'tls', mountPath: TLS_DIR, readOnly: true }],
            },
          ],
          volumes: [{ name: 'tls', secret: { secretName: SCALER_TLS_SECRET } }],
        },
      },
    },
  });
}

/** The scaler and what it needs around it, in apply order. */
export function scalerObjects(ctx: RenderContext) {
  const { o } = ctx;
  const m = meta(ctx, SCALER_NAME, 'keda-scaler');
  return [
    scalerDeployment(ctx),
    new Service({
      metadata: m,
      spec: {
        selector: selector(SCALER_NAME),
        ports: [{ name: 'grpc', port: SCALER_PORT, targetPort: 'grpc', appProtocol: 'grpc' }],
      },
    }),
    new PodDisruptionBudget({
      metadata: m,
      spec: { minAvailable: 1, selector: { matchLabels: selector(SCALER_NAME) } },
    }),
    new NetworkPolicy({
      metadata: m,
      spec: {
        podSelector: { matchLabels: selector(SCALER_NAME) },
        policyTypes: ['Ingress'],
        ingress: [
          {
            // Only the KEDA operator calls the gRPC port (one peer: that pod AND in that namespace).
            from: [
              {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': o.kedaNamespace } },
                podSelector: { matchLabels: KEDA_OPERATOR_POD_LABELS },
              },
            ],
            ports: [{ protocol: 'TCP', port: SCALER_PORT }],
          },
          // Probes and Prometheus: /healthz, /readyz, /metrics only.
          { ports: [{ protocol: 'TCP', port: HEALTH_PORT }] },
        ],
      },
    }),
    new TriggerAuthentication({
      metadata: m,
      spec: {
        secretTargetRef: [
          { parameter: 'caCert', name: SCALER_CLIENT_TLS_SECRET, key: 'ca.crt' },
          { parameter: 'tlsClientCert', name: SCALER_CLIENT_TLS_SECRET, key: 'tls.crt' },
          { parameter: 'tlsClientKey', name: SCALER_CLIENT_TLS_SECRET, key: 'tls.key' },
        ],
      },
    }),
  ];
}

/**
 * The trigger KEDA sends to the scaler; everything but `scalerAddress` and `enableTLS` reaches it in
 * `scalerMetadata`. `external-push` for a ScaledObject; `external` for a ScaledJob (KEDA ignores pushes
 * for ScaledJobs).
 */
export function scalerTrigger(
  ctx: RenderContext,
  type: 'external' | 'external-push',
  targetPerWorker: number,
): IScaleTriggers {
  const { o } = ctx;
  return {
    type,
    name: 'backlog',
    metadata: {
      scalerAddress: `${SCALER_NAME}.${o.namespace}.svc:${SCALER_PORT}`,
      enableTLS: 'true',
      queue: o.queue,
      prefix: o.prefix,
      metric: 'backlog',
      targetPerWorker: String(targetPerWorker),
    },
    authenticationRef: { name: SCALER_NAME },
  };
}
