/**
 * The in-cluster Redis: one StatefulSet pod with a PersistentVolumeClaim, AOF on, `noeviction` (a full
 * Redis must refuse writes, never drop queued jobs) and a password from Secret `kq-redis`. The password
 * reaches redis-server as a config file on stdin, so it is neither in the pod spec nor in the process's
 * argv; `exec` keeps redis-server as PID 1 so SIGTERM triggers its clean AOF flush.
 *
 * A NetworkPolicy lets only kq's API, workers, metrics adapter and KEDA scaler (and, for the KEDA approaches, the KEDA
 * operator, which reads the queue lists itself) connect.
 */
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { INetworkPolicyPeer } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPeer';
import { Service } from 'kubernetes-models/v1/Service';
import {
  containerSecurityContext,
  meta,
  podSecurityContext,
  REDIS_PORT,
  REDIS_SECRET,
  REDIS_SERVICE,
  type RenderContext,
  selector,
  tmpMount,
  tmpVolume,
} from './common.js';

/**
 * The one label both KEDA install methods put on the operator pod: the release YAML
 * (config/manager/manager.yaml) labels the pod template only `app` and `name`; the Helm chart adds
 * `app.kubernetes.io/name`. Selecting that one shut out the release-YAML install. See docs/deploy.md.
 */
export const KEDA_OPERATOR_POD_LABELS = { app: 'keda-operator' };

/** uid/gid of the `redis` user in the official redis image. */
export const REDIS_UID = 999;
export const REDIS_IMAGE = 'redis:7.4-alpine';

/**
 * The container limit over `maxmemory`: an AOF rewrite forks, and the child's copy-on-write pages plus
 * allocator fragmentation count against the cgroup on top of the dataset, so 1.25x left a rewrite under
 * write load close to an OOM kill. At least 1.5x (test/k8s/consistency.test.ts holds it).
 */
export const REDIS_LIMIT_FACTOR = 1.5;

export function redisMemoryLimitMi(maxmemoryMb: number): number {
  return Math.ceil(maxmemoryMb * REDIS_LIMIT_FACTOR);
}

function startScript(maxmemoryMb: number): string {
  return [
    `exec redis-server - --port ${REDIS_PORT} --dir /data --appendonly yes --appendfsync everysec \\`,
    `  --maxmemory ${maxmemoryMb}mb --maxmemory-policy noeviction <<EOF`,
    'requirepass $REDIS_PASSWORD',
    'EOF',
    '',
  ].join('\n');
}

export function redisObjects(ctx: RenderContext, opts: { allowKeda: boolean }) {
  const { o } = ctx;
  const service = new Service({
    metadata: meta(ctx, REDIS_SERVICE, 'redis'),
    spec: {
      // Headless: the StatefulSet's governing service; the name resolves to the single pod when ready.
      clusterIP: 'None',
      selector: selector(REDIS_SERVICE),
      ports: [{ name: 'redis', port: REDIS_PORT, targetPort: REDIS_PORT }],
    },
  });
  const passwordEnv = (name: string) => ({
    name,
    valueFrom: { secretKeyRef: { name: REDIS_SECRET.name, key: REDIS_SECRET.key } },
  });
  const statefulSet = new StatefulSet({
    metadata: meta(ctx, REDIS_SERVICE, 'redis'),
    spec: {
      serviceName: REDIS_SERVICE,
      replicas: 1,
      selector: { matchLabels: selector(REDIS_SERVICE) },
      template: {
        metadata: { labels: meta(ctx, REDIS_SERVICE, 'redis').labels },
        spec: {
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: 30,
          securityContext: podSecurityContext(REDIS_UID),
          volumes: [tmpVolume],
          containers: [
            {
              name: 'redis',
              image: REDIS_IMAGE,
              command: ['sh', '-c', startScript(o.redisMaxmemoryMb)],
              // REDISCLI_AUTH lets the probe's redis-cli authenticate without a password in its argv.
              env: [passwordEnv('REDIS_PASSWORD'), passwordEnv('REDISCLI_AUTH')],
              ports: [{ name: 'redis', containerPort: REDIS_PORT }],
              livenessProbe: { tcpSocket: { port: REDIS_PORT }, periodSeconds: 10, failureThreshold: 6 },
              readinessProbe: {
                exec: { command: ['sh', '-c', 'redis-cli ping | grep -q PONG'] },
                periodSeconds: 5,
                timeoutSeconds: 3,
              },
              resources: {
                requests: { cpu: '100m', memory: `${o.redisMaxmemoryMb}Mi` },
                limits: { cpu: '1', memory: `${redisMemoryLimitMi(o.redisMaxmemoryMb)}Mi` },
              },
              securityContext: containerSecurityContext(),
              // /tmp: a shell may back the here-document with a temp file; the root filesystem is read-only.
              volumeMounts: [{ name: 'data', mountPath: '/data' }, tmpMount],
            },
          ],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: 'data' },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: o.redisStorage } } },
        },
      ],
    },
  });
  const policy = new NetworkPolicy({
    metadata: meta(ctx, REDIS_SERVICE, 'redis'),
    spec: {
      podSelector: { matchLabels: selector(REDIS_SERVICE) },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: redisClientPeers(ctx, opts.allowKeda),
          ports: [{ protocol: 'TCP', port: REDIS_PORT }],
        },
      ],
    },
  });
  return [service, statefulSet, policy];
}

/** kq's pods that use Redis and, for the KEDA approaches, the KEDA operator (its scaler connects itself). */
export function redisClientPeers(ctx: RenderContext, allowKeda: boolean): INetworkPolicyPeer[] {
  const { o } = ctx;
  const kqClients: INetworkPolicyPeer = {
    podSelector: {
      matchLabels: { 'app.kubernetes.io/part-of': 'kq' },
      matchExpressions: [
        {
          key: 'app.kubernetes.io/component',
          operator: 'In',
          values: ['api', 'worker', 'metrics-adapter', 'keda-scaler'],
        },
      ],
    },
  };
  // One peer with both selectors: the KEDA operator pod AND in the KEDA namespace (two peers would
  // allow any pod of that namespace, or a pod with that label in ours).
  const kedaOperator: INetworkPolicyPeer = {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': o.kedaNamespace } },
    podSelector: { matchLabels: KEDA_OPERATOR_POD_LABELS },
  };
  return allowKeda ? [kqClients, kedaOperator] : [kqClients];
}
