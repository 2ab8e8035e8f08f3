/**
 * The in-cluster Sentinel set (`kq manifests --redis-mode sentinel`): StatefulSet `kq-redis` of 3 data
 * pods (AOF, `noeviction`, password from Secret `kq-redis` as requirepass and masterauth) and StatefulSet
 * `kq-redis-sentinel` of 3 Sentinels (quorum 2, state on a small volume), each with a headless Service
 * for stable pod names, a PodDisruptionBudget of one pod at a time, pods started in parallel (`Parallel`:
 * no pod waits for another, so a lost node never blocks the others' replacement), data pods spread over
 * nodes where possible and Sentinels strictly (two on one node lose the quorum with it).
 *
 * Who is primary is decided by the scripts in templates/redis-sentinel/ (shipped as ConfigMap
 * `kq-redis-scripts`): a data pod asks the Sentinels for the current primary before it starts, so a
 * primary that restarts after a failover comes back as a replica; the Sentinels keep what they learned
 * across restarts, so after a restart of the whole set they still name the last primary; only on a fresh
 * set does the first pod start as the primary. A primary's preStop has the Sentinels promote a replica
 * before it stops. test/k8s/redis-sentinel-failover.test.ts and redis-sentinel-restart.test.ts run the
 * scripts with real redis-server processes. Pods are addressed by hostname (`kq-redis-0.kq-redis.<ns>.svc`), which the
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
export const SCRIPT_FILES = ['redis-start.sh', 'sentinel-start.sh', 'redis-prestop.sh'] as const;
/** Longest the data pods' preStop waits for the Sentinels to move the primary away (redis-prestop.sh). */
export const PRESTOP_FAILOVER_SECONDS = 20;
/** Each Sentinel's volume: its config file, which Sentinel rewrites with what it learns (a few KiB). */
export const SENTINEL_STORAGE = '16Mi';

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

/** Where the pods of one set may run: spread over nodes, strictly for the Sentinels. */
function placement(name: string): Pick<IPodSpec, 'affinity' | 'topologySpreadConstraints'> {
  if (name === SENTINEL.name) {
    // Two Sentinels on one node lose the quorum with that node. A skew of 1 is met on a one-node cluster
    // (one domain) and keeps every node at most one Sentinel ahead of another.
    return {
      topologySpreadConstraints: [
        {
          maxSkew: 1,
          topologyKey: 'kubernetes.io/hostname',
          whenUnsatisfiable: 'DoNotSchedule',
          labelSelector: { matchLabels: selector(name) },
        },
      ],
    };
  }
  // Preferred, not required: a small cluster with fewer nodes than pods still starts the set.
  return {
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
  };
}

function statefulSet(
  ctx: RenderContext,
  name: string,
  replicas: number,
  container: IContainer,
  volumes: IVolume[],
  claims: VolumeClaim[] = [],
  graceSeconds = 30,
): StatefulSet {
  const pod: IPodSpec = {
    automountServiceAccountToken: false,
    terminationGracePeriodSeconds: graceSeconds,
    securityContext: podSecurityContext(REDIS_UID),
    ...placement(name),
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
      // Every pod starts and is replaced on its own: the start scripts need no order, and with
      // OrderedReady a lost node holding pod 0 would keep pods 1-2 from ever being recreated.
      podManagementPolicy: 'Parallel',
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
      { name: 'PRESTOP_TIMEOUT_S', value: String(PRESTOP_FAILOVER_SECONDS) },
    ],
    ports: [{ name: 'redis', containerPort: REDIS_PORT }],
    livenessProbe: { tcpSocket: { port: REDIS_PORT }, periodSeconds: 10, failureThreshold: 6 },
    readinessProbe: pingProbe(REDIS_PORT),
    // A primary that stops (rollout, drain) first has the Sentinels promote a replica, so clients move
    // at once instead of after down-after-milliseconds of failed writes.
    lifecycle: {
      preStop: { exec: { command: ['sh', '/scripts/redis-prestop.sh'] } },
    },
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
  // The preStop's failover, then redis-server's own shutdown (AOF flush) with room to spare.
  const grace = PRESTOP_FAILOVER_SECONDS + 30;
  return statefulSet(ctx, REDIS_SERVICE, SENTINEL_DATA_REPLICAS, container, [], [claim], grace);
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
  // Sentinel rewrites its config with what it learns (the current primary, epoch, peers): on a volume,
  // it survives a restart of every Sentinel, so a restarted set still knows which pod is primary.
  const conf: VolumeClaim = {
    metadata: { name: 'conf' },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: SENTINEL_STORAGE } } },
  };
  return statefulSet(ctx, SENTINEL.name, SENTINEL.replicas, container, [], [conf]);
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
