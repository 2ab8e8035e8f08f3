/**
 * The in-cluster Sentinel set (`kq manifests --redis-mode sentinel`): StatefulSet `kq-redis` of 3 data
 * pods (AOF, `noeviction`, password from Secret `kq-redis` as requirepass and masterauth) and StatefulSet
 * `kq-redis-sentinel` of 3 Sentinels (quorum 2), each with a headless Service for stable pod names, pod
 * anti-affinity over nodes and a PodDisruptionBudget of one pod at a time.
 *
 * Who is primary is decided by the start scripts in templates/redis-sentinel/ (shipped as ConfigMap
 * `kq-redis-scripts`): a data pod asks the Sentinels for the current primary before it starts, so a
 * primary that restarts after a failover comes back as a replica; only when nobody knows a primary does
 * the first pod start as one. test/k8s/redis-sentinel-failover.test.ts runs both scripts with real
 * redis-server processes. Pods are addressed by hostname (`kq-redis-0.kq-redis.<ns>.svc`), which the
 * Sentinels resolve and announce: pod IPs change on restart, and the KEDA operator in its own namespace
 * must resolve what the Sentinels name.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import type { IStatefulSetSpec } from 'kubernetes-models/apps/v1/StatefulSetSpec';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { Service } from 'kubernetes-models/v1/Service';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import {
  containerSecurityContext,
  meta as objectMeta,
  podSecurityContext,
  REDIS_PORT,
  REDIS_SECRET,
  REDIS_SERVICE,
  type RenderContext,
  SENTINEL,
  SENTINEL_DATA_REPLICAS,
  selector,
  tmpMount,
  tmpVolume,
} from './common.js';
import { REDIS_IMAGE, REDIS_UID, redisClientPeers, redisMemoryLimitMi } from './redis.js';

/** templates/redis-sentinel/, from src/k8s or dist/k8s (and dist/chunks, two levels down too). */
// `meta` is imported as `objectMeta`: vite's SSR transform (vitest) mistakes `import.meta` for it.
export const SCRIPTS_DIR = join(fileURLToPath(import.meta.url), '../../../templates/redis-sentinel');
export const SCRIPTS_CONFIGMAP = 'kq-redis-scripts';
export const SCRIPT_FILES = ['redis-start.sh', 'sentinel-start.sh'] as const;

/** The start scripts' text, from the files the failover test runs. */
export function sentinelScript(name: (typeof SCRIPT_FILES)[number]): string {
  return readFileSync(join(SCRIPTS_DIR, name), 'utf8');
}

/** `host:port` of each pod of a StatefulSet behind its headless Service, as seen from any namespace. */
function podAddresses(ctx: RenderContext, name: string, replicas: number, port: number): string {
  return Array.from(
    { length: replicas },
    (_, i) => `${name}-${i}.${name}.${ctx.o.namespace}.svc:${port}`,
  ).join(' ');
}

type VolumeClaim = NonNullable<IStatefulSetSpec['volumeClaimTemplates']>[number];

const secretEnv = (name: string): IEnvVar => ({
  name,
  valueFrom: { secretKeyRef: { name: REDIS_SECRET.name, key: REDIS_SECRET.key } },
});

/** Env both scripts read; ANNOUNCE_HOST expands `$(POD_NAME)` (dependent env vars). */
function scriptEnv(ctx: RenderContext, service: string): IEnvVar[] {
  return [
    // REDISCLI_AUTH lets the scripts' and probes' redis-cli authenticate without a password in argv.
    secretEnv('REDIS_PASSWORD'),
    secretEnv('REDISCLI_AUTH'),
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'ANNOUNCE_HOST', value: `$(POD_NAME).${service}.${ctx.o.namespace}.svc` },
    { name: 'DATA_NODES', value: podAddresses(ctx, REDIS_SERVICE, SENTINEL_DATA_REPLICAS, REDIS_PORT) },
    { name: 'SENTINELS', value: podAddresses(ctx, SENTINEL.name, SENTINEL.replicas, SENTINEL.port) },
    { name: 'MASTER_NAME', value: SENTINEL.master },
  ];
}

function headless(ctx: RenderContext, name: string, port: number): Service {
  return new Service({
    metadata: objectMeta(ctx, name, 'redis'),
    spec: {
      clusterIP: 'None',
      // Pods must find each other before they are ready: a replica's primary, a Sentinel's peers.
      publishNotReadyAddresses: true,
      selector: selector(name),
      ports: [{ name: name === REDIS_SERVICE ? 'redis' : 'sentinel', port, targetPort: port }],
    },
  });
}

function statefulSet(
  ctx: RenderContext,
  name: string,
  replicas: number,
  container: IContainer,
  volumes: IVolume[],
  claims: VolumeClaim[] = [],
): StatefulSet {
  const pod: IPodSpec = {
    automountServiceAccountToken: false,
    terminationGracePeriodSeconds: 30,
    securityContext: podSecurityContext(REDIS_UID),
    // Preferred, not required: a small cluster with fewer nodes than pods still starts the set.
    affinity: {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 100,
            podAffinityTerm: {
              labelSelector: { matchLabels: selector(name) },
              topologyKey: 'kubernetes.io/hostname',
            },
          },
        ],
      },
    },
    volumes: [
      { name: 'scripts', configMap: { name: SCRIPTS_CONFIGMAP, defaultMode: 0o555 } },
      tmpVolume,
      ...volumes,
    ],
    containers: [container],
  };
  return new StatefulSet({
    metadata: objectMeta(ctx, name, 'redis'),
    spec: {
      serviceName: name,
      replicas,
      // Sentinels start together; data pods one by one (the first becomes the primary on a fresh set).
      podManagementPolicy: name === REDIS_SERVICE ? 'OrderedReady' : 'Parallel',
      selector: { matchLabels: selector(name) },
      template: { metadata: { labels: objectMeta(ctx, name, 'redis').labels }, spec: pod },
      ...(claims.length ? { volumeClaimTemplates: claims } : {}),
    },
  });
}

const pingProbe = (port: number) => ({
  exec: { command: ['sh', '-c', `redis-cli -p ${port} ping | grep -q PONG`] },
  periodSeconds: 5,
  timeoutSeconds: 3,
});

function dataSet(ctx: RenderContext): StatefulSet {
  const { o } = ctx;
  const container: IContainer = {
    name: 'redis',
    image: REDIS_IMAGE,
    command: ['sh', '/scripts/redis-start.sh'],
    env: [
      ...scriptEnv(ctx, REDIS_SERVICE),
      { name: 'REDIS_PORT', value: String(REDIS_PORT) },
      { name: 'DATA_DIR', value: '/data' },
      { name: 'MAXMEMORY_MB', value: String(o.redisMaxmemoryMb) },
    ],
    ports: [{ name: 'redis', containerPort: REDIS_PORT }],
    livenessProbe: { tcpSocket: { port: REDIS_PORT }, periodSeconds: 10, failureThreshold: 6 },
    readinessProbe: pingProbe(REDIS_PORT),
    resources: {
      requests: { cpu: '100m', memory: `${o.redisMaxmemoryMb}Mi` },
      limits: { cpu: '1', memory: `${redisMemoryLimitMi(o.redisMaxmemoryMb)}Mi` },
    },
    securityContext: containerSecurityContext(),
    volumeMounts: [
      { name: 'data', mountPath: '/data' },
      { name: 'scripts', mountPath: '/scripts' },
      tmpMount,
    ],
  };
  const claim: VolumeClaim = {
    metadata: { name: 'data' },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: o.redisStorage } } },
  };
  return statefulSet(ctx, REDIS_SERVICE, SENTINEL_DATA_REPLICAS, container, [], [claim]);
}

function sentinelSet(ctx: RenderContext): StatefulSet {
  const container: IContainer = {
    name: 'sentinel',
    image: REDIS_IMAGE,
    command: ['sh', '/scripts/sentinel-start.sh'],
    env: [
      ...scriptEnv(ctx, SENTINEL.name),
      { name: 'SENTINEL_PORT', value: String(SENTINEL.port) },
      { name: 'QUORUM', value: String(SENTINEL.quorum) },
      { name: 'DOWN_AFTER_MS', value: '5000' },
      { name: 'FAILOVER_TIMEOUT_MS', value: '60000' },
      { name: 'CONF_DIR', value: '/conf' },
    ],
    ports: [{ name: 'sentinel', containerPort: SENTINEL.port }],
    livenessProbe: { tcpSocket: { port: SENTINEL.port }, periodSeconds: 10, failureThreshold: 6 },
    readinessProbe: pingProbe(SENTINEL.port),
    resources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { cpu: '250m', memory: '64Mi' } },
    securityContext: containerSecurityContext(),
    volumeMounts: [
      { name: 'conf', mountPath: '/conf' },
      { name: 'scripts', mountPath: '/scripts' },
      tmpMount,
    ],
  };
  // Sentinel rewrites its config: it lives on a writable emptyDir, written afresh by the script.
  const conf: IVolume = { name: 'conf', emptyDir: { sizeLimit: '1Mi' } };
  return statefulSet(ctx, SENTINEL.name, SENTINEL.replicas, container, [conf]);
}

function pdb(ctx: RenderContext, name: string): PodDisruptionBudget {
  return new PodDisruptionBudget({
    metadata: objectMeta(ctx, name, 'redis'),
    spec: { maxUnavailable: 1, selector: { matchLabels: selector(name) } },
  });
}

/**
 * Who may connect: kq's clients (and KEDA) to both ports, data pods to each other (replication) and to
 * the Sentinels (the start script asks them), Sentinels to the data pods and to each other.
 */
function policies(ctx: RenderContext, allowKeda: boolean): NetworkPolicy[] {
  const pods = (name: string) => ({ podSelector: { matchLabels: selector(name) } });
  const policy = (name: string, port: number) =>
    new NetworkPolicy({
      metadata: objectMeta(ctx, name, 'redis'),
      spec: {
        podSelector: { matchLabels: selector(name) },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [...redisClientPeers(ctx, allowKeda), pods(REDIS_SERVICE), pods(SENTINEL.name)],
            ports: [{ protocol: 'TCP', port }],
          },
        ],
      },
    });
  return [policy(REDIS_SERVICE, REDIS_PORT), policy(SENTINEL.name, SENTINEL.port)];
}

export function redisSentinelObjects(ctx: RenderContext, { allowKeda }: { allowKeda: boolean }) {
  const scripts = new ConfigMap({
    metadata: objectMeta(ctx, SCRIPTS_CONFIGMAP, 'redis'),
    data: Object.fromEntries(SCRIPT_FILES.map((f) => [f, sentinelScript(f)])),
  });
  return [
    scripts,
    headless(ctx, REDIS_SERVICE, REDIS_PORT),
    dataSet(ctx),
    pdb(ctx, REDIS_SERVICE),
    headless(ctx, SENTINEL.name, SENTINEL.port),
    sentinelSet(ctx),
    pdb(ctx, SENTINEL.name),
    ...policies(ctx, allowKeda),
  ];
}
