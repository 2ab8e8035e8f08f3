/**
 * The HTTP API every approach ships: a Deployment (2 replicas by default, spread over nodes), a
 * PodDisruptionBudget so a node drain keeps one serving, and a ClusterIP Service. Tokens come from
 * Secret `kq-api`. `GET /metrics` needs a token too, so there are no `prometheus.io/scrape` annotations
 * (an annotation-driven scrape job has no token and would only log 401s): hpa-prometheus renders an
 * explicit scrape job instead.
 *
 * Rollouts and drains: the pod keeps serving for PRESTOP_SECONDS after it starts terminating (endpoints lag),
 * then SIGTERM makes the API finish in-flight requests, bounded by REQUEST_TIMEOUT_MS (default 5 s) plus
 * 5 s slack (src/cli/api.ts); the grace period covers both with room to spare.
 */
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Service } from 'kubernetes-models/v1/Service';
import {
  API_PORT,
  API_SECRET,
  containerSecurityContext,
  handlersEnv,
  httpProbe,
  meta,
  PRESTOP_SECONDS,
  podSecurityContext,
  preStopSleep,
  type RenderContext,
  redisEnv,
  selector,
  tmpMount,
  tmpVolume,
  workerNodeOptions,
} from './common.js';

export const API_NAME = 'kq-api';
const API_MEMORY_LIMIT = '256Mi';
/** The API container's `NODE_OPTIONS` (heap sized from its limit); the chaos suite measures it. */
export const API_NODE_OPTIONS = workerNodeOptions(API_MEMORY_LIMIT) ?? '';
/** Longest the API takes to stop after SIGTERM: REQUEST_TIMEOUT_MS' default 5 s + 5 s slack. */
export const API_DRAIN_SECONDS = 10;

export function apiObjects(ctx: RenderContext) {
  const { o } = ctx;
  const deployment = new Deployment({
    metadata: meta(ctx, API_NAME, 'api'),
    spec: {
      replicas: o.apiReplicas,
      selector: { matchLabels: selector(API_NAME) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: meta(ctx, API_NAME, 'api').labels },
        spec: {
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: PRESTOP_SECONDS + API_DRAIN_SECONDS + 10,
          securityContext: podSecurityContext(),
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: 'kubernetes.io/hostname',
              whenUnsatisfiable: 'ScheduleAnyway',
              labelSelector: { matchLabels: selector(API_NAME) },
            },
          ],
          containers: [
            {
              name: 'api',
              image: o.image,
              imagePullPolicy: 'IfNotPresent',
              args: ['api'],
              env: [
                ...redisEnv(ctx),
                { name: 'KQ_PREFIX', value: o.prefix },
                ...handlersEnv(o),
                { name: 'PORT', value: String(API_PORT) },
                // Heap 128 MiB under the 256Mi limit: 64 clients x 1 MiB bodies peaked at 180 MiB RSS
                // with it (569 MB without), docs/performance.md "API memory limits".
                { name: 'NODE_OPTIONS', value: API_NODE_OPTIONS },
                {
                  name: 'API_TOKENS',
                  valueFrom: { secretKeyRef: { name: API_SECRET.name, key: API_SECRET.key } },
                },
              ],
              ports: [{ name: 'http', containerPort: API_PORT }],
              livenessProbe: httpProbe('/healthz', API_PORT),
              readinessProbe: httpProbe('/readyz', API_PORT),
              lifecycle: preStopSleep(),
              resources: {
                requests: { cpu: '100m', memory: '128Mi' },
                limits: { cpu: '1', memory: API_MEMORY_LIMIT },
              },
              securityContext: containerSecurityContext(),
              volumeMounts: [tmpMount],
            },
          ],
          volumes: [tmpVolume],
        },
      },
    },
  });
  const pdb = new PodDisruptionBudget({
    metadata: meta(ctx, API_NAME, 'api'),
    spec: {
      // With a single replica, minAvailable 1 would block every node drain.
      ...(o.apiReplicas > 1 ? { minAvailable: 1 } : { maxUnavailable: 1 }),
      selector: { matchLabels: selector(API_NAME) },
    },
  });
  const service = new Service({
    metadata: meta(ctx, API_NAME, 'api'),
    spec: {
      type: 'ClusterIP',
      selector: selector(API_NAME),
      ports: [{ name: 'http', port: 80, targetPort: 'http' }],
    },
  });
  return [deployment, pdb, service];
}
