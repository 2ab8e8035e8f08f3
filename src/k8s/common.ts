/**
 * Pieces every approach shares: names, labels, the hardened security context, the Redis connection env
 * (password from a Secret, never inline) and the worker container. Approaches only choose the mode env
 * (`EXIT`, `MAX_JOBS`) and the controller around the pod.
 */
import type { IPodFailurePolicy } from 'kubernetes-models/batch/v1/PodFailurePolicy';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import type { ILifecycle } from 'kubernetes-models/v1/Lifecycle';
import type { IPodSecurityContext } from 'kubernetes-models/v1/PodSecurityContext';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import type { ISecurityContext } from 'kubernetes-models/v1/SecurityContext';
import { resolveQueueLimits } from '../jobs/queue-limits.js';
import { deadlineEnv } from './job-deadline.js';
import type { ManifestOptions } from './options.js';
import type { ExternalRedis } from './redis-plan.js';

export interface RenderContext {
  o: ManifestOptions;
  /** Undefined = the in-cluster Redis rendered by `redis.ts` (or `redis-sentinel.ts`). */
  external: ExternalRedis | undefined;
  /** The in-cluster Sentinel set (`--redis-mode sentinel`) instead of the single Redis pod. */
  sentinel?: boolean;
  /** Name of the worker workload and its autoscaler; unset = `kq-worker` (see `per-queue.ts`). */
  workerName?: string;
}

/** Secrets the user creates (deploy/secrets or `kubectl create secret`); manifests only reference them. */
export const REDIS_SECRET = { name: 'kq-redis', key: 'password' } as const;
/** Key of Secret kq-redis holding an external Sentinel's own password (`--redis-sentinel-password`). */
export const SENTINEL_SECRET_KEY = 'sentinel-password';
export const API_SECRET = { name: 'kq-api', key: 'tokens' } as const;
export const REDIS_SERVICE = 'kq-redis';
export const REDIS_PORT = 6379;
export const API_PORT = 8080;
export const HEALTH_PORT = 8081;
/** The numeric user of the Dockerfile (`USER 10001:10001`). */
export const KQ_UID = 10001;
export const WORKER_NAME = 'kq-worker';

/** The worker workload's name: `kq-worker`, or `kq-worker-<queue>` for one of several queues. */
export const workerName = (ctx: RenderContext): string => ctx.workerName ?? WORKER_NAME;

export type Component = 'api' | 'worker' | 'redis' | 'metrics-adapter' | 'keda-scaler';

export function labels(name: string, component: Component): Record<string, string> {
  return {
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/part-of': 'kq',
  };
}

export function selector(name: string): Record<string, string> {
  return { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'kq' };
}

export function podSecurityContext(uid = KQ_UID): IPodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    fsGroup: uid,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

export function containerSecurityContext(): ISecurityContext {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
  };
}

export function httpProbe(path: string, port: number, scheme: 'HTTP' | 'HTTPS' = 'HTTP'): IProbe {
  return {
    httpGet: { path, port, scheme },
    periodSeconds: 10,
    timeoutSeconds: 3,
    failureThreshold: 3,
  };
}

/**
 * Seconds a serving pod (API, metrics adapter) keeps serving after it is told to stop, before SIGTERM:
 * endpoint removal reaches kube-proxy, ingress controllers and the aggregator a few seconds after the pod
 * starts terminating, and until then they still send it new connections. The `sleep` action needs no
 * binary in the image (Kubernetes 1.30+, on by default).
 */
export const PRESTOP_SECONDS = 10;

export function preStopSleep(seconds = PRESTOP_SECONDS): ILifecycle {
  return { preStop: { sleep: { seconds } } };
}

/**
 * Job pod failures a retry cannot fix fail the Job at once: kq exits 2 on a configuration error (bad env,
 * unknown option), where `backoffLimit` retries would only repeat it. A pod evicted or preempted (node
 * drain, `DisruptionTarget`) is retried without counting against `backoffLimit`: its job went back to the
 * queue. Needs `restartPolicy: Never`.
 */
export function workerPodFailurePolicy(containerName = 'worker'): IPodFailurePolicy {
  return {
    rules: [
      { action: 'FailJob', onExitCodes: { containerName, operator: 'In', values: [2] } },
      { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
    ],
  };
}

/**
 * A ScaledJob's `jobTargetRef`: one Job per job, its pod a `MAX_JOBS=1 EXIT=1` worker at concurrency 1.
 * `K8S_JOB_NAME` (the Job controller's pod label) lets the pod the Job starts to replace a killed one take
 * back its predecessor's job at once; exit 2 fails the Job and evictions do not count (`podFailurePolicy`).
 */
export function oneJobPerPodJobTarget(ctx: RenderContext) {
  const oneAtATime: RenderContext = { ...ctx, o: { ...ctx.o, concurrency: 1 } };
  return {
    parallelism: 1,
    completions: 1,
    backoffLimit: 2,
    activeDeadlineSeconds: ctx.o.jobDeadlineSeconds,
    podFailurePolicy: workerPodFailurePolicy(),
    template: {
      metadata: { labels: meta(ctx, workerName(ctx), 'worker').labels },
      spec: workerPodSpec(oneAtATime, {
        restartPolicy: 'Never',
        modeEnv: [
          { name: 'MAX_JOBS', value: '1' },
          { name: 'EXIT', value: '1' },
          {
            name: 'K8S_JOB_NAME',
            valueFrom: { fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/job-name']" } },
          },
          ...deadlineEnv(ctx.o),
        ],
      }),
    },
  };
}

/** Seconds the kubelet waits after SIGTERM: the worker's shutdown timeout plus room to hand jobs back. */
export function terminationGraceSeconds(o: ManifestOptions): number {
  return Math.ceil(o.shutdownTimeoutMs / 1000) + 15;
}

/**
 * `REDIS_URL` for kq containers. The password stays in the Secret: `REDIS_PASSWORD` is declared first and
 * Kubernetes expands `$(REDIS_PASSWORD)` inside `REDIS_URL` (dependent env vars), so the rendered YAML never
 * holds it. The password must be URL-safe (hex, as `deploy/secrets` suggests). Sentinels with a password of
 * their own get `REDIS_SENTINEL_PASSWORD`, which kq reads next to the URL.
 */
export function redisEnv(ctx: RenderContext): IEnvVar[] {
  const { o, external } = ctx;
  const secretEnv = (name: string, key: string): IEnvVar => ({
    name,
    valueFrom: { secretKeyRef: { name: REDIS_SECRET.name, key } },
  });
  const password = secretEnv('REDIS_PASSWORD', REDIS_SECRET.key);
  if (!external && ctx.sentinel) {
    return [
      password,
      secretEnv('REDIS_SENTINEL_PASSWORD', REDIS_SECRET.key),
      { name: 'REDIS_URL', value: `redis+sentinel://:$(REDIS_PASSWORD)@${inClusterSentinelList()}` },
    ];
  }
  if (!external) {
    return [
      password,
      { name: 'REDIS_URL', value: `redis://:$(REDIS_PASSWORD)@${REDIS_SERVICE}:${REDIS_PORT}/0` },
    ];
  }
  const auth = o.redisPassword ? ':$(REDIS_PASSWORD)@' : '';
  const url: IEnvVar = { name: 'REDIS_URL', value: externalRedisUrl(external, auth) };
  return [
    ...(o.redisPassword ? [password] : []),
    ...(o.redisSentinelPassword ? [secretEnv('REDIS_SENTINEL_PASSWORD', SENTINEL_SECRET_KEY)] : []),
    url,
  ];
}

/** The external Redis as a kq `REDIS_URL`, with `auth` (`:$(REDIS_PASSWORD)@` or nothing). */
export function externalRedisUrl(e: ExternalRedis, auth: string): string {
  const s = e.tls ? 's' : '';
  const hosts = e.nodes.map((n) => `${n.host.includes(':') ? `[${n.host}]` : n.host}:${n.port}`).join(',');
  if (e.topology === 'sentinel') return `redis${s}+sentinel://${auth}${hosts}/${e.masterName}`;
  if (e.topology === 'cluster') return `redis${s}+cluster://${auth}${hosts}`;
  return `redis${s}://${auth}${hosts}/${e.db}`;
}

/** In-cluster Sentinel set: names shared by the manifests, the clients' URL and KEDA's trigger. */
export const SENTINEL = {
  name: 'kq-redis-sentinel',
  port: 26379,
  replicas: 3,
  quorum: 2,
  /** The name the Sentinels know the primary by (`SENTINEL get-master-addr-by-name kq`). */
  master: 'kq',
} as const;
/** Data pods of the Sentinel set: StatefulSet and headless Service `kq-redis`, as the single Redis. */
export const SENTINEL_DATA_REPLICAS = 3;

/** `kq-redis-sentinel-0.kq-redis-sentinel[.ns.svc]:26379,...` and the master name: a Sentinel URL's tail. */
export function inClusterSentinelList(namespace?: string): string {
  return `${sentinelAddresses(namespace).join(',')}/${SENTINEL.master}`;
}

/** Each Sentinel pod's stable name (its headless Service); the FQDN when seen from another namespace. */
export function sentinelAddresses(namespace?: string): string[] {
  const domain = namespace ? `.${namespace}.svc` : '';
  return Array.from(
    { length: SENTINEL.replicas },
    (_, i) => `${SENTINEL.name}-${i}.${SENTINEL.name}${domain}:${SENTINEL.port}`,
  );
}

const MEBI: Record<string, number> = {
  Ki: 1 / 1024,
  Mi: 1,
  Gi: 1024,
  Ti: 1024 * 1024,
  k: 1e3 / 2 ** 20,
  M: 1e6 / 2 ** 20,
  G: 1e9 / 2 ** 20,
};

/**
 * V8 sizes its heap from the machine, not the container: left alone, a worker's RSS reached the 128Mi
 * limit while draining jobs (measured in test/k8s/worker-memory.test.ts). Capping old space at half the
 * limit and the young generation's semi-spaces at 4 MB makes V8 collect early; peak RSS stays well
 * below the limit.
 */
export function workerNodeOptions(memoryLimit: string): string | undefined {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G)?$/.exec(memoryLimit);
  if (!m) return undefined;
  const mi = Number(m[1]) * (m[2] ? (MEBI[m[2]] ?? 0) : 1 / 2 ** 20);
  const heap = Math.max(32, Math.floor(mi / 2));
  return `--max-old-space-size=${heap} --max-semi-space-size=4`;
}

/** A writable /tmp on a read-only root filesystem, for handlers that need scratch space. */
export const tmpVolume = { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } };
export const tmpMount = { name: 'tmp', mountPath: '/tmp' };

function nodeOptionsEnv(limit: string): IEnvVar[] {
  const value = workerNodeOptions(limit);
  return value ? [{ name: 'NODE_OPTIONS', value }] : [];
}

/** `HANDLERS` when the image runs an application's job types (`--handlers`); the demo jobs otherwise. */
export function handlersEnv(o: ManifestOptions): IEnvVar[] {
  return o.handlers ? [{ name: 'HANDLERS', value: o.handlers }] : [];
}

/**
 * The queue's limits (`--rate-limit-max`, `--rate-limit-duration-ms`, `--global-concurrency` over the
 * handlers module's `defineQueue`), as the worker env that states them; none when there are none.
 */
export function queueLimitsEnv(o: ManifestOptions): IEnvVar[] {
  const limits = resolveQueueLimits(o, o.queueLimits?.[o.queue] ?? {});
  return [
    ...(limits.rateLimit
      ? [
          { name: 'RATE_LIMIT_MAX', value: String(limits.rateLimit.max) },
          { name: 'RATE_LIMIT_DURATION_MS', value: String(limits.rateLimit.durationMs) },
        ]
      : []),
    ...(limits.globalConcurrency
      ? [{ name: 'GLOBAL_CONCURRENCY', value: String(limits.globalConcurrency) }]
      : []),
  ];
}

/** The worker container; `modeEnv` selects Deployment (none), CronJob (`EXIT`) or ScaledJob mode. */
export function workerContainer(ctx: RenderContext, modeEnv: IEnvVar[] = []): IContainer {
  const { o } = ctx;
  return {
    name: 'worker',
    image: o.image,
    imagePullPolicy: 'IfNotPresent',
    args: ['worker'],
    env: [
      ...redisEnv(ctx),
      { name: 'QUEUE', value: o.queue },
      { name: 'KQ_PREFIX', value: o.prefix },
      { name: 'CONCURRENCY', value: String(o.concurrency) },
      ...queueLimitsEnv(o),
      { name: 'SHUTDOWN_TIMEOUT_MS', value: String(o.shutdownTimeoutMs) },
      { name: 'HEALTH_PORT', value: String(HEALTH_PORT) },
      ...handlersEnv(o),
      ...modeEnv,
      ...nodeOptionsEnv(o.workerMemoryLimit),
    ],
    ports: [{ name: 'health', containerPort: HEALTH_PORT }],
    livenessProbe: httpProbe('/healthz', HEALTH_PORT),
    readinessProbe: httpProbe('/readyz', HEALTH_PORT),
    resources: {
      requests: { cpu: o.workerCpu, memory: o.workerMemory },
      limits: { cpu: o.workerCpuLimit, memory: o.workerMemoryLimit },
    },
    securityContext: containerSecurityContext(),
    volumeMounts: [tmpMount],
  };
}

/** The worker pod spec shared by the Deployment, CronJob and ScaledJob approaches. */
export function workerPodSpec(
  ctx: RenderContext,
  opts: { modeEnv?: IEnvVar[]; restartPolicy?: 'Always' | 'Never' } = {},
): IPodSpec {
  return {
    restartPolicy: opts.restartPolicy ?? 'Always',
    terminationGracePeriodSeconds: terminationGraceSeconds(ctx.o),
    automountServiceAccountToken: false,
    securityContext: podSecurityContext(),
    containers: [workerContainer(ctx, opts.modeEnv)],
    volumes: [tmpVolume],
  };
}

export const meta = (ctx: RenderContext, name: string, component: Component) => ({
  name,
  namespace: ctx.o.namespace,
  labels: labels(name, component),
});
