/**
 * `kq manifests` options. They are flags only (no env): rendering must not depend on the shell it runs
 * in, or `npm run manifests` in a terminal with `QUEUE` set would rewrite `deploy/`. Flag names match the
 * worker's where they mean the same thing (`--queue`, `--prefix`, `--redis-url`, `--concurrency`,
 * `--shutdown-timeout-ms`).
 */
import { readFileSync } from 'node:fs';
import {
  boolOption,
  enumOption,
  intOption,
  type OptionSpec,
  type OptionValues,
  prefixOption,
  queueOption,
  stringOption,
} from '../config.js';
import { ConfigError } from '../errors.js';
import { LIMIT_BOUNDS, type QueueLimits } from '../jobs/define-queue.js';
import { parseCron } from './cron-schedule.js';
import { DEFAULT_ALERT_THRESHOLDS } from './monitoring/alerts.js';
import { checkRedisOptions, REDIS_MODES, type RedisPlan } from './redis-plan.js';

const QUANTITY = {
  re: /^\d+(\.\d+)?(m|k|M|G|Ki|Mi|Gi|Ti)?$/,
  rule: 'must be a Kubernetes quantity such as 500m, 1, 128Mi or 1Gi',
};
const DNS_LABEL = {
  re: /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/,
  rule: 'must be a DNS label: lower-case letters, digits and "-", at most 63 characters',
};

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** The tag `deploy/kind/up.sh` builds and loads: not `latest`, so the default pull policy never pulls it. */
export const DEFAULT_IMAGE = `kq:${packageVersion()}`;

/** What is wrong with a cron schedule, or undefined when `kq lab` can play it (and Kubernetes accepts it). */
function cronError(raw: string): string | undefined {
  try {
    // A schedule that parses but names no real time (`0 0 31 2 *`) would never start a Job.
    parseCron(raw).next(0);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

const noEnv = <T>(spec: OptionSpec<T>): OptionSpec<T> => ({ ...spec, env: [] });

export const manifestOptionSpecs = {
  image: stringOption('image', [], DEFAULT_IMAGE, 'container image of kq (API, workers, adapter)', {
    re: /^[a-z0-9][a-z0-9._\-/:@]*$/,
    rule: 'must be an image reference such as ghcr.io/acme/kq:1.2.0',
  }),
  namespace: stringOption('namespace', [], 'kq', 'namespace of every namespaced object', DNS_LABEL),
  handlers: stringOption(
    'handlers',
    [],
    '',
    'HANDLERS of workers and API: your handlers module, relative to the image WORKDIR (read here too, after npm run build, for its queues: one worker workload per queue)',
    { re: /^$|^[\w./@-]+\.(m|c)?js$/, rule: 'must be a JavaScript module path such as dist/jobs.js' },
  ),
  queue: noEnv(queueOption()),
  prefix: noEnv(prefixOption()),
  redisMode: enumOption(
    'redis-mode',
    [],
    'auto',
    REDIS_MODES,
    'standalone = one in-cluster Redis; sentinel = in-cluster 3 Redis + 3 Sentinels; external = --redis-url (redis://, redis+sentinel://, redis+cluster://, or rediss+...); cluster = external with a redis+cluster:// URL; auto = external with --redis-url, standalone without',
  ),
  redisUrl: stringOption(
    'redis-url',
    [],
    '',
    'external Redis: redis://h:6379/0, redis+sentinel://h1:26379,h2:26379/<master> or redis+cluster://h1:6379,h2:6379 (rediss... for TLS), no password in it; empty = render an in-cluster Redis',
  ),
  redisPassword: boolOption(
    'redis-password',
    [],
    true,
    'read the Redis password from Secret kq-redis (key password); --no-redis-password for an external Redis without auth',
  ),
  redisSentinelPassword: boolOption(
    'redis-sentinel-password',
    [],
    false,
    'external Sentinels need a password of their own: read it from Secret kq-redis (key sentinel-password); the in-cluster Sentinels use key password',
  ),
  replicas: intOption('replicas', [], 2, 1, 1000, 'worker replicas of the `deployment` approach'),
  parallelism: intOption('parallelism', [], 3, 1, 1000, 'worker pods per Job of the `cronjob` approach'),
  minReplicas: intOption(
    'min-replicas',
    [],
    0,
    0,
    1000,
    'minimum workers when autoscaled (0 = scale to zero, KEDA only; HPAs use at least 1)',
  ),
  maxReplicas: intOption('max-replicas', [], 10, 1, 1000, 'autoscaled maximum of workers (or Jobs)'),
  concurrency: intOption('concurrency', [], 1, 1, 1000, 'CONCURRENCY of each worker pod'),
  rateLimitMax: intOption(
    'rate-limit-max',
    [],
    0,
    0,
    LIMIT_BOUNDS.rateLimitMax.max,
    "RATE_LIMIT_MAX of the workers (the queue's rate limit); 0 = as the handlers module declares (defineQueue), else none",
  ),
  rateLimitDurationMs: intOption(
    'rate-limit-duration-ms',
    [],
    0,
    0,
    LIMIT_BOUNDS.rateLimitDurationMs.max,
    "RATE_LIMIT_DURATION_MS of the workers (the rate limit's window); 0 = as declared, else 1000",
  ),
  globalConcurrency: intOption(
    'global-concurrency',
    [],
    0,
    0,
    LIMIT_BOUNDS.globalConcurrency.max,
    'GLOBAL_CONCURRENCY of the workers (jobs of the queue running at once across all pods); 0 = as declared, else none',
  ),
  targetBacklog: intOption(
    'target-backlog',
    [],
    0,
    0,
    100_000,
    'autoscalers aim at this backlog per worker pod; 0 = the same as --concurrency',
  ),
  pollingIntervalSeconds: intOption(
    'polling-interval-seconds',
    [],
    0,
    0,
    3600,
    "KEDA's pollingInterval of the ScaledObject or ScaledJob (keda-* approaches): how often KEDA reads the backlog; 0 = the approach's own (keda-scaledobject and keda-scaledjob 15, keda-external 30, keda-external-job 5)",
  ),
  cooldownPeriodSeconds: intOption(
    'cooldown-period-seconds',
    [],
    300,
    0,
    86_400,
    "KEDA's cooldownPeriod of the ScaledObject (keda-scaledobject, keda-external): seconds without a runnable job before it scales to zero (with --min-replicas 0)",
  ),
  scaleUpWindowSeconds: intOption(
    'scale-up-window-seconds',
    [],
    0,
    0,
    3600,
    "the HPA's behavior.scaleUp.stabilizationWindowSeconds (hpa-*, and the HPA of keda-scaledobject and keda-external): scale up to the lowest recommendation of this window",
  ),
  scaleDownWindowSeconds: intOption(
    'scale-down-window-seconds',
    [],
    600,
    0,
    3600,
    "the HPA's behavior.scaleDown.stabilizationWindowSeconds (as --scale-up-window-seconds): scale down only to the highest recommendation of this window",
  ),
  schedule: {
    ...stringOption(
      'schedule',
      [],
      '* * * * *',
      'schedule of the `cronjob` approach: when a Job of exit-when-empty workers starts',
    ),
    rule: 'must be a five-field cron schedule (minute hour day-of-month month day-of-week) such as "*/5 * * * *"',
    parse: (raw: string) => (cronError(raw) === undefined ? raw.trim().split(/\s+/).join(' ') : undefined),
    why: cronError,
  } satisfies OptionSpec<string>,
  shutdownTimeoutMs: intOption(
    'shutdown-timeout-ms',
    [],
    25_000,
    0,
    86_400_000,
    'SHUTDOWN_TIMEOUT_MS of workers; terminationGracePeriodSeconds is set above it',
  ),
  jobDeadlineSeconds: intOption(
    'job-deadline-seconds',
    [],
    3600,
    60,
    7 * 86_400,
    "activeDeadlineSeconds of the Jobs (cronjob, keda-scaledjob, keda-external-job) and their workers' ACTIVE_DEADLINE_SECONDS: a running attempt is failed shortly before it",
  ),
  workerCpu: stringOption('worker-cpu', [], '100m', 'CPU request of a worker', QUANTITY),
  workerMemory: stringOption('worker-memory', [], '96Mi', 'memory request of a worker', QUANTITY),
  workerCpuLimit: stringOption(
    'worker-cpu-limit',
    [],
    '500m',
    'CPU limit of a worker (the seed’s)',
    QUANTITY,
  ),
  workerMemoryLimit: stringOption(
    'worker-memory-limit',
    [],
    '128Mi',
    'memory limit of a worker (the seed’s)',
    QUANTITY,
  ),
  podDeletionCost: boolOption(
    'pod-deletion-cost',
    [],
    true,
    'worker Deployments: pods keep their controller.kubernetes.io/pod-deletion-cost (idle 0, busy higher) so scale-in removes idle workers first; renders a ServiceAccount and a Role granting patch on pods; --no-pod-deletion-cost leaves them out',
  ),
  apiReplicas: intOption('api-replicas', [], 2, 1, 100, 'API replicas (a PodDisruptionBudget keeps one up)'),
  redisStorage: stringOption('redis-storage', [], '1Gi', 'size of the Redis PersistentVolumeClaim', QUANTITY),
  redisMaxmemoryMb: intOption(
    'redis-maxmemory-mb',
    [],
    200,
    16,
    1_000_000,
    'Redis maxmemory in MiB (noeviction: writes fail instead of jobs vanishing); the pod limit is 1.25x',
  ),
  monitoringNamespace: stringOption(
    'monitoring-namespace',
    [],
    'monitoring',
    'hpa-prometheus: namespace of Prometheus and prometheus-adapter (their config maps go there)',
    DNS_LABEL,
  ),
  oldestWaitingAlertSeconds: intOption(
    'oldest-waiting-alert-seconds',
    [],
    DEFAULT_ALERT_THRESHOLDS.oldestWaitingAlertSeconds,
    1,
    7 * 24 * 3600,
    'monitoring: KqOldestWaitingJobTooOld fires when a job has waited longer than this (seconds)',
  ),
  failureRateAlertPercent: intOption(
    'failure-rate-alert-percent',
    [],
    DEFAULT_ALERT_THRESHOLDS.failureRateAlertPercent,
    1,
    99,
    'monitoring: KqJobFailureRateHigh fires when more than this percent of settled jobs failed for good',
  ),
  kedaNamespace: stringOption(
    'keda-namespace',
    [],
    'keda',
    'namespace of the KEDA operator, allowed to reach Redis',
    DNS_LABEL,
  ),
  adapterCaBundleFile: stringOption(
    'adapter-ca-bundle-file',
    [],
    '',
    'hpa-adapter: PEM CA of the adapter’s serving cert, put into the APIService caBundle',
  ),
  adapterInsecureSkipTlsVerify: boolOption(
    'adapter-insecure-skip-tls-verify',
    [],
    false,
    'hpa-adapter, DEV ONLY: APIService insecureSkipTLSVerify instead of a caBundle',
  ),
  requestheaderAllowedNames: stringOption(
    'requestheader-allowed-names',
    [],
    'front-proxy-client',
    'hpa-adapter: CNs of the aggregator’s client cert (kube-system/extension-apiserver-authentication)',
  ),
  outDir: stringOption(
    'out-dir',
    [],
    '',
    'write <dir>/<approach>/{kq.yaml,kustomization.yaml} and <dir>/secrets/ instead of stdout',
  ),
};

export type ManifestOptions = OptionValues<typeof manifestOptionSpecs> & {
  /**
   * Set by `applyHandlers` when the handlers' job types run on several queues: every approach then
   * renders its workers once per queue (`per-queue.ts`). No flag: the queues come from the module.
   */
  queues?: string[];
  /** Set by `applyHandlers`: the limits the handlers module declares per queue (`defineQueue`). */
  queueLimits?: Record<string, QueueLimits>;
};

/** Checks what single options cannot: the external URL's shape and combinations. */
export function checkManifestOptions(o: ManifestOptions): RedisPlan {
  if (o.minReplicas > o.maxReplicas) {
    throw new ConfigError(
      `--min-replicas (${o.minReplicas}) must not exceed --max-replicas (${o.maxReplicas}).`,
      { option: 'min-replicas', value: String(o.minReplicas) },
    );
  }
  if (o.adapterInsecureSkipTlsVerify && o.adapterCaBundleFile) {
    throw new ConfigError(
      '--adapter-insecure-skip-tls-verify conflicts with --adapter-ca-bundle-file: an APIService has caBundle or insecureSkipTLSVerify, not both.',
      { option: 'adapter-insecure-skip-tls-verify' },
    );
  }
  return checkRedisOptions(o);
}
